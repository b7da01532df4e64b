#!/usr/bin/env bash
# The demo: builds smsd and the Twilio simulator, starts both on loopback (smsd on the embedded
# SQLite database ./data/smsd.db), seeds a demo event with a handful of attendees (some on
# Twilio's failing magic numbers), sends them one notification through the simulator, and prints
# what to look at. Both keep running until Ctrl-C, which stops them by their own pids.
# Any setting already in the environment (SMSD_LISTEN, SMSD_DATABASE_URL, ...) wins.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SMSD_ROOT"

"$SMSD_ROOT/scripts/install-deps.sh"
"$SMSD_ROOT/scripts/build.sh" smsd twilio_sim
smsd_bin="$(smsd_build_dir)/smsd"
sim_bin="$(smsd_build_dir)/twilio_sim"
[[ -x "$smsd_bin" ]] || die "$smsd_bin was not built"
[[ -x "$sim_bin" ]] || die "$sim_bin was not built"

export SMSD_LISTEN="${SMSD_LISTEN:-127.0.0.1:8080}"
export SMSD_DATABASE_URL="${SMSD_DATABASE_URL:-sqlite:./data/smsd.db}"
export SMSD_ADMIN_TOKEN="${SMSD_ADMIN_TOKEN:-demo-admin-token}"
export SMSD_JWT_SECRET="${SMSD_JWT_SECRET:-demo-jwt-secret-not-for-production}"
export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-demo-auth-token}"
export TWILIO_ACCOUNT_SID="${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000000000}"
export TWILIO_MESSAGING_SERVICE_SID="${TWILIO_MESSAGING_SERVICE_SID:-MG00000000000000000000000000000000}"
export PUBLIC_APP_URL="${PUBLIC_APP_URL:-http://$SMSD_LISTEN}"
sim_listen="${SMSD_DEMO_SIM_LISTEN:-127.0.0.1:8081}"
export TWILIO_API_BASE_URL="${TWILIO_API_BASE_URL:-http://$sim_listen}"

for listen in "$SMSD_LISTEN" "$sim_listen"; do
  if port_in_use "${listen##*:}"; then
    die "something already listens on $listen; set SMSD_LISTEN or SMSD_DEMO_SIM_LISTEN to another port"
  fi
done

run_dir="$(mktemp -d)"
sim_pid=""
smsd_pid=""
stop_all() {
  # Each by its own pid, smsd first (it may still be answering the simulator's callbacks).
  for pid in "$smsd_pid" "$sim_pid"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$smsd_pid" "$sim_pid"; do
    [[ -n "$pid" ]] || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$run_dir"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# The simulator answers like Twilio, and delivers callbacks slowly enough to watch: one attendee's
# text ends undelivered (30003, handset unreachable); the magic numbers fail at create.
cat >"$run_dir/sim.json" <<'JSON'
{
  "callback_delays_ms": [1500, 2000, 2500],
  "delivery_failures": {"+14155550102": {"status": "undelivered", "error_code": 30003}}
}
JSON
"$sim_bin" --listen "$sim_listen" --account-sid "$TWILIO_ACCOUNT_SID" \
  --auth-token "$TWILIO_AUTH_TOKEN" --config "$run_dir/sim.json" \
  >"$run_dir/sim.out" 2>"$run_dir/sim.log" &
sim_pid=$!
"$smsd_bin" serve 2>&1 &
smsd_pid=$!

base="http://$SMSD_LISTEN"
for _ in $(seq 150); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1 && port_in_use "${sim_listen##*:}"; then
    break
  fi
  kill -0 "$smsd_pid" 2>/dev/null || die "smsd stopped during start-up"
  kill -0 "$sim_pid" 2>/dev/null || die "twilio_sim stopped during start-up: $(cat "$run_dir/sim.log")"
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null || die "smsd did not become ready"

auth=(-H "Authorization: Bearer $SMSD_ADMIN_TOKEN")
json=(-H 'Content-Type: application/json')
put() { curl -fsS -X PUT "$base$1" "${auth[@]}" "${json[@]}" -d "$2" >/dev/null; }

event="evt-demo"
put "/api/admin/events/$event" '{"name": "Demo Night", "date": "2026-12-01T19:00:00Z", "ownerId": "u1"}'
put "/api/admin/events/$event/attendees/att-1" '{"firstName": "John", "lastName": "Smith", "phone": "+14155550101"}'
put "/api/admin/events/$event/attendees/att-2" '{"firstName": "Maria", "lastName": "Lopez", "phone": "(415) 555-0102"}'
put "/api/admin/events/$event/attendees/att-3" '{"firstName": "Sam", "lastName": null, "phone": "+15005550004"}'
put "/api/admin/events/$event/attendees/att-4" '{"firstName": "Lee", "lastName": null, "phone": "+15005550001"}'
put "/api/admin/events/$event/attendees/att-5" '{"firstName": "Ana", "lastName": null, "phone": null}'

log "sending one notification to the demo event's attendees"
notify_body='{"notificationType": "event_reminder", "body": "Hi {{firstName}}, {{eventName}} starts at 7pm!"}'
answer="$(curl -sS -X POST "$base/api/events/$event/notify" "${auth[@]}" "${json[@]}" -d "$notify_body")"
first_id="$(printf '%s' "$answer" | grep -o '"dbRecordId":"[^"]*"' | head -n 1 | cut -d'"' -f4 || true)"

admin="-H 'Authorization: Bearer $SMSD_ADMIN_TOKEN'"
# The organizer page, signed in as the demo event's owner (u1) for 8 hours.
owner_token="$("$smsd_bin" token --user u1 --ttl 8h)" || die "smsd token failed"
page_link="$base/events/$event#token=$owner_token"
cat <<MSG

smsd demo: $base (database $SMSD_DATABASE_URL), Twilio simulator: $TWILIO_API_BASE_URL
Admin token: $SMSD_ADMIN_TOKEN

Open the organizer page (the demo event, as its owner; the token leaves the address at once):
  $page_link

The notification's answer (one result per attendee; the magic numbers fail at once, Ana has no
phone and is skipped):
$answer

Callbacks arrive over the next few seconds: John's text ends delivered, Maria's undelivered
(30003). Look at them:

# one message and its whole status timeline (by our id or Twilio's SID)
curl -sS $base/api/admin/messages/${first_id:-MESSAGE_ID} $admin; echo

# send one more text (to defaults to the attendee's phone)
curl -sS -X POST $base/api/sms/send $admin -H 'Content-Type: application/json' \\
  -d '{"eventId": "$event", "attendeeId": "att-1", "body": "See you soon", "notificationType": "event_reminder"}'; echo

# what the simulator has seen (creates, callbacks, 429s ...)
curl -sS $TWILIO_API_BASE_URL/_sim/stats; echo

# readiness (database reachable, migrations applied)
curl -sS $base/readyz; echo

# metrics in Prometheus text (callbacks, group commits, HTTP responses, jobs)
curl -sS $base/metrics $admin

Ctrl-C stops smsd and the simulator.
MSG

wait "$smsd_pid"
