// Retry from the panel: exactly one create per action (also on a double click), Retry All
// Failed with a preview that matches what it sends, feedback in the status region, failures
// in an alert with the API's words.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage, unexpectedErrors } from './support/browser.mjs';
import { openEvent, openPanel, rowButton, useWorld } from './support/fixture.mjs';
import { waitFor } from './support/world.mjs';
import { NUMBERS, seedMainEvent } from './support/scenario.mjs';

/** The panel's texts whose Retry is enabled. */
const retryable = (page, dialog) => dialog.locator('.message')
  .filter({ has: page.getByRole('button', { name: 'Retry', exact: true, disabled: false }) });

describe('retrying from the panel', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world);
  }, { timeout: 120000 });

  const creates = async () => (await f.world.simStats()).creates_accepted;
  const history = async (person) => (await f.world.admin('GET',
    `/api/events/${main.id}/attendees/${main.people[person].id}/sms-history`)).json;

  it('Retry sends exactly one create, says "Retry sent", and threads the retry', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.curator);
    await rowButton(page, 'Maria Lopez').click();
    const dialog = page.getByRole('dialog', { name: 'SMS History' });
    const card = dialog.locator('.message').first();
    await card.waitFor();
    const before = await creates();
    await card.getByRole('button', { name: 'Retry', exact: true }).click();
    await page.locator('#status', { hasText: 'Retry sent' }).waitFor();
    await dialog.locator('.thread.has-retries').first().waitFor();
    await f.world.settled();
    assert.equal(await creates(), before + 1);
    assert.equal((await f.world.simStats()).creates_by_to[NUMBERS.maria] >= 3, true);
    const msgs = (await history('maria')).messages;
    assert.equal(msgs.filter((m) => m.retryOfId).length, 1);
    // The original now says it was retried, and its Retry is disabled with the reason.
    const original = dialog.locator('.thread.has-retries .message').first();
    await original.getByText(/Retried → /).waitFor();
    assert.equal(await original.getByRole('button', { name: 'Retry', exact: true }).isDisabled(), true);
    await original.getByText('Already retried.').waitFor();
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('a double click on Retry still sends one create (and one request)', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const dialog = await openPanel(page, 'Maria Lopez');
    const open = retryable(page, dialog);
    await open.first().waitFor();
    const posts = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().includes('sms-retry') && posts.push(r.headers()['idempotency-key']));
    const before = await creates();
    await open.first().getByRole('button', { name: 'Retry', exact: true }).dblclick();
    await page.locator('#status', { hasText: 'Retry sent' }).waitFor();
    await f.world.settled();
    assert.equal(await creates(), before + 1);
    assert.equal(posts.length, 1);
    assert.match(posts[0], /^[0-9a-f-]{32,36}$/);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('Retry All Failed previews what it will do, and sends exactly that', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const dialog = await openPanel(page, 'Kai Moreno');
    const before = await creates();
    const beforeMessages = (await history('kai')).messages.length;
    await dialog.getByRole('button', { name: 'Retry All Failed' }).click();
    const preview = dialog.locator('#retry-preview-text');
    await preview.waitFor();
    assert.equal(await preview.innerText(), 'Retry 3; skipping 1 landline, 1 already retried');
    assert.equal(await creates(), before, 'the preview sends nothing');
    // Cancel, then again and confirm.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.getByRole('button', { name: 'Retry All Failed' }).click();
    await dialog.getByRole('button', { name: 'Retry 3 texts' }).dblclick();
    await page.locator('#status', { hasText: '3 retries sent' }).waitFor();
    await f.world.settled();
    assert.equal(await creates(), before + 3);
    const after = (await history('kai')).messages;
    assert.equal(after.length, beforeMessages + 3);
    // Nothing left worth retrying: the button goes away.
    await waitFor('Retry All Failed to go away', async () => (await dialog.getByRole('button', { name: 'Retry All Failed' }).count()) === 0);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('a failed retry shows the API\'s error in an alert', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const dialog = await openPanel(page, 'Maria Lopez');
    const open = retryable(page, dialog);
    assert.ok(await open.count() >= 1, 'Maria still has a text to retry');
    // Twilio refuses the retry's create this time: the answer carries its error.
    await f.world.simConfig({ callback_delays_ms: [20], create_failures: { [NUMBERS.maria]: 21610 } });
    try {
      await open.first().getByRole('button', { name: 'Retry', exact: true }).click();
      const alert = dialog.getByRole('alert');
      await alert.getByText(/The retry failed: .+/).waitFor();
      assert.match(await alert.innerText(), /unsubscribed|21610|STOP/i);
      assert.equal(await page.locator('#status').innerText(), '');
    } finally {
      await f.world.simConfig({ callback_delays_ms: [20] });
    }
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });
});
