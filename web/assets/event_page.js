// "/events/{eventId}": the event's dashboard, its attendee table and the SMS History panel,
// kept current by the stream (or by polling while it is down).
import { h, replaceChildren } from './dom.js';
import { icon } from './icons.js';
import { api, authHeaders } from './api.js';
import { formatEventDate, formatCount } from './format.js';
import { AttendeeTable } from './table.js';
import { Dashboard } from './dashboard.js';
import { HistoryPanel } from './panel.js';
import { LiveUpdates } from './stream.js';
import { permissionWords } from './events_list.js';

const ROLE_WORDS = { owner: 'You own this event', organizer: 'You co-organize this event', admin: 'Admin access' };
const CONNECTION_WORDS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Updates every 10 s',
};

export class EventPage {
  constructor({ main, eventId, ui }) {
    Object.assign(this, { main, eventId, ui });
    this.pending = []; // live changes that came before the first load finished
    this.loaded = false;
    this.liveCounts = {};
    this.refreshTimers = {};
  }

  async show() {
    replaceChildren(this.main, h('p', { class: 'loading', 'aria-busy': 'true' }, 'Loading the event…'));
    let event;
    try {
      event = await api.event(this.eventId);
    } catch (e) {
      if (e.status === 401) return;
      this.showError(e);
      return;
    }
    const canCurate = (event.permissions || []).includes('curate');
    document.title = `${event.name || this.eventId} · smsd`;
    this.table = new AttendeeTable({
      onOpen: (id, button) => this.openPanel(id, { returnFocus: button, push: true }),
      announce: this.ui.announce,
    });
    this.dashboard = new Dashboard({
      onOpen: (id, button) => this.openPanel(id, { returnFocus: button, push: true }),
      load: (limit) => api.summary(this.eventId, limit),
      announce: this.ui.announce,
    });
    this.panel = new HistoryPanel({
      app: this.ui.app, root: this.ui.panelRoot, eventId: this.eventId, canCurate,
      announce: this.ui.announce,
      onChanged: () => this.refreshData(),
      onClose: () => this.closePanel(),
    });
    this.attendeeTotal = h('span', { class: 'section-count' });
    replaceChildren(this.main,
      h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
        h('a', { href: '/' }, icon('back'), 'All events')),
      h('div', { class: 'page-head' },
        h('h1', {}, event.name || this.eventId),
        h('p', { class: 'event-sub' },
          h('span', {}, formatEventDate(event.date)),
          h('span', { class: 'dot-sep', 'aria-hidden': 'true' }, '•'),
          h('span', {}, ROLE_WORDS[event.role] || ''),
          h('span', { class: 'dot-sep', 'aria-hidden': 'true' }, '•'),
          h('span', {}, permissionWords(event.permissions)))),
      h('section', { class: 'page-section', 'aria-labelledby': 'overview-title' },
        h('h2', { id: 'overview-title' }, 'Overview'),
        this.dashboard.element),
      h('section', { class: 'page-section', 'aria-labelledby': 'attendees-title' },
        h('h2', { id: 'attendees-title' }, 'Attendees ', this.attendeeTotal),
        this.table.element));
    this.startLive();
    try {
      const [status] = await Promise.all([api.attendeeStatus(this.eventId), this.dashboard.refresh()]);
      this.table.setRows(status.attendees || []);
      this.attendeeTotal.textContent = `(${formatCount((status.attendees || []).length)})`;
      performance.mark('smsd:attendees-shown'); // bench/page_load_bench.mjs measures up to here
    } catch (e) {
      if (e.status === 401) return;
      this.ui.alert(`The event's texts could not be loaded: ${e.message}`);
      return;
    }
    this.loaded = true;
    for (const change of this.pending.splice(0)) this.applyChange(change);
    this.syncPanelWithAddress();
  }

  showError(e) {
    const notFound = e.status === 404 || e.status === 403;
    replaceChildren(this.main,
      h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, icon('back'), 'All events')),
      h('div', { class: 'empty-state card' },
        h('h1', {}, notFound ? 'Event not found' : 'This event could not be loaded'),
        h('p', {}, notFound
          ? 'There is no such event, or your token does not let you see it.'
          : e.message)));
    document.title = 'Event not found · smsd';
  }

  // -- the panel and the address (?attendee=ID; Back closes the panel) -------------------------

  openPanel(attendeeId, { returnFocus = null, push = false } = {}) {
    if (this.awaitingPop) { // the Back of the last close has not landed yet: open after it
      this.pendingOpen = [attendeeId, { returnFocus, push }];
      return;
    }
    if (push) {
      const url = new URL(window.location.href);
      url.searchParams.set('attendee', attendeeId);
      window.history.pushState({ panel: attendeeId }, '', url.pathname + url.search);
      this.pushedPanel = true;
    }
    this.panel.open(attendeeId, { known: this.table.row(attendeeId), returnFocus });
  }

  /**
   * The organizer closed the panel: it closes at once (focus back on the row), and the address
   * goes back if the panel added its entry, else loses the parameter.
   */
  closePanel() {
    const attendeeId = this.panel.attendeeId;
    this.panel.close();
    if (this.pushedPanel && window.history.state?.panel === attendeeId) {
      this.pushedPanel = false;
      this.awaitingPop = true;
      window.history.back(); // its popstate finds the panel already closed
      return;
    }
    const url = new URL(window.location.href);
    url.searchParams.delete('attendee');
    window.history.replaceState(null, '', url.pathname + url.search);
  }

  /** Back or Forward. */
  onPopState() {
    if (this.awaitingPop) {
      this.awaitingPop = false;
      const next = this.pendingOpen;
      this.pendingOpen = null;
      if (next) this.openPanel(...next);
      return;
    }
    this.syncPanelWithAddress();
  }

  /** Opens or closes the panel to match ?attendee= (initial load, Back and Forward). */
  syncPanelWithAddress() {
    if (!this.panel) return;
    const wanted = new URL(window.location.href).searchParams.get('attendee');
    if (wanted && wanted !== this.panel.attendeeId) {
      this.pushedPanel = window.history.state?.panel === wanted;
      const button = this.table.buttonOf(wanted);
      this.panel.open(wanted, { known: this.table.row(wanted), returnFocus: button || null });
    } else if (!wanted && this.panel.isOpen) {
      const attendeeId = this.panel.attendeeId;
      if (!this.panel.returnFocus) this.panel.returnFocus = this.table.buttonOf(attendeeId) || null;
      this.panel.close();
    }
  }

  // -- live updates ----------------------------------------------------------------------------

  startLive() {
    this.live = new LiveUpdates({
      url: api.streamUrl(this.eventId),
      headers: authHeaders,
      onChange: (change) => (this.loaded ? this.applyChange(change) : this.pending.push(change)),
      // A storm of changes comes as a resync every round: refetch at most once a second.
      onResync: () => this.debounce('resync', 1000, () => this.refreshData()),
      onPoll: () => this.refreshData(),
      onState: (state) => this.ui.connection(CONNECTION_WORDS[state], state),
      onUnauthorized: () => this.ui.signedOut(),
    });
    this.live.start();
  }

  /** One committed change: the row at once, the dashboard and an open panel shortly after. */
  applyChange(change) {
    if (change.counts) this.table.applyChange(change.attendeeId, change.counts, change.dot);
    else this.debounce('rows', 300, () => this.refreshRows());
    this.debounce('dashboard', 500, () => this.dashboard.refresh().catch(() => {}));
    if (this.panel.attendeeId === change.attendeeId) this.debounce('panel', 200, () => this.panel.refresh());
    if (change.status) {
      this.liveCounts[change.status] = (this.liveCounts[change.status] || 0) + 1;
      this.debounce('announce', 3000, () => this.announceLive());
    }
  }

  announceLive() {
    const parts = Object.entries(this.liveCounts).map(([status, n]) => `${formatCount(n)} ${status}`);
    this.liveCounts = {};
    if (parts.length) this.ui.announce(`Updated: ${parts.join(', ')}`);
  }

  debounce(name, ms, fn) {
    if (this.refreshTimers[name]) return;
    this.refreshTimers[name] = setTimeout(() => {
      this.refreshTimers[name] = null;
      fn();
    }, ms);
  }

  async refreshRows() {
    const status = await api.attendeeStatus(this.eventId);
    this.table.refreshRows(status.attendees || []);
    this.attendeeTotal.textContent = `(${formatCount((status.attendees || []).length)})`;
  }

  /** Everything again (a resync, a poll, after a retry): rows in place, dashboard, panel. */
  async refreshData() {
    if (!this.loaded) return;
    try {
      await Promise.all([this.refreshRows(), this.dashboard.refresh()]);
    } catch (e) {
      if (e.status !== 401 && e.status !== 0) this.ui.alert(`Refreshing failed: ${e.message}`);
    }
    this.panel.refresh();
  }

  destroy() {
    this.live?.stop();
    for (const t of Object.values(this.refreshTimers)) clearTimeout(t);
    this.panel?.close({ restoreFocus: false });
  }
}
