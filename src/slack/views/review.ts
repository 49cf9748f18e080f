// Owns the Block Kit of access reviews (`/qlik review`): the header message in the approval channel (the role, who
// opened it, progress, Close review), one message per batch of holders in its thread (each holder a line and its
// Keep / Revoke buttons while undecided, what was decided once it is), and the closing summary. Every message is
// rendered from the review as stored, so an update always says what is recorded: no button on a decided holder, none
// at all once the review is closed. Untrusted data (names, emails, role and space names) is escaped.
import type { KnownBlock } from '@slack/types';
import {
  type AccessReview,
  batchCount,
  batchIndexes,
  isDecided,
  type ReviewHolder,
  tally,
} from '../../domain/review.ts';
import { clip, listNames, mention, slackDate } from '../mrkdwn.ts';
import type { TenantLabels } from '../views.ts';
import { tenantLabel } from '../views.ts';
import {
  actions,
  button,
  context,
  header,
  listSections,
  message,
  type SlackMessage,
  section,
  withConfirm,
} from './blocks.ts';

/** The review's buttons; each value is the review id (Close) or `<review id>:<holder index>` (Keep, Revoke). */
export const REVIEW_ACTION_IDS = {
  keep: 'review_keep',
  revoke: 'review_revoke',
  close: 'review_close',
} as const;

export interface ReviewViewOptions {
  /** The configured Qlik tenants: with several, the review names its tenant. */
  tenants?: TenantLabels;
}

/** `Steward`, `producer in space Finance`, with ` on dev` when several tenants are configured. */
function roleWords(r: AccessReview, opts: ReviewViewOptions, mrkdwn: boolean): string {
  const esc = clip;
  const role = mrkdwn ? `*${esc(r.entitlement.name, 120)}*` : esc(r.entitlement.name, 120);
  const resource = r.targetRef.resource;
  const where = resource === undefined ? '' : ` in ${esc(resource.kind, 30)} ${esc(resource.name, 120)}`;
  const tenant = tenantLabel(opts.tenants, r.targetRef.instance);
  return `${role}${where}${tenant === undefined ? '' : ` on ${esc(tenant, 40)}`}`;
}

function holderLine(h: ReviewHolder): string {
  if (h.kind === 'group') return `group *${clip(h.name, 150)}*`;
  const email = h.email && h.email.toLowerCase() !== h.name.toLowerCase() ? ` (${clip(h.email, 150)})` : '';
  const status = h.status ? ` · ${clip(h.status, 20)}` : '';
  return `*${clip(h.name, 150)}*${email}${status}`;
}

function progress(r: AccessReview): string {
  const t = tally(r);
  return `${t.total - t.undecided} of ${t.total} decided · kept ${t.kept} · revoke requested ${t.revoked}`;
}

function closedWords(r: AccessReview): string {
  const when = r.closedAt === undefined ? '' : ` ${slackDate(r.closedAt)}`;
  return r.closedBy === undefined
    ? `:lock: Closed${when}: every holder was decided.`
    : `:lock: Closed${when} by ${mention(r.closedBy.id)}.`;
}

/** The header message: what is reviewed, by whom, how far it is, and Close review while it is open. */
export function reviewHeaderMessage(r: AccessReview, opts: ReviewViewOptions = {}): SlackMessage {
  const t = tally(r);
  const users = r.holders.filter((h) => h.kind === 'user').length;
  const groups = r.holders.length - users;
  const blocks: KnownBlock[] = [
    header(`Access review ${r.id}`),
    section(
      `Review of who holds ${roleWords(r, opts, true)}, opened by ${mention(r.openedBy.id)} ${slackDate(r.openedAt)}.\n` +
        `${t.total} ${t.total === 1 ? 'holder' : 'holders'}: ${users} ${users === 1 ? 'user' : 'users'} holding it directly, ${groups} ${groups === 1 ? 'group' : 'groups'}.` +
        (r.state === 'open'
          ? ' Approvers of the role: *Keep* or *Revoke* each one in the thread. A revoke files a normal revoke request, approved as any other.'
          : ''),
    ),
  ];
  if (r.groupsLeftOut > 0)
    blocks.push(
      context(
        `${r.groupsLeftOut} more ${r.groupsLeftOut === 1 ? 'group holds' : 'groups hold'} it and ${r.groupsLeftOut === 1 ? 'is' : 'are'} not in this review (only the first page of groups could be listed); \`/qlik who-has\` lists them.`,
      ),
    );
  blocks.push(
    context(
      r.state === 'open' ? `:hourglass_flowing_sand: ${progress(r)}` : `${closedWords(r)} ${progress(r)}`,
    ),
  );
  if (r.state === 'open')
    blocks.push(
      actions(
        withConfirm(button('Close review', REVIEW_ACTION_IDS.close, r.id), {
          title: 'Close the review?',
          text: `Holders nobody decided are listed as undecided and keep their access. ${t.undecided} of ${t.total} are undecided.`,
          confirm: 'Close it',
          deny: 'Keep it open',
        }),
      ),
    );
  const state = r.state === 'open' ? progress(r) : 'closed';
  return message(`Access review ${r.id} of ${roleWords(r, opts, false)}: ${state}`, blocks);
}

/** What a decided holder's line says. */
function decisionWords(r: AccessReview, i: number): string | undefined {
  const d = r.decisions[i];
  if (d === undefined) return r.state === 'closed' ? '_Undecided (the review closed)._' : undefined;
  if (d.filing)
    return r.state === 'closed'
      ? `_Revoke being filed by ${mention(d.by.id)} when the review closed._`
      : `:hourglass_flowing_sand: Revoke being filed by ${mention(d.by.id)}…`;
  if (d.choice === 'keep') return `:white_check_mark: Kept by ${mention(d.by.id)} ${slackDate(d.at)}`;
  return `:wastebasket: Revoke requested by ${mention(d.by.id)} ${slackDate(d.at)}: ${clip(d.requestId ?? 'request', 20)}`;
}

/** One batch of holders: a line each, with Keep / Revoke while undecided and the review open. */
export function reviewBatchMessage(
  r: AccessReview,
  batch: number,
  opts: ReviewViewOptions = {},
): SlackMessage {
  const indexes = batchIndexes(r, batch);
  const first = (indexes[0] ?? 0) + 1;
  const last = indexes.at(-1) === undefined ? first : indexes.at(-1)! + 1;
  const blocks: KnownBlock[] = [
    context(
      `Review ${r.id} · holders ${first}–${last} of ${r.holders.length}${batchCount(r) > 1 ? ` (part ${batch + 1} of ${batchCount(r)})` : ''}`,
    ),
  ];
  for (const i of indexes) {
    const h = r.holders[i]!;
    const said = decisionWords(r, i);
    // Live buttons only for a holder nobody has decided (or is deciding) in an open review.
    const live = r.state === 'open' && r.decisions[i] === undefined;
    blocks.push(section(said === undefined ? holderLine(h) : `${holderLine(h)}\n${said}`));
    if (live) {
      const value = `${r.id}:${i}`;
      const who = h.kind === 'group' ? `the group ${h.name}` : h.name;
      const block = actions(
        button('Keep', REVIEW_ACTION_IDS.keep, value, 'primary'),
        withConfirm(button('Revoke', REVIEW_ACTION_IDS.revoke, value, 'danger'), {
          title: 'File a revoke?',
          text: `This files a request to revoke ${r.entitlement.name} from ${who}, in your name; it goes to approval as usual.`,
          confirm: 'File the revoke',
          deny: 'Cancel',
        }),
      );
      block.block_id = `holder-${i}`;
      blocks.push(block);
    }
  }
  const decided = indexes.filter((i) => isDecided(r.decisions[i])).length;
  return message(
    `Access review ${r.id} of ${roleWords(r, opts, false)}: holders ${first} to ${last}, ${decided} of ${indexes.length} decided`,
    blocks,
  );
}

/** The closing summary in the review's thread; the outcome CSV is uploaded beside it. */
export function reviewSummaryMessage(r: AccessReview, opts: ReviewViewOptions = {}): SlackMessage {
  const t = tally(r);
  const undecided = r.holders
    .map((h, i) => ({ h, i }))
    .filter(({ i }) => !isDecided(r.decisions[i]))
    .map(({ h }) => (h.kind === 'group' ? `group ${clip(h.name, 100)}` : clip(h.name, 100)));
  const blocks: KnownBlock[] = [
    section(
      `${closedWords(r)}\nReview ${r.id} of ${roleWords(r, opts, true)}: kept ${t.kept}, revoke requested ${t.revoked}, undecided ${t.undecided} (of ${t.total}).`,
    ),
  ];
  if (t.requestIds.length > 0)
    blocks.push(
      ...listSections(
        [
          `Revoke requests: ${listNames(
            t.requestIds.map((id) => clip(id, 20)),
            100,
          )}`,
        ],
        {
          maxBlocks: 2,
          more: (n) => `…and ${n} more`,
        },
      ),
    );
  if (undecided.length > 0)
    blocks.push(
      ...listSections([`Undecided (their access is unchanged): ${listNames(undecided, 60)}`], {
        maxBlocks: 2,
        more: (n) => `…and ${n} more`,
      }),
    );
  blocks.push(context('The outcome of every holder is in the CSV below and in the audit log.'));
  return message(
    `Access review ${r.id} closed: kept ${t.kept}, revoke requested ${t.revoked}, undecided ${t.undecided}`,
    blocks,
  );
}
