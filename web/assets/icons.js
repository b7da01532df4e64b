// Line icons (24×24, stroke): shapes that say the same as the colours they sit on.
import { svg } from './dom.js';

const PATHS = {
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  cross: ['M7 7l10 10', 'M17 7L7 17'],
  clock: ['M12 7v5l3 2', 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z'],
  send: ['M4 12h13', 'M12 6l6 6-6 6'],
  alert: ['M12 4L2.8 19.5h18.4z', 'M12 10v4.5', 'M12 17.2v.3'],
  minus: ['M6 12h12'],
  retry: ['M4 12a8 8 0 0 1 14-5.3', 'M18 3v4h-4', 'M20 12a8 8 0 0 1-14 5.3', 'M6 21v-4h4'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  chevron: ['M9 6l6 6-6 6'],
  back: ['M15 6l-6 6 6 6'],
  live: ['M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6z'],
};

/** An icon (aria-hidden: the words next to it carry the meaning). */
export function icon(name, className = 'icon') {
  return svg('svg', {
    class: className, viewBox: '0 0 24 24', width: 16, height: 16, 'aria-hidden': 'true',
    focusable: 'false', fill: 'none', stroke: 'currentColor', 'stroke-width': 2.2,
    'stroke-linecap': 'round', 'stroke-linejoin': 'round',
  }, (PATHS[name] || PATHS.minus).map((d) => svg('path', { d })));
}
