// What "Retry All Failed" would do, in words, from the API's dry run; and, to decide whether the
// button is worth showing, the same selection made here over the history: failed or
// undelivered, not retried yet, and not an error that retrying cannot fix.
import { formatCount, plural, skipNoun } from './format.js';

export const isFailure = (m) => m.status === 'failed' || m.status === 'undelivered';

/** The retry All selection over a history's messages (newest first in, oldest first out). */
export function localRetryPlan(messages) {
  const wouldRetry = [];
  const skipped = [];
  for (const m of [...messages].reverse()) {
    if (!isFailure(m)) continue;
    if (m.retriedById) {
      skipped.push({ originalMessageId: m.id, code: 'already_retried', existingRetryId: m.retriedById });
    } else if (m.errorCode && m.errorInfo && m.errorInfo.retryable === false) {
      skipped.push({ originalMessageId: m.id, code: 'not_retryable', errorCode: m.errorCode });
    } else {
      wouldRetry.push(m.id);
    }
  }
  return { wouldRetry, skipped };
}

/** "Retry 3; skipping 1 landline, 1 already retried". */
export function previewText(plan) {
  const n = plan.wouldRetry.length;
  const head = n === 0 ? 'Nothing to retry' : `Retry ${formatCount(n)}`;
  const already = plan.skipped.filter((s) => s.code === 'already_retried').length;
  const byCode = new Map();
  for (const s of plan.skipped) {
    if (s.code !== 'not_retryable') continue;
    byCode.set(s.errorCode, (byCode.get(s.errorCode) || 0) + 1);
  }
  const parts = [...byCode].map(([code, count]) => skipNoun(count, code));
  if (already) parts.push(`${formatCount(already)} already retried`);
  return parts.length ? `${head}; skipping ${parts.join(', ')}` : head;
}

/** The confirm button's words: "Retry 3 texts". */
export function confirmLabel(plan) {
  return `Retry ${plural(plan.wouldRetry.length, 'text')}`;
}
