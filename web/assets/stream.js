// Live updates of one event: the Server-Sent Events stream read with fetch() (EventSource cannot
// send an Authorization header), parsed here, resumed with Last-Event-ID after a drop (backoff
// 1 s → 5 s), and 10 s polling while it is down. A server without the stream (404) is polled.

const POLL_MS = 10000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 5000;

/** Splits an SSE byte stream (as text) into events: {type, data, id}. Feed it chunks. */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.type = '';
    this.data = [];
    this.lastId = '';
  }

  feed(chunk) {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer.slice(start));
      if (!match) break;
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (match[0] === '\r' && start + match.index + 1 === this.buffer.length) break;
      this.line(this.buffer.slice(start, start + match.index));
      start += match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
  }

  line(text) {
    if (text === '') {
      this.dispatch();
      return;
    }
    if (text.startsWith(':')) return; // a comment: the server's keep-alive
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
  }

  dispatch() {
    if (this.data.length > 0) {
      this.onEvent({ type: this.type || 'message', data: this.data.join('\n'), id: this.lastId });
    }
    this.type = '';
    this.data = [];
  }
}

/**
 * One event's live updates. Callbacks: onChange({messageId, attendeeId, status, dot, counts}),
 * onResync() (refetch everything), onPoll() (the same, every 10 s while the stream is down),
 * onState('connecting' | 'live' | 'reconnecting' | 'polling'), onUnauthorized().
 */
export class LiveUpdates {
  constructor({ url, headers, onChange, onResync, onPoll, onState, onUnauthorized }) {
    Object.assign(this, { url, headers, onChange, onResync, onPoll, onState, onUnauthorized });
    this.lastEventId = '';
    this.backoff = BACKOFF_FIRST_MS;
    this.stopped = false;
    this.pollTimer = null;
    this.reconnectTimer = null;
    this.abort = null;
    this.state = '';
    this.everConnected = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.abort) this.abort.abort();
    clearTimeout(this.reconnectTimer);
    this.stopPolling();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  async connect() {
    if (this.stopped) return;
    if (!this.everConnected) this.setState('connecting');
    this.abort = new AbortController();
    const headers = { Accept: 'text/event-stream', ...this.headers() };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    let res;
    try {
      res = await fetch(this.url, { headers, signal: this.abort.signal, cache: 'no-store' });
    } catch {
      this.dropped();
      return;
    }
    if (this.stopped) return;
    if (res.status === 401) {
      this.stop();
      this.onUnauthorized();
      return;
    }
    if ([404, 405, 501].includes(res.status)) {
      // This smsd has no stream (or no longer lets us see the event): poll instead.
      this.setState('polling');
      this.startPolling();
      return;
    }
    if (!res.ok || !res.body) {
      this.dropped();
      return;
    }
    const resumed = this.everConnected;
    this.everConnected = true;
    this.backoff = BACKOFF_FIRST_MS;
    this.stopPolling();
    this.setState('live');
    // Whatever changed while we were away: the server resumes from Last-Event-ID or says
    // resync; refetching once more costs little and covers a server that forgot.
    if (resumed) this.onResync();
    await this.read(res.body);
    if (!this.stopped) this.dropped();
  }

  async read(body) {
    const parser = new SseParser((ev) => this.handle(ev));
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      // dropped or aborted
    }
  }

  handle(ev) {
    if (ev.id) this.lastEventId = ev.id;
    if (ev.type === 'resync') {
      this.onResync();
      return;
    }
    if (ev.type !== 'sms') return;
    try {
      this.onChange(JSON.parse(ev.data));
    } catch {
      // a malformed frame: the next poll or resync repairs what it would have said
    }
  }

  dropped() {
    if (this.stopped) return;
    this.setState('reconnecting');
    this.startPolling();
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.onPoll(), POLL_MS);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
