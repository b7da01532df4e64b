// Debian's Chromium driven by playwright-core (never a downloaded browser), headless, with a
// fresh profile per launch; pages that record console errors; screenshots as test artifacts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

export const CHROMIUM = process.env.SMSD_CHROMIUM || '/usr/bin/chromium';
const here = new URL('.', import.meta.url).pathname;
export const ARTIFACTS = process.env.SMSD_BROWSER_ARTIFACTS
  || join(here, '..', '..', '..', 'build', 'browser-artifacts');

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 780 };

/**
 * Launches Chromium; returns {browser, close}. Playwright gives each launch a fresh user-data
 * dir of its own (a new temporary profile, removed at close).
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/**
 * A new context and page on `base`: en-US, New York time, the given viewport. The page keeps
 * `errors` (console errors and uncaught exceptions) and `requests` (every URL it asked for).
 */
export async function newPage(browser, base, { viewport = DESKTOP, token = null } = {}) {
  const context = await browser.newContext({
    viewport, locale: 'en-US', timezoneId: 'America/New_York', baseURL: base, reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push({ text: msg.text(), url: msg.location()?.url || '' });
  });
  page.on('pageerror', (err) => page.errors.push({ text: `uncaught: ${err.message}`, url: '' }));
  page.on('request', (req) => page.requests.push(req.url()));
  if (token) {
    await context.addInitScript((t) => {
      if (!window.sessionStorage.getItem('smsd.token')) window.sessionStorage.setItem('smsd.token', t);
    }, token);
  }
  page.closeAll = () => context.close();
  return page;
}

/**
 * Console errors other than the ones a test expects: `allow` is a list of RegExps matched
 * against the text and the URL. The stream's own failed requests (a test that cuts it or
 * answers it 404) are always allowed.
 */
export function unexpectedErrors(page, allow = []) {
  const allowed = [/\/sms-stream/, ...allow];
  return page.errors.filter((e) => !allowed.some((re) => re.test(e.text) || re.test(e.url)));
}

/** Serious or critical axe violations of the page as it is now (WCAG 2.x A/AA). */
export async function axeViolations(page, include = null) {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']);
  if (include) builder = builder.include(include);
  const result = await builder.analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Saves a full-page screenshot under the artifacts folder; returns its path. */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled', caret: 'hide' });
  return path;
}
