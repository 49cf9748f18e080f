// Owns the Slack side of the Notifier port (src/app/notifier.ts): which Slack message each event becomes (the
// views), where it goes (the approval message, its thread, a DM) and the message metadata that lets a retry find a
// thread reply Slack accepted but whose answer was lost. Sending itself goes through the messenger.
import type { MessageMetadata } from '@slack/types';
import type { DriftNotice, HoldersExport, Notifier, Recipient, RequestEvent } from '../app/notifier.ts';
import type { MessageRef, PersonRef, RoleChangeRequest } from '../domain/request.ts';
import type { HomeRefreshes } from './home.ts';
import type { SlackMessenger } from './messenger.ts';
import { driftReportMessage } from './views/drift.ts';
import { nudgeMessage } from './views/nudge.ts';
import {
  decisionNotice,
  resultMessage,
  revokeFailedMessage,
  revokeFailedNotice,
  type SlackMessage,
  type TenantLabels,
} from './views.ts';

/** The metadata event type of the bot's notifications (Slack: an alphanumeric, human-readable name). */
export const NOTIFY_EVENT_TYPE = 'qab_notify';

/** The messenger calls the notifier makes. */
export type NotifierMessenger = Pick<
  SlackMessenger,
  | 'postApproval'
  | 'postApprovalCopy'
  | 'refreshApproval'
  | 'replyInThread'
  | 'findThreadReply'
  | 'dm'
  | 'update'
  | 'uploadCsv'
  | 'post'
>;

export class SlackNotifier implements Notifier {
  readonly front = 'slack' as const;
  readonly #messenger: NotifierMessenger;
  /** The configured Qlik tenants: with several, results and notices name the request's tenant. */
  readonly #tenants: TenantLabels | undefined;
  /** Where a change is queued for the App Homes it concerns (src/slack/home.ts); none: no Home is kept. */
  readonly #homes: Pick<HomeRefreshes, 'requestChanged'> | undefined;

  constructor(
    messenger: NotifierMessenger,
    opts: { tenants?: TenantLabels; homes?: Pick<HomeRefreshes, 'requestChanged'> } = {},
  ) {
    this.#messenger = messenger;
    this.#tenants = opts.tenants;
    this.#homes = opts.homes;
  }

  /** Queued, not published: the bot finds whose Home shows the request and publishes each once per burst. */
  async homesChanged(req: RoleChangeRequest): Promise<void> {
    await this.#homes?.requestChanged(req.id);
  }

  announce(channel: string, req: RoleChangeRequest): Promise<MessageRef> {
    return this.#messenger.postApproval(channel, req);
  }

  copyTo(approver: PersonRef, req: RoleChangeRequest): Promise<MessageRef> {
    return this.#messenger.postApprovalCopy(approver.id, req);
  }

  refresh(req: RoleChangeRequest, event?: RequestEvent): Promise<void> {
    // The approval message says "Applied" for a grant whose revoke failed: the note says the role is still held.
    const failed = event?.kind === 'revoke-failed' && req.state === 'applied' ? event.failure : undefined;
    return this.#messenger.refreshApproval(req, failed ? { notice: revokeFailedNotice(req, failed) } : {});
  }

  postResult(req: RoleChangeRequest, event: RequestEvent): Promise<MessageRef | undefined> {
    return this.#messenger.replyInThread(
      req,
      messageFor(req, event, this.#tenants),
      notifyMetadata(req, event, 'thread'),
    );
  }

  findResult(req: RoleChangeRequest, event: RequestEvent): Promise<MessageRef | undefined> {
    return this.#messenger.findThreadReply(
      req,
      NOTIFY_EVENT_TYPE,
      notifyMetadata(req, event, 'thread').event_payload,
    );
  }

  /**
   * A DM, with the same kind of metadata as the thread reply. Never looked up before a retry: reading DM history
   * needs the im:history scope (every DM with the bot), which the bot does not ask for; a lost answer can repeat
   * one DM.
   */
  tell(recipient: Recipient, req: RoleChangeRequest, event: RequestEvent): Promise<MessageRef> {
    return this.#messenger.dm(
      recipient.id,
      messageFor(req, event, this.#tenants),
      notifyMetadata(req, event, `dm:${recipient.id}`),
    );
  }

  async updateResult(
    ref: MessageRef,
    req: RoleChangeRequest,
    opts: { supersededBy?: string } = {},
  ): Promise<boolean> {
    const msg = resultMessage(req, {
      ...(opts.supersededBy === undefined ? {} : { supersededBy: opts.supersededBy }),
      ...(this.#tenants ? { tenants: this.#tenants } : {}),
    });
    try {
      await this.#messenger.update(ref, msg);
      return true;
    } catch (err) {
      if (slackError(err) === 'message_not_found') return false;
      throw err;
    }
  }

  sendFile(to: PersonRef, file: HoldersExport): Promise<void> {
    return this.#messenger.uploadCsv({ userId: to.id, ...holdersCsvWords(file), content: file.csv });
  }

  reportDrift(channel: string, notice: DriftNotice): Promise<MessageRef> {
    return this.#messenger.post(channel, driftReportMessage(notice, this.#tenants));
  }
}

/** How the holders CSV is named and what is said with it in the DM. */
export function holdersCsvWords(file: HoldersExport): { filename: string; title: string; comment: string } {
  const day = new Date(file.at).toISOString().slice(0, 10);
  const what = file.resource === undefined ? file.entitlement : `${file.entitlement} in ${file.resource}`;
  const slug = what.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 120);
  if (file.kind === 'unmanaged')
    return {
      filename: `drift-${slug}-${day}.csv`,
      title: `Holders of ${what} not granted by the bot (${file.rows})`,
      comment: `All ${file.rows} direct holders of ${what} that no request of the bot granted.`,
    };
  return {
    filename: `who-has-${slug}-${day}.csv`,
    title: `Direct holders of ${what} (${file.rows})`,
    comment: `All ${file.rows} users who hold ${what} directly.`,
  };
}

/** The message a recipient gets for this event. */
function messageFor(req: RoleChangeRequest, event: RequestEvent, tenants?: TenantLabels): SlackMessage {
  if (event.kind === 'decision') return decisionNotice(req, tenants);
  if (event.kind === 'revoke-failed') return revokeFailedMessage(req, event.failure, tenants);
  if (event.kind === 'reminder' || event.kind === 'escalation') return nudgeMessage(req, event);
  return resultMessage(req, tenants ? { tenants } : {});
}

/** Invisible to people; names the request, the event (and its occurrence) and where the message went. */
function notifyMetadata(
  req: RoleChangeRequest,
  event: RequestEvent,
  step: string,
): MessageMetadata & { event_payload: Record<string, string | number> } {
  return {
    event_type: NOTIFY_EVENT_TYPE,
    event_payload: {
      request_id: req.id,
      event: event.kind,
      step,
      ...(event.seq === undefined ? {} : { seq: event.seq }),
    },
  };
}

function slackError(err: unknown): string | undefined {
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}
