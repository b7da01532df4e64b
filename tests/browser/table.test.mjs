// The attendee table: names, phones as organizers write them, the SMS column (dot + icon +
// words, and a button named the same), sorting and filtering, and 1,000 attendees.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage, unexpectedErrors } from './support/browser.mjs';
import { openEvent, rowButton, useWorld } from './support/fixture.mjs';
import { organizerToken, suffix } from './support/world.mjs';
import { seedLargeEvent, seedMainEvent } from './support/scenario.mjs';

describe('the attendee table', () => {
  const f = useWorld();
  let main;
  before(async () => {
    main = await seedMainEvent(f.world);
  }, { timeout: 120000 });

  it('shows each attendee\'s name, phone and SMS state in words', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const rowText = async (name) => (await page.locator('tr', { has: page.getByRole('rowheader', { name: new RegExp(name) }) }).innerText()).replace(/\s+/g, ' ');
    assert.match(await rowText('John Smith'), /\+1 \(555\) 123-4567.*All delivered/);
    assert.match(await rowText('Maria Lopez'), /\+1 \(555\) 123-0003.*2 failed/);
    assert.match(await rowText('Lee Chen'), /1 failed/);
    assert.match(await rowText('Sam Patel'), /\+44 791 112 3456.*All delivered/);
    assert.match(await rowText('Ana Ruiz'), /No phone.*No SMS sent/);
    assert.match(await rowText('Kai Moreno'), /4 failed/);
    assert.match(await rowText('Pat Kim'), /1 pending/);
    // The button's name says the same as what it shows.
    await rowButton(page, 'John Smith').and(page.getByRole('button', { name: 'SMS history for John Smith: All delivered' })).waitFor();
    await page.getByRole('button', { name: 'SMS history for Maria Lopez: 2 failed' }).waitFor();
    await page.getByRole('button', { name: 'SMS history for Pat Kim: 1 pending' }).waitFor();
    await page.getByRole('button', { name: 'SMS history for Ana Ruiz: No SMS sent' }).waitFor();
    // Never colour alone: every dot holds an icon and sits beside words.
    const dots = await page.locator('.sms-button').evaluateAll((buttons) => buttons.map((b) => ({
      icon: Boolean(b.querySelector('.dot svg')), words: b.querySelector('.sms-words').textContent.trim(),
    })));
    assert.ok(dots.length === 7 && dots.every((d) => d.icon && d.words));
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('sorts by name and by SMS state, and filters by state and by search', async () => {
    const page = await newPage(f.browser, f.world.base);
    await openEvent(page, main.id, main.tokens.owner);
    const names = () => page.locator('tbody tr:not([hidden]) .attendee-name').allInnerTexts();
    assert.deepEqual(await names(), ['Ana Ruiz', 'John Smith', 'Kai Moreno', 'Lee Chen', 'Maria Lopez', 'Pat Kim', 'Sam Patel']);
    assert.equal(await page.locator('thead th.col-name').getAttribute('aria-sort'), 'ascending');
    await page.getByRole('button', { name: 'Name' }).click();
    assert.equal(await page.locator('thead th.col-name').getAttribute('aria-sort'), 'descending');
    assert.equal((await names())[0], 'Sam Patel');
    await page.getByRole('button', { name: 'SMS', exact: true }).click();
    assert.equal(await page.locator('thead th.col-sms').getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await names(), ['Kai Moreno', 'Lee Chen', 'Maria Lopez', 'Pat Kim', 'John Smith', 'Sam Patel', 'Ana Ruiz']);

    await page.getByLabel('Show').selectOption('red');
    assert.deepEqual(await names(), ['Kai Moreno', 'Lee Chen', 'Maria Lopez']);
    assert.match(await page.locator('#attendee-count').innerText(), /3 of 7 attendees/);
    await page.getByText('3 attendees shown').waitFor(); // the polite status region
    await page.getByLabel('Show').selectOption('gray');
    assert.deepEqual(await names(), ['Ana Ruiz']);
    await page.getByLabel('Show').selectOption('all');
    await page.getByLabel('Search').fill('(555) 123-4567'); // as shown
    assert.deepEqual(await names(), ['John Smith']);
    await page.getByLabel('Search').fill('+15551234567'); // as stored
    assert.deepEqual(await names(), ['John Smith']);
    await page.getByLabel('Search').fill('mor');
    assert.deepEqual(await names(), ['Kai Moreno']);
    await page.getByLabel('Search').fill('nobody here');
    await page.getByText('No attendee matches.').waitFor();
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });

  it('shows 1,000 attendees quickly and keeps sorting and filtering fast', async () => {
    const owner = `owner-${suffix()}`;
    const id = await seedLargeEvent(f.world, 1000, owner);
    const page = await newPage(f.browser, f.world.base);
    const started = Date.now();
    await openEvent(page, id, organizerToken(owner));
    await page.locator('tbody tr').nth(999).waitFor({ state: 'attached' });
    const loadMs = Date.now() - started;
    assert.ok(loadMs < 5000, `the list of 1,000 took ${loadMs} ms`);
    const sortMs = await page.evaluate(async () => {
      const t = performance.now();
      document.querySelector('th.col-sms .sort-button').click();
      document.querySelector('th.col-name .sort-button').click();
      const search = document.getElementById('attendee-search');
      search.value = 'guest0999';
      search.dispatchEvent(new Event('input'));
      return performance.now() - t;
    });
    assert.ok(sortMs < 500, `two sorts and a search over 1,000 rows took ${sortMs} ms`);
    assert.equal(await page.locator('tbody tr:not([hidden])').count(), 1);
    assert.deepEqual(unexpectedErrors(page), []);
    await page.closeAll();
  });
});
