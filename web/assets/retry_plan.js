// What "Retry All Failed" would do, in words, from the API's dry run (or, on an smsd without
// dryRun, from the same selection made here: failed or undelivered, not retried yet, and not
// an error that retrying cannot fix).
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

/** The skip's kind, from the API's `code` or, before it existed, its reason text. */
function skipKind(skip) {
  if (skip.code) return { code: skip.code, errorCode: skip.errorCode };
  if (/already retried/i.test(skip.reason || '')) return { code: 'already_retried' };
  const m = /error (\w+)/i.exec(skip.reason || '');
  return { code: 'not_retryable', errorCode: m ? m[1] : 'unknown' };
}

/** "Retry 3; skipping 1 landline, 1 already retried". */
export function previewText(plan) {
  const n = plan.wouldRetry.length;
  const head = n === 0 ? 'Nothing to retry' : `Retry ${formatCount(n)}`;
  const already = plan.skipped.filter((s) => skipKind(s).code === 'already_retried').length;
  const byCode = new Map();
  for (const s of plan.skipped) {
    const kind = skipKind(s);
    if (kind.code !== 'not_retryable') continue;
    byCode.set(kind.errorCode, (byCode.get(kind.errorCode) || 0) + 1);
  }
  const parts = [...byCode].map(([code, count]) => skipNoun(count, code));
  if (already) parts.push(`${formatCount(already)} already retried`);
  return parts.length ? `${head}; skipping ${parts.join(', ')}` : head;
}

/** The confirm button's words: "Retry 3 texts". */
export function confirmLabel(plan) {
  return `Retry ${plural(plan.wouldRetry.length, 'text')}`;
}
