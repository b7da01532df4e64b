// One text in the SMS History panel: date, badge, type, body, the error with its verdict, the
// Retry button (curators), the retry thread's lines and the status timeline. Updated in place
// when the history is refetched, so a focused control keeps its focus.
import { h, replaceChildren, safeId } from './dom.js';
import { icon } from './icons.js';
import { statusBadge } from './badge.js';
import { DISPOSITIONS, SOURCES, STATUS, TYPE_NAMES, formatDateTime, formatPreciseTime } from './format.js';
import { isFailure } from './retry_plan.js';

export class MessageCard {
  /** panel: the HistoryPanel (messages by id, curate permission, retry and timeline calls). */
  constructor(panel, message) {
    this.panel = panel;
    this.message = message;
    const key = safeId(message.id);
    this.ids = { card: `msg-${key}`, details: `err-${key}`, timeline: `tl-${key}`, reason: `why-${key}` };
    this.badgeSlot = h('span', { class: 'badge-slot' });
    this.errorSlot = h('div', { class: 'message-error-slot' });
    this.threadSlot = h('div', { class: 'message-thread-slot' });
    this.retrySlot = h('div', { class: 'retry-slot' });
    this.timelineButton = h('button', {
      type: 'button', class: 'link-button expander', 'aria-expanded': 'false',
      'aria-controls': this.ids.timeline, on: { click: () => this.toggleTimeline() },
    }, icon('chevron', 'icon expander-icon'), h('span', {}, 'Status timeline'));
    this.timeline = h('div', { class: 'timeline', id: this.ids.timeline, hidden: true });
    this.el = h('article', {
      class: 'message', id: this.ids.card, tabindex: '-1', 'aria-labelledby': `${this.ids.card}-head`,
    },
    h('div', { class: 'message-head', id: `${this.ids.card}-head` },
      h('time', { class: 'message-time', datetime: message.createdAt }, formatDateTime(message.createdAt)),
      this.badgeSlot),
    h('p', { class: 'message-type' }, TYPE_NAMES[message.notificationType] || message.notificationType || 'Text'),
    message.retryOfId ? this.retryOfLine() : null,
    message.body ? h('blockquote', { class: 'message-body' }, `“${message.body}”`) : null,
    this.errorSlot,
    this.threadSlot,
    h('div', { class: 'message-actions' }, this.retrySlot, this.timelineButton),
    this.timeline);
    this.render(null);
  }

  update(message) {
    const before = this.message;
    this.message = message;
    this.render(before);
  }

  render(before) {
    const m = this.message;
    this.el.classList.toggle('is-retry', Boolean(m.retryOfId));
    this.el.dataset.status = m.status;
    if (!before || before.status !== m.status) replaceChildren(this.badgeSlot, statusBadge(m.status));
    if (isFailure(m) && (!before || !isFailure(before) || before.errorCode !== m.errorCode)) {
      replaceChildren(this.errorSlot, this.errorDetails());
    }
    const retry = m.retriedById ? this.panel.messageById(m.retriedById) : null;
    const threadKey = `${m.retriedById || ''}|${retry ? retry.status : ''}`;
    if (threadKey !== this.threadKey) {
      this.threadKey = threadKey;
      replaceChildren(this.threadSlot, this.retriedLine());
    }
    this.renderRetry();
    if (before && before.status !== m.status && this.timelineOpen()) this.loadTimeline();
  }

  retryOfLine() {
    const original = this.panel.messageById(this.message.retryOfId);
    const when = original ? ` sent ${formatDateTime(original.createdAt)}` : '';
    return h('p', { class: 'thread-line' }, icon('retry'),
      h('span', {}, 'Retry of ', this.panel.linkTo(this.message.retryOfId, `the text${when}`)));
  }

  /** On a retried text: "Retried → Delivered", with a link to the retry. */
  retriedLine() {
    const m = this.message;
    if (!m.retriedById) return null;
    const retry = this.panel.messageById(m.retriedById);
    const outcome = retry ? (STATUS[retry.status]?.label || retry.status) : 'sent';
    // A curator's disabled Retry links to the retry already; otherwise this line does.
    const linked = this.panel.canCurate && isFailure(m);
    return h('p', { class: 'thread-line thread-outcome' }, icon('retry'),
      h('span', {}, `Retried → ${outcome}`), ' ',
      linked ? null : this.panel.linkTo(m.retriedById, 'See the retry'));
  }

  errorDetails() {
    const m = this.message;
    const info = m.errorInfo;
    const title = m.errorCode
      ? `Error ${m.errorCode}: ${info?.title || m.errorMessage || 'Unknown error'}`
      : `${STATUS[m.status]?.label || 'Failed'}: no error code reported`;
    const expanded = false;
    const button = h('button', {
      type: 'button', class: 'error-toggle expander', 'aria-expanded': String(expanded),
      'aria-controls': this.ids.details,
      on: {
        click: () => {
          const open = button.getAttribute('aria-expanded') !== 'true';
          button.setAttribute('aria-expanded', String(open));
          details.hidden = !open;
        },
      },
    }, h('span', { class: 'error-sign', 'aria-hidden': 'true' }, '⚠'), h('span', {}, title),
    icon('chevron', 'icon expander-icon'));
    const verdict = !info
      ? 'Twilio did not say why. Retrying may help.'
      : info.retryable
        ? 'Retrying may help: this is often temporary.'
        : 'Retrying will not help: the same error would come back.';
    const details = h('div', { class: 'error-details', id: this.ids.details, hidden: !expanded },
      h('p', {}, info?.description || m.errorMessage || 'No description is known for this error.'),
      m.errorMessage && info?.description && m.errorMessage !== info.title
        ? h('p', { class: 'muted' }, `Twilio said: ${m.errorMessage}`) : null,
      h('p', { class: `verdict ${info && !info.retryable ? 'verdict-no' : 'verdict-yes'}` }, verdict));
    return h('div', { class: 'message-error' }, button, details);
  }

  /** The Retry button for curators: enabled, or disabled with the reason next to it. */
  renderRetry() {
    const m = this.message;
    let state = 'none';
    if (this.panel.canCurate && isFailure(m)) {
      if (m.retriedById) state = 'retried';
      else if (m.errorInfo && m.errorInfo.retryable === false) state = 'not-retryable';
      else state = this.panel.isRetrying(m.id) ? 'busy' : 'ready';
    }
    if (state === this.retryState) return;
    const hadFocus = this.retrySlot.contains(document.activeElement);
    this.retryState = state;
    if (state === 'none') {
      replaceChildren(this.retrySlot);
      return;
    }
    const disabled = state !== 'ready';
    const button = h('button', {
      type: 'button', class: 'button button-small button-primary retry-button',
      disabled, 'aria-describedby': disabled && state !== 'busy' ? this.ids.reason : null,
      on: { click: () => this.panel.retryOne(m.id, button) },
    }, icon('retry'), h('span', {}, state === 'busy' ? 'Retrying…' : 'Retry'));
    let reason = null;
    if (state === 'retried') {
      reason = h('span', { class: 'retry-reason', id: this.ids.reason }, 'Already retried. ',
        this.panel.linkTo(m.retriedById, 'See the retry'));
    } else if (state === 'not-retryable') {
      reason = h('span', { class: 'retry-reason', id: this.ids.reason },
        `Not retryable: ${m.errorInfo.title.toLowerCase()} — sending again will not help.`);
    }
    replaceChildren(this.retrySlot, button, reason);
    if (hadFocus && !disabled) button.focus();
  }

  timelineOpen() {
    return this.timelineButton.getAttribute('aria-expanded') === 'true';
  }

  toggleTimeline() {
    const open = !this.timelineOpen();
    this.timelineButton.setAttribute('aria-expanded', String(open));
    this.timeline.hidden = !open;
    if (open) this.loadTimeline();
  }

  async loadTimeline() {
    const first = !this.timeline.firstChild;
    if (first) replaceChildren(this.timeline, h('p', { class: 'loading-inline' }, 'Loading the timeline…'));
    this.timeline.setAttribute('aria-busy', 'true');
    try {
      const data = await this.panel.fetchTimeline(this.message.id);
      replaceChildren(this.timeline, timelineList(data.events || []));
    } catch (e) {
      replaceChildren(this.timeline, h('p', { class: 'field-error' },
        e.status === 404 ? 'This smsd cannot show status timelines yet.' : `The timeline could not be loaded: ${e.message}`));
    } finally {
      this.timeline.removeAttribute('aria-busy');
    }
  }
}

function timelineList(events) {
  if (events.length === 0) return h('p', { class: 'muted' }, 'No status reports yet.');
  return h('ol', { class: 'timeline-list' }, events.map((ev) => {
    const disposition = ev.disposition || (ev.applied ? 'applied' : 'duplicate');
    const payload = ev.payload && typeof ev.payload === 'object' && Object.keys(ev.payload).length
      ? h('details', { class: 'payload' }, h('summary', {}, 'Fields received'),
        h('pre', {}, JSON.stringify(ev.payload, null, 2)))
      : null;
    return h('li', { class: `timeline-entry disposition-${disposition}` },
      h('div', { class: 'timeline-when' },
        h('time', { datetime: ev.receivedAt }, formatPreciseTime(ev.receivedAt))),
      h('div', { class: 'timeline-what' },
        ev.status ? statusBadge(ev.status) : h('span', { class: 'badge badge-grey' }, 'Unknown'),
        ev.providerStatus ? h('span', { class: 'provider-word' }, `Twilio: “${ev.providerStatus}”`) : null,
        ev.errorCode ? h('span', { class: 'provider-word' }, `error ${ev.errorCode}`) : null),
      h('div', { class: 'timeline-meta' },
        h('span', {}, SOURCES[ev.source] || ev.source || ''),
        h('span', { class: `disposition ${disposition === 'applied' ? 'is-applied' : 'is-ignored'}` },
          DISPOSITIONS[disposition] || disposition)),
      payload);
  }));
}
