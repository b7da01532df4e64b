#!/usr/bin/env bash
# Builds smsd and runs it in the foreground on the embedded SQLite database (./data/smsd.db),
# with demo credentials, after printing curl commands to try it. Ctrl-C stops it.
# Any setting already in the environment (SMSD_LISTEN, SMSD_DATABASE_URL, ...) wins.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SMSD_ROOT"

"$SMSD_ROOT/scripts/install-deps.sh"
"$SMSD_ROOT/scripts/build.sh" smsd
smsd_bin="$(smsd_build_dir)/smsd"
[[ -x "$smsd_bin" ]] || die "$smsd_bin was not built"

export SMSD_LISTEN="${SMSD_LISTEN:-127.0.0.1:8080}"
export SMSD_DATABASE_URL="${SMSD_DATABASE_URL:-sqlite:./data/smsd.db}"
export SMSD_ADMIN_TOKEN="${SMSD_ADMIN_TOKEN:-demo-admin-token}"
export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN:-demo-auth-token}"
export TWILIO_ACCOUNT_SID="${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000000000}"
export PUBLIC_APP_URL="${PUBLIC_APP_URL:-http://$SMSD_LISTEN}"

port="${SMSD_LISTEN##*:}"
if port_in_use "$port"; then
  die "something already listens on port $port; set SMSD_LISTEN=127.0.0.1:OTHER_PORT"
fi

base="http://$SMSD_LISTEN"
admin="-H 'Authorization: Bearer $SMSD_ADMIN_TOKEN'"
json="-H 'Content-Type: application/json'"
webhook_path="/api/webhooks/twilio/status"

cat <<MSG

smsd demo: $base   database: $SMSD_DATABASE_URL   admin token: $SMSD_ADMIN_TOKEN

In another terminal, try:

# readiness (database reachable, migrations applied)
curl -sS $base/readyz; echo

# sync an event and an attendee from the platform (admin API)
curl -sS -X PUT $base/api/admin/events/evt-demo $admin $json \\
  -d '{"name": "Demo Night", "date": "2026-12-01T19:00:00Z", "ownerId": "u1"}'; echo
curl -sS -X PUT $base/api/admin/events/evt-demo/attendees/att-1 $admin $json \\
  -d '{"firstName": "John", "lastName": "Smith", "phone": "+15551234567"}'; echo

# inspect one message and its status timeline (by our id or Twilio's SID)
curl -sS $base/api/admin/messages/MESSAGE_ID_OR_SID $admin; echo
MSG

# A signed Twilio status callback, as Twilio would send it (the signature covers the public URL
# and the sorted body parameters; see docs/testing.md).
if command -v openssl >/dev/null 2>&1; then
  sid="SM00000000000000000000000000000001"
  to="+15551234567"
  from="+15005550006"
  data="AccountSid${TWILIO_ACCOUNT_SID}ApiVersion2010-04-01From${from}MessageSid${sid}MessageStatusdeliveredTo${to}"
  sig="$(printf '%s%s%s' "$PUBLIC_APP_URL" "$webhook_path" "$data" |
    openssl dgst -sha1 -hmac "$TWILIO_AUTH_TOKEN" -binary | openssl base64 -A)"
  cat <<MSG

# a signed status callback from "Twilio" for $sid (kept as pending until a message has that SID)
curl -sS -X POST $base$webhook_path -H 'X-Twilio-Signature: $sig' \\
  --data-urlencode 'AccountSid=$TWILIO_ACCOUNT_SID' --data-urlencode 'ApiVersion=2010-04-01' \\
  --data-urlencode 'From=$from' --data-urlencode 'MessageSid=$sid' \\
  --data-urlencode 'MessageStatus=delivered' --data-urlencode 'To=$to'; echo
MSG
fi

echo
log "starting $smsd_bin serve (Ctrl-C stops it)"
exec "$smsd_bin" serve
