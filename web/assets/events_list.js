// "/": the events the caller may see, newest first, each linking to its dashboard.
import { h, replaceChildren } from './dom.js';
import { icon } from './icons.js';
import { api } from './api.js';
import { formatEventDate } from './format.js';

const ROLE_WORDS = { owner: 'Owner', organizer: 'Co-organizer', admin: 'Admin' };

export function permissionWords(permissions = []) {
  return permissions.includes('curate') ? 'Can view and retry texts' : 'Can view texts';
}

export async function showEventList(main) {
  document.title = 'Your events · smsd';
  replaceChildren(main, h('h1', {}, 'Your events'), h('p', { class: 'loading', 'aria-busy': 'true' }, 'Loading your events…'));
  let data;
  try {
    data = await api.events();
  } catch (e) {
    if (e.status === 401) return;
    replaceChildren(main, h('h1', {}, 'Your events'),
      h('p', { class: 'notice notice-error' }, `Your events could not be loaded: ${e.message}`));
    return;
  }
  const events = data?.events || [];
  const list = events.length === 0
    ? h('div', { class: 'empty-state card' },
      h('p', {}, 'No events to show.'),
      h('p', { class: 'muted' }, 'Events appear here once the platform has synced them and you are their owner or a co-organizer who may view texts.'))
    : h('ul', { class: 'event-list' }, events.map((ev) => h('li', {},
      h('a', { class: 'event-link card', href: `/events/${encodeURIComponent(ev.id)}` },
        h('span', { class: 'event-name' }, ev.name || ev.id),
        h('span', { class: 'event-date' }, formatEventDate(ev.date)),
        h('span', { class: 'event-meta' },
          h('span', { class: 'tag' }, ROLE_WORDS[ev.role] || ev.role || ''),
          h('span', { class: 'muted' }, permissionWords(ev.permissions))),
        icon('chevron', 'icon event-chevron')))));
  replaceChildren(main,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Your events'),
      h('p', { class: 'lead' }, 'Choose an event to see who got its texts, what failed, and why.')),
    list);
}
