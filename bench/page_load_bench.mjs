#!/usr/bin/env node
// The organizer page's first load on a big event: 1,000 attendees and 100,000 messages (the mix
// of bench/organizer_reads_bench.cpp, inserted with sqlite3 into the file smsd migrated), opened
// in Debian's Chromium (playwright-core) with an empty cache each time. Prints the median and the
// slowest of the runs until the attendee list is shown (the page's `smsd:attendees-shown` mark,
// from navigation start), and the API calls the page made with their median times.
//
//   node bench/page_load_bench.mjs [--runs 10] [--attendees 1000] [--messages 100000]
//
// Needs build/smsd and build/twilio_sim (or SMSD_BINARY, TWILIO_SIM_BINARY), the npm packages
// of tests/browser, and the sqlite3 command. Everything runs on 127.0.0.1 and stops by its pid.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { DESKTOP, launch, newPage } from '../tests/browser/support/browser.mjs';
import { organizerToken, startWorld } from '../tests/browser/support/world.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const runs = Number(args.runs || 10);
const attendees = Number(args.attendees || 1000);
const messages = Number(args.messages || 100000);

function seedSql() {
  const a = attendees;
  const n = messages;
  const status = `CASE WHEN i % 20 < 14 THEN 'delivered' WHEN i % 20 < 16 THEN 'sent'
    WHEN i % 20 = 16 THEN 'queued' WHEN i % 20 < 19 THEN 'failed' ELSE 'undelivered' END`;
  return `BEGIN;
INSERT INTO events (id, name, date, owner_id, created_at, updated_at)
  VALUES ('big', 'Big Night', 1800000000000, 'owner', 0, 0);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${a})
INSERT INTO attendees (id, event_id, first_name, last_name, phone, created_at, updated_at)
  SELECT 'a' || i, 'big', 'Guest', 'No ' || i, '+1415555' || (1000 + i), i, i FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${n})
INSERT INTO sms_messages (id, message_sid, account_sid, messaging_service_sid, to_phone,
  from_phone, body, num_segments, status, provider_status, status_rank, error_code,
  error_message, raw_payload, created_at, sent_at, delivered_at, status_updated_at,
  event_id, attendee_id, notification_type, retry_of_id, send_state)
SELECT 'm' || i, 'SM' || i, 'AC1', 'MG1', '+14155551000', '+15005550006', 'Hello there', 1,
  ${status}, ${status},
  CASE WHEN i % 20 < 14 THEN 4 WHEN i % 20 < 16 THEN 3 WHEN i % 20 = 16 THEN 1 ELSE 4 END,
  CASE WHEN i % 20 >= 17 THEN '30003' END, CASE WHEN i % 20 >= 17 THEN 'Unreachable' END,
  '{}', 1700000000000 + i * 1000, 1700000000000 + i * 1000 + 500,
  CASE WHEN i % 20 < 14 THEN 1700000000000 + i * 1000 + 900 END, 1700000000000 + i * 1000,
  'big', 'a' || (i % ${a}),
  CASE i % 6 WHEN 0 THEN 'invitation' WHEN 1 THEN 'rsvp_reminder' WHEN 2 THEN 'match_reveal'
             WHEN 3 THEN 'event_reminder' WHEN 4 THEN 'new_rsvps' ELSE 'question_set' END,
  NULL, 'accepted' FROM n;
COMMIT;
ANALYZE;
`;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${x.toFixed(0)} ms`;

const world = await startWorld();
const chromium = await launch();
try {
  const seeded = Date.now();
  execFileSync('sqlite3', ['-bail', join(world.dir, 'smsd.db')], { input: `.timeout 10000\n${seedSql()}`, timeout: 300000 });
  console.log(`seeded ${attendees} attendees and ${messages} messages in ${ms(Date.now() - seeded)}`);
  const token = organizerToken('owner');
  const shown = [];
  const calls = new Map(); // path -> durations
  for (let run = 0; run <= runs; run += 1) { // run 0 warms smsd's caches and is not counted
    const page = await newPage(chromium.browser, world.base, { viewport: DESKTOP, token });
    await page.goto('/events/big');
    await page.waitForFunction(() => performance.getEntriesByName('smsd:attendees-shown').length > 0, null, { timeout: 60000 });
    const m = await page.evaluate(() => ({
      shown: performance.getEntriesByName('smsd:attendees-shown')[0].startTime,
      rows: document.querySelectorAll('.attendee-table tbody tr').length,
      api: performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith('/api/'))
        .map((e) => ({ path: new URL(e.name).pathname + new URL(e.name).search, start: e.startTime, duration: e.duration, bytes: e.encodedBodySize })),
    }));
    if (m.rows !== attendees) throw new Error(`the page shows ${m.rows} rows, not ${attendees}`);
    if (run > 0) {
      shown.push(m.shown);
      for (const c of m.api) {
        const key = c.path.replace(/\/big\b/, '/{eventId}');
        if (!calls.has(key)) calls.set(key, { durations: [], starts: [], bytes: c.bytes });
        calls.get(key).durations.push(c.duration);
        calls.get(key).starts.push(c.start);
      }
    }
    await page.closeAll();
  }
  console.log(`\nfirst load until the list of ${attendees} attendees is shown, ${runs} runs: median ${ms(median(shown))}, slowest ${ms(Math.max(...shown))}`);
  console.log('\nAPI calls of one load (median over the runs; the stream stays open and has no end):');
  console.log('  started  took     size      call');
  for (const [path, c] of [...calls].sort((x, y) => median(x[1].starts) - median(y[1].starts))) {
    const took = path.endsWith('/sms-stream') ? '(open)' : ms(median(c.durations));
    console.log(`  ${ms(median(c.starts)).padStart(7)}  ${took.padEnd(7)}  ${String(c.bytes ?? '').padStart(8)} B  GET ${path}`);
  }
} finally {
  await chromium.close();
  await world.stop();
}
