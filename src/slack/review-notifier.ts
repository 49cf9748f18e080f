// Owns the Slack side of the ReviewNotifier port (src/app/review-notifier.ts): an access review's header goes to the
// approval channel, its batches of holders and its closing summary into the header's thread, and its CSVs (the
// holders of a long review, the outcome of a closed one) are uploaded into that thread. The messages are the views
// of src/slack/views/review.ts; sending goes through the messenger.
import type { ReviewCsv, ReviewNotifier } from '../app/review-notifier.ts';
import type { MessageRef } from '../domain/request.ts';
import type { AccessReview } from '../domain/review.ts';
import type { SlackMessenger } from './messenger.ts';
import {
  type ReviewViewOptions,
  reviewBatchMessage,
  reviewHeaderMessage,
  reviewSummaryMessage,
} from './views/review.ts';
import type { TenantLabels } from './views.ts';

export type ReviewMessenger = Pick<SlackMessenger, 'post' | 'update' | 'uploadCsvInThread'>;

export class SlackReviewNotifier implements ReviewNotifier {
  readonly #messenger: ReviewMessenger;
  readonly #opts: ReviewViewOptions;

  constructor(messenger: ReviewMessenger, opts: { tenants?: TenantLabels } = {}) {
    this.#messenger = messenger;
    this.#opts = opts.tenants === undefined ? {} : { tenants: opts.tenants };
  }

  postHeader(channel: string, review: AccessReview): Promise<MessageRef> {
    return this.#messenger.post(channel, reviewHeaderMessage(review, this.#opts));
  }

  postBatch(review: AccessReview & { header: MessageRef }, batch: number): Promise<MessageRef> {
    return this.#messenger.post(review.header.channel, reviewBatchMessage(review, batch, this.#opts), {
      threadTs: review.header.ts,
    });
  }

  updateHeader(review: AccessReview & { header: MessageRef }): Promise<void> {
    return this.#messenger.update(review.header, reviewHeaderMessage(review, this.#opts));
  }

  async updateBatch(review: AccessReview & { batches: MessageRef[] }, batch: number): Promise<void> {
    const ref = review.batches[batch];
    if (ref) await this.#messenger.update(ref, reviewBatchMessage(review, batch, this.#opts));
  }

  async postSummary(review: AccessReview & { header: MessageRef }): Promise<void> {
    await this.#messenger.post(review.header.channel, reviewSummaryMessage(review, this.#opts), {
      threadTs: review.header.ts,
    });
  }

  uploadCsv(review: AccessReview & { header: MessageRef }, file: ReviewCsv): Promise<void> {
    return this.#messenger.uploadCsvInThread(review.header, {
      ...reviewCsvWords(review, file),
      content: file.csv,
    });
  }
}

/** How a review's CSV is named and what is said with it. */
export function reviewCsvWords(
  review: AccessReview,
  file: ReviewCsv,
): { filename: string; title: string; comment: string } {
  const day = new Date(review.openedAt).toISOString().slice(0, 10);
  const what = review.targetRef.resource
    ? `${review.entitlement.name} in ${review.targetRef.resource.name}`
    : review.entitlement.name;
  const slug = what.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 100);
  return file.kind === 'holders'
    ? {
        filename: `review-${review.id}-${slug}-holders-${day}.csv`,
        title: `Holders of ${what} under review (${file.rows})`,
        comment: `All ${file.rows} holders of this review, as it opened.`,
      }
    : {
        filename: `review-${review.id}-${slug}-outcome-${day}.csv`,
        title: `Outcome of review ${review.id} (${file.rows})`,
        comment: `What was decided for each of the ${file.rows} holders.`,
      };
}
