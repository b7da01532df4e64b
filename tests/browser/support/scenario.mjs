// The events the browser tests look at, seeded through the admin API with the simulator
// deciding each text's fate (its delivery_failures per number, its magic numbers).
import { organizerToken, seedEvent, suffix, waitFor } from './world.mjs';

export const NUMBERS = {
  john: '+15551234567', // delivered
  maria: '+15551230003', // undelivered 30003 (retryable)
  lee: '+15005550001', // refused at create: 21211 (not retryable)
  sam: '+447911123456', // delivered, not a NANP number
  kai: '+15551230020', // several failures: one landline, three 30003, one of them retried
  pat: '+15551230030', // its callbacks are dropped: stays pending
};

const BASE_FAILURES = {
  [NUMBERS.maria]: { status: 'undelivered', error_code: 30003 },
};

/** Waits until smsd has every callback the simulator posted, and no text is left in between. */
async function settle(world, eventId) {
  await world.settled();
  await waitFor('smsd to have applied the callbacks', async () => {
    const r = await world.admin('GET', `/api/events/${eventId}/sms-summary`);
    return r.status === 200 && (r.json.byStatus.sent || 0) === 0 && (r.json.byStatus.queued || 0) === 0;
  }, { ms: 15000 });
}

async function notify(world, eventId, notificationType, body, attendeeIds) {
  const r = await world.admin('POST', `/api/events/${eventId}/notify`, { notificationType, body, attendeeIds });
  if (r.status !== 200) throw new Error(`notify: ${r.status} ${r.text}`);
  return r.json;
}

/**
 * The main event: John delivered, Maria undelivered (30003), Lee refused (21211), Sam delivered
 * (UK), Ana without a phone, Pat pending (callbacks lost), Kai with five failures (Retry All: 3 to retry, 1
 * landline, 1 already retried, whose retry was delivered). Owner `owner`, a viewer and a
 * curator co-organizer. Returns ids and tokens.
 */
export async function seedMainEvent(world, { name = 'No Edges — Spring Mixer' } = {}) {
  const id = `evt-${suffix()}`;
  const owner = `owner-${suffix()}`;
  const viewer = `viewer-${suffix()}`;
  const curator = `curator-${suffix()}`;
  const a = (key, firstName, lastName, phone) => ({ id: `att-${key}-${suffix()}`, key, firstName, lastName, phone });
  const people = {
    john: a('john', 'John', 'Smith', NUMBERS.john),
    maria: a('maria', 'Maria', 'Lopez', NUMBERS.maria),
    lee: a('lee', 'Lee', 'Chen', NUMBERS.lee),
    sam: a('sam', 'Sam', 'Patel', NUMBERS.sam),
    ana: a('ana', 'Ana', 'Ruiz', null),
    kai: a('kai', 'Kai', 'Moreno', NUMBERS.kai),
    pat: a('pat', 'Pat', 'Kim', NUMBERS.pat),
  };
  await seedEvent(world, {
    id, name, owner, date: '2026-05-14T23:00:00Z',
    attendees: Object.values(people),
    organizers: { [viewer]: ['view'], [curator]: ['view', 'curate'] },
  });
  const ids = (...keys) => keys.map((k) => people[k].id);

  // Kai: one landline failure first.
  await world.simConfig({ callback_delays_ms: [20], delivery_failures: { ...BASE_FAILURES, [NUMBERS.kai]: { status: 'undelivered', error_code: 30006 } } });
  await notify(world, id, 'invitation', 'You are invited to {{eventName}}! RSVP in the app.', ids('john', 'maria', 'lee', 'sam', 'ana', 'kai'));
  await settle(world, id);
  // Then four unreachable-handset failures.
  await world.simConfig({ callback_delays_ms: [20], delivery_failures: { ...BASE_FAILURES, [NUMBERS.kai]: { status: 'undelivered', error_code: 30003 } } });
  await notify(world, id, 'rsvp_reminder', 'Reminder: RSVP for {{eventName}} by Friday.', ids('john', 'kai'));
  await notify(world, id, 'match_reveal', 'Your matches for {{eventName}} are ready. Open the app to see them.', ids('john', 'maria', 'sam', 'kai'));
  await notify(world, id, 'event_reminder', '{{eventName}} starts tomorrow at 7pm. See you there!', ids('kai'));
  await notify(world, id, 'new_rsvps', '11 more people RSVP\'d for {{eventName}}.', ids('john', 'sam', 'kai'));
  await settle(world, id);
  // One of Kai's failures retried, and delivered this time.
  await world.simConfig({ callback_delays_ms: [20], delivery_failures: BASE_FAILURES });
  const history = await world.admin('GET', `/api/events/${id}/attendees/${people.kai.id}/sms-history`);
  const firstUnreachable = history.json.messages.filter((m) => m.errorCode === '30003').at(-1);
  const retried = await world.admin('POST', `/api/events/${id}/attendees/${people.kai.id}/sms-retry`, { messageId: firstUnreachable.id });
  if (retried.status !== 200) throw new Error(`retry: ${retried.status} ${retried.text}`);
  await settle(world, id);
  // Pat's callbacks are all lost: the text stays pending (until reconciliation would ask).
  await world.simConfig({ callback_delays_ms: [20], delivery_failures: BASE_FAILURES, drop_callbacks: 1.0 });
  await notify(world, id, 'event_reminder', '{{eventName}} starts tomorrow at 7pm. See you there!', ids('pat'));
  await world.settled();
  await world.simConfig({ callback_delays_ms: [20], delivery_failures: BASE_FAILURES });
  return {
    id, name, people,
    tokens: {
      owner: organizerToken(owner), viewer: organizerToken(viewer), curator: organizerToken(curator),
      stranger: organizerToken(`stranger-${suffix()}`),
    },
    users: { owner, viewer, curator },
  };
}

/** An event with `count` attendees, all with one delivered text (sent with one notify). */
export async function seedLargeEvent(world, count, owner) {
  const id = `evt-big-${suffix()}`;
  const attendees = [];
  for (let i = 0; i < count; i += 1) {
    const n = String(i).padStart(4, '0');
    attendees.push({ id: `a${n}`, firstName: `Guest${n}`, lastName: 'Tester', phone: `+1555300${n}` });
  }
  await seedEvent(world, { id, name: 'Big Night', owner, attendees });
  return id;
}
