// Owns the ReviewNotifier port: how the app shows an access review (src/domain/review.ts) to the approvers in their
// chat without knowing which chat it is. The app says what to show (the review's header, one batch of holders, the
// closing summary, a CSV) and hands over the review as stored; the front (src/slack/review-notifier.ts for Slack)
// decides the words, the buttons and the layout, and renders every message from the review's current state, so an
// update always shows what is recorded (no live button on a decided holder or a closed review).

import type { MessageRef } from '../domain/request.ts';
import type { AccessReview } from '../domain/review.ts';

/** A CSV handed over with a review: its holders as it opened, or its outcome when it closed. */
export interface ReviewCsv {
  kind: 'holders' | 'outcome';
  /** Rows after the header. */
  rows: number;
  csv: Buffer;
}

/** Every call sends or updates what it is asked to once, or throws when the chat refused, so the caller can say so. */
export interface ReviewNotifier {
  /** Posts the review's header message in `channel` and says where it landed. */
  postHeader(channel: string, review: AccessReview): Promise<MessageRef>;
  /** Posts batch `batch` of the review's holders as a reply in the header's thread. */
  postBatch(review: AccessReview & { header: MessageRef }, batch: number): Promise<MessageRef>;
  /** Brings the header message up to date (progress, closed). */
  updateHeader(review: AccessReview & { header: MessageRef }): Promise<void>;
  /** Brings batch `batch`'s message up to date (who decided what; no buttons once decided or closed). */
  updateBatch(review: AccessReview & { batches: MessageRef[] }, batch: number): Promise<void>;
  /** Posts the closing summary in the header's thread. */
  postSummary(review: AccessReview & { header: MessageRef }): Promise<void>;
  /** Uploads a CSV into the header's thread. */
  uploadCsv(review: AccessReview & { header: MessageRef }, file: ReviewCsv): Promise<void>;
}
