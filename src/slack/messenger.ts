// Owns every message the bot sends to Slack: the approval message and its updates, thread replies, DMs,
// response_url answers, ephemerals and CSV uploads. The bot and the worker both send through here, so how a
// message reaches Slack (and what is logged about it) lives in one place.
import type { MessageMetadata } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { announcementOf, type MessageRef, type RoleChangeRequest } from '../domain/request.ts';
import type { Logger } from '../observability/logger.ts';
import { retry } from '../retry.ts';
import { exchange } from './transport.ts';
import { approvalMessage, type SlackMessage, type TenantLabels } from './views.ts';

export type { SlackMessage };

/**
 * Block Kit as the Web API takes it in a form body: a JSON string. The client would stringify an array itself, but
 * first walks and copies it (and then the result) for a debug line it builds whatever the log level; a string it
 * passes through as is. The same request reaches Slack either way.
 */
function formBlocks(blocks: SlackMessage['blocks']): SlackMessage['blocks'] {
  return JSON.stringify(blocks) as unknown as SlackMessage['blocks'];
}

/** How long one post to a response_url may take, from sending to the last byte of Slack's answer. */
const RESPONSE_URL_TIMEOUT_MS = 10_000;

export interface CsvUpload {
  userId: string;
  filename: string;
  title: string;
  content: string | Buffer;
  comment?: string;
}

/** Thrown when a response_url answer could not be delivered. */
export class ResponseUrlError extends Error {
  override readonly name = 'ResponseUrlError';
  readonly status: number;
  /** The network error when no response came (status 0); empty otherwise. */
  readonly detail: string;
  constructor(status: number, detail: string) {
    super(
      `Slack did not accept the reply to the command (${status === 0 ? detail || 'network error' : `HTTP ${status}`})`,
    );
    this.status = status;
    this.detail = detail;
  }

  get clientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }
}

export class SlackMessenger {
  readonly #client: WebClient;
  readonly #logger: Logger;
  /** conversations.open returns the same DM channel for a user forever; remembering it saves a call per DM. */
  readonly #dmChannels = new Map<string, string>();
  /** The configured Qlik tenants: with several, the approval message names the request's tenant. */
  readonly #tenants: TenantLabels | undefined;

  constructor(client: WebClient, logger: Logger, opts: { tenants?: TenantLabels } = {}) {
    this.#client = client;
    this.#logger = logger.child({ module: 'messenger' });
    this.#tenants = opts.tenants;
  }

  /** Posts the approval message for a request and says where it landed. */
  async postApproval(channel: string, req: RoleChangeRequest): Promise<MessageRef> {
    const msg = approvalMessage(req, this.#tenants ? { tenants: this.#tenants } : {});
    const res = await this.#client.chat.postMessage({
      channel,
      text: msg.text,
      blocks: formBlocks(msg.blocks),
    });
    if (!res.ts || !res.channel) throw new Error('Slack did not return the posted message (no ts/channel)');
    this.#logger.debug({ requestId: req.id, channel: res.channel, ts: res.ts }, 'approval message posted');
    return { channel: res.channel, ts: res.ts };
  }

  /** Sends one approver the approval message by DM (policy `approverDms`) and says where it landed. */
  async postApprovalCopy(userId: string, req: RoleChangeRequest): Promise<MessageRef> {
    const msg = approvalMessage(req, this.#tenants ? { tenants: this.#tenants } : {});
    return this.dm(userId, msg);
  }

  /**
   * Re-renders the approval message for the request's current state (with a note the state alone does not say,
   * e.g. a failed revoke), and every copy of it sent to an approver by DM; a no-op when none was posted. A copy
   * that no longer exists (the approver deleted the DM) is skipped; any other refusal throws, for the caller to
   * try again (updating a message twice with the same content is harmless).
   */
  async refreshApproval(req: RoleChangeRequest, opts: { notice?: string } = {}): Promise<void> {
    const ref = announcementOf(req);
    if (!ref) return;
    const msg = approvalMessage(req, {
      ...(opts.notice === undefined ? {} : { notice: opts.notice }),
      ...(this.#tenants ? { tenants: this.#tenants } : {}),
    });
    const update = (at: MessageRef) =>
      this.#client.chat.update({
        channel: at.channel,
        ts: at.ts,
        text: msg.text,
        blocks: formBlocks(msg.blocks),
      });
    await update(ref);
    for (const copy of req.messages ?? []) {
      if (copy.kind !== 'approval-copy') continue;
      try {
        await update(copy);
      } catch (err) {
        if ((err as { data?: { error?: unknown } }).data?.error !== 'message_not_found') throw err;
      }
    }
  }

  /**
   * Replies in the approval message's thread and says where the reply landed; undefined when no approval message
   * was posted. `metadata` (Slack message metadata, invisible to people) lets a retry find the reply again.
   */
  async replyInThread(
    req: RoleChangeRequest,
    msg: SlackMessage,
    metadata?: MessageMetadata,
  ): Promise<MessageRef | undefined> {
    const ref = announcementOf(req);
    if (!ref) return undefined;
    const res = await this.#client.chat.postMessage({
      channel: ref.channel,
      thread_ts: ref.ts,
      text: msg.text,
      blocks: formBlocks(msg.blocks),
      ...(metadata ? { metadata } : {}),
    });
    return { channel: res.channel ?? ref.channel, ts: res.ts ?? '' };
  }

  /**
   * The bot's reply in the request's thread whose metadata matches `event_type` and every field of `payload`, or
   * undefined. Reads the thread with include_all_metadata (Slack leaves metadata out otherwise), page by page.
   */
  async findThreadReply(
    req: RoleChangeRequest,
    eventType: string,
    payload: Readonly<Record<string, string | number>>,
  ): Promise<MessageRef | undefined> {
    const ref = announcementOf(req);
    if (!ref) return undefined;
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await this.#client.conversations.replies({
        channel: ref.channel,
        ts: ref.ts,
        include_all_metadata: true,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      for (const m of res.messages ?? []) {
        const md = (m as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } })
          .metadata;
        if (md?.event_type !== eventType || !m.ts) continue;
        if (Object.entries(payload).every(([k, v]) => md.event_payload?.[k] === v))
          return { channel: ref.channel, ts: m.ts };
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /**
   * Posts a message of the bot's own (not about one request) to a channel, or into a thread of it with `threadTs`
   * (an access review's batches), and says where it landed.
   */
  async post(channel: string, msg: SlackMessage, opts: { threadTs?: string } = {}): Promise<MessageRef> {
    const res = await this.#client.chat.postMessage({
      channel,
      text: msg.text,
      blocks: formBlocks(msg.blocks),
      ...(opts.threadTs === undefined ? {} : { thread_ts: opts.threadTs }),
    });
    return { channel: res.channel ?? channel, ts: res.ts ?? '' };
  }

  /** Sends a direct message from the bot to a user and says where it landed. */
  async dm(userId: string, msg: SlackMessage, metadata?: MessageMetadata): Promise<MessageRef> {
    const channel = await this.#dmChannel(userId);
    const res = await this.#client.chat.postMessage({
      channel,
      text: msg.text,
      blocks: formBlocks(msg.blocks),
      ...(metadata ? { metadata } : {}),
    });
    return { channel: res.channel ?? channel, ts: res.ts ?? '' };
  }

  /** Replaces a message the bot posted (a copy of a result whose buttons no longer apply). */
  async update(ref: MessageRef, msg: SlackMessage): Promise<void> {
    await this.#client.chat.update({
      channel: ref.channel,
      ts: ref.ts,
      text: msg.text,
      blocks: formBlocks(msg.blocks),
    });
  }

  /**
   * Answers through a command's or a click's response_url: ephemeral by default, and never replacing the message
   * the button sits on unless asked.
   */
  async respond(
    responseUrl: string,
    msg: SlackMessage,
    opts: { replaceOriginal?: boolean } = {},
  ): Promise<void> {
    const body = JSON.stringify({
      response_type: 'ephemeral',
      replace_original: opts.replaceOriginal ?? false,
      text: msg.text,
      blocks: msg.blocks,
    });
    // One retry, at once, covers a dropped keep-alive connection; response_url accepts five posts in thirty minutes.
    try {
      await retry(
        async () => {
          let status: number;
          try {
            ({ status } = await exchange(responseUrl, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              timeoutMs: RESPONSE_URL_TIMEOUT_MS,
            }));
          } catch (err) {
            throw new ResponseUrlError(0, err instanceof Error ? err.message : String(err));
          }
          if (status >= 200 && status < 300) return;
          throw new ResponseUrlError(status, '');
        },
        {
          maxAttempts: 2,
          backoff: { baseMs: 0, capMs: 0 },
          // A 4xx (expired, used up, unknown URL) will not change on a second post.
          classify: (err) => ({ retry: !(err as ResponseUrlError).clientError }),
        },
      );
    } catch (err) {
      const e = err as ResponseUrlError;
      this.#logger.warn({ status: e.status, detail: e.detail }, 'response_url post failed');
      throw e;
    }
  }

  /** A message only `userId` sees, in `channel`. */
  async ephemeral(channel: string, userId: string, msg: SlackMessage): Promise<void> {
    await this.#client.chat.postEphemeral({
      channel,
      user: userId,
      text: msg.text,
      blocks: formBlocks(msg.blocks),
    });
  }

  /** Uploads a CSV file into a thread of a channel (an access review's). */
  async uploadCsvInThread(
    thread: MessageRef,
    opts: Omit<CsvUpload, 'userId' | 'content'> & { content: Buffer },
  ): Promise<void> {
    await this.#client.filesUploadV2({
      channel_id: thread.channel,
      thread_ts: thread.ts,
      file: opts.content,
      filename: opts.filename,
      title: opts.title,
      ...(opts.comment === undefined ? {} : { initial_comment: opts.comment }),
    });
    this.#logger.debug({ filename: opts.filename, bytes: opts.content.length }, 'csv uploaded in a thread');
  }

  /** Uploads a CSV file into the user's DM with the bot. */
  async uploadCsv(opts: CsvUpload): Promise<void> {
    const channel = await this.#dmChannel(opts.userId);
    const content = typeof opts.content === 'string' ? Buffer.from(opts.content, 'utf8') : opts.content;
    await this.#client.filesUploadV2({
      channel_id: channel,
      file: content,
      filename: opts.filename,
      title: opts.title,
      ...(opts.comment === undefined ? {} : { initial_comment: opts.comment }),
    });
    this.#logger.debug({ filename: opts.filename, bytes: content.length }, 'csv uploaded');
  }

  async #dmChannel(userId: string): Promise<string> {
    const known = this.#dmChannels.get(userId);
    if (known) return known;
    const res = await this.#client.conversations.open({ users: userId });
    const id = res.channel?.id;
    if (!id) throw new Error('Slack did not open a direct message channel');
    this.#dmChannels.set(userId, id);
    return id;
  }
}
