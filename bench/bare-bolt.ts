// Owns the baseline of the ack benchmark: the least a Bolt app can do for a slash command, run as its own process
// the way the bot role runs (`node bench/bare-bolt.ts`, the same Node and Node flags, the same Bolt App and
// HTTPReceiver with its own signature check, the same signing secret, fake Slack and Qlik simulator). Per command it
// acks at once with an empty body, makes one Qlik GET (a page of 10 users, with the bearer key and API version header
// the bot sends) with Node's fetch, and answers once with Bolt's respond() (which posts to the command's
// response_url with Node's fetch): the platform's defaults, as a bare app would be written. No logging, no Redis,
// no parsing beyond Bolt's own: what the bot's figures are divided by.
//   Environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL, QLIK_TENANT_URL, QLIK_API_KEY, PORT.
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`bare-bolt: ${name} is required`);
    process.exit(2);
  }
  return v;
}

export async function startBareBolt(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stop(): Promise<void> }> {
  const get = (k: string) => env[k] ?? need(k);
  const users = `${get('QLIK_TENANT_URL').replace(/\/+$/, '')}/api/v1/users?limit=10&fields=id,name,email`;
  const apiKey = get('QLIK_API_KEY');
  const apiUrl = get('SLACK_API_URL');
  const receiver = new HTTPReceiver({
    signingSecret: get('SLACK_SIGNING_SECRET'),
    endpoints: '/slack/events',
    processBeforeResponse: false,
    logLevel: LogLevel.ERROR,
    // The harness waits for /readyz, as it does for the bot.
    customRoutes: [
      {
        path: '/readyz',
        method: ['GET'],
        handler: (_req, res) => {
          res.writeHead(200);
          res.end('ready\n');
        },
      },
    ],
  });
  const app = new App({
    token: get('SLACK_BOT_TOKEN'),
    botId: 'B0BAREBOLT',
    botUserId: 'U0BAREBOLT',
    receiver,
    logLevel: LogLevel.ERROR,
    convoStore: false,
    clientOptions: { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` },
  });
  app.command(/^[\s\S]*$/, async ({ ack, respond }) => {
    await ack();
    let text: string;
    try {
      const res = await fetch(users, {
        headers: {
          authorization: `Bearer ${apiKey}`,
          'qlik-api-version': '2026-08',
          accept: 'application/json',
        },
      });
      const page = (await res.json()) as { data?: { name?: string }[] };
      text = `${res.status}: ${(page.data ?? []).map((u) => u.name).join(', ')}`;
    } catch (err) {
      text = `Qlik failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  });
  await app.start(Number(get('PORT')));
  return {
    async stop() {
      await app.stop();
    },
  };
}

if (import.meta.main) {
  const running = await startBareBolt();
  const stop = () => void running.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
