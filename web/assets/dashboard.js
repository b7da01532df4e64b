// The event dashboard: stat cards, texts by notification type and status (a chart with its
// numbers in words beside it), and the failed texts, each opening its attendee's panel.
import { h, svg, replaceChildren } from './dom.js';
import { icon } from './icons.js';
import { STATUS, STATUS_ORDER, TYPE_NAMES, TYPE_ORDER, formatCount, formatDateTime, plural } from './format.js';

const FIRST_FAILED_LIMIT = 10;
const MORE_STEP = 50;
const MAX_FAILED_LIMIT = 1000;

export class Dashboard {
  /** onOpen(attendeeId, button): open the panel; load(limit): the sms-summary for that limit. */
  constructor({ onOpen, load, announce }) {
    Object.assign(this, { onOpen, load, announce });
    this.failedLimit = FIRST_FAILED_LIMIT;
    this.element = this.build();
  }

  build() {
    this.stats = h('ul', { class: 'stat-cards', 'aria-label': 'Texts of this event' });
    this.chart = h('div', { class: 'chart' });
    this.failed = h('div', { class: 'failed-list' });
    this.failedCount = h('span', { class: 'section-count' });
    return h('div', { class: 'dashboard' },
      this.stats,
      h('div', { class: 'dashboard-grid' },
        h('section', { class: 'card', 'aria-labelledby': 'chart-title' },
          h('h3', { id: 'chart-title' }, 'Texts by type'),
          this.chart),
        h('section', { class: 'card', 'aria-labelledby': 'failed-title' },
          h('h3', { id: 'failed-title' }, 'Failed texts ', this.failedCount),
          this.failed)));
  }

  /** Fetches the summary for the current limit and shows it. */
  async refresh() {
    const summary = await this.load(this.failedLimit);
    this.render(summary);
    return summary;
  }

  render(s) {
    this.summary = s;
    this.renderStats(s);
    this.renderChart(s);
    this.renderFailed(s);
  }

  renderStats(s) {
    const by = s.byStatus || {};
    const failed = (by.failed || 0) + (by.undelivered || 0);
    const pending = (by.queued || 0) + (by.sent || 0);
    const finals = (by.delivered || 0) + failed;
    const rate = finals === 0 ? '—' : `${(Math.round((s.deliveryRate || 0) * 1000) / 10).toString()}%`;
    const cards = [
      { key: 'total', label: 'Texts sent', value: formatCount(s.total || 0) },
      { key: 'delivered', label: 'Delivered', value: formatCount(by.delivered || 0), tone: 'green', icon: 'check' },
      { key: 'failed', label: 'Failed + undelivered', value: formatCount(failed), tone: 'red', icon: 'cross' },
      { key: 'pending', label: 'Pending', value: formatCount(pending), tone: 'grey', icon: 'clock' },
      { key: 'rate', label: 'Delivery rate', value: rate, hint: finals ? `of ${plural(finals, 'finished text')}` : 'no text finished yet' },
    ];
    replaceChildren(this.stats, cards.map((c) => h('li', { class: `stat stat-${c.key}`, 'data-stat': c.key },
      h('span', { class: 'stat-label' }, c.icon ? h('span', { class: `stat-icon tone-${c.tone}` }, icon(c.icon)) : null, c.label),
      h('span', { class: 'stat-value' }, c.value),
      c.hint ? h('span', { class: 'stat-hint' }, c.hint) : null)));
  }

  renderChart(s) {
    const rows = TYPE_ORDER.map((type) => {
      const counts = s.byTypeAndStatus?.[type];
      const total = counts ? Object.values(counts).reduce((a, b) => a + b, 0) : (s.byType?.[type] || 0);
      return { type, counts, total };
    }).filter((r) => r.total > 0);
    if (rows.length === 0) {
      replaceChildren(this.chart, h('p', { class: 'empty-state' }, 'No texts sent yet.'));
      return;
    }
    const max = Math.max(...rows.map((r) => r.total));
    const legend = h('ul', { class: 'chart-legend', 'aria-label': 'Legend' },
      STATUS_ORDER.map((st) => h('li', {}, h('span', { class: `swatch swatch-${st}` }, icon(STATUS[st].icon, 'icon swatch-icon')), STATUS[st].label)));
    const list = h('ul', { class: 'chart-rows' }, rows.map((r) => {
      const parts = r.counts
        ? STATUS_ORDER.filter((st) => r.counts[st] > 0).map((st) => ({ st, n: r.counts[st] }))
        : [{ st: 'total', n: r.total }];
      const words = r.counts
        ? parts.map((p) => `${formatCount(p.n)} ${STATUS[p.st].label.replace('...', '').toLowerCase()}`).join(', ')
        : plural(r.total, 'text');
      let x = 0;
      const width = 100 * (r.total / max);
      const bar = svg('svg', {
        class: 'chart-bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false',
      }, parts.map((p) => {
        const w = width * (p.n / r.total);
        const rect = svg('rect', { x: x.toFixed(3), y: 0, width: Math.max(w, 0.6).toFixed(3), height: 10, class: `seg seg-${p.st}` });
        x += w;
        return rect;
      }));
      return h('li', { class: 'chart-row' },
        h('span', { class: 'chart-type' }, TYPE_NAMES[r.type]),
        h('span', { class: 'chart-total' }, formatCount(r.total)),
        bar,
        h('span', { class: 'chart-words' }, words));
    }));
    replaceChildren(this.chart, list, legendIfStacked(legend, rows));
  }

  renderFailed(s) {
    const list = s.failedMessages || [];
    const total = s.failedMessagesTotal ?? list.length;
    this.failedCount.textContent = total ? `(${formatCount(total)})` : '';
    if (total === 0) {
      this.failedSignature = null;
      replaceChildren(this.failed, h('p', { class: 'empty-state' }, icon('check'), ' No failed texts.'));
      return;
    }
    // Unchanged: leave the list alone (a live refresh must not disturb a focused entry).
    const signature = JSON.stringify([total, list.map((f) => [f.id, f.retried, f.attendeeName])]);
    if (signature === this.failedSignature) return;
    this.failedSignature = signature;
    const previous = new Set(this.shownFailedIds || []);
    this.shownFailedIds = list.map((f) => f.id);
    const items = list.map((f) => {
      const title = f.errorInfo?.title || 'Unknown error';
      const button = h('button', {
        type: 'button', class: 'failed-entry', 'data-message-id': f.id,
        on: { click: () => this.onOpen(f.attendeeId, button) },
      },
      h('span', { class: 'failed-who' }, f.attendeeName || `Attendee ${f.attendeeId}`),
      h('span', { class: 'failed-error' }, f.errorCode ? `Error ${f.errorCode}: ${title}` : 'No error code'),
      h('span', { class: 'failed-meta' },
        h('time', { datetime: f.createdAt }, formatDateTime(f.createdAt)),
        f.retried ? h('span', { class: 'tag tag-retried' }, icon('retry'), 'Retried') : null));
      button.setAttribute('aria-label', `${f.attendeeName || `Attendee ${f.attendeeId}`}: ${f.errorCode ? `error ${f.errorCode}, ${title}` : 'failed'}, ${formatDateTime(f.createdAt)}${f.retried ? ', retried' : ''}. Open SMS history`);
      return { id: f.id, li: h('li', {}, button), button };
    });
    const ul = h('ul', { class: 'failed-entries' }, items.map((i) => i.li));
    const more = total > list.length && this.failedLimit < MAX_FAILED_LIMIT
      ? h('button', { type: 'button', class: 'button button-quiet show-more', on: { click: () => this.showMore() } },
        `Show more (${formatCount(total - list.length)} more)`)
      : null;
    const focusedId = document.activeElement?.closest?.('.failed-entry')?.dataset.messageId;
    replaceChildren(this.failed, ul, h('p', { class: 'muted small' },
      `Showing ${formatCount(list.length)} of ${formatCount(total)}`), more);
    const again = focusedId && items.find((i) => i.id === focusedId);
    if (again) again.button.focus();
    if (this.focusFirstNew) {
      this.focusFirstNew = false;
      const first = items.find((i) => !previous.has(i.id));
      first?.button.focus();
    }
  }

  async showMore() {
    this.failedLimit = Math.min(this.failedLimit + MORE_STEP, MAX_FAILED_LIMIT);
    this.focusFirstNew = true;
    await this.refresh();
    this.announce(`Showing ${formatCount(this.summary.failedMessages.length)} failed texts`);
  }
}

// The legend matters only when bars are split by status.
function legendIfStacked(legend, rows) {
  return rows.some((r) => r.counts) ? legend : null;
}
