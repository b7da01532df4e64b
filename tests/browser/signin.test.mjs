// Signing in: the token from #token=..., the form without one or after a 401, and a token
// that sees only what the API lets it see.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage, unexpectedErrors } from './support/browser.mjs';
import { useWorld } from './support/fixture.mjs';
import { organizerToken, seedEvent, suffix } from './support/world.mjs';
import { seedMainEvent } from './support/scenario.mjs';

describe('signing in', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world);
  }, { timeout: 120000 });

  it('without a token shows the sign-in form with a clear message; a pasted token signs in', async () => {
    const page = await newPage(f.browser, f.world.base);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await page.locator('#signin-message').innerText(), /Paste your organizer token/);
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.locator('#token-error').innerText(), /Paste a token first/);
    await page.getByLabel('Organizer token').fill(main.tokens.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your events' }).waitFor();
    await page.getByRole('link', { name: new RegExp(main.name) }).waitFor();
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('takes #token= into sessionStorage and removes it from the address bar', async () => {
    const page = await newPage(f.browser, f.world.base);
    await page.goto(`/events/${main.id}?attendee=nobody#token=${main.tokens.owner}`);
    await page.getByRole('heading', { name: main.name }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.hash, '');
    assert.equal(url.pathname, `/events/${main.id}`);
    assert.equal(url.searchParams.get('attendee'), 'nobody');
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('smsd.token')), main.tokens.owner);
    assert.ok(!(await page.evaluate(() => window.location.href)).includes('token'));
    // A reload stays signed in (same tab).
    await page.goto(`/events/${main.id}`);
    await page.getByRole('heading', { name: main.name }).waitFor();
    await page.closeAll();
  });

  it('lists the caller\'s events newest first, with the role', async () => {
    const owner = `owner-${suffix()}`;
    await seedEvent(f.world, { id: `evt-old-${suffix()}`, name: 'Autumn Social', date: '2026-03-01T19:00:00Z', owner });
    await seedEvent(f.world, { id: `evt-new-${suffix()}`, name: 'Summer Gala', date: '2026-08-01T19:00:00Z', owner });
    const page = await newPage(f.browser, f.world.base, { token: organizerToken(owner) });
    await page.goto('/');
    await page.getByRole('link', { name: /Summer Gala/ }).waitFor();
    const names = await page.locator('.event-name').allInnerTexts();
    assert.deepEqual(names, ['Summer Gala', 'Autumn Social']);
    assert.match(await page.locator('.event-link').first().innerText(), /Owner/);
    await page.getByRole('link', { name: /Summer Gala/ }).click();
    await page.getByRole('heading', { name: 'Summer Gala' }).waitFor();
    await page.closeAll();
  });

  it('after a 401 (an expired token) shows the form again and says why', async () => {
    const page = await newPage(f.browser, f.world.base);
    await page.goto(`/events/${main.id}#token=${organizerToken(main.users.owner, -120)}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await page.locator('#signin-message').innerText(), /not accepted.*expired/);
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('smsd.token')), null);
    await page.getByLabel('Organizer token').fill(main.tokens.owner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: main.name }).waitFor();
    assert.deepEqual(unexpectedErrors(page, [/401/]), []);
    await page.closeAll();
  });

  it('a stranger\'s token sees no attendee data', async () => {
    const page = await newPage(f.browser, f.world.base);
    await page.goto(`/events/${main.id}?attendee=${main.people.john.id}#token=${main.tokens.stranger}`);
    await page.getByRole('heading', { name: 'Event not found' }).waitFor();
    const text = await page.locator('body').innerText();
    for (const person of Object.values(main.people)) {
      assert.ok(!text.includes(person.firstName), `${person.firstName} must not show`);
    }
    assert.equal(await page.locator('[role="dialog"]').count(), 0);
    await page.goto('/');
    await page.getByText('No events to show.').waitFor();
    assert.ok(!(await page.locator('body').innerText()).includes(main.name));
    assert.deepEqual(unexpectedErrors(page, [/404/]), []);
    await page.closeAll();
  });

  it('signing out forgets the token', async () => {
    const page = await newPage(f.browser, f.world.base);
    await page.goto(`/#token=${main.tokens.owner}`);
    await page.getByRole('heading', { name: 'Your events' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('smsd.token')), null);
    await page.closeAll();
  });
});
