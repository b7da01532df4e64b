#!/usr/bin/env bash
# Instructions smsd executes per status callback, counted by valgrind's callgrind: a measure
# that does not move with the box's load or clock, for comparing builds where req/s and CPU
# time swing by a third between runs (docs/performance.md).
#
#   bench/count_instructions.sh [--builds "DIR_A [DIR_B]"] [--database sqlite|postgresql]
#                               [--messages N] [--connections C] [--top K]
#     --builds L       build folders holding smsd and bench/callback_load (default: the current
#                      SMSD_BUILD_DIR, else build/)
#     --database D     sqlite (default), or postgresql on a throw-away cluster on 127.0.0.1
#     --messages N     messages seeded, each then gets `sent` and `delivered` (default 2000)
#     --connections C  callback_load's connections (default 16)
#     --top K          how many functions to list (default 25)
#     --keep           keep the temporary folder (callgrind's dumps, for callgrind_annotate or
#                      kcachegrind; smsd's logs and /metrics)
#
# Per build: a fresh database seeded by the build's own callback_load, smsd started under
# `valgrind --tool=callgrind`, its counters zeroed once it listens, the 2N callbacks sent, the
# counters dumped, smsd stopped. Prints instructions per callback in all and per shared object,
# the functions costing most (their own instructions, not their callees'), and the average
# group-commit batch from smsd's /metrics. With two builds, the differences B - A.
# smsd runs about 50 times slower under callgrind, so requests wait longer and batches differ
# from a real load's: compare builds with it, and take rates from the other benchmarks.
# Everything binds to 127.0.0.1 and is stopped by its own pid. Needs valgrind (Debian's).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

builds=""
database=sqlite
messages=2000
connections=16
top=25
keep=0
while (($# > 0)); do
  case "$1" in
    --builds) builds="${2:?}"; shift ;;
    --database) database="${2:?}"; shift ;;
    --messages) messages="${2:?}"; shift ;;
    --connections) connections="${2:?}"; shift ;;
    --top) top="${2:?}"; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,24s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[[ "$database" == sqlite || "$database" == postgresql ]] || die "unknown database '$database'"
for n in "$messages" "$connections" "$top"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"
done
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null \
  || die "valgrind is missing (apt-get install valgrind)"
[[ -n "$builds" ]] || builds="$(smsd_build_dir)"
build_dirs=()
for b in $builds; do
  b="$(cd "$b" && pwd)"
  [[ -x "$b/smsd" && -x "$b/bench/callback_load" ]] || die "$b has no smsd or bench/callback_load"
  build_dirs+=("$b")
done
((${#build_dirs[@]} <= 2)) || die "--builds takes one or two folders"

account_sid="AC00000000000000000000000000000000"
work="$(mktemp -d /tmp/smsd-instructions.XXXXXX)"
chmod 711 "$work" # the postgres user must reach $work/pg
smsd_pid=""
pg_url=""
cleanup() {
  local rc=$?
  if [[ -n "$smsd_pid" ]]; then stop_child "$smsd_pid" smsd; fi
  if [[ -n "$pg_url" ]]; then "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$work/pg" >/dev/null || rc=1; fi
  if ((keep)); then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ "$database" == postgresql ]]; then
  pg_url="$("$SMSD_ROOT/scripts/pg-test-cluster.sh" start "$work/pg" "$(free_port)")"
fi

# A metric's value from a /metrics text: metric NAME FILE
metric() { awk -v n="$1" '$1 == n {print $2; exit}' "$2"; }

# Self cost per function and per object of a callgrind dump, as "obj<TAB>fn<TAB>cost" lines:
# cost lines right after a `calls=` line are a callee's inclusive cost, the others the current
# function's own. Names are written once with their number, then by number alone.
self_costs() {
  awk '
    function name(kind, rest,   id, n) {
      id = rest; sub(/\).*/, "", id); sub(/^\(/, "", id)
      n = rest; if (sub(/^\([0-9]+\) /, "", n)) names[kind, id] = n
      return names[kind, id]
    }
    /^ob=/ { ob = name("ob", substr($0, 4)); next }
    /^fn=/ { fn = name("fn", substr($0, 4)); fob[fn] = ob; next }
    /^cob=/ { name("ob", substr($0, 5)); next }
    /^cfn=/ { name("fn", substr($0, 5)); next }
    /^calls=/ { skip = 1; next }
    /^[0-9+*-]/ { if (skip) { skip = 0; next } cost[fn] += $2; next }
    END { for (f in cost) { o = fob[f]; sub(/.*\//, "", o); printf "%s\t%s\t%d\n", o, f, cost[f] } }
  ' "$1"
}

# count BUILD_INDEX: one build's run; leaves $work/costs-I (self_costs) and $work/summary-I.
count() {
  local bi="$1" build="${build_dirs[$1]}" url port dump
  if [[ "$database" == sqlite ]]; then
    url="sqlite:$work/run-$bi.db"
  else
    psql "$pg_url" -qc "CREATE DATABASE count_$bi" >/dev/null
    url="${pg_url%/postgres}/count_$bi"
  fi
  "$build/bench/callback_load" --seed-db "$url" --seed-only --messages "$messages" \
    --run-id "run$bi" --account-sid "$account_sid" >/dev/null 2>&1 || die "seeding for $build failed"
  port="$(free_port)"
  (cd "$work" && SMSD_LISTEN="127.0.0.1:$port" SMSD_DATABASE_URL="$url" \
    PUBLIC_APP_URL="http://127.0.0.1:$port" TWILIO_AUTH_TOKEN=bench-auth-token \
    TWILIO_ACCOUNT_SID="$account_sid" SMSD_ADMIN_TOKEN=bench-admin-token SMSD_LOG_LEVEL=warn \
    exec valgrind --tool=callgrind --callgrind-out-file="$work/callgrind-$bi.%p" \
    "$build/smsd" serve </dev/null >"$work/smsd-$bi.log" 2>&1) &
  smsd_pid=$!
  wait_for_port "$port" 180 "$smsd_pid" || die "smsd ($build) did not start under valgrind: $(tail -n 5 "$work/smsd-$bi.log")"
  sleep 2 # what start-up left to do (the first jobs' ticks)
  callgrind_control -z "$smsd_pid" >/dev/null
  local out
  out="$(timeout 1200 "$build/bench/callback_load" --target "127.0.0.1:$port" \
    --auth-token bench-auth-token --account-sid "$account_sid" --connections "$connections" \
    --messages "$messages" --duration 1000 --run-id "run$bi" </dev/null 2>/dev/null)" \
    || die "the load on $build failed"
  grep -q ' non200=0 ' <<<"$out" && grep -q ' errors=0 ' <<<"$out" \
    || die "$build refused or failed requests: $(grep '^RESULT' <<<"$out")"
  callgrind_control -d "$smsd_pid" >/dev/null
  curl -fsS -H "Authorization: Bearer bench-admin-token" "http://127.0.0.1:$port/metrics" \
    >"$work/metrics-$bi" || true
  stop_child "$smsd_pid" smsd
  smsd_pid=""
  # The dump callgrind_control asked for (part 1), not the one written at exit.
  local dumps=("$work"/callgrind-"$bi".*.1)
  dump="${dumps[0]}"
  [[ -f "$dump" ]] || die "callgrind wrote no dump for $build"
  self_costs "$dump" >"$work/costs-$bi"
  awk -F'\t' '{s += $3} END {exit !(s > 0)}' "$work/costs-$bi" \
    || die "callgrind counted no instructions for $build"
  local commits ops
  commits="$(metric smsd_group_commits_total "$work/metrics-$bi")"
  ops="$(metric smsd_group_commit_ops_total "$work/metrics-$bi")"
  printf '%s\t%s\t%s\n' "$build" "${commits:-0}" "${ops:-0}" >"$work/summary-$bi"
}

for bi in "${!build_dirs[@]}"; do
  log "counting ${build_dirs[$bi]} ($database, $messages messages, $connections connections)"
  count "$bi"
done

requests=$((messages * 2))
echo "instructions per callback ($database, $messages messages x (sent, delivered), $connections connections)"
for bi in "${!build_dirs[@]}"; do
  IFS=$'\t' read -r build commits ops <"$work/summary-$bi"
  awk -F'\t' -v r="$requests" -v b="$build" -v c="$commits" -v o="$ops" '
    {s += $3} END {printf "  %s: %.0f instructions per callback; %s group commits, %.1f ops each\n",
                   b, s / r, c, (c > 0 ? o / c : 0)}' "$work/costs-$bi"
done
# table KEY_COLUMNS: per object (1) or per function (1,2), instructions per callback, A [B B-A].
table() {
  local key="$1" title="$2" rows="$3"
  echo
  echo "$title"
  awk -F'\t' -v r="$requests" -v key="$key" -v two="$((${#build_dirs[@]} == 2))" '
    FNR == 1 {file++}
    {k = (key == 1 ? $1 : $2 "  [" $1 "]"); v[file, k] += $3 / r; keys[k] = 1}
    END {
      for (k in keys) {
        a = v[1, k] + 0; b = v[2, k] + 0
        if (two) printf "%+11.0f %11.0f %11.0f  %s\n", b - a, a, b, k
        else printf "%11.0f  %s\n", a, k
      }
    }' "$work"/costs-* |
    if ((${#build_dirs[@]} == 2)); then
      awk '{d = $1; sub(/^\+/, "", d); print (d < 0 ? -d : d) "\t" $0}' |
        sort -rn | cut -f2- | awk -v n="$rows" 'NR <= n' # reads all: no SIGPIPE under pipefail
    else
      sort -rn | awk -v n="$rows" 'NR <= n'
    fi
}
if ((${#build_dirs[@]} == 2)); then
  header="    B - A           A           B"
else
  header="       self"
fi
table 1 "per shared object (instructions per callback)
$header" 15
table 2 "functions, by their own instructions per callback$([[ ${#build_dirs[@]} == 2 ]] && echo ", largest differences first")
$header" "$top"
