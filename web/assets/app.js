// The organizer page's entry: signs in (token from #token=..., else the form), then shows the
// caller's events ("/") or one event ("/events/{eventId}").
import { h, replaceChildren } from './dom.js';
import { icon } from './icons.js';
import { onUnauthorized } from './api.js';
import { clearToken, currentToken, showSignIn, takeTokenFromAddress, tokenSubject } from './auth.js';
import { showEventList } from './events_list.js';
import { EventPage } from './event_page.js';

const main = document.getElementById('main');
const statusRegion = document.getElementById('status');
const alertRegion = document.getElementById('alert');
const connection = document.getElementById('connection');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');

let page = null;
let statusTimer = null;

const ui = {
  app: document.getElementById('app'),
  panelRoot: document.getElementById('panel-root'),
  /** The one polite status region: short summaries ("Retry sent", "2 delivered"). */
  announce(text) {
    clearTimeout(statusTimer);
    statusRegion.textContent = text;
    statusRegion.classList.add('is-visible');
    statusTimer = setTimeout(() => {
      statusRegion.classList.remove('is-visible');
      statusRegion.textContent = '';
    }, 6000);
  },
  /** A failure the organizer should know about now. */
  alert(text) {
    replaceChildren(alertRegion, h('p', {}, icon('alert'), h('span', {}, text),
      h('button', {
        type: 'button', class: 'icon-button', 'aria-label': 'Dismiss',
        on: { click: () => replaceChildren(alertRegion) },
      }, icon('close'))));
  },
  /** The header's live indicator; "Reconnecting…" is also said in the status region. */
  connection(text, state) {
    const before = connection.dataset.state;
    connection.hidden = !text;
    connection.dataset.state = state;
    replaceChildren(connection, h('span', { class: 'connection-dot', 'aria-hidden': 'true' }), text);
    if (state === 'reconnecting' && before !== 'reconnecting') ui.announce('Reconnecting…');
    if (state === 'live' && before === 'reconnecting') ui.announce('Live updates are back');
  },
  signedOut() {
    // Several requests may fail with 401 at once: show the form once.
    if (!page && document.getElementById('token-input')) return;
    signIn('expired');
  },
};

function showWho() {
  const token = currentToken();
  const subject = tokenSubject(token);
  who.hidden = !token;
  who.textContent = subject ? `Signed in as ${subject}` : 'Signed in';
  signOutButton.hidden = !token;
}

function leavePage() {
  page?.destroy();
  page = null;
  connection.hidden = true;
  replaceChildren(alertRegion);
}

function signIn(reason) {
  leavePage();
  if (reason === 'expired') clearToken();
  showWho();
  document.title = 'Sign in · smsd';
  showSignIn(main, reason, () => {
    showWho();
    route();
  });
}

function eventIdOf(pathname) {
  const m = /^\/events\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

function route() {
  leavePage();
  if (!currentToken()) {
    signIn('missing');
    return;
  }
  showWho();
  const eventId = eventIdOf(window.location.pathname);
  if (eventId) {
    page = new EventPage({ main, eventId, ui });
    page.show();
  } else {
    showEventList(main);
  }
}

onUnauthorized(() => ui.signedOut());
signOutButton.addEventListener('click', () => {
  clearToken();
  signIn('missing');
});
window.addEventListener('popstate', () => page?.onPopState());
// A sign-in link opened in a tab already on the page changes only the fragment.
window.addEventListener('hashchange', () => {
  if (takeTokenFromAddress()) route();
});
takeTokenFromAddress();
route();
