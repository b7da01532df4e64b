// The attendee table: name, phone, and the SMS column whose button opens the attendee's panel.
// Sorting and filtering happen only when the organizer asks; live changes update rows where
// they are (never reordered or hidden under the user), so focus and reading position stay.
import { h, replaceChildren, safeId } from './dom.js';
import { icon } from './icons.js';
import { formatCount, formatPhone, fullName, plural, smsStateWords } from './format.js';
import { DOT_RANK, smsStateView } from './sms_state.js';

const FILTERS = [
  { value: 'all', label: 'All attendees', test: () => true },
  { value: 'red', label: 'Failed', test: (r) => r.dot === 'red' },
  { value: 'yellow', label: 'Pending', test: (r) => r.dot === 'yellow' },
  { value: 'green', label: 'All delivered', test: (r) => r.dot === 'green' },
  { value: 'gray', label: 'No SMS sent', test: (r) => r.dot === 'gray' || !r.dot },
];

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** The name an attendee shows under: "John Smith", or their id when the API has no name. */
export function attendeeName(row) {
  return fullName(row.firstName, row.lastName) || `Attendee ${row.attendeeId}`;
}

export class AttendeeTable {
  /** onOpen(attendeeId, button): open that attendee's panel. */
  constructor({ onOpen, announce }) {
    this.onOpen = onOpen;
    this.announce = announce;
    this.rows = new Map(); // attendeeId -> {data, tr, button}
    this.order = [];
    this.sort = { key: 'name', dir: 'ascending' };
    this.filter = 'all';
    this.query = '';
    this.element = this.build();
  }

  build() {
    this.countText = h('p', { class: 'table-count', id: 'attendee-count' });
    this.search = h('input', {
      id: 'attendee-search', type: 'search', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'Name or phone',
      on: { input: () => { this.query = this.search.value.trim().toLowerCase(); this.applyView(true); } },
    });
    this.filterSelect = h('select', {
      id: 'attendee-filter',
      on: { change: () => { this.filter = this.filterSelect.value; this.applyView(true); } },
    }, FILTERS.map((f) => h('option', { value: f.value }, f.label)));
    this.sortButtons = {
      name: this.sortButton('name', 'Name'),
      sms: this.sortButton('sms', 'SMS'),
    };
    this.headers = {
      name: h('th', { scope: 'col', class: 'col-name' }, this.sortButtons.name),
      phone: h('th', { scope: 'col', class: 'col-phone' }, 'Phone'),
      sms: h('th', { scope: 'col', class: 'col-sms' }, this.sortButtons.sms),
    };
    this.tbody = h('tbody');
    this.empty = h('p', { class: 'empty-state', hidden: true });
    this.table = h('table', { class: 'attendee-table', 'aria-describedby': 'attendee-count' },
      h('caption', { class: 'visually-hidden' }, 'Attendees and their texts. Sortable by name and SMS state.'),
      h('thead', {}, h('tr', {}, this.headers.name, this.headers.phone, this.headers.sms)),
      this.tbody);
    this.updateSortIndicators();
    return h('div', { class: 'attendees' },
      h('div', { class: 'table-tools', role: 'search', 'aria-label': 'Attendees' },
        h('div', { class: 'field' }, h('label', { for: 'attendee-search' }, 'Search'), this.search),
        h('div', { class: 'field' }, h('label', { for: 'attendee-filter' }, 'Show'), this.filterSelect)),
      this.countText,
      h('div', { class: 'table-wrap' }, this.table),
      this.empty);
  }

  sortButton(key, label) {
    return h('button', {
      type: 'button', class: 'sort-button',
      on: { click: () => this.toggleSort(key) },
    }, h('span', {}, label), h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }));
  }

  toggleSort(key) {
    const dir = this.sort.key === key && this.sort.dir === 'ascending' ? 'descending' : 'ascending';
    this.sort = { key, dir };
    this.updateSortIndicators();
    this.applyView(true);
  }

  updateSortIndicators() {
    for (const key of ['name', 'sms']) {
      const th = this.headers[key];
      const active = this.sort.key === key;
      if (active) th.setAttribute('aria-sort', this.sort.dir);
      else th.removeAttribute('aria-sort');
      this.sortButtons[key].querySelector('.sort-arrow').textContent = active
        ? (this.sort.dir === 'ascending' ? '▲' : '▼') : '↕';
    }
  }

  /** Replaces the table's rows with the API's list (sms-status). */
  setRows(list) {
    const seen = new Set();
    for (const data of list) {
      seen.add(data.attendeeId);
      const row = this.rows.get(data.attendeeId);
      if (row) this.updateRow(row, data);
      else this.rows.set(data.attendeeId, this.createRow(data));
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    this.applyView(false);
  }

  /**
   * A refetched list or a live change: rows change in place; a new attendee goes to the end; the
   * order and filter stay as the organizer left them until they sort or filter again.
   */
  refreshRows(list) {
    const seen = new Set();
    for (const data of list) {
      seen.add(data.attendeeId);
      const row = this.rows.get(data.attendeeId);
      if (row) this.updateRow(row, data);
      else {
        const created = this.createRow(data);
        this.rows.set(data.attendeeId, created);
        this.order.push(created);
        this.tbody.append(created.tr);
      }
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id) && row.tr !== document.activeElement?.closest('tr')) {
        row.tr.remove();
        this.rows.delete(id);
        this.order = this.order.filter((r) => r !== row);
      }
    }
    this.updateCounts();
  }

  /** A live change of one attendee's counts (the stream's `counts` and `dot`). */
  applyChange(attendeeId, counts, dot) {
    const row = this.rows.get(attendeeId);
    if (!row) return false;
    this.updateRow(row, { ...row.data, ...counts, dot: dot || row.data.dot });
    this.updateCounts();
    return true;
  }

  row(attendeeId) {
    return this.rows.get(attendeeId)?.data;
  }

  buttonOf(attendeeId) {
    return this.rows.get(attendeeId)?.button;
  }

  createRow(data) {
    const nameCell = h('th', { scope: 'row', class: 'col-name' });
    const phoneCell = h('td', { class: 'col-phone' });
    const button = h('button', {
      type: 'button', class: 'sms-button', id: `sms-${safeId(data.attendeeId)}`,
      on: { click: () => this.onOpen(data.attendeeId, button) },
    });
    const tr = h('tr', { 'data-attendee-id': data.attendeeId },
      nameCell, phoneCell, h('td', { class: 'col-sms' }, button));
    const row = { data, tr, button, nameCell, phoneCell };
    this.fill(row);
    return row;
  }

  updateRow(row, data) {
    const before = row.data;
    row.data = data;
    if (before.dot !== data.dot || before.pending !== data.pending
        || before.openFailed !== data.openFailed || before.failed !== data.failed
        || before.firstName !== data.firstName || before.lastName !== data.lastName
        || before.phone !== data.phone) this.fill(row);
  }

  fill(row) {
    const { data } = row;
    const name = attendeeName(data);
    const phone = formatPhone(data.phone);
    replaceChildren(row.nameCell, h('span', { class: 'attendee-name' }, name),
      h('span', { class: 'phone-inline' }, phone || 'No phone'));
    replaceChildren(row.phoneCell, phone || h('span', { class: 'muted' }, 'No phone'));
    replaceChildren(row.button, smsStateView(data), icon('chevron', 'icon chevron'));
    row.button.setAttribute('aria-label', `SMS history for ${name}: ${smsStateWords(data)}`);
    row.tr.dataset.dot = data.dot || 'gray';
    row.searchText = `${name} ${data.phone || ''} ${phone}`.toLowerCase();
  }

  /** Sorts and filters as asked; `announce`: say how many rows show. */
  applyView(announce) {
    const rows = [...this.rows.values()];
    const { key, dir } = this.sort;
    const sign = dir === 'ascending' ? 1 : -1;
    const byName = (a, b) => collator.compare(attendeeName(a.data), attendeeName(b.data));
    rows.sort((a, b) => {
      if (key === 'sms') {
        const d = (DOT_RANK[a.data.dot] ?? 3) - (DOT_RANK[b.data.dot] ?? 3);
        if (d !== 0) return sign * d;
        return byName(a, b);
      }
      return sign * byName(a, b);
    });
    const test = FILTERS.find((f) => f.value === this.filter).test;
    let shown = 0;
    for (const row of rows) {
      const visible = test(row.data) && (!this.query || row.searchText.includes(this.query));
      row.tr.hidden = !visible;
      if (visible) shown += 1;
    }
    this.tbody.append(...rows.map((r) => r.tr));
    this.order = rows;
    this.shown = shown;
    this.updateCounts();
    if (announce && this.rows.size > 0) this.announce(`${plural(shown, 'attendee')} shown`);
  }

  updateCounts() {
    const all = [...this.rows.values()].map((r) => r.data);
    for (const option of this.filterSelect.options) {
      const f = FILTERS.find((x) => x.value === option.value);
      const n = all.filter(f.test).length;
      option.textContent = `${f.label} (${formatCount(n)})`;
    }
    const shown = [...this.rows.values()].filter((r) => !r.tr.hidden).length;
    this.countText.textContent = shown === all.length
      ? plural(all.length, 'attendee')
      : `${formatCount(shown)} of ${plural(all.length, 'attendee')}`;
    this.empty.hidden = shown > 0;
    this.empty.textContent = all.length === 0
      ? 'No attendees yet. They appear here once the platform syncs them.'
      : 'No attendee matches. Change the search or choose “All attendees”.';
    this.table.hidden = all.length === 0;
  }
}
