// One world (smsd + twilio_sim) and one Chromium per test file, started before its tests and
// stopped after them, whatever happened.
import { after, before } from 'node:test';
import { launch } from './browser.mjs';
import { startWorld } from './world.mjs';

/** `env`: more smsd settings. The returned object fills in before the first test. */
export function useWorld({ env = {} } = {}) {
  const f = {};
  before(async () => {
    f.world = await startWorld({ env });
    f.chromium = await launch();
    f.browser = f.chromium.browser;
  }, { timeout: 120000 });
  after(async () => {
    await f.chromium?.close();
    await f.world?.stop();
  }, { timeout: 60000 });
  return f;
}

/** The row button of an attendee ("SMS history for John Smith: ..."). */
export function rowButton(page, name) {
  return page.getByRole('button', { name: new RegExp(`^SMS history for ${name}:`) });
}

/** Opens an attendee's SMS History panel from its row; the dialog, once a text shows in it. */
export async function openPanel(page, name) {
  await rowButton(page, name).click();
  const dialog = page.getByRole('dialog', { name: 'SMS History' });
  await dialog.locator('.message').first().waitFor();
  return dialog;
}

/** Opens an event's page signed in with `token` (through #token=, as the platform links). */
export async function openEvent(page, eventId, token, query = '') {
  await page.goto(`/events/${encodeURIComponent(eventId)}${query}#token=${token}`);
  await page.locator('.attendee-table tbody tr').first().waitFor();
}
