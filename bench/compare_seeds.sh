#!/usr/bin/env bash
# Checks that bench/callback_load's two ways of seeding write the same message rows: one
# insert_message per row (smsd's own store API, as the sender writes them) and --seed-set (one
# INSERT ... SELECT through Poco Data, for big databases). Seeds the same run into two fresh
# databases each way and compares every column but the random id. Exits 1 on any difference.
#
#   bench/compare_seeds.sh BUILD_DIR sqlite|postgresql
#     postgresql needs SMSD_TEST_PG_URL (scripts/test.sh sets it): two databases are created on
#     that server and dropped again.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 2)) || die "usage: bench/compare_seeds.sh BUILD_DIR sqlite|postgresql"
load="$1/bench/callback_load"
[[ -x "$load" ]] || die "$load is missing (build it first)"
db="$2"
work="$(mktemp -d /tmp/smsd-compare-seeds.XXXXXX)"
names=()
cleanup() {
  local rc=$?
  if [[ "$db" == postgresql ]]; then
    for n in "${names[@]}"; do
      timeout 60 psql "$SMSD_TEST_PG_URL" -X -q -c "DROP DATABASE IF EXISTS $n" </dev/null || rc=1
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

columns="message_sid, account_sid, messaging_service_sid, to_phone, from_phone, body, num_segments,
         status, provider_status, status_rank, error_code, raw_payload, created_at, status_updated_at,
         sent_at, delivered_at, event_id, attendee_id, notification_type, retry_of_id, send_state"
# Both seeds stamp created_at with their own clock: compare it to status_updated_at instead.
query="SELECT ${columns/created_at, status_updated_at/(created_at = status_updated_at)} FROM sms_messages ORDER BY message_sid"
rows() { # rows WAY: seeds 1,000 messages over 3 events x 4 attendees, prints the rows
  local url
  if [[ "$db" == sqlite ]]; then
    url="sqlite:$work/$1.db"
  else
    [[ -n "${SMSD_TEST_PG_URL:-}" ]] || die "SMSD_TEST_PG_URL is not set"
    local name="compare_seeds_$1_$$"
    names+=("$name")
    timeout 60 psql "$SMSD_TEST_PG_URL" -X -q -c "CREATE DATABASE $name" </dev/null
    url="${SMSD_TEST_PG_URL%/*}/$name"
  fi
  local opts=(--seed-db "$url" --seed-only --messages 1000 --run-id cmp --seed-events 3 --seed-attendees 4)
  [[ "$1" != set ]] || opts+=(--seed-set)
  timeout 120 "$load" "${opts[@]}" </dev/null >/dev/null 2>"$work/$1.log" \
    || { cat "$work/$1.log" >&2; die "seeding ($1) failed"; }
  if [[ "$db" == sqlite ]]; then
    timeout 60 sqlite3 -batch "$work/$1.db" "$query"
  else
    timeout 60 psql "$url" -X -q -At -c "$query" </dev/null
  fi
}
rows each >"$work/each.txt"
rows set >"$work/set.txt"
n="$(wc -l <"$work/each.txt")"
((n == 1000)) || die "insert_message seeded $n rows, not 1000"
if ! cmp -s "$work/each.txt" "$work/set.txt"; then
  diff -u "$work/each.txt" "$work/set.txt" | head -n 20 >&2 || true
  die "the set-based seed's rows differ ($db)"
fi
log "$db: the 1,000 rows of both seeds are the same (every column but the id)"
