// The SMS column's content: the API's dot with an icon and words, never colour alone.
import { h } from './dom.js';
import { icon } from './icons.js';
import { DOT_ICON, smsStateWords } from './format.js';

const DOT_NAMES = { green: 'green', yellow: 'yellow', red: 'red', gray: 'gray' };

/** `<span class="sms-state">` with the dot (an icon inside) and the words. */
export function smsStateView(row) {
  const dot = DOT_NAMES[row.dot] || 'gray';
  return h('span', { class: `sms-state sms-${dot}` },
    h('span', { class: `dot dot-${dot}` }, icon(DOT_ICON[dot], 'dot-icon')),
    h('span', { class: 'sms-words' }, smsStateWords({ ...row, dot })));
}

/** Order of the states when sorting by SMS: what needs the organizer first. */
export const DOT_RANK = { red: 0, yellow: 1, green: 2, gray: 3 };
