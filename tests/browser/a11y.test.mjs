// Accessibility scans (axe-core: no serious or critical violation) of the sign-in form, the
// events list, the event's dashboard and table, and the open panel, at 1280 and 375 px; the
// screenshots of each (artifacts; docs/images/ holds the current ones); and the page's own
// rules: no third-party request, no CSP violation, no console error.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DESKTOP, PHONE, axeViolations, newPage, screenshot, unexpectedErrors } from './support/browser.mjs';
import { openEvent, openPanel, rowButton, useWorld } from './support/fixture.mjs';
import { seedMainEvent } from './support/scenario.mjs';
import { seedEvent, suffix } from './support/world.mjs';

describe('accessibility and screenshots', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world, { name: 'No Edges — Spring Mixer' });
    // More of the owner's events, for the list.
    await seedEvent(f.world, { id: `evt-${suffix()}`, name: 'Rooftop Speed Dating', date: '2026-06-20T23:30:00Z', owner: main.users.owner });
    await seedEvent(f.world, { id: `evt-${suffix()}`, name: 'Winter Board Game Night', date: '2026-01-16T00:00:00Z', owner: main.users.owner });
    await seedEvent(f.world, { id: `evt-${suffix()}`, name: 'Trivia at The Anchor', date: '2026-04-02T23:00:00Z', owner: `other-${suffix()}`,
      organizers: { [main.users.owner]: ['view'] } });
  }, { timeout: 120000 });

  for (const [label, viewport] of [['1280', DESKTOP], ['375', PHONE]]) {
    it(`the sign-in form and the events list at ${label} px`, async () => {
      const page = await newPage(f.browser, f.world.base, { viewport });
      await page.goto('/');
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.deepEqual(await axeViolations(page), []);
      await screenshot(page, `signin-${label}`);
      await page.goto(`/#token=${main.tokens.owner}`);
      await page.locator('.event-link').first().waitFor();
      assert.deepEqual(await axeViolations(page), []);
      await screenshot(page, `events-${label}`);
      assert.deepEqual(unexpectedErrors(page), []);
      await page.closeAll();
    });

    it(`the event's dashboard and attendee table at ${label} px`, async () => {
      const page = await newPage(f.browser, f.world.base, { viewport });
      await openEvent(page, main.id, main.tokens.owner);
      await page.locator('.failed-entry').first().waitFor();
      await page.locator('#connection:not([hidden])').waitFor();
      assert.deepEqual(await axeViolations(page), []);
      await screenshot(page, `event-${label}`, { fullPage: true });
      if (label === '375') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
      }
      assert.deepEqual(unexpectedErrors(page), []);
      await page.closeAll();
    });

    it(`the open SMS History panel at ${label} px`, async () => {
      const page = await newPage(f.browser, f.world.base, { viewport });
      await openEvent(page, main.id, main.tokens.owner);
      const dialog = await openPanel(page, 'Kai Moreno');
      await dialog.locator('.error-toggle').first().click();
      const timeline = dialog.locator('.thread.has-retries .message').last().getByRole('button', { name: 'Status timeline' });
      await timeline.click();
      await dialog.locator('.timeline-entry, .timeline .field-error').first().waitFor();
      assert.deepEqual(await axeViolations(page), []);
      // The retry thread with its timeline, in view.
      await dialog.locator('.thread.has-retries').evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await screenshot(page, `panel-${label}`);
      await dialog.locator('.panel-body').evaluate((el) => { el.scrollTop = 0; });
      await dialog.getByRole('button', { name: 'Retry All Failed' }).click();
      await dialog.locator('#retry-preview-text').waitFor();
      assert.deepEqual(await axeViolations(page), []);
      await screenshot(page, `panel-retry-all-${label}`);
      if (label === '375') {
        const width = await dialog.evaluate((el) => el.getBoundingClientRect().width);
        assert.equal(Math.round(width), 375);
      }
      assert.deepEqual(unexpectedErrors(page), []);
      await page.closeAll();
    });
  }

  it('asks nothing of any other origin, and the CSP refuses nothing it asks', async () => {
    const page = await newPage(f.browser, f.world.base);
    const violations = [];
    page.on('console', (msg) => /Content Security Policy/i.test(msg.text()) && violations.push(msg.text()));
    await openEvent(page, main.id, main.tokens.owner);
    await rowButton(page, 'Kai Moreno').click();
    await page.getByRole('dialog', { name: 'SMS History' }).locator('.message').first().waitFor();
    const foreign = page.requests.filter((u) => !u.startsWith(f.world.base));
    assert.deepEqual(foreign, []);
    assert.deepEqual(violations, []);
    const res = await page.request.get('/');
    assert.match(res.headers()['content-security-policy'], /^default-src 'self';.*frame-ancestors 'none'$/);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });
});
