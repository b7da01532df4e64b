// The page's pure modules, run in node without a browser: phone numbers, words, the Retry All
// preview, and the SSE parser of the stream client.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPhone, plural, smsStateWords, skipNoun } from '../../web/assets/format.js';
import { localRetryPlan, previewText } from '../../web/assets/retry_plan.js';
import { SseParser } from '../../web/assets/stream.js';

describe('format', () => {
  it('writes NANP numbers as organizers do, others readably, anything else as stored', () => {
    assert.equal(formatPhone('+15551234567'), '+1 (555) 123-4567');
    assert.equal(formatPhone('+1 555 123 4567'), '+1 (555) 123-4567');
    assert.equal(formatPhone('+447911123456'), '+44 791 112 3456');
    assert.equal(formatPhone('+33612345678'), '+33 612 345 678');
    assert.equal(formatPhone('+353871234567'), '+353 871 234 567');
    assert.equal(formatPhone('+79161234567'), '+7 916 123 4567');
    assert.equal(formatPhone('+4915123456789'), '+49 151 234 567 89');
    assert.equal(formatPhone('(415) 555-0102'), '(415) 555-0102');
    assert.equal(formatPhone(null), '');
    assert.equal(formatPhone(''), '');
  });

  it('says the SMS state in words', () => {
    assert.equal(smsStateWords({ dot: 'green' }), 'All delivered');
    assert.equal(smsStateWords({ dot: 'yellow', pending: 2 }), '2 pending');
    assert.equal(smsStateWords({ dot: 'red', failed: 3, openFailed: 1 }), '1 failed');
    assert.equal(smsStateWords({ dot: 'gray' }), 'No SMS sent');
    assert.equal(plural(1, 'message'), '1 message');
    assert.equal(plural(1200, 'message'), '1,200 messages');
    assert.equal(skipNoun(2, '30006'), '2 landlines');
    assert.equal(skipNoun(1, '99999'), '1 text with error 99999 (not retryable)');
  });
});

describe('Retry All preview', () => {
  const m = (id, status, extra = {}) => ({ id, status, errorCode: null, errorInfo: null, retriedById: null, ...extra });
  const unreachable = { errorCode: '30003', errorInfo: { title: 'Unreachable handset', retryable: true } };
  const landline = { errorCode: '30006', errorInfo: { title: 'Landline detected', retryable: false } };

  it('selects what the server selects, oldest first, and says it the way the issue does', () => {
    const messages = [ // newest first, as the history
      m('r1', 'delivered', { retryOfId: 'f1' }),
      m('f4', 'undelivered', unreachable),
      m('f3', 'failed', unreachable),
      m('ok', 'delivered'),
      m('f2', 'undelivered', unreachable),
      m('f1', 'undelivered', { ...unreachable, retriedById: 'r1' }),
      m('l1', 'undelivered', landline),
    ];
    const plan = localRetryPlan(messages);
    assert.deepEqual(plan.wouldRetry, ['f2', 'f3', 'f4']);
    assert.equal(previewText(plan), 'Retry 3; skipping 1 landline, 1 already retried');
  });

  it('reads the API\'s skipped entries by their code', () => {
    assert.equal(previewText({ wouldRetry: ['a'], skipped: [] }), 'Retry 1');
    assert.equal(previewText({ wouldRetry: [], skipped: [{ originalMessageId: 'x', code: 'already_retried' }] }),
      'Nothing to retry; skipping 1 already retried');
    assert.equal(previewText({
      wouldRetry: ['a', 'b'],
      skipped: [{ originalMessageId: 'x', code: 'not_retryable', errorCode: '30006' },
        { originalMessageId: 'y', code: 'already_retried', existingRetryId: 'r' }],
    }), 'Retry 2; skipping 1 landline, 1 already retried');
  });
});

describe('SseParser', () => {
  const parse = (...chunks) => {
    const events = [];
    const p = new SseParser((e) => events.push(e));
    for (const c of chunks) p.feed(c);
    return { events, lastId: p.lastId };
  };

  it('reads events, ids, multi-line data and comments, across chunk boundaries', () => {
    const { events, lastId } = parse(': ping\n\nid: 1\nevent: sms\ndata: {"a":', '1}\n\n',
      'event: resync\ndata: {}\n\n', 'id: 7\r\nevent: sms\r\ndata: x\r\ndata: y\r', '\n\r\n');
    assert.deepEqual(events, [
      { type: 'sms', data: '{"a":1}', id: '1' },
      { type: 'resync', data: '{}', id: '1' },
      { type: 'sms', data: 'x\ny', id: '7' },
    ]);
    assert.equal(lastId, '7');
  });

  it('ignores events without data and unknown fields, and keeps a partial line', () => {
    const { events } = parse('event: sms\n\nretry: 100\nfoo: bar\ndata:no-space\n\ndata: part');
    assert.deepEqual(events, [{ type: 'message', data: 'no-space', id: '' }]);
  });
});
