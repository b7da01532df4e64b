// The SMS History panel: a modal slide-over (WAI-ARIA dialog pattern: role=dialog, aria-modal,
// named by its title; the page behind is inert; Tab stays inside; Escape and the close button
// close it; focus returns to the control that opened it). Texts newest first, a retry threaded
// with its original, Retry and Retry All Failed (with a preview) for curators.
import { h, replaceChildren, focusable, safeId } from './dom.js';
import { icon } from './icons.js';
import { api, newIdempotencyKey } from './api.js';
import { formatPhone, fullName, plural, formatCount } from './format.js';
import { MessageCard } from './message_card.js';
import { confirmLabel, localRetryPlan, previewText } from './retry_plan.js';

/** Threads of a history: each original with its retries (oldest first), newest thread first. */
function threadsOf(messages) {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const rootOf = (m) => {
    let cur = m;
    const seen = new Set();
    while (cur.retryOfId && byId.has(cur.retryOfId) && !seen.has(cur.id)) {
      seen.add(cur.id);
      cur = byId.get(cur.retryOfId);
    }
    return cur.id;
  };
  const threads = new Map();
  for (const m of messages) {
    const root = rootOf(m);
    if (!threads.has(root)) threads.set(root, []);
    threads.get(root).push(m);
  }
  const time = (m) => Date.parse(m.createdAt) || 0;
  const list = [...threads].map(([rootId, items]) => ({
    rootId, items: items.sort((a, b) => time(a) - time(b) || (a.id < b.id ? -1 : 1)),
  }));
  return list.sort((a, b) => time(byId.get(b.rootId)) - time(byId.get(a.rootId))
    || (a.rootId < b.rootId ? 1 : -1));
}

export class HistoryPanel {
  /**
   * app: the element behind the dialog (made inert); root: where the dialog lives;
   * announce(text): the polite status region; onChanged(): a retry changed data (refetch rows
   * and the dashboard); onClose(): the organizer closed it (the page updates the address).
   */
  constructor({ app, root, eventId, canCurate, announce, onChanged, onClose }) {
    Object.assign(this, { app, root, eventId, canCurate, announce, onChanged, onClose });
    this.attendeeId = null;
    this.cards = new Map();
    this.threadEls = new Map();
    this.messages = new Map();
    this.retrying = new Set();
    this.retryAllBusy = false;
    this.loadSeq = 0;
  }

  get isOpen() {
    return this.attendeeId !== null;
  }

  /** Opens the panel on an attendee; `known`: {firstName, lastName, phone} to show at once. */
  open(attendeeId, { known = null, returnFocus = null } = {}) {
    if (this.isOpen) this.teardown();
    this.attendeeId = attendeeId;
    this.returnFocus = returnFocus;
    this.cards = new Map();
    this.threadEls = new Map();
    this.messages = new Map();
    this.list = null;
    this.data = null;
    this.previewOpen = false;
    this.retryAllButton = null;
    this.build(known);
    // Outside an aria-modal dialog, screen readers may not hear the status region: it moves in
    // while the panel is open (still the page's one status region).
    this.statusRegion = document.getElementById('status');
    if (this.statusRegion) this.dialog.append(this.statusRegion);
    this.app.inert = true;
    document.documentElement.classList.add('panel-open');
    this.title.focus();
    this.load();
  }

  /** Closes it and returns focus; `restoreFocus` false when the page itself goes away. */
  close({ restoreFocus = true } = {}) {
    if (!this.isOpen) return;
    const target = this.returnFocus;
    this.teardown();
    if (!restoreFocus) return;
    const fallback = document.getElementById('main');
    const el = target && target.isConnected && !target.closest('[hidden]') ? target : fallback;
    el?.focus();
  }

  teardown() {
    if (this.statusRegion) document.body.append(this.statusRegion);
    this.attendeeId = null;
    this.loadSeq += 1;
    this.app.inert = false;
    document.documentElement.classList.remove('panel-open');
    replaceChildren(this.root);
  }

  build(known) {
    this.title = h('h2', { id: 'panel-title', tabindex: '-1' }, 'SMS History');
    this.subtitle = h('p', { id: 'panel-subtitle', class: 'panel-subtitle' });
    this.setSubtitle(known);
    this.alert = h('div', { class: 'panel-alert', role: 'alert' });
    this.body = h('div', { class: 'panel-body', 'aria-busy': 'true' });
    this.summary = h('p', { class: 'panel-summary' });
    this.retryAll = h('div', { class: 'retry-all' });
    const closeButton = h('button', {
      type: 'button', class: 'icon-button panel-close', 'aria-label': 'Close',
      on: { click: () => this.onClose() },
    }, icon('close'));
    this.dialog = h('div', {
      class: 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'panel-title',
      'aria-describedby': 'panel-subtitle',
      on: { keydown: (e) => this.onKeydown(e) },
    },
    h('header', { class: 'panel-header' },
      h('div', { class: 'panel-heading' }, this.title, this.subtitle), closeButton),
    this.alert,
    this.body,
    h('footer', { class: 'panel-footer' }, this.summary, this.retryAll));
    const backdrop = h('div', { class: 'panel-backdrop', on: { click: () => this.onClose() } });
    replaceChildren(this.root, backdrop, this.dialog);
  }

  setSubtitle(attendee) {
    if (!attendee) {
      this.subtitle.textContent = 'Loading…';
      return;
    }
    const name = fullName(attendee.firstName, attendee.lastName) || `Attendee ${this.attendeeId}`;
    const phone = formatPhone(attendee.phone);
    this.subtitle.textContent = phone ? `${name} • ${phone}` : `${name} • No phone`;
  }

  onKeydown(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.onClose();
      return;
    }
    if (e.key !== 'Tab') return;
    const items = focusable(this.dialog);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (e.shiftKey && (active === first || active === this.title || !this.dialog.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !this.dialog.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  }

  showAlert(text) {
    this.alert.textContent = text;
  }

  clearAlert() {
    this.alert.textContent = '';
  }

  /** Fetches the history and shows it (first time) or updates it in place (later). */
  async load() {
    const seq = ++this.loadSeq;
    const attendeeId = this.attendeeId;
    let data;
    try {
      data = await api.history(this.eventId, attendeeId);
    } catch (e) {
      if (seq !== this.loadSeq || !this.isOpen) return;
      this.body.removeAttribute('aria-busy');
      if (this.list) {
        this.showAlert(`The history could not be refreshed: ${e.message}`);
        return;
      }
      const retry = h('button', { type: 'button', class: 'button', on: { click: () => this.load() } }, 'Try again');
      replaceChildren(this.body, h('div', { class: 'empty-state' },
        h('p', {}, e.status === 404 ? `${e.message}.` : `The history could not be loaded: ${e.message}`),
        e.status === 404 ? null : retry));
      if (e.status === 404) this.setSubtitle({ firstName: `Attendee ${attendeeId}` });
      return;
    }
    if (seq !== this.loadSeq || !this.isOpen) return;
    this.setSubtitle(data.attendee);
    this.render(data);
  }

  /** Refetches while open (a live change, a poll, a retry). */
  refresh() {
    if (this.isOpen) this.load();
  }

  messageById(id) {
    return this.messages.get(id);
  }

  isRetrying(id) {
    return this.retrying.has(id);
  }

  /** A link to another text of this panel: moves focus to its card. */
  linkTo(messageId, text) {
    return h('a', {
      href: `#msg-${safeId(messageId)}`, class: 'thread-link',
      on: {
        click: (e) => {
          e.preventDefault();
          const card = this.cards.get(messageId);
          if (card) {
            card.el.scrollIntoView({ block: 'nearest' });
            card.el.focus();
          }
        },
      },
    }, text);
  }

  fetchTimeline(messageId) {
    return api.timeline(this.eventId, this.attendeeId, messageId);
  }

  render(data) {
    this.data = data;
    this.body.removeAttribute('aria-busy');
    const messages = data.messages || [];
    this.messages = new Map(messages.map((m) => [m.id, m]));
    if (messages.length === 0) {
      this.list = null;
      replaceChildren(this.body, h('p', { class: 'empty-state' }, 'No texts were sent to this attendee yet.'));
    } else {
      if (!this.list) {
        this.list = h('ol', { class: 'threads', 'aria-label': 'Texts, newest first' });
        replaceChildren(this.body, this.list);
      }
      this.renderThreads(messages);
    }
    this.renderSummary(data.summary || {}, messages.length);
    this.renderRetryAll(messages);
  }

  renderThreads(messages) {
    const threads = threadsOf(messages);
    const keep = new Set();
    let previous = null;
    for (const thread of threads) {
      keep.add(thread.rootId);
      let li = this.threadEls.get(thread.rootId);
      if (!li) {
        li = h('li', { class: 'thread' });
        this.threadEls.set(thread.rootId, li);
      }
      // Only new threads are inserted; existing ones are never moved (focus stays put).
      if (!li.isConnected) {
        if (previous) previous.after(li);
        else this.list.prepend(li);
      }
      previous = li;
      li.classList.toggle('has-retries', thread.items.length > 1);
      let previousCard = null;
      for (const m of thread.items) {
        let card = this.cards.get(m.id);
        if (card) card.update(m);
        else {
          card = new MessageCard(this, m);
          this.cards.set(m.id, card);
        }
        if (!card.el.isConnected || card.el.parentNode !== li) {
          if (previousCard) previousCard.after(card.el);
          else li.prepend(card.el);
        }
        previousCard = card.el;
      }
    }
    for (const [rootId, li] of this.threadEls) {
      if (!keep.has(rootId)) {
        li.remove();
        this.threadEls.delete(rootId);
      }
    }
    // Cards render their thread lines from other cards' messages: refresh them all.
    for (const card of this.cards.values()) card.update(this.messages.get(card.message.id) || card.message);
  }

  renderSummary(summary, count) {
    const total = summary.total ?? count;
    this.summary.textContent = [
      plural(total, 'message'),
      `${formatCount(summary.delivered || 0)} delivered`,
      `${formatCount(summary.failed || 0)} failed`,
      `${formatCount(summary.pending || 0)} pending`,
    ].join(' • ');
  }

  /** Retry All Failed: shown to curators with two or more failures worth retrying. */
  renderRetryAll(messages) {
    if (!this.canCurate) return;
    const plan = localRetryPlan(messages);
    const show = plan.wouldRetry.length >= 2 || this.previewOpen || this.retryAllBusy;
    if (!show) {
      replaceChildren(this.retryAll);
      this.retryAllButton = null;
      return;
    }
    if (this.previewOpen || this.retryAllBusy) return; // the organizer is in the middle of it
    if (!this.retryAllButton || !this.retryAllButton.isConnected) {
      this.retryAllButton = h('button', {
        type: 'button', class: 'button button-primary retry-all-button',
        on: { click: () => this.previewRetryAll() },
      }, icon('retry'), h('span', {}, 'Retry All Failed'));
      replaceChildren(this.retryAll, this.retryAllButton);
    }
  }

  /** The first step of Retry All: a dry run, then its preview with a confirm step. */
  async previewRetryAll() {
    if (this.retryAllBusy) return;
    this.clearAlert();
    this.retryAllBusy = true;
    const button = this.retryAllButton;
    button.disabled = true;
    button.lastChild.textContent = 'Checking…';
    let plan;
    try {
      // The server's own choice: the same code picks what the real retry sends.
      plan = await api.retry(this.eventId, this.attendeeId, { retryAll: true, dryRun: true });
    } catch (e) {
      button.disabled = false;
      button.lastChild.textContent = 'Retry All Failed';
      this.showAlert(e.message);
      return;
    } finally {
      this.retryAllBusy = false;
    }
    if (!this.isOpen) return;
    this.showPreview(plan);
  }

  showPreview(plan) {
    this.previewOpen = true;
    const text = previewText(plan);
    const confirm = h('button', {
      type: 'button', class: 'button button-primary', disabled: plan.wouldRetry.length === 0,
      on: { click: () => this.confirmRetryAll(plan, confirm) },
    }, confirmLabel(plan));
    const cancel = h('button', {
      type: 'button', class: 'button',
      on: { click: () => this.endPreview(true) },
    }, 'Cancel');
    const box = h('div', { class: 'retry-preview', role: 'group', 'aria-labelledby': 'retry-preview-text' },
      h('p', { id: 'retry-preview-text', class: 'retry-preview-text' }, text),
      h('div', { class: 'button-row' }, confirm, cancel));
    replaceChildren(this.retryAll, box);
    (plan.wouldRetry.length ? confirm : cancel).focus();
  }

  endPreview(focusButton) {
    this.previewOpen = false;
    this.retryAllButton = null;
    this.renderRetryAll(this.data?.messages || []);
    if (focusButton) (this.retryAllButton || this.title).focus();
  }

  async confirmRetryAll(plan, confirm) {
    if (this.retryAllBusy) return;
    this.retryAllBusy = true;
    confirm.disabled = true;
    confirm.textContent = 'Retrying…';
    const key = newIdempotencyKey(); // one per confirmation: a double click sends once
    try {
      const res = await api.retry(this.eventId, this.attendeeId, { retryAll: true }, key);
      const failed = (res.results || []).filter((r) => r.error);
      if (failed.length) this.showAlert(`Some retries failed: ${failed.map((r) => r.error).join('; ')}`);
      const sent = res.retried ?? (res.results || []).length;
      this.announce(sent === 1 ? 'Retry sent' : `${formatCount(sent)} retries sent`);
    } catch (e) {
      this.showAlert(e.message);
    } finally {
      this.retryAllBusy = false;
    }
    if (!this.isOpen) return;
    this.previewOpen = false;
    this.retryAllButton = null;
    replaceChildren(this.retryAll);
    this.title.focus();
    await this.load();
    this.onChanged();
  }

  /** Retry of one text; the button is disabled at once, so a double click sends one request. */
  async retryOne(messageId, button) {
    if (this.retrying.has(messageId)) return;
    this.clearAlert();
    this.retrying.add(messageId);
    button.disabled = true;
    button.lastChild.textContent = 'Retrying…';
    const key = newIdempotencyKey();
    let newId = null;
    try {
      const res = await api.retry(this.eventId, this.attendeeId, { messageId }, key);
      const result = (res.results || [])[0];
      if (result && result.error) this.showAlert(`The retry failed: ${result.error}`);
      else this.announce('Retry sent');
      newId = result?.newMessageId || null;
    } catch (e) {
      this.showAlert(e.message);
    } finally {
      this.retrying.delete(messageId);
    }
    if (!this.isOpen) return;
    await this.load();
    const card = newId ? this.cards.get(newId) : null;
    if (card) card.el.focus();
    else if (button.isConnected && !button.disabled) button.focus();
    else this.cards.get(messageId)?.el.focus();
    this.onChanged();
  }
}
