// smsd's organizer API, as the page uses it (docs/api.md). Every call carries the token; a 401
// anywhere signs the page out (onUnauthorized), and errors carry the API's own message.
import { currentToken } from './auth.js';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let unauthorizedHandler = () => {};
/** What to do when the API answers 401 (show the sign-in form). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export function authHeaders() {
  return { Authorization: `Bearer ${currentToken()}` };
}

async function request(method, path, { body, headers = {} } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: {
        Accept: 'application/json', ...authHeaders(), ...headers,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'smsd could not be reached. Check your connection and try again.');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const message = (data && typeof data.error === 'string' && data.error)
      || `smsd answered ${res.status}`;
    if (res.status === 401) unauthorizedHandler();
    throw new ApiError(res.status, message, data);
  }
  return data;
}

const enc = encodeURIComponent;
const eventPath = (eventId) => `/api/events/${enc(eventId)}`;
const attendeePath = (eventId, attendeeId) => `${eventPath(eventId)}/attendees/${enc(attendeeId)}`;

export const api = {
  events: () => request('GET', '/api/events'),
  event: (eventId) => request('GET', eventPath(eventId)),
  attendeeStatus: (eventId) => request('GET', `${eventPath(eventId)}/attendees/sms-status`),
  summary: (eventId, failedLimit) => request('GET',
    `${eventPath(eventId)}/sms-summary?failedLimit=${enc(failedLimit)}`),
  history: (eventId, attendeeId) => request('GET', `${attendeePath(eventId, attendeeId)}/sms-history`),
  timeline: (eventId, attendeeId, messageId) => request('GET',
    `${attendeePath(eventId, attendeeId)}/messages/${enc(messageId)}/timeline`),
  /** A retry; `key` (Idempotency-Key) is made once per user action, so a repeat sends nothing. */
  retry: (eventId, attendeeId, body, key) => request('POST',
    `${attendeePath(eventId, attendeeId)}/sms-retry`,
    { body, headers: key ? { 'Idempotency-Key': key } : {} }),
  streamUrl: (eventId) => `${eventPath(eventId)}/sms-stream`,
};

/** A fresh Idempotency-Key for one user action. */
export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
