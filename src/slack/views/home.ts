// Owns the App Home tab's view (views.publish, type `home`): the Request access button (its press opens the request
// form, which the form's own listener owns), the person's pending requests (Cancel), the requests they may approve
// now (Approve / Deny), their live time-bound grants with the time left (Extend / Revoke now), and their recent
// outcomes; plus a line answering their last press, since a press on a Home has no response_url and no channel to
// answer in. Buttons carry the same action ids and values as on messages (views.ts ACTION_IDS), so a press from here
// runs the same click-time checks. The view stays within Slack's limits whatever the data: at most 100 blocks
// (docs.slack.dev "Home tab views"), every block as views/blocks.ts bounds it.
import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import type { HomeAnswer, HomeGrant } from '../../app/queries/home.ts';
import { formatDuration } from '../../domain/duration.ts';
import type { RoleChangeRequest } from '../../domain/request.ts';
import { clip, slackDate, truncate } from '../mrkdwn.ts';
import {
  ACTION_IDS,
  change,
  extendConfirmText,
  requestLine,
  stateLine,
  type TenantLabels,
  toApproveBlocks,
} from '../views.ts';
import {
  actions,
  button,
  context,
  divider,
  header,
  LIMITS,
  listSections,
  section,
  validateMessage,
  withConfirm,
} from './blocks.ts';
import { OPEN_FORM_ACTION } from './request-form.ts';

/** The Request access button's action id, agreed with the request form, which handles its press. */
export const OPEN_REQUEST_FORM = OPEN_FORM_ACTION;

/** Home tab limits (docs.slack.dev/reference/views/home-tab-views): "Max of 100 blocks". */
export const HOME_LIMITS = { blocks: 100, privateMetadata: 3000, callbackId: 255 } as const;

/** The view's callback_id: tells a press on the Home from one in a modal. */
export const HOME_CALLBACK_ID = 'qab_home';

/** How many items each list shows; the rest are counted (`/qlik requests` and the approval channel have them). */
export const HOME_LIST_MAX = 10;

/** A Home view object, as views.publish takes it. */
export interface HomeView {
  type: 'home';
  callback_id: string;
  blocks: KnownBlock[];
}

/** What the person's last press did, shown at the top until it is old (the press had nowhere else to answer). */
export interface HomeNotice {
  ok: boolean;
  text: string;
  at: number;
}

export interface HomeViewOptions {
  notice?: HomeNotice;
  tenants?: TenantLabels;
}

/** The Home as the query found it. */
export function homeView(d: HomeAnswer, opts: HomeViewOptions = {}): HomeView {
  const blocks: KnownBlock[] = top(d.at, opts.notice);
  blocks.push(divider());
  blocks.push(...pendingSection(d.mine, opts.tenants));
  blocks.push(divider());
  blocks.push(...approveSection(d.toApprove, opts.tenants));
  blocks.push(divider());
  blocks.push(...grantsSection(d.grants, opts.tenants));
  blocks.push(divider());
  blocks.push(...recentSection(d.recent, opts.tenants));
  return bounded(blocks);
}

/** The Home when the person's requests could not be read: says so, and still offers the form. */
export function homeUnavailableView(problem: string, at: number, notice?: HomeNotice): HomeView {
  return bounded([
    ...top(at, notice),
    section(`:warning: ${clip(problem, 1500)}\nYour requests will show here again once it is fixed.`),
  ]);
}

function top(at: number, notice: HomeNotice | undefined): KnownBlock[] {
  const blocks: KnownBlock[] = [
    header('Qlik access'),
    section('Ask for a role, and follow your requests and grants here. `/qlik help` lists every command.'),
    actions(requestAccessButton()),
  ];
  if (notice !== undefined) {
    const mark = notice.ok ? ':white_check_mark:' : ':warning:';
    blocks.push(section(`${mark} ${clip(notice.text, 2500)}`));
    blocks.push(context(`Your last press, ${slackDate(notice.at)}.`));
  }
  blocks.push(context(`Updated ${slackDate(at)}.`));
  return blocks;
}

/** The agreed button (value left out: the form needs nothing from it). */
function requestAccessButton(): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text: 'Request access', emoji: true },
    action_id: OPEN_REQUEST_FORM,
    style: 'primary',
  };
}

function more(hidden: number, where: string): KnownBlock {
  return context(`…and ${hidden} more ${where}.`);
}

function pendingSection(mine: readonly RoleChangeRequest[], tenants?: TenantLabels): KnownBlock[] {
  const blocks: KnownBlock[] = [section(`*Your pending requests* (${mine.length})`)];
  if (mine.length === 0) blocks.push(context('You have no pending requests.'));
  for (const req of mine.slice(0, HOME_LIST_MAX))
    blocks.push(
      section(truncate(requestLine(req, tenants), 1500), button('Cancel', ACTION_IDS.cancel, req.id)),
    );
  if (mine.length > HOME_LIST_MAX)
    blocks.push(more(mine.length - HOME_LIST_MAX, '(`/qlik requests` lists them all)'));
  return blocks;
}

function approveSection(toApprove: readonly RoleChangeRequest[], tenants?: TenantLabels): KnownBlock[] {
  const blocks: KnownBlock[] = [section(`*Waiting for your approval* (${toApprove.length})`)];
  if (toApprove.length === 0) blocks.push(context('Nothing is waiting for you.'));
  for (const req of toApprove.slice(0, HOME_LIST_MAX)) blocks.push(...toApproveBlocks(req, tenants));
  if (toApprove.length > HOME_LIST_MAX)
    blocks.push(more(toApprove.length - HOME_LIST_MAX, 'in the approval channel'));
  return blocks;
}

/** `2 hours 15 minutes left`: minutes are the finest a Home that refreshes on change can keep true. */
export function timeLeft(leftMs: number): string {
  if (!Number.isFinite(leftMs) || leftMs <= 0) return 'ending now';
  if (leftMs < 60_000) return 'under a minute left';
  return `${formatDuration(Math.floor(leftMs / 60_000) * 60_000)} left`;
}

function grantActions(req: RoleChangeRequest): ActionsBlock {
  return actions(
    withConfirm(button('Extend', ACTION_IDS.extend, req.id), {
      title: `Extend ${truncate(req.id, 20)}?`,
      text: extendConfirmText(req),
      confirm: 'File the extension',
      deny: 'Cancel',
    }),
    button('Revoke now', ACTION_IDS.revokeNow, req.id, 'danger'),
  );
}

function grantsSection(grants: readonly HomeGrant[], tenants?: TenantLabels): KnownBlock[] {
  const blocks: KnownBlock[] = [section(`*Your time-bound grants* (${grants.length})`)];
  if (grants.length === 0) blocks.push(context('No time-bound grant you filed or hold is running.'));
  for (const g of grants.slice(0, HOME_LIST_MAX)) {
    const req = g.request;
    const ends = req.result?.revokeAt === undefined ? '' : ` · ends ${slackDate(req.result.revokeAt)}`;
    blocks.push(
      section(
        `${glass(req)}*${clip(req.id, 40)}* ${truncate(change(req, tenants), 1500)}${ends} · *${timeLeft(g.leftMs)}*`,
      ),
    );
    blocks.push(grantActions(req));
  }
  if (grants.length > HOME_LIST_MAX) blocks.push(more(grants.length - HOME_LIST_MAX, 'ending later'));
  return blocks;
}

/** A break-glass grant is flagged wherever the Home lists it. */
function glass(r: Pick<RoleChangeRequest, 'breakGlass'>): string {
  return r.breakGlass ? ':rotating_light: *break-glass* · ' : '';
}

function recentSection(recent: readonly RoleChangeRequest[], tenants?: TenantLabels): KnownBlock[] {
  const blocks: KnownBlock[] = [section('*Recent outcomes*')];
  if (recent.length === 0) {
    blocks.push(context('Nothing you filed or received has been decided lately.'));
    return blocks;
  }
  const lines = recent.map(
    (r) =>
      `${glass(r)}*${clip(r.id, 40)}* ${truncate(change(r, tenants), 600)}\n${truncate(stateLine(r), 1200)}`,
  );
  blocks.push(
    ...listSections(lines, {
      maxBlocks: 4,
      maxLine: 1900,
      more: (n) => `…and ${n} more (see \`/qlik audit\`).`,
    }),
  );
  return blocks;
}

/** At most HOME_LIMITS.blocks blocks, the last one saying what was left out. */
function bounded(blocks: KnownBlock[]): HomeView {
  const kept =
    blocks.length > HOME_LIMITS.blocks
      ? [...blocks.slice(0, HOME_LIMITS.blocks - 1), context('Some items were left out to fit your Home.')]
      : blocks;
  return { type: 'home', callback_id: HOME_CALLBACK_ID, blocks: kept };
}

/**
 * Every limit the Home breaks; empty when Slack would accept it. The block checks are the messages' (blocks.ts),
 * run on the blocks alone, with a Home's own block count.
 */
export function validateHomeView(v: HomeView): string[] {
  const problems = validateMessage({ text: 'home', blocks: v.blocks.slice(0, LIMITS.blocks) });
  for (let i = LIMITS.blocks; i < v.blocks.length; i += LIMITS.blocks)
    problems.push(...validateMessage({ text: 'home', blocks: v.blocks.slice(i, i + LIMITS.blocks) }));
  if (v.blocks.length > HOME_LIMITS.blocks)
    problems.push(`blocks: ${v.blocks.length} blocks (max ${HOME_LIMITS.blocks})`);
  if (v.callback_id.length > HOME_LIMITS.callbackId) problems.push('callback_id: too long');
  return problems;
}
