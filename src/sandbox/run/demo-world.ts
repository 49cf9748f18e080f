// Owns the sandbox's demo world: the Slack workspace that mirrors the demo Qlik tenant (one Slack user per Qlik
// person, plus the awkward cases), the approvers user group, the channels and the demo policy. Pure: no I/O.
import type { SimTenant } from '../qlik-sim/index.ts';
import type { FakeChannel, FakeUser } from '../slack-fake/web-api.ts';

export interface DemoUser extends FakeUser {
  /** The Slack handle people type after `@` (and `as`). */
  handle: string;
  /** Why this person is interesting in the demo. */
  note?: string;
  /** The Qlik user with the same email, when there is exactly one. */
  qlik?: { id: string; status: string; roles: string[] };
}

export interface DemoWorld {
  users: DemoUser[];
  channels: FakeChannel[];
  /** Where `/qlik` is typed (the conversation the slash command comes from). */
  commandChannel: FakeChannel;
  approvalChannel: FakeChannel;
  approversGroup: { id: string; handle: string; members: string[] };
  /** The policy file's YAML. */
  policyYaml: string;
  /** Who to act as first. */
  firstUser: string;
}

export const APPROVAL_CHANNEL: FakeChannel = { id: 'C0APPROVALS', name: 'qlik-approvals' };
export const COMMAND_CHANNEL: FakeChannel = { id: 'C0GENERAL', name: 'general' };
const APPROVERS_GROUP_ID = 'S0APPROVERS';
const APPROVERS_HANDLE = 'qlik-approvers';
/** Members of the approvers group, by handle: the tenant's admins. */
const APPROVER_HANDLES = ['alice', 'bob', 'carol'];

/** `o'brien@corp.example` → `obrien`; `Mixed.Case@…` → `mixed.case`. */
export function handleFromEmail(email: string): string {
  const local = email.split('@')[0] ?? email;
  return local.toLowerCase().replace(/[^a-z0-9._-]/g, '') || 'user';
}

function slackIdFor(handle: string, taken: Set<string>): string {
  const base = `U0${handle.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 11);
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}${n}`;
  taken.add(id);
  return id;
}

export function demoPolicyYaml(): string {
  return [
    '# The sandbox policy (see examples/policy.yml for every key).',
    `approvalChannel: ${APPROVAL_CHANNEL.id}   # #${APPROVAL_CHANNEL.name}`,
    `approvers: [${APPROVERS_GROUP_ID}]        # the @${APPROVERS_HANDLE} user group: ${APPROVER_HANDLES.join(', ')}`,
    'approvalsRequired: 1',
    'maxDuration: 30d                # also the length of a grant filed without `for …`',
    'minDuration: 1m                 # shorter than the 5m default, so expiry can be watched',
    'roles:',
    '  TenantAdmin: { approvalsRequired: 2, reasonRequired: true, maxDuration: 4h }',
    '  SharedSpaceCreator: { autoApprove: true }',
    '  AuditAdmin: { requestable: false }',
    'spaceDefaults:                  # space roles (`in space:"…"`), in every space',
    '  roles:',
    '    facilitator: { reasonRequired: true }',
    'spaces:',
    '  Finance Reports:',
    "    managersApprove: true       # the space's owner and facilitators may approve too",
    '    roles:',
    '      consumer: { maxDuration: 2w }',
    '',
  ].join('\n');
}

/** Builds the Slack side of the demo from the tenant: same people, same emails. */
export function buildDemoWorld(tenant: SimTenant): DemoWorld {
  const users: DemoUser[] = [];
  const taken = new Set<string>();
  const handles = new Set<string>();
  const seenEmails = new Set<string>();
  for (const u of tenant.users()) {
    if (!u.email || u.id === tenant.serviceUserId || u.status === 'deleted') continue;
    const emailKey = u.email.toLowerCase();
    // Slack emails are unique per workspace; Qlik's are not (a shared mailbox): one Slack user for both.
    if (seenEmails.has(emailKey)) continue;
    seenEmails.add(emailKey);
    let handle = handleFromEmail(u.email);
    for (let n = 2; handles.has(handle); n++) handle = `${handleFromEmail(u.email)}${n}`;
    handles.add(handle);
    const sameEmail = tenant.usersByEmail(u.email);
    const note =
      sameEmail.length > 1
        ? `${sameEmail.length} Qlik users share this email`
        : u.status !== 'active'
          ? `Qlik user is ${u.status}`
          : undefined;
    users.push({
      id: slackIdFor(handle, taken),
      handle,
      name: handle,
      realName: u.name,
      email: u.email,
      tz: 'Europe/Stockholm',
      ...(note ? { note } : {}),
      ...(sameEmail.length === 1
        ? { qlik: { id: u.id, status: u.status, roles: tenant.userRoleNames(u.id) } }
        : {}),
    });
  }
  users.push({
    id: slackIdFor('nomail', taken),
    handle: 'nomail',
    name: 'nomail',
    realName: 'Nico No-Mail',
    note: 'Slack profile has no email',
  });
  users.push({
    id: slackIdFor('outsider', taken),
    handle: 'outsider',
    name: 'outsider',
    realName: 'Pat Partner',
    email: 'pat@partner.example',
    note: 'email not in Qlik',
  });
  users.push({
    id: slackIdFor('leaver', taken),
    handle: 'leaver',
    name: 'leaver',
    realName: 'Lee Leaver',
    email: 'leaver@corp.example',
    deleted: true,
    note: 'deactivated in Slack',
  });

  const members = APPROVER_HANDLES.map((h) => users.find((u) => u.handle === h)?.id).filter(
    (id): id is string => id !== undefined,
  );
  for (const u of users) {
    if (members.includes(u.id)) u.note = u.note ? `approver; ${u.note}` : `approver (@${APPROVERS_HANDLE})`;
  }
  const requester = users.find((u) => u.handle === 'dan') ?? users.find((u) => !members.includes(u.id));
  return {
    users,
    channels: [COMMAND_CHANNEL, APPROVAL_CHANNEL],
    commandChannel: COMMAND_CHANNEL,
    approvalChannel: APPROVAL_CHANNEL,
    approversGroup: { id: APPROVERS_GROUP_ID, handle: APPROVERS_HANDLE, members },
    policyYaml: demoPolicyYaml(),
    firstUser: requester?.handle ?? users[0]!.handle,
  };
}

/** Finds a demo user by handle, Slack id, or a unique prefix of handle or real name. */
export function findDemoUser(users: readonly DemoUser[], query: string): DemoUser | DemoUser[] | undefined {
  const q = query.trim().replace(/^@/, '').toLowerCase();
  if (!q) return undefined;
  const exact = users.find((u) => u.handle === q || u.id.toLowerCase() === q);
  if (exact) return exact;
  const byFirstName = users.filter((u) => (u.realName ?? '').toLowerCase().split(/\s+/)[0] === q);
  if (byFirstName.length === 1) return byFirstName[0];
  const prefix = users.filter(
    (u) => u.handle.startsWith(q) || (u.realName ?? '').toLowerCase().startsWith(q),
  );
  if (prefix.length === 1) return prefix[0];
  return prefix.length > 1 ? prefix : undefined;
}
