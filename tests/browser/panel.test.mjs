// The SMS History panel: a modal dialog (named, inert page behind, focus kept inside, Escape,
// focus back on the row), its texts with badges, error details, retry threads and timelines,
// its address (?attendee=ID; Back closes it), and keyboard-only use.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage, unexpectedErrors } from './support/browser.mjs';
import { openEvent, openPanel, rowButton, useWorld } from './support/fixture.mjs';
import { seedMainEvent } from './support/scenario.mjs';

describe('the SMS History panel', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world);
  }, { timeout: 120000 });

  it('is a modal dialog named SMS History with the attendee in its header', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    await rowButton(page, 'Maria Lopez').click();
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    assert.equal(await page.locator('#panel-subtitle').innerText(), 'Maria Lopez • +1 (555) 123-0003');
    assert.equal(await page.evaluate(() => document.getElementById('app').inert), true);
    await dialog.locator('.message').first().waitFor();
    // Newest first: match reveal (newer) before the invitation.
    const types = await dialog.locator('.message-type').allInnerTexts();
    assert.deepEqual(types, ['Match Reveal', 'Invitation']);
    assert.match(await dialog.locator('.message-time').first().innerText(), /^[A-Z][a-z]{2} \d{1,2}, \d{4} • \d{1,2}:\d{2} [AP]M$/);
    assert.equal(await dialog.locator('.badge').first().innerText(), 'Undelivered');
    assert.equal(await page.locator('.panel-summary').innerText(), '2 messages • 0 delivered • 2 failed • 0 pending');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.getElementById('app').inert), false);
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'SMS history for Maria Lopez: 2 failed');
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('shows the seed\'s badges with icon and words, and error details as an expander', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    await rowButton(page, 'Maria Lopez').click();
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    const toggle = dialog.getByRole('button', { name: /Error 30003: Unreachable handset/ }).first();
    assert.match(await toggle.innerText(), /^⚠\s*Error 30003: Unreachable handset/);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    const details = page.locator(`#${await toggle.getAttribute('aria-controls')}`);
    assert.equal(await details.isVisible(), false);
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.match(await details.innerText(), /Phone may be off or out of service area/);
    assert.match(await details.innerText(), /Retrying may help/);
    const badges = await dialog.locator('.badge').evaluateAll((els) => els.map((b) => ({
      text: b.textContent.trim(), icon: Boolean(b.querySelector('svg')),
    })));
    assert.ok(badges.every((b) => b.icon && b.text));
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Lee's text was refused at create: 21211 is not retryable, and the panel says so.
    await rowButton(page, 'Lee Chen').click();
    await dialog.getByRole('button', { name: /Error 21211: Invalid phone number/ }).click();
    await dialog.getByText('Retrying will not help').waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Retry', exact: true }).isDisabled(), true);
    await dialog.getByText(/Not retryable: invalid phone number/).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Sam and John: every badge Delivered.
    await rowButton(page, 'John Smith').click();
    await dialog.locator('.message').first().waitFor();
    assert.deepEqual([...new Set(await dialog.locator('.badge').allInnerTexts())], ['Delivered']);
    assert.equal(await page.locator('#panel-subtitle').innerText(), 'John Smith • +1 (555) 123-4567');
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('threads a retry with its original, links them, and shows each text\'s timeline', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    await rowButton(page, 'Kai Moreno').click();
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    const thread = dialog.locator('.thread.has-retries');
    await thread.waitFor();
    const cards = thread.locator('.message');
    assert.equal(await cards.count(), 2);
    assert.match(await cards.nth(0).innerText(), /Retried → Delivered/);
    assert.match(await cards.nth(1).innerText(), /Retry of the text sent/);
    assert.equal(await cards.nth(1).locator('.badge').innerText(), 'Delivered');
    // The original's Retry is disabled, says why and links to the retry.
    assert.equal(await cards.nth(0).getByRole('button', { name: 'Retry', exact: true }).isDisabled(), true);
    await cards.nth(0).locator('.retry-reason').getByRole('link', { name: 'See the retry' }).click();
    assert.equal(await page.evaluate(() => document.activeElement.id), await cards.nth(1).getAttribute('id'));

    // Timeline: the retry's reports, oldest first, with what each did.
    const timelineButton = cards.nth(1).getByRole('button', { name: 'Status timeline' });
    assert.equal(await timelineButton.getAttribute('aria-expanded'), 'false');
    await timelineButton.click();
    assert.equal(await timelineButton.getAttribute('aria-expanded'), 'true');
    const timeline = page.locator(`#${await timelineButton.getAttribute('aria-controls')}`);
    await timeline.locator('.timeline-entry').first().waitFor();
    const entries = await timeline.locator('.timeline-entry').allInnerTexts();
    assert.ok(entries.length >= 3, `timeline entries: ${entries.join(' | ')}`);
    assert.match(entries.at(-1), /Delivered/);
    assert.match(entries.join('\n'), /Applied/);
    assert.match(entries.join('\n'), /Twilio callback/);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('lives in the address: ?attendee= opens it, Back closes it, Forward opens it again', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    await rowButton(page, 'John Smith').click();
    await dialog.waitFor();
    assert.equal(new URL(page.url()).searchParams.get('attendee'), main.people.john.id);
    await page.goBack();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(new URL(page.url()).searchParams.get('attendee'), null);
    await page.goForward();
    await dialog.waitFor();
    assert.equal(await page.locator('#panel-subtitle').innerText(), 'John Smith • +1 (555) 123-4567');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(new URL(page.url()).searchParams.get('attendee'), null);

    // A deep link opens it on load; closing it drops the parameter.
    await page.goto(`/events/${main.id}?attendee=${main.people.kai.id}`);
    await dialog.waitFor();
    await page.locator('#panel-subtitle', { hasText: 'Kai Moreno' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(new URL(page.url()).search, '');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'SMS history for Kai Moreno: 4 failed');
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('works with the keyboard only: Tab to a row, Enter opens, Tab stays inside, Escape closes, focus returns', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const target = 'SMS history for John Smith: All delivered';
    let reached = false;
    for (let i = 0; i < 80 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate((name) => document.activeElement?.getAttribute('aria-label') === name, target);
    }
    assert.ok(reached, 'Tab reaches the row\'s button');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    await dialog.locator('.message').first().waitFor();
    assert.ok(await page.evaluate(() => document.querySelector('[role="dialog"]').contains(document.activeElement)));
    for (let i = 0; i < 40; i += 1) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      assert.ok(await page.evaluate(() => document.querySelector('[role="dialog"]').contains(document.activeElement)),
        `focus left the dialog after ${i + 1} presses`);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), target);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('a viewer sees the panel but no Retry', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.viewer);
    const dialog = await openPanel(page, 'Kai Moreno');
    assert.ok(await dialog.locator('.message').count() >= 5);
    assert.equal(await dialog.getByRole('button', { name: /Retry/ }).count(), 0);
    const before = (await f.world.simStats()).creates_accepted;
    // Even a hand-made request with the viewer's token is refused by the API.
    const r = await f.world.as(main.tokens.viewer, 'POST', `/api/events/${main.id}/attendees/${main.people.kai.id}/sms-retry`, { retryAll: true });
    assert.equal(r.status, 403);
    assert.equal((await f.world.simStats()).creates_accepted, before);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });
});
