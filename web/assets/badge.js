// The seed's status badge: colour, icon and words (queued → "Sending...", ...).
import { h } from './dom.js';
import { icon } from './icons.js';
import { STATUS } from './format.js';

export function statusBadge(status) {
  const s = STATUS[status] || { label: status || 'Unknown', icon: 'minus', tone: 'grey' };
  return h('span', { class: `badge badge-${s.tone}`, 'data-status': status || '' },
    icon(s.icon), h('span', {}, s.label));
}
