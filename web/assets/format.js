// How things read on the page: phone numbers, dates, statuses and counts, in words.

/** The seed's notification types, in words. */
export const TYPE_NAMES = {
  new_rsvps: 'New RSVPs Update',
  match_reveal: 'Match Reveal',
  invitation: 'Invitation',
  rsvp_reminder: 'RSVP Reminder',
  event_reminder: 'Event Reminder',
  question_set: 'Question Set',
};
export const TYPE_ORDER = ['invitation', 'rsvp_reminder', 'event_reminder', 'new_rsvps',
  'match_reveal', 'question_set'];

/** The seed's status badges: label, icon and style of each of our five statuses. */
export const STATUS = {
  queued: { label: 'Sending...', icon: 'clock', tone: 'grey' },
  sent: { label: 'Sent', icon: 'send', tone: 'blue' },
  delivered: { label: 'Delivered', icon: 'check', tone: 'green' },
  failed: { label: 'Failed', icon: 'cross', tone: 'red' },
  undelivered: { label: 'Undelivered', icon: 'alert', tone: 'orange' },
};
export const STATUS_ORDER = ['delivered', 'sent', 'queued', 'undelivered', 'failed'];

/** What a status report did to its message (timeline `disposition`). */
export const DISPOSITIONS = {
  applied: 'Applied',
  duplicate: 'Duplicate — ignored',
  stale: 'Late — ignored',
  anomaly: 'Conflicting final status — ignored',
  superseded: 'Superseded — another update came first',
  unknown_status: 'Unknown status — ignored',
  pending: 'Waiting for its message',
  orphan: 'No matching message — ignored',
  unanswered: 'No answer from Twilio',
};

export const SOURCES = {
  send: 'Send request',
  webhook: 'Twilio callback',
  reconcile: 'Reconciliation',
};

/** Short names of errors that make a text not worth retrying, for the Retry All preview. */
const SKIP_NOUNS = {
  30006: ['landline', 'landlines'],
  21614: ['non-mobile number', 'non-mobile numbers'],
  21610: ['unsubscribed recipient', 'unsubscribed recipients'],
  21211: ['invalid number', 'invalid numbers'],
  21612: ['unreachable number', 'unreachable numbers'],
  30005: ['unknown number', 'unknown numbers'],
  30007: ['carrier-filtered text', 'carrier-filtered texts'],
  30004: ['blocked text', 'blocked texts'],
};

const numberFormat = new Intl.NumberFormat();

export function formatCount(n) {
  return numberFormat.format(n);
}

/** "1 message", "3 messages"; `plural` defaults to singular + "s". */
export function plural(n, singular, pluralForm = `${singular}s`) {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/** The skip reason of an error code: "1 landline", "2 texts with error 30007". */
export function skipNoun(n, errorCode) {
  const nouns = SKIP_NOUNS[errorCode];
  if (nouns) return `${formatCount(n)} ${n === 1 ? nouns[0] : nouns[1]}`;
  return `${plural(n, 'text')} with error ${errorCode} (not retryable)`;
}

export function fullName(first, last) {
  return [first, last].filter((part) => part && String(part).trim()).join(' ');
}

// Country calling codes are 1, 2 or 3 digits; these two-digit ones are the ITU's list, and
// 1 and 7 stand alone. Anything else starting with 2–9 has three.
const TWO_DIGIT_CODES = new Set(['20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41',
  '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60',
  '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95',
  '98']);

/**
 * A phone number as an organizer writes it: NANP "+1 (555) 123-4567"; other E.164 numbers as
 * "+44 791 112 3456"; anything else as stored. null/empty: "".
 */
export function formatPhone(phone) {
  if (!phone) return '';
  const raw = String(phone).trim();
  const digits = raw.replace(/[^\d]/g, '');
  const e164 = /^\+\d{8,15}$/.test(raw.replace(/[\s().-]/g, ''));
  if (e164 && digits.length === 11 && digits[0] === '1') {
    return `+1 (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`;
  }
  if (!e164) return raw;
  let ccLength = 3;
  if (digits[0] === '1' || digits[0] === '7') ccLength = 1;
  else if (TWO_DIGIT_CODES.has(digits.slice(0, 2))) ccLength = 2;
  const cc = digits.slice(0, ccLength);
  const national = digits.slice(ccLength);
  // Threes from the left; a last lone digit joins the group before it.
  const groups = national.match(/\d{1,3}/g) || [];
  if (groups.length > 1 && groups[groups.length - 1].length === 1) {
    groups[groups.length - 2] += groups.pop();
  }
  return `+${cc} ${groups.join(' ')}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', year: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const preciseTime = new Intl.DateTimeFormat(undefined, {
  hour: 'numeric', minute: '2-digit', second: '2-digit',
});
const weekdayDate = new Intl.DateTimeFormat(undefined, {
  weekday: 'short', month: 'short', day: 'numeric', year: 'numeric',
});

function toDate(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

/** "Feb 12, 2026 • 3:45 PM" in the organizer's time zone. */
export function formatDateTime(iso) {
  const d = toDate(iso);
  return d ? `${dateFormat.format(d)} • ${timeFormat.format(d)}` : '';
}

/** "Feb 12, 2026 • 3:45:12 PM", for timelines where seconds matter. */
export function formatPreciseTime(iso) {
  const d = toDate(iso);
  return d ? `${dateFormat.format(d)} • ${preciseTime.format(d)}` : '';
}

/** "Tue, Dec 1, 2026". */
export function formatEventDate(iso) {
  const d = toDate(iso);
  return d ? weekdayDate.format(d) : '';
}

/** The attendee's SMS state in words, from the API's dot and counts. */
export function smsStateWords(row) {
  switch (row.dot) {
    case 'red': return `${formatCount(row.openFailed)} failed`; // not retried yet
    case 'yellow': return `${formatCount(row.pending || 0)} pending`;
    case 'green': return 'All delivered';
    default: return 'No SMS sent';
  }
}

export const DOT_ICON = { green: 'check', yellow: 'clock', red: 'cross', gray: 'minus' };
