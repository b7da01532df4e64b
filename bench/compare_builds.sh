#!/usr/bin/env bash
# Callback throughput of two smsd builds side by side: runs alternate between them (A B, B A,
# ...), each on a fresh database seeded by its own build's callback_load, all driven by the same
# load generator (BUILD_B's callback_load), so that the box's drift falls on both. Prints one line per run and the medians.
#
#   bench/compare_builds.sh BUILD_A BUILD_B [--database sqlite|postgresql] [--pairs 6]
#                           [--messages 20000] [--connections 64]
#     BUILD_A, BUILD_B  build folders holding smsd and bench/callback_load (e.g. a worktree of
#                       an older commit built with SMSD_BUILD_DIR=/tmp/old-build, and build/)
#     --database        postgresql starts a throw-away cluster on 127.0.0.1 (default sqlite)
#
# Everything binds to 127.0.0.1 and is stopped by its own pid.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# >= 2)) || die "usage: $0 BUILD_A BUILD_B [--database D] [--pairs N] [--messages M] [--connections C]"
build_a="$(cd "$1" && pwd)"
build_b="$(cd "$2" && pwd)"
shift 2
database=sqlite
pairs=6
messages=20000
connections=64
while (($# > 0)); do
  case "$1" in
    --database) database="${2:?}"; shift ;;
    --pairs) pairs="${2:?}"; shift ;;
    --messages) messages="${2:?}"; shift ;;
    --connections) connections="${2:?}"; shift ;;
    *) die "unknown option '$1'" ;;
  esac
  shift
done
[[ "$database" == sqlite || "$database" == postgresql ]] || die "unknown database '$database'"
for b in "$build_a" "$build_b"; do
  [[ -x "$b/smsd" && -x "$b/bench/callback_load" ]] || die "$b has no smsd or bench/callback_load"
done

account_sid="AC00000000000000000000000000000000"
work="$(mktemp -d /tmp/smsd-compare.XXXXXX)"
chmod 711 "$work"
smsd_pid=""
pg_url=""
cleanup() {
  local rc=$?
  if [[ -n "$smsd_pid" ]]; then stop_child "$smsd_pid" smsd; fi
  [[ -n "$pg_url" ]] && "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$work/pg" >/dev/null || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ "$database" == postgresql ]]; then
  pg_url="$("$SMSD_ROOT/scripts/pg-test-cluster.sh" start "$work/pg" "$(free_port)")"
fi
hz="$(getconf CLK_TCK)"

# run LABEL BUILD INDEX: one run on a fresh database; prints "LABEL rps p99 cpu_us".
run() {
  local label="$1" build="$2" i="$3" url port out t0 t1
  if [[ "$database" == sqlite ]]; then
    url="sqlite:$work/run-$i.db"
  else
    psql "$pg_url" -qc "DROP DATABASE IF EXISTS compare_$i" -c "CREATE DATABASE compare_$i" >/dev/null
    url="${pg_url%/postgres}/compare_$i"
  fi
  "$build/bench/callback_load" --seed-db "$url" --seed-only --messages "$messages" \
    --run-id "run$i" --account-sid "$account_sid" >/dev/null 2>&1 || die "seeding run $i failed"
  port="$(free_port)"
  SMSD_LISTEN="127.0.0.1:$port" SMSD_DATABASE_URL="$url" PUBLIC_APP_URL="http://127.0.0.1:$port" \
    TWILIO_AUTH_TOKEN=bench-auth-token TWILIO_ACCOUNT_SID="$account_sid" \
    SMSD_ADMIN_TOKEN=bench-admin-token SMSD_LOG_LEVEL=warn \
    "$build/smsd" serve </dev/null >"$work/smsd-$i.log" 2>&1 &
  smsd_pid=$!
  wait_for_port "$port" 30 "$smsd_pid" || die "smsd ($label) did not start: $(tail -n 5 "$work/smsd-$i.log")"
  t0="$(cpu_ticks "$smsd_pid")"
  out="$(timeout 300 "$build_b/bench/callback_load" --target "127.0.0.1:$port" \
    --auth-token bench-auth-token --account-sid "$account_sid" --connections "$connections" \
    --messages "$messages" --duration 120 --run-id "run$i" </dev/null)" || die "run $i failed"
  t1="$(cpu_ticks "$smsd_pid")"
  kill -TERM "$smsd_pid"
  wait "$smsd_pid" || true
  smsd_pid=""
  local result
  result="$(grep '^RESULT ' <<<"$out")"
  grep -q ' non200=0 ' <<<"$result" && grep -q ' errors=0 ' <<<"$result" \
    || die "run $i ($label) had refused or failed requests: $result"
  printf '%s %s %s %s\n' "$label" "$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$result")" \
    "$(sed 's/.* p99_ms=\([0-9.]*\).*/\1/' <<<"$result")" \
    $(( (t1 - t0) * 1000000 / hz / (messages * 2) ))
}

rows=()
for ((p = 1; p <= pairs; p++)); do
  if ((p % 2)); then order="A B"; else order="B A"; fi
  for v in $order; do
    if [[ "$v" == A ]]; then b="$build_a" i=$((2 * p - 1)); else b="$build_b" i=$((2 * p)); fi
    row="$(run "$v" "$b" "$i")"
    log "pair $p: $row"
    rows+=("$row")
  done
done
echo
echo "A = $build_a"
echo "B = $build_b"
echo "$database, $messages messages x (sent, delivered), $connections connections, $pairs pairs"
printf '%-3s %9s %8s %9s\n' build 'req/s' 'p99 ms' 'cpu us/r'
for row in "${rows[@]}"; do printf '%-3s %9s %8s %9s\n' $row; done
echo "medians"
for v in A B; do
  rps=() p99=() cpu=()
  for row in "${rows[@]}"; do
    read -r l r q c <<<"$row"
    [[ "$l" == "$v" ]] || continue
    rps+=("$r") p99+=("$q") cpu+=("$c")
  done
  printf '%-3s %9s %8s %9s\n' "$v" "$(median "${rps[@]}")" "$(median "${p99[@]}")" "$(median "${cpu[@]}")"
done
