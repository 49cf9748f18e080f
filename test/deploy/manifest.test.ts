// The Slack app manifest: it parses, /qlik escapes users and links, and its bot scopes are exactly the scopes the
// code needs — every Slack Web API method called in src/ is covered, and no declared scope goes unused.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FORM_SHORTCUT_ID } from '../../src/slack/views/request-form.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Required bot scope(s) of each Slack method the bot may plausibly call (api.slack.com/methods). A method the code
 * calls that is missing here fails the test: look its scope up and add it, then declare it in manifest.yml.
 * `[]` means the method needs no scope.
 */
const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.meMessage': ['chat:write'],
  'chat.scheduleMessage': ['chat:write'],
  'chat.deleteScheduledMessage': ['chat:write'],
  'chat.getPermalink': [],
  // A bot opening a DM with one user needs im:write (mpim:write for group DMs, which the bot never opens).
  'conversations.open': ['im:write'],
  'conversations.info': ['channels:read'],
  'conversations.list': ['channels:read'],
  'conversations.members': ['channels:read'],
  'conversations.history': ['channels:history'],
  // The approval channel may be public or private: the bot reads its own thread replies in either.
  'conversations.replies': ['channels:history', 'groups:history'],
  'conversations.join': ['channels:join'],
  'users.info': ['users:read'],
  'users.list': ['users:read'],
  'users.lookupByEmail': ['users:read.email'],
  'users.conversations': ['channels:read'],
  'users.profile.get': ['users.profile:read'],
  'usergroups.list': ['usergroups:read'],
  'usergroups.users.list': ['usergroups:read'],
  'files.uploadV2': ['files:write'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'files.info': ['files:read'],
  'team.info': ['team:read'],
  'bots.info': ['users:read'],
  'reactions.add': ['reactions:write'],
  'views.open': [],
  'views.update': [],
  'views.publish': [],
};

/**
 * Required bot scope(s) of each Events API event the bot may subscribe to (docs.slack.dev/reference/events). An
 * event the code listens for that is missing here fails the test, as for methods.
 */
const EVENT_SCOPES: Record<string, string[]> = {
  // "Your Slack app must have a bot user configured and installed to use this event": no scope.
  app_home_opened: [],
  app_mention: ['app_mentions:read'],
  'message.im': ['im:history'],
  'message.channels': ['channels:history'],
};

/** Events the sources subscribe to with Bolt's `app.event('…')`, with where. */
function slackEventsListened(files: SourceFile[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const f of files)
    for (const m of f.text.matchAll(/\.event\(\s*['"`]([\w.]+)['"`]/g))
      found.set(m[1]!, [...(found.get(m[1]!) ?? []), f.path]);
  return found;
}

/** Every method name the real WebClient exposes (`chat.postMessage`, `usergroups.users.list`, …). */
function slackMethodNames(): Set<string> {
  const client = new WebClient() as unknown as Record<string, unknown>;
  const names = new Set<string>();
  const walk = (o: Record<string, unknown>, path: string, depth: number) => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'function') names.add(`${path}${k}`);
      else if (v && typeof v === 'object' && depth < 4 && /^[a-z]/.test(k))
        walk(v as Record<string, unknown>, `${path}${k}.`, depth + 1);
    }
  };
  for (const [k, v] of Object.entries(client)) {
    if (v && typeof v === 'object' && /^[a-z]/.test(k) && !Array.isArray(v) && k !== 'logger')
      walk(v as Record<string, unknown>, `${k}.`, 0);
  }
  return names;
}

interface SourceFile {
  path: string;
  text: string;
}

/** The bot's own sources: src/ without the sandbox (the fakes and simulator never talk to real Slack). */
function botSources(): SourceFile[] {
  const dir = join(ROOT, 'src');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.ts') && !p.startsWith(`sandbox`))
    .map((p) => ({
      path: relative(ROOT, join(dir, p)),
      text: stripComments(readFileSync(join(dir, p), 'utf8')),
    }));
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Slack methods called in the sources, with where. */
function slackMethodsCalled(files: SourceFile[], known: Set<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (method: string, where: string) => found.set(method, [...(found.get(method) ?? []), where]);
  const namespaced = /\.\s*([a-z][A-Za-z]*(?:\.[a-z][A-Za-z0-9]*)+)\s*\(/g;
  const apiCall = /\.apiCall\(\s*['"`]([\w.]+)['"`]/g;
  for (const f of files) {
    for (const m of f.text.matchAll(namespaced)) {
      // `res.users.map(` is not a Slack call: only names the WebClient really has count.
      const name = m[1]!;
      // `this.#client.usergroups.users.list(` → try the longest tail first: usergroups.users.list.
      const parts = name.split('.');
      for (let start = 0; start < parts.length - 1; start++) {
        const tail = parts.slice(start).join('.');
        if (known.has(tail)) {
          add(tail, f.path);
          break;
        }
      }
    }
    for (const m of f.text.matchAll(apiCall)) add(m[1]!, f.path);
    if (/\bfilesUploadV2\s*\(/.test(f.text)) add('files.uploadV2', f.path);
    // Bolt's say() posts with chat.postMessage.
    if (/\bsay\s*\(/.test(f.text) && /@slack\/bolt/.test(f.text)) add('chat.postMessage', f.path);
  }
  return found;
}

const manifest = parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8')) as {
  display_information: { name: string };
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean };
    bot_user: { display_name: string };
    shortcuts?: { name: string; type: string; callback_id: string; description: string }[];
    slash_commands: {
      command: string;
      url: string;
      description: string;
      usage_hint?: string;
      should_escape: boolean;
    }[];
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions?: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string; message_menu_options_url?: string };
    socket_mode_enabled: boolean;
    org_deploy_enabled: boolean;
  };
};

describe('manifest.yml', () => {
  it('is the current manifest schema with /qlik escaping users, channels and links', () => {
    expect(manifest.display_information.name).toBeTruthy();
    expect(manifest.features.bot_user.display_name).toBeTruthy();
    const qlik = manifest.features.slash_commands.find((c) => c.command === '/qlik');
    expect(qlik).toBeDefined();
    expect(qlik!.should_escape).toBe(true);
    expect(qlik!.url).toBe('https://YOUR-HOST/slack/events');
    expect(qlik!.description.length).toBeGreaterThan(0);
    // Slack's limits: description ≤ 2000 characters, usage hint ≤ 1000.
    expect(qlik!.description.length).toBeLessThanOrEqual(2000);
    expect((qlik!.usage_hint ?? '').length).toBeLessThanOrEqual(1000);
    expect(manifest.settings.interactivity).toEqual({
      is_enabled: true,
      request_url: 'https://YOUR-HOST/slack/events',
      message_menu_options_url: 'https://YOUR-HOST/slack/events',
    });
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.settings.org_deploy_enabled).toBe(false);
  });

  it('explains how to switch to Socket Mode', () => {
    const text = readFileSync(join(ROOT, 'manifest.yml'), 'utf8');
    expect(text).toMatch(/SLACK_APP_TOKEN/);
    expect(text).toMatch(/connections:write/);
  });

  it('finds the Slack calls the scan is meant to find', () => {
    const known = slackMethodNames();
    const calls = slackMethodsCalled(
      [
        {
          path: 'x.ts',
          text: [
            'await this.#client.chat.postMessage({});',
            'await client.usergroups.users.list({ usergroup });',
            'const n = res.users.map((u) => u.id);',
            "await web.apiCall('team.info', {});",
            'await client.filesUploadV2({});',
          ].join('\n'),
        },
      ],
      known,
    );
    expect([...calls.keys()].sort()).toEqual([
      'chat.postMessage',
      'files.uploadV2',
      'team.info',
      'usergroups.users.list',
    ]);
  });

  it('declares a scope for every Slack method the code calls, and no scope the code does not use', () => {
    const files = botSources();
    const calls = slackMethodsCalled(files, slackMethodNames());
    expect(calls.size, 'the scan found no Slack Web API calls in src/ at all').toBeGreaterThan(0);

    const unmapped = [...calls.keys()].filter((m) => !(m in METHOD_SCOPES));
    expect(unmapped, `add these methods and their scopes to METHOD_SCOPES: ${unmapped.join(', ')}`).toEqual(
      [],
    );

    const needed = new Map<string, string>();
    for (const [method, where] of calls) {
      for (const scope of METHOD_SCOPES[method]!) needed.set(scope, `${method} in ${where[0]}`);
    }
    const all = files.map((f) => f.text).join('\n');
    // users.info returns profile.email only with users:read.email, and the bot maps Slack users to Qlik by email.
    if (calls.has('users.info') && /profile\??\.email/.test(all))
      needed.set('users:read.email', 'users.info email');
    // The slash command itself needs `commands`.
    if (/\.command\(/.test(all)) needed.set('commands', 'the /qlik slash command');
    // The events it subscribes to (app.event), each with its own scopes.
    for (const [event, where] of slackEventsListened(files)) {
      expect(event in EVENT_SCOPES, `add ${event} and its scopes to EVENT_SCOPES`).toBe(true);
      for (const scope of EVENT_SCOPES[event]!) needed.set(scope, `the ${event} event in ${where[0]}`);
    }

    const declared = new Set(manifest.oauth_config.scopes.bot);
    const missing = [...needed.keys()].filter((s) => !declared.has(s));
    expect(
      missing,
      `declare in manifest.yml: ${missing.map((s) => `${s} (${needed.get(s)})`).join(', ')}`,
    ).toEqual([]);
    const unused = [...declared].filter((s) => !needed.has(s));
    expect(unused, `remove from manifest.yml, nothing in src/ needs them: ${unused.join(', ')}`).toEqual([]);
  });

  it('subscribes to exactly the events the code listens for, and has a Home tab exactly when it publishes one', () => {
    const files = botSources();
    const listened = [...slackEventsListened(files).keys()].sort();
    expect(listened, 'the scan found no app.event listener').toContain('app_home_opened');
    const subs = manifest.settings.event_subscriptions;
    expect(subs?.bot_events.slice().sort()).toEqual(listened);
    expect(subs?.request_url).toBe('https://YOUR-HOST/slack/events');
    const publishes = slackMethodsCalled(files, slackMethodNames()).has('views.publish');
    expect(manifest.features.app_home.home_tab_enabled).toBe(
      publishes && listened.includes('app_home_opened'),
    );
    expect(manifest.features.app_home.messages_tab_enabled).toBe(true);
  });

  it('enables interactivity because the code handles button clicks', () => {
    const all = botSources()
      .map((f) => f.text)
      .join('\n');
    expect(all).toMatch(/\.action\(/);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });

  it('declares the global shortcut that opens the request form, as the code names it', () => {
    const shortcut = manifest.features.shortcuts?.find((s) => s.callback_id === FORM_SHORTCUT_ID);
    expect(shortcut).toMatchObject({ type: 'global', name: 'Request access' });
    // Slack's limits: a shortcut's name ≤ 24 characters, its description ≤ 150.
    expect(shortcut!.name.length).toBeLessThanOrEqual(24);
    expect(shortcut!.description.length).toBeLessThanOrEqual(150);
    // The form's menus load options from the app: Slack then needs an options URL (HTTP mode).
    const all = botSources()
      .map((f) => f.text)
      .join('\n');
    expect(all).toMatch(/\.options\(/);
    expect(manifest.settings.interactivity.message_menu_options_url).toBe('https://YOUR-HOST/slack/events');
  });
});
