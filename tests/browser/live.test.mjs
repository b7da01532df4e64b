// Live updates: a committed change shows without a reload (the stream), and the page's stream
// client follows the contract: SSE frames, Last-Event-ID on reconnect, "Reconnecting…" and
// polling every 10 s while the stream is down, polling when the server has no stream, and the
// sign-in form when the stream says 401.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage, unexpectedErrors } from './support/browser.mjs';
import { openEvent, openPanel, useWorld } from './support/fixture.mjs';
import { organizerToken, seedEvent, suffix, waitFor } from './support/world.mjs';
import { seedMainEvent } from './support/scenario.mjs';

describe('live updates', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world);
  }, { timeout: 120000 });

  it('a callback shows up live without reload: the row, the open panel and the dashboard', async () => {
    const owner = `owner-${suffix()}`;
    const id = `evt-live-${suffix()}`;
    await seedEvent(f.world, { id, owner, attendees: [{ id: 'live-1', firstName: 'Rosa', lastName: 'Diaz', phone: '+15551239999' }] });
    // Slow callbacks: the page is open long before the text is delivered.
    await f.world.simConfig({ callback_delays_ms: [1500, 1500, 4000] });
    try {
      const r = await f.world.admin('POST', `/api/events/${id}/notify`, { notificationType: 'event_reminder', body: 'Doors open at 7pm' });
      assert.equal(r.status, 200);
      const page = await newPage(f.browser, f.world.base);
      await openEvent(page, id, organizerToken(owner));
      await page.evaluate(() => { window.notReloaded = true; });
      await page.getByRole('button', { name: 'SMS history for Rosa Diaz: 1 pending' }).waitFor();
      const dialog = await openPanel(page, 'Rosa Diaz');
      assert.notEqual(await dialog.locator('.badge').first().innerText(), 'Delivered');
      // The moment the simulator's "delivered" callback was answered...
      const delivered = await waitFor('the delivered callback', async () => {
        const msgs = await f.world.simGet('/_sim/messages');
        const cb = msgs.filter((m) => m.to === '+15551239999').flatMap((m) => m.callbacks)
          .find((c) => c.status === 'delivered' && c.outcome === 'sent');
        return cb ? Date.now() : null;
      }, { ms: 20000, every: 25 });
      // ...the page shows it within 2 s, without a reload.
      await dialog.locator('.badge', { hasText: 'Delivered' }).waitFor({ timeout: 2000 });
      await page.locator('tr[data-dot="green"]').waitFor({ timeout: 2000 });
      assert.equal(await page.locator('.sms-button').getAttribute('aria-label'), 'SMS history for Rosa Diaz: All delivered');
      await page.locator('[data-stat="delivered"] .stat-value', { hasText: '1' }).waitFor({ timeout: 2000 });
      assert.ok(Date.now() - delivered < 2600, `shown ${Date.now() - delivered} ms after the callback`);
      assert.equal(await page.evaluate(() => window.notReloaded), true);
      assert.equal(await page.locator('#connection').innerText(), 'Live');
      assert.deepEqual(unexpectedErrors(page), []);
      await page.closeAll();
    } finally {
      await f.world.simConfig({ callback_delays_ms: [20] });
    }
  });

  it('reads the stream\'s frames, resumes with Last-Event-ID, and polls saying "Reconnecting…" while it is down', async () => {
    const page = await newPage(f.browser, f.world.base);
    const calls = [];
    await page.route('**/sms-stream', async (route) => {
      const headers = route.request().headers();
      calls.push(headers);
      if (calls.length === 1) {
        const change = {
          messageId: 'm-fake', attendeeId: main.people.john.id, status: 'failed', dot: 'red',
          counts: { total: 5, delivered: 4, pending: 0, failed: 1, openFailed: 1 },
        };
        await route.fulfill({
          status: 200,
          headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' },
          body: `: ping\n\nid: 41\nevent: sms\ndata: ${JSON.stringify(change)}\n\nid: 42\r\nevent: ping-unknown\r\ndata: {}\r\n\r\n`,
        });
      } else {
        await route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"busy"}' });
      }
    });
    await openEvent(page, main.id, main.tokens.owner);
    // The frame's counts are applied to the row at once.
    await page.getByRole('button', { name: 'SMS history for John Smith: 1 failed' }).waitFor();
    // The stream ended: reconnecting, with the last id seen.
    await page.locator('#connection', { hasText: 'Reconnecting…' }).waitFor();
    await page.locator('#status', { hasText: 'Reconnecting…' }).waitFor();
    await waitFor('a reconnect', () => calls.length >= 2, { ms: 5000 });
    assert.equal(calls[1]['last-event-id'], '42');
    assert.match(calls[0].authorization, /^Bearer /);
    assert.equal(calls[0].accept, 'text/event-stream');
    // While it is down the page polls every 10 s: a change made meanwhile shows up.
    await f.world.admin('PUT', `/api/admin/events/${main.id}/attendees/${main.people.ana.id}`, { firstName: 'Anabel', lastName: 'Ruiz', phone: null });
    await page.getByRole('button', { name: 'SMS history for Anabel Ruiz: No SMS sent' }).waitFor({ timeout: 13000 });
    await page.getByRole('button', { name: 'SMS history for John Smith: All delivered' }).waitFor();
    // Backoff: 1 s, 2 s, 4 s, then 5 s at most.
    assert.ok(calls.length >= 3 && calls.length <= 6, `${calls.length} reconnects in ~12 s`);
    await f.world.admin('PUT', `/api/admin/events/${main.id}/attendees/${main.people.ana.id}`, { firstName: 'Ana', lastName: 'Ruiz', phone: null });
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('without a stream on the server (404) the page polls and says so', async () => {
    const page = await newPage(f.browser, f.world.base);
    await page.route('**/sms-stream', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"no such endpoint"}' }));
    await openEvent(page, main.id, main.tokens.owner);
    await page.locator('#connection', { hasText: 'Updates every 10 s' }).waitFor();
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('a 401 on the stream shows the sign-in form', async () => {
    const page = await newPage(f.browser, f.world.base);
    let first = true;
    await page.route('**/sms-stream', (route) => {
      if (first) {
        first = false;
        return route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":"token expired"}' });
      }
      return route.fulfill({ status: 404, body: '' });
    });
    await page.goto(`/events/${main.id}#token=${main.tokens.owner}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await page.locator('#signin-message').innerText(), /not accepted/);
    await page.closeAll();
  });
});
