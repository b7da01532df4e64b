// The event dashboard: stat cards, texts by type and status (with words), the failed texts
// opening their attendee's panel, and "Show more" past the first ten.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage, unexpectedErrors } from './support/browser.mjs';
import { openEvent, useWorld } from './support/fixture.mjs';
import { organizerToken, seedEvent, suffix } from './support/world.mjs';
import { seedMainEvent } from './support/scenario.mjs';

describe('the event dashboard', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world);
  }, { timeout: 120000 });

  it('shows the stat cards from the summary', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const summary = (await f.world.admin('GET', `/api/events/${main.id}/sms-summary`)).json;
    const stat = async (key) => (await page.locator(`[data-stat="${key}"] .stat-value`).innerText()).trim();
    const by = summary.byStatus;
    assert.equal(await stat('total'), String(summary.total));
    assert.equal(await stat('delivered'), String(by.delivered));
    assert.equal(await stat('failed'), String(by.failed + by.undelivered));
    assert.equal(await stat('pending'), String(by.queued + by.sent));
    assert.equal(await stat('rate'), `${Math.round(summary.deliveryRate * 1000) / 10}%`);
    assert.match(await page.locator('[data-stat="failed"]').innerText(), /Failed \+ undelivered/);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('charts texts by type, with the numbers in words', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const rows = await page.locator('.chart-row').allInnerTexts();
    const text = rows.join('\n');
    for (const type of ['Invitation', 'RSVP Reminder', 'Event Reminder', 'New RSVPs Update', 'Match Reveal']) {
      assert.match(text, new RegExp(type));
    }
    assert.ok(!text.includes('Question Set'), 'types without texts are left out');
    const summary = (await f.world.admin('GET', `/api/events/${main.id}/sms-summary`)).json;
    if (summary.byTypeAndStatus) {
      const inv = summary.byTypeAndStatus.invitation;
      const invRow = rows.find((r) => r.startsWith('Invitation'));
      assert.match(invRow, new RegExp(`${inv.delivered} delivered`));
      assert.match(invRow, new RegExp(`${inv.undelivered} undelivered`));
      await page.locator('.chart-legend').getByText('Undelivered').waitFor();
    }
    assert.equal(await page.locator('.chart-bar').first().getAttribute('aria-hidden'), 'true');
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('lists failed texts; an entry opens that attendee\'s panel', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const entries = page.locator('.failed-entry');
    await entries.first().waitFor();
    const texts = await entries.allInnerTexts();
    assert.ok(texts.some((t) => /Maria Lopez[\s\S]*Error 30003: Unreachable handset/.test(t)));
    assert.ok(texts.some((t) => /Kai Moreno[\s\S]*Error 30006: Landline detected/.test(t)));
    assert.ok(texts.some((t) => /Retried/.test(t)), 'the retried failure is marked');
    const lee = entries.filter({ hasText: 'Lee Chen' }).first();
    await lee.click();
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    await page.locator('#panel-subtitle', { hasText: 'Lee Chen' }).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.closest('.failed-entry') !== null), true);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('shows ten failed texts first and more on request', async () => {
    const owner = `owner-${suffix()}`;
    const id = `evt-fail-${suffix()}`;
    const attendees = Array.from({ length: 14 }, (_, i) => ({
      id: `f${i}`, firstName: `Failing${String(i).padStart(2, '0')}`, lastName: 'Guest', phone: '+15005550001',
    }));
    await seedEvent(f.world, { id, owner, attendees, notify: [{ notificationType: 'invitation', body: 'Hi' }] });
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, id, organizerToken(owner));
    await page.locator('.failed-entry').first().waitFor();
    assert.equal(await page.locator('.failed-entry').count(), 10);
    assert.match(await page.locator('.failed-list').innerText(), /Showing 10 of 14/);
    await page.getByRole('button', { name: 'Show more (4 more)' }).click();
    await page.getByText('Showing 14 of 14').waitFor();
    assert.equal(await page.locator('.failed-entry').count(), 14);
    assert.equal(await page.getByRole('button', { name: /Show more/ }).count(), 0);
    assert.ok(await page.evaluate(() => document.activeElement.classList.contains('failed-entry')), 'focus on the first new entry');
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });
});
