// Owns the two CSVs of an access review: its holders as it opened (uploaded with a long review) and its outcome
// (uploaded when it closes, and printed by `npm run audit -- review <id>`): every holder with what was decided, by
// whom, when, and the revoke request filed. Cells a spreadsheet would run as formulas are kept text.
import { stringify } from 'csv-stringify/sync';
import { personKey } from '../domain/request.ts';
import type { AccessReview } from '../domain/review.ts';
import { spreadsheetSafe } from './queries/who-has.ts';
import type { ReviewCsv } from './review-notifier.ts';

/** The outcome's columns, as the README names them. */
export const OUTCOME_COLUMNS = [
  'holder',
  'kind',
  'email',
  'decision',
  'decided_by',
  'decided_at',
  'request_id',
];

function csv(columns: string[], rows: string[][]): Buffer {
  return Buffer.from(stringify(rows, { header: true, columns }), 'utf8');
}

/** The holders as the review opened, one line each. */
export function holdersCsv(review: AccessReview): ReviewCsv {
  return {
    kind: 'holders',
    rows: review.holders.length,
    csv: csv(
      ['holder', 'kind', 'email', 'id', 'status'],
      review.holders.map((h) => [
        spreadsheetSafe(h.name),
        h.kind,
        spreadsheetSafe(h.email ?? ''),
        spreadsheetSafe(h.id),
        h.status ?? '',
      ]),
    ),
  };
}

/** The outcome: `undecided` for a holder nobody decided (or whose revoke was still being filed). */
export function outcomeCsv(review: AccessReview): ReviewCsv {
  return {
    kind: 'outcome',
    rows: review.holders.length,
    csv: csv(
      OUTCOME_COLUMNS,
      review.holders.map((h, i) => {
        const d = review.decisions[i];
        const decided = d !== undefined && !d.filing;
        return [
          spreadsheetSafe(h.name),
          h.kind,
          spreadsheetSafe(h.email ?? ''),
          decided ? d.choice : 'undecided',
          decided ? personKey(d.by) : '',
          decided && Number.isFinite(d.at) ? new Date(d.at).toISOString() : '',
          decided ? (d.requestId ?? '') : '',
        ];
      }),
    ),
  };
}
