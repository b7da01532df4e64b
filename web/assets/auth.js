// The organizer's token: taken from the address (#token=...), kept in sessionStorage (this tab
// only, gone when it closes), and never left in the address bar or the history.
import { h, replaceChildren } from './dom.js';

const KEY = 'smsd.token';
let memoryToken = ''; // when sessionStorage is disabled

/**
 * Moves a #token=... of the address into sessionStorage and removes it from the address.
 * Returns whether there was one.
 */
export function takeTokenFromAddress() {
  const hash = window.location.hash.replace(/^#/, '');
  if (!hash) return false;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (token === null) return false;
  if (token.trim()) setToken(token.trim());
  params.delete('token');
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : '');
  window.history.replaceState(window.history.state, '', url);
  return true;
}

function getToken() {
  try {
    return window.sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

function setToken(token) {
  try {
    window.sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives as long as the page
  }
  memoryToken = token;
}

export function clearToken() {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
  memoryToken = '';
}

/** The token in use: sessionStorage's, or the one given when storage is disabled. */
export function currentToken() {
  return getToken() || memoryToken;
}

/** Who the token says the caller is: the JWT's `sub`, or null (the admin token is no JWT). */
export function tokenSubject(token) {
  const parts = String(token || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    const payload = JSON.parse(json);
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch {
    return null;
  }
}

/**
 * Shows the sign-in form in `main`: a pasted token is stored and `onSignedIn` runs.
 * `reason` says why it is shown ("expired", "missing").
 */
export function showSignIn(main, reason, onSignedIn) {
  const message = reason === 'expired'
    ? 'Your token was not accepted: it may have expired, or it is not valid for this server. Paste a new one to continue.'
    : 'Paste your organizer token to see your events\u2019 texts. The platform gives you a link that signs you in directly.';
  const input = h('input', {
    id: 'token-input', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    required: true, 'aria-describedby': 'token-help',
  });
  const error = h('p', { id: 'token-error', class: 'field-error', hidden: true });
  const form = h('form', { class: 'signin-form', novalidate: true },
    h('label', { for: 'token-input' }, 'Organizer token'),
    input,
    h('p', { id: 'token-help', class: 'field-help' },
      'Kept in this tab only, and removed when you sign out or close it.'),
    error,
    h('button', { class: 'button button-primary', type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = 'Paste a token first.';
      error.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', 'token-error token-help');
      input.focus();
      return;
    }
    setToken(token);
    onSignedIn();
  });
  replaceChildren(main,
    h('section', { class: 'signin card', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, 'Sign in'),
      h('p', { class: reason === 'expired' ? 'notice notice-warning' : 'lead', id: 'signin-message' },
        message),
      form));
  if (reason === 'expired') main.focus();
  else input.focus();
}
