// Ways to fill a ModeWorkspace: a small hand-written demo workspace with the Qlik demo tenant's people (same
// @corp.example emails, so one person can ask for Qlik and Mode access), and a deterministic generator for
// benchmarks (thousands of members, one large group).

import { mulberry32 } from '../qlik-sim/tenant.ts';
import type { MemberState } from './types.ts';
import { ModeWorkspace } from './workspace.ts';

interface DemoPerson {
  username: string;
  name: string;
  email?: string;
  admin?: boolean;
  state?: MemberState;
  invited?: boolean;
  managedByScim?: boolean;
  groups?: string[];
}

/**
 * The demo workspace "acme". Beside plain members it holds what a careful bot must handle: a SCIM-managed member
 * (ingrid), a deactivated one (viktor), an invitation not accepted yet (wen), a member whose user has no email
 * (liam), an email in mixed case, a managed (IdP) group, a soft-deleted group that still lists a member, a
 * restricted collection only `filter=all` shows, and permissions for both accessor types.
 */
export function demoModeWorkspace(opts: { now?: () => number; seed?: number } = {}): ModeWorkspace {
  const ws = new ModeWorkspace({ username: 'acme', name: 'Acme Corp', seed: opts.seed ?? 14, ...opts });
  const groups: Record<string, string> = {};
  const group = (name: string, o: { managed?: boolean; description: string }) => {
    groups[name] = ws.addGroup({ name, ...o }).token;
  };
  group('Analysts', { description: 'Everyone who builds reports.' });
  group('Finance', { description: 'Finance team.' });
  group('Sales Ops', { description: 'Sales operations.' });
  group('Okta Engineers', { managed: true, description: 'Provisioned from Okta; change it there.' });
  group('Legacy Reporting', { description: 'Retired in the 2024 clean-up.' });

  const people: DemoPerson[] = [
    { username: 'alice', name: 'Alice Andersson', email: 'alice@corp.example', admin: true },
    { username: 'bob', name: 'Bob Brown', email: 'bob@corp.example', groups: ['Analysts'] },
    { username: 'carol', name: 'Carol Chen', email: 'carol@corp.example', groups: ['Analysts'] },
    { username: 'dan', name: 'Dan Dubois', email: 'dan@corp.example', groups: ['Finance'] },
    { username: 'eve', name: 'Eve Eriksen', email: 'eve@corp.example' },
    {
      username: 'frank',
      name: 'Frank Fischer',
      email: 'frank@corp.example',
      groups: ['Finance', 'Legacy Reporting'],
    },
    { username: 'grace', name: 'Grace García', email: 'grace@corp.example', groups: ['Sales Ops'] },
    { username: 'hiro', name: 'Hiro Ito', email: 'hiro@corp.example', groups: ['Sales Ops', 'Analysts'] },
    {
      username: 'ingrid',
      name: 'Ingrid Johansson',
      email: 'ingrid@corp.example',
      managedByScim: true,
      groups: ['Okta Engineers'],
    },
    { username: 'jamal', name: 'Jamal Haddad', email: 'jamal@corp.example', groups: ['Okta Engineers'] },
    { username: 'kaja', name: 'Kaja Kowalski', email: 'kaja@corp.example', groups: ['Sales Ops'] },
    // A user object without an email: Mode's users carry one only optionally.
    { username: 'liam', name: 'Liam Lindqvist' },
    { username: 'mixedcase', name: 'Mixed Case', email: 'Mixed.Case@Corp.Example' },
    { username: 'pablo', name: 'Pablo Patel', email: 'pablo@corp.example', groups: ['Finance'] },
    {
      username: 'viktor',
      name: 'Viktor Varga',
      email: 'viktor@corp.example',
      state: 'deactivated',
      groups: ['Analysts'],
    },
    { username: 'wen', name: 'Wen Wójcik', email: 'wen@corp.example', invited: true },
  ];
  const tokens: Record<string, string> = {};
  for (const p of people) {
    const { groups: inGroups, ...input } = p;
    const { memberToken } = ws.addMember(input);
    tokens[p.username] = memberToken;
    for (const g of inGroups ?? []) ws.addToGroup(groups[g]!, memberToken);
  }
  ws.softDeleteGroup(groups['Legacy Reporting']!);

  const revenue = ws.addCollection({
    name: 'Revenue',
    description: 'Board-level revenue reports.',
    defaultAccessLevel: 'restricted',
  }).token;
  ws.setPermission(revenue, { accessorType: 'UserGroup', accessorToken: groups.Finance!, action: 'view' });
  ws.setPermission(revenue, { accessorType: 'Account', accessorToken: tokens.alice!, action: 'edit' });
  const marketing = ws.addCollection({
    name: 'Marketing',
    description: 'Campaign dashboards.',
    defaultAccessLevel: 'view',
  }).token;
  ws.setPermission(marketing, { accessorType: 'Account', accessorToken: tokens.grace!, action: 'edit' });
  ws.setPermission(marketing, {
    accessorType: 'UserGroup',
    accessorToken: groups['Sales Ops']!,
    action: 'view',
  });
  return ws;
}

export interface GenerateModeWorkspaceOptions {
  /** Workspace members (every one with an email). */
  members: number;
  /** Groups; the first, "Benchmark Group", holds groupSize members. */
  groups: number;
  /** Members of the first group; the others hold 1 to a tenth of it. */
  groupSize: number;
  /** Same seed, same workspace (tokens, names, memberships). Default 1. */
  seed?: number;
  /** Collections, each with a few group and member permissions. Default 10. */
  collections?: number;
  now?: () => number;
}

const FIRST = [
  'Ava',
  'Ben',
  'Chloé',
  'Daniel',
  'Elif',
  'Farid',
  'Grace',
  'Hiro',
  'Ingrid',
  'Jamal',
  'Kaja',
  'Liam',
];
const LAST = [
  'Andersson',
  'Brown',
  'Chen',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ito',
  'Novak',
];
const TEAMS = [
  'Finance',
  'Sales Ops',
  'Marketing',
  'Data',
  'HR',
  'Legal',
  'Support',
  'Product',
  'Risk',
  'IT',
];

/** Deterministic workspace of any size, e.g. 5,000 members with a 500-member group, built in well under a second. */
export function generateModeWorkspace(opts: GenerateModeWorkspaceOptions): ModeWorkspace {
  const seed = opts.seed ?? 1;
  const rnd = mulberry32(seed);
  const ws = new ModeWorkspace({ username: 'bench', seed, ...(opts.now ? { now: opts.now } : {}) });
  const members: string[] = [];
  for (let i = 0; i < opts.members; i += 1) {
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
    const username = `user${String(i + 1).padStart(5, '0')}`;
    // About one in 200 is deactivated and one in 100 SCIM-managed, so big runs meet both.
    const roll = rnd();
    members.push(
      ws.addMember({
        username,
        name: `${first} ${last}`,
        email: `${username}@corp.example`,
        state: roll < 0.005 ? 'deactivated' : 'active',
        managedByScim: roll >= 0.005 && roll < 0.015,
      }).memberToken,
    );
  }
  const perm = members.map((_, i) => i);
  /** k distinct members by a partial Fisher-Yates. */
  const sample = (k: number): string[] => {
    const take = Math.min(k, perm.length);
    for (let i = 0; i < take; i += 1) {
      const j = i + Math.floor(rnd() * (perm.length - i));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    return perm.slice(0, take).map((i) => members[i]!);
  };
  const groupTokens: string[] = [];
  for (let g = 0; g < opts.groups; g += 1) {
    const name = g === 0 ? 'Benchmark Group' : `${TEAMS[g % TEAMS.length]} ${Math.ceil(g / TEAMS.length)}`;
    const { token } = ws.addGroup({ name, managed: g % 25 === 24 });
    groupTokens.push(token);
    const size =
      g === 0 ? opts.groupSize : 1 + Math.floor(rnd() * Math.max(1, Math.floor(opts.groupSize / 10)));
    for (const m of sample(size)) ws.addToGroup(token, m);
  }
  for (let c = 0; c < (opts.collections ?? 10); c += 1) {
    const { token } = ws.addCollection({
      name: `${TEAMS[c % TEAMS.length]} Reports ${c + 1}`,
      defaultAccessLevel: c % 3 === 0 ? 'view' : 'restricted',
    });
    const g = groupTokens[c % Math.max(1, groupTokens.length)];
    if (g) ws.setPermission(token, { accessorType: 'UserGroup', accessorToken: g, action: 'view' });
    for (const m of sample(3))
      ws.setPermission(token, { accessorType: 'Account', accessorToken: m, action: 'edit' });
  }
  return ws;
}
