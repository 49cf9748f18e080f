// Owns the Block Kit of drift: the report the approvers get when a target system disagrees with what the bot did,
// the list of those that still stand (`/qlik drift`), and the holders of a role that no request of the bot granted
// (`/qlik drift <role>`), a page at a time with Previous / Next buttons that carry only the query and the page.

import type { DriftNotice } from '../../app/notifier.ts';
import type { DriftQuery, UnmanagedAnswer } from '../../app/queries/drift.ts';
import { escapeMrkdwn, slackDate, truncate } from '../mrkdwn.ts';
import type { TenantLabels } from '../views.ts';
import { tenantLabel } from '../views.ts';
import { actions, button, context, header, message, type SlackMessage, section } from './blocks.ts';

/** The page buttons' action ids (one block may not repeat an action id). */
export const DRIFT_PAGE_ACTIONS: readonly string[] = ['drift_page_previous', 'drift_page_next'];
/** Holders shown per page of `/qlik drift <role>` (two lines each keeps a page well inside Block Kit's limits). */
export const DRIFT_PAGE_SIZE = 20;
/** Findings listed by `/qlik drift`; the rest are counted. */
const MAX_FINDINGS = 20;

function who(p: DriftNotice['principal']): string {
  const name = escapeMrkdwn(truncate(p.name, 80));
  if (p.kind === 'group') return `group *${name}*`;
  return p.email === undefined ? `*${name}*` : `*${name}* (${escapeMrkdwn(truncate(p.email, 120))})`;
}

function what(n: Pick<DriftNotice, 'entitlement' | 'resource'>): string {
  const role = `*${escapeMrkdwn(truncate(n.entitlement, 100))}*`;
  return n.resource === undefined
    ? role
    : `${role} in ${escapeMrkdwn(truncate(n.resource.kind, 40))} *${escapeMrkdwn(truncate(n.resource.name, 100))}*`;
}

function onTenant(tenants: TenantLabels | undefined, instance: string): string {
  const t = tenantLabel(tenants, instance);
  return t === undefined ? '' : ` on tenant *${escapeMrkdwn(t)}*`;
}

/** One finding as a sentence: what the system shows, what the bot did, and so what changed outside it. */
function findingLine(n: DriftNotice, tenants?: TenantLabels): string {
  const system = escapeMrkdwn(n.system);
  const where = onTenant(tenants, n.instance);
  if (n.kind === 'removed') {
    const until = n.until === undefined ? '' : ` (until ${slackDate(n.until)})`;
    return `${system}${where} no longer shows ${what(n)} for ${who(n.principal)}, which ${escapeMrkdwn(truncate(n.requestId, 20))} granted ${slackDate(n.changedAt)}${until}. It was removed outside the bot.`;
  }
  const did = n.change === 'ended' ? 'ended the grant of' : 'revoked';
  return `${system}${where} shows ${what(n)} for ${who(n.principal)} again, though ${escapeMrkdwn(truncate(n.requestId, 20))} ${did} it ${slackDate(n.changedAt)}. It was given back outside the bot.`;
}

/** The report to the approval channel, once per finding. */
export function driftReportMessage(n: DriftNotice, tenants?: TenantLabels): SlackMessage {
  const line = findingLine(n, tenants);
  const next =
    n.kind === 'removed'
      ? 'If that was meant, nothing needs doing. If not, ask for it again with `/qlik grant`.'
      : 'If it should not be held, file `/qlik revoke` so the change is approved and recorded.';
  return message(
    `Drift: ${escapeMrkdwn(truncate(n.entitlement, 100))} ${n.kind === 'removed' ? 'removed' : 'given back'} outside the bot`,
    [
      section(`:warning: *Drift found*\n${line}`),
      context(`${next} Found ${slackDate(n.foundAt)}. \`/qlik drift\` lists every open finding.`),
    ],
  );
}

/** `/qlik drift`: the findings that still stand. */
export function driftFindingsMessage(findings: readonly DriftNotice[], tenants?: TenantLabels): SlackMessage {
  if (findings.length === 0)
    return message('No drift found', [
      section(
        ':white_check_mark: *No drift found.* Every change the bot made lately still matches what the systems show (the check runs every `DRIFT_CHECK_EVERY`).',
      ),
    ]);
  const shown = findings.slice(0, MAX_FINDINGS);
  const more = findings.length - shown.length;
  return message(`${findings.length} drift finding${findings.length === 1 ? '' : 's'}`, [
    header(`Drift: ${findings.length} finding${findings.length === 1 ? '' : 's'}`),
    ...shown.map((n) => section(`• ${findingLine(n, tenants)} _Found ${slackDate(n.foundAt)}._`)),
    ...(more > 0 ? [context(`and ${more} more, older.`)] : []),
    context('A finding closes by itself once the system matches what the bot did again.'),
  ]);
}

/** What a page button carries: the query and the page, nothing else (the press is checked again in full). */
export function driftPageValue(q: DriftQuery, page: number): string {
  return JSON.stringify({
    r: q.role,
    p: page,
    ...(q.resource === undefined ? {} : { s: q.resource.name }),
    ...(q.instance === undefined ? {} : { t: q.instance }),
  });
}

function revokeHint(a: UnmanagedAnswer): string {
  const role = escapeMrkdwn(truncate(a.role, 60));
  return a.resource === undefined
    ? role
    : `${role} in space:"${escapeMrkdwn(truncate(a.resource.name, 60))}"`;
}

/** `/qlik drift <role>`: one page of the holders no request of the bot granted. */
export function unmanagedHoldersMessage(
  a: UnmanagedAnswer,
  opts: { page: number; query: DriftQuery; tenant?: string; csvAttached?: boolean },
): SlackMessage {
  const role = what({ entitlement: a.role, ...(a.resource === undefined ? {} : { resource: a.resource }) });
  const where = opts.tenant === undefined ? '' : ` on tenant *${escapeMrkdwn(opts.tenant)}*`;
  const system = escapeMrkdwn(a.system);
  const partial = a.groupsPartial ? ' Only the groups on the first page of the list were compared.' : '';
  if (a.unmanaged.length === 0) {
    return message(`Every holder of ${escapeMrkdwn(truncate(a.role, 100))} was granted by the bot`, [
      section(
        `:white_check_mark: Every one of the ${a.holders} direct holder${a.holders === 1 ? '' : 's'} of ${role}${where} in ${system} was granted by a request of the bot.${partial}`,
      ),
    ]);
  }
  const pages = Math.ceil(a.unmanaged.length / DRIFT_PAGE_SIZE);
  const page = Math.min(Math.max(0, opts.page), pages - 1);
  const rows = a.unmanaged.slice(page * DRIFT_PAGE_SIZE, (page + 1) * DRIFT_PAGE_SIZE);
  const lines = rows.map((h) => {
    if (h.kind === 'group') return `• group *${escapeMrkdwn(truncate(h.name, 80))}*`;
    const email = h.email === undefined ? '' : ` (${escapeMrkdwn(truncate(h.email, 120))})`;
    const status =
      h.status === undefined || h.status === 'active' ? '' : ` _${escapeMrkdwn(truncate(h.status, 20))}_`;
    return `• *${escapeMrkdwn(truncate(h.name, 80))}*${email}${status}`;
  });
  const buttons = [];
  if (page > 0)
    buttons.push(button('Previous', DRIFT_PAGE_ACTIONS[0]!, driftPageValue(opts.query, page - 1)));
  if (page < pages - 1)
    buttons.push(button('Next', DRIFT_PAGE_ACTIONS[1]!, driftPageValue(opts.query, page + 1)));
  const n = a.unmanaged.length;
  return message(
    `${n} holder${n === 1 ? '' : 's'} of ${escapeMrkdwn(truncate(a.role, 100))} not granted by the bot`,
    [
      section(
        `*${n} of ${a.holders}* direct holder${a.holders === 1 ? '' : 's'} of ${role}${where} in ${system} ${n === 1 ? 'was' : 'were'} not granted by any request of the bot (given in ${system} itself, or before the bot kept its record).${partial}`,
      ),
      section(lines.join('\n')),
      context(
        `Page ${page + 1} of ${pages}.${opts.csvAttached ? ' The full list is in your DM as a CSV.' : ''} To take one away through approval: \`/qlik revoke &lt;who&gt; ${revokeHint(a)}\`.`,
      ),
      ...(buttons.length > 0 ? [actions(...buttons)] : []),
    ],
  );
}
