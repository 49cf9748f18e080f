// 10,000 hostile commands through the real receiver (signed Slack HTTP → Bolt → parsers → app → Qlik simulator and
// Redis → answers): `/qlik` and `/mode` texts built from the grammar's words and adversarial strings (control and
// zero-width characters, RTL marks, 4,000-character values, nested quotes, backslashes, `%`, newlines, Slack's
// `<…|…>` forms with junk). Nothing may crash or answer non-200, every command gets its answer, every message the
// bot sends is within Block Kit's limits, and Qlik never sees a filter it refuses (an unescaped value).
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  demoModeWorkspace,
  type ModeSimulator,
  startModeSimulator,
} from '../../src/sandbox/mode-sim/index.ts';
import { checkBlocks } from '../../src/sandbox/slack-fake/block-limits.ts';
import { type Front, startFront, U } from './slack-front-harness.ts';

const COMMANDS = Number(process.env.FUZZ_COMMANDS ?? 10_000);

let mode: ModeSimulator;
let f: Front;
beforeAll(async () => {
  mode = await startModeSimulator({ workspace: demoModeWorkspace() });
  f = await startFront({
    label: 'fuzz',
    env: {
      MODE_WORKSPACE: mode.workspace.username,
      MODE_TOKEN: mode.token,
      MODE_SECRET: mode.secret,
      MODE_API_URL: mode.url,
    },
  });
});
afterAll(async () => {
  await f?.close();
  await mode?.close();
});

const junk = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: fc.nat(0x10ffff).map((c) => String.fromCodePoint(c)), maxLength: 60 }),
  fc.constantFrom(
    '\u200B',
    '\u202E',
    '\u2066evil\u2069',
    '\u0000',
    '\r\n',
    '%',
    '%00',
    '\\',
    '\\"',
    '"',
    '“quoted”',
    '""""',
    '"a "b" c"',
    '<@U0ALICE|alice>',
    '<@U0NOPE|>',
    '<!channel>',
    '<!subteam^S1|@ops>',
    '<#C1|general>',
    '<mailto:a@b.c|a@b.c>',
    '<https://evil.example|click>',
    '<@',
    '>',
    'a" or "1"="1',
    'eq "x" or 1',
    'group:"',
    'space:"',
    'collection:"',
    'for',
    'because',
    'on',
    'in',
  ),
  fc
    .constantFrom('x', 'é', '"', '<', '\\')
    .chain((s) => fc.integer({ min: 500, max: 4000 }).map((n) => s.repeat(n))),
);
const word = fc.oneof(
  { weight: 3, arbitrary: junk },
  fc.constantFrom(
    'me',
    '@alice',
    'frank@corp.example',
    'group:Finance',
    'group:"Sales Ops"',
    'Steward',
    'TenantAdmin',
  ),
  fc.constantFrom(
    'in space:"Finance Reports"',
    'space:Sales',
    'for 4h',
    'for 99999w',
    'because',
    'because ok',
    'on dev',
  ),
  fc.constantFrom(
    'consumer',
    '"Can view"',
    'view',
    'edit',
    'in collection:"Revenue"',
    'Analysts',
    'with Steward,',
  ),
);
const qlikVerb = fc.constantFrom(
  'grant',
  'revoke',
  'who-has',
  'whois',
  'roles',
  'spaces',
  'invite',
  'requests',
  'cancel',
  'audit',
  'help',
  'gramt',
  '',
);
const modeVerb = fc.constantFrom('grant', 'revoke', 'who-has', 'whois', 'groups', 'help', 'grnat', '');
const command = fc.tuple(
  fc.constantFrom('/qlik', '/qlik', '/qlik', '/mode'),
  fc.oneof(qlikVerb, modeVerb),
  fc.array(word, { maxLength: 8 }),
  fc.constantFrom(' ', '  ', '\t', '\n', '\u00A0'),
);
/** A hostile value in quotes (escaped as a person would type it), so it gets past the grammar to the lookups. */
const quoted = junk.map(
  (j) => `"${j.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', ' ')}"`,
);
const who = fc.oneof(
  fc.constantFrom('me', '@alice', 'frank@corp.example', '<@U0DAN|dan>'),
  quoted.map((q) => `group:${q}`),
  junk.map((j) => `${j.replace(/[\s@<>"]/g, '').slice(0, 40) || 'x'}@corp.example`),
);
/** Commands the grammar takes, with hostile names, spaces, collections and reasons: these reach Qlik and Mode. */
const wellFormed = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('grant', 'revoke'),
      who,
      quoted,
      fc.option(quoted.map((q) => `in space:${q}`)),
      fc.option(junk.map((j) => `because ${j}`)),
    )
    .map(
      ([v, w, r, sp, why]) => ['/qlik', [v, w, r, sp ?? '', why ?? ''].filter(Boolean).join(' ')] as const,
    ),
  fc
    .tuple(quoted, fc.option(quoted))
    .map(([a, b]) => ['/qlik', b ? `who-has ${a} in space:${b}` : `who-has ${a}`] as const),
  quoted.map((q) => ['/qlik', `who-has space:${q}`] as const),
  who.map((w) => ['/qlik', `whois ${w}`] as const),
  quoted.map((q) => ['/qlik', `spaces ${q}`] as const),
  fc
    .tuple(who, quoted)
    .map(
      ([w, r]) =>
        [
          '/qlik',
          `invite ${w.startsWith('group:') ? 'new@corp.example' : w} with ${r.replaceAll(',', '')}`,
        ] as const,
    ),
  fc
    .tuple(fc.constantFrom('grant', 'revoke'), who, quoted)
    .map(([v, w, g]) => ['/mode', `${v} ${w.startsWith('group:') ? 'me' : w} ${g}`] as const),
  fc
    .tuple(who, fc.constantFrom('view', 'edit'), quoted)
    .map(([w, l, c]) => ['/mode', `grant ${w} ${l} in collection:${c}`] as const),
  quoted.map((q) => ['/mode', `who-has collection:${q}`] as const),
  quoted.map((q) => ['/mode', `who-has ${q}`] as const),
);
const anyCommand = fc.oneof(
  command.map(([cmd, verb, words, sep]) => [cmd, [verb, ...words].join(sep)] as const),
  { weight: 2, arbitrary: wellFormed },
);

it(`${COMMANDS} hostile commands: no crash, no non-200, an answer for each, Block Kit limits, no refused filter`, async () => {
  const samples = fc.sample(anyCommand, { numRuns: COMMANDS, seed: 4711 });
  const answeredInAck = new Set<number>();
  let acked = 0;
  const batch = 25;
  for (let start = 0; start < samples.length; start += batch) {
    await Promise.all(
      samples.slice(start, start + batch).map(async ([cmd, text], j) => {
        const res = await f.driver.slash(U.dan, text, { command: cmd, raw: true });
        expect(res.status, `${cmd} ${JSON.stringify(text).slice(0, 200)}`).toBe(200);
        acked++;
        if (res.ackMessage) answeredInAck.add(start + j);
      }),
    );
  }
  expect(acked).toBe(COMMANDS);
  // The grammar takes a good share, so the lookups, Qlik and Mode are really reached.
  expect(COMMANDS - answeredInAck.size).toBeGreaterThan(COMMANDS / 4);
  // Every command not answered in its ack answers through its response_url, or (`/qlik` alone, `/qlik grant`
  // alone) opens the request form.
  const later = COMMANDS - answeredInAck.size;
  const formsOpened = () =>
    f.fake.calls.filter((c) => c.method === 'views.open' && c.error === undefined).length;
  await f.fake.waitFor(
    () => f.fake.messages.filter((m) => m.via === 'response_url').length + formsOpened() >= later,
    120_000,
  );
  for (const m of f.fake.messages) {
    const check = checkBlocks(m.blocks ?? []);
    expect(check.ok, `${m.via}: ${JSON.stringify(check)}`).toBe(true);
    expect((m.text ?? '').length).toBeLessThanOrEqual(40_000);
  }
  expect(f.fake.calls.filter((c) => (c.error ?? '').startsWith('invalid_blocks'))).toEqual([]);
  // Qlik answers 400 to a filter it can't parse: the bot escaped every value it put in one.
  const refused = f.sim.requests.filter(
    (r) => r.status === 400 && (r.query.filter !== undefined || r.path.includes('filter')),
  );
  expect(refused).toEqual([]);
  expect(f.sim.requests.filter((r) => r.status >= 500)).toEqual([]);
}, 300_000);
