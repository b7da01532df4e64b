#!/usr/bin/env bash
# Callback throughput of smsd on SQLite and on PostgreSQL, at 64 and at 256 keep-alive
# connections, with bench/callback_load. Everything runs on 127.0.0.1 and stops by itself.
#
#   bench/run_callback_bench.sh [--messages M] [--duration S] [--connections "64 256"]
#                               [--databases "sqlite postgresql"] [--threads T] [--no-build]
#                               [--repeat N] [--switches] [--streams N]
#     --messages M     message SIDs per run; each gets `sent` then `delivered` (default 5000)
#     --duration S     time limit of each run's load phase, seconds (default 60)
#     --connections L  connection counts to run (default "64 256")
#     --databases L    which databases (default "sqlite postgresql")
#     --threads T      callback_load's epoll threads (default 1)
#     --no-build       use the binaries already built, as they are
#     --repeat N       run each database and connection count N times (fresh messages each time)
#                      and also print the medians; this box varies by about 10% between runs
#     --switches       also count smsd's context switches by thread name, for 2 s of each run
#     --streams N      run every case twice, without and with N organizer-page event streams
#                      (GET .../sms-stream, bench/stream_readers) open on the run's event, in
#                      alternating order; rows of the second are labelled "+N streams"
#
# Besides requests/s and latency, each row gives smsd's CPU time (user + system) per request
# (cpu us/r), which varies less than requests/s on a box shared with other work, and, from
# smsd's GET /metrics, the group commit's writes per commit (ops/cm) and the share of the run
# the commit workers spent committing (cm busy); and the whole box's busy share (box busy) and CPU
# time per request (box us/r: smsd, the load generator, PostgreSQL and anything else running).
# A second table splits each run's mean time per callback inside smsd into the stages of
# smsd_report_stage_seconds_total (docs/operations.md).
#
# smsd's settings come from the environment where set (SMSD_HTTP_IO_THREADS, SMSD_DB_WRITERS,
# ...), else smsd's defaults. SMSD_BUILD_DIR picks the build.
# Exit status: 0 if every run answered every request 200 on every connection, 1 otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SMSD_ROOT"

messages=5000
duration=60
connections="64 256"
databases="sqlite postgresql"
threads=1
build=1
switches=0
repeat=1
streams=0
while (($# > 0)); do
  case "$1" in
    --messages) messages="${2:?--messages needs a value}"; shift ;;
    --duration) duration="${2:?--duration needs a value}"; shift ;;
    --connections) connections="${2:?--connections needs a value}"; shift ;;
    --databases) databases="${2:?--databases needs a value}"; shift ;;
    --threads) threads="${2:?--threads needs a value}"; shift ;;
    --no-build) build=0 ;;
    --switches) switches=1 ;;
    --repeat) repeat="${2:?--repeat needs a value}"; shift ;;
    --streams) streams="${2:?--streams needs a value}"; shift ;;
    -h | --help)
      sed -n '2,22s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[[ "$streams" =~ ^[0-9]+$ ]] || die "--streams: '$streams' is not a whole number"
for n in "$messages" "$duration" "$threads" "$repeat" $connections; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"
done
for db in $databases; do
  [[ "$db" == sqlite || "$db" == postgresql ]] || die "unknown database '$db'"
done

build_dir="$(smsd_build_dir)"
if ((build)); then
  "$SMSD_ROOT/scripts/build.sh" smsd callback_load stream_readers # nothing to do if up to date
fi
smsd_bin="$build_dir/smsd"
load_bin="$build_dir/bench/callback_load"
readers_bin="$build_dir/bench/stream_readers"
[[ -x "$smsd_bin" && -x "$load_bin" ]] || die "$smsd_bin or $load_bin was not built"
((streams == 0)) || [[ -x "$readers_bin" ]] || die "$readers_bin was not built"
# Each case runs once per variant: 0 = no event streams; N = N streams open on its event.
variants="0"
((streams == 0)) || variants="0 $streams"

auth_token="bench-auth-token"
account_sid="AC00000000000000000000000000000000"

work="$(mktemp -d /tmp/smsd-bench.XXXXXX)"
chmod 711 "$work" # the postgres user must reach $work/pg
smsd_pid=""
pg_started=0

stop_smsd() {
  [[ -n "$smsd_pid" ]] || return 0
  stop_child "$smsd_pid" smsd
  smsd_pid=""
}

cleanup() {
  local rc=$?
  stop_smsd
  if ((pg_started)); then
    "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$work/pg" || rc=1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rows=()
all_clean=1

# thread_switches PID: "name voluntary involuntary" per thread name of PID, summed.
thread_switches() {
  local t name
  for t in /proc/"$1"/task/*; do
    name="$(cat "$t/comm" 2>/dev/null)" || continue
    awk -v n="${name// /_}" '/^voluntary_ctxt/ {v = $2} /^nonvoluntary/ {i = $2}
                             END {print n, v + 0, i + 0}' "$t/status" 2>/dev/null
  done | awk '{v[$1] += $2; i[$1] += $3} END {for (k in v) print k, v[k], i[k]}' | sort
}

# count_switches PID OUT: after 1 s of load, smsd's context switches per second over 2 s.
count_switches() {
  local before
  sleep 1
  before="$(thread_switches "$1")"
  sleep 2
  join <(printf '%s\n' "$before") <(thread_switches "$1") | awk '
    {v = ($4 - $2) / 2; i = ($5 - $3) / 2; tv += v; ti += i
     printf "    %-16s voluntary %7d/s  involuntary %7d/s\n", $1, v, i}
    END {printf "    %-16s voluntary %7d/s  involuntary %7d/s\n", "(all threads)", tv, ti}' >"$2"
}

# run_database NAME URL: seeds one run per connection count, starts smsd, loads it, stops it.
run_database() {
  local db="$1" url="$2" port c r run_id out result
  local -A run_ids=()
  local v
  for c in $connections; do
    for ((r = 1; r <= repeat; r++)); do
      for v in $variants; do
        run_id="$db-$c-$r-$v-$$-$RANDOM"
        log "$db: seeding $messages messages for $c-connection run $r of $repeat"
        "$load_bin" --seed-db "$url" --seed-only --messages "$messages" --run-id "$run_id" \
          --account-sid "$account_sid" >/dev/null || die "seeding $db failed"
        run_ids[$c-$r-$v]="$run_id"
      done
    done
  done

  port="$(free_port)"
  log "$db: starting smsd on 127.0.0.1:$port"
  SMSD_LISTEN="127.0.0.1:$port" SMSD_DATABASE_URL="$url" PUBLIC_APP_URL="http://127.0.0.1:$port" \
    TWILIO_AUTH_TOKEN="$auth_token" TWILIO_ACCOUNT_SID="$account_sid" \
    SMSD_ADMIN_TOKEN="bench-admin-token" \
    SMSD_LOG_LEVEL="${SMSD_LOG_LEVEL:-warn}" \
    "$smsd_bin" serve </dev/null >"$work/smsd-$db.log" 2>&1 &
  smsd_pid=$!
  if ! wait_for_port "$port" 30 "$smsd_pid"; then
    tail -n 30 "$work/smsd-$db.log" >&2 || true
    die "smsd did not start listening on 127.0.0.1:$port within 30 s"
  fi

  for c in $connections; do
    for ((r = 1; r <= repeat; r++)); do
      # Alternate which variant goes first, so that neither always meets a warmer database.
      local order="$variants"
      ((r % 2 == 1)) || order="$(printf '%s\n' $variants | sort -rn | tr '\n' ' ')"
      for v in $order; do
        local label="$db"
        ((v == 0)) || label="$db+${v}streams"
        log "$label: $c connections, $((messages * 2)) callbacks (run $r of $repeat)"
        out="$work/load-$db-$c-$r-$v.txt"
        local readers_pid=""
        if ((v > 0)); then
          "$readers_bin" --target "127.0.0.1:$port" --event "bench-evt-${run_ids[$c-$r-$v]}" \
            --token bench-admin-token --streams "$v" --duration $((duration + 120)) \
            </dev/null >"$work/streams-$db-$c-$r.txt" &
          readers_pid=$!
          sleep 1 # the streams are open before the load begins
        fi
        local counter=""
        if ((switches)); then
          count_switches "$smsd_pid" "$work/switches-$db-$c-$r.txt" &
          counter=$!
        fi
        local ticks0 commits0 box0
        ticks0="$(cpu_ticks "$smsd_pid")"
        box0="$(box_ticks)"
        commits0="$(commit_counters "$port")"
        timeout --kill-after=10 $((duration + 60)) "$load_bin" --target "127.0.0.1:$port" \
          --auth-token "$auth_token" --account-sid "$account_sid" --connections "$c" \
          --messages "$messages" --duration "$duration" --threads "$threads" \
          --run-id "${run_ids[$c-$r-$v]}" </dev/null >"$out" || all_clean=0
        sed 's/^/    /' "$out" | grep -v '^    RESULT ' >&2 || true
        if [[ -n "$readers_pid" ]]; then
          kill -TERM "$readers_pid" 2>/dev/null || true
          wait "$readers_pid" || true
          sed 's/^/    /' "$work/streams-$db-$c-$r.txt" >&2 || true
          grep -q "answered_200=$v " "$work/streams-$db-$c-$r.txt" || {
            log "$label: not every stream was answered 200"
            all_clean=0
          }
        fi
        if [[ -n "$counter" ]]; then
          wait "$counter" || true
          if [[ -s "$work/switches-$db-$c-$r.txt" ]]; then
            echo "    context switches of smsd during the load (divide by requests/s for per request):" >&2
            cat "$work/switches-$db-$c-$r.txt" >&2
          else
            echo "    context switches: the load ended within 3 s; nothing counted" >&2
          fi
        fi
        local ticks1 commits1 box1
        ticks1="$(cpu_ticks "$smsd_pid")"
        box1="$(box_ticks)"
        commits1="$(commit_counters "$port")"
        result="$(grep '^RESULT ' "$out" || true)"
        [[ -n "$result" ]] || die "callback_load printed no result for $db at $c connections (run $r)"
        # smsd's own CPU time (user + system) per request: steadier than requests/s on a noisy box.
        local answered
        answered="$(field requests "$result")"
        result+=" cpu_us=$(( (ticks1 - ticks0) * 1000000 / $(getconf CLK_TCK) / (answered > 0 ? answered : 1) ))"
        # The whole box (smsd, the load generator, PostgreSQL, anything else): its busy share and
        # its CPU time per request. When the box is near 100% busy, CPU is what limits the rate.
        result+=" $(awk -v a="$box0" -v b="$box1" -v n="$answered" -v hz="$(getconf CLK_TCK)" 'BEGIN {
            split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2];
            printf "box_busy=%d box_us=%d", (busy + idle > 0 ? 100 * busy / (busy + idle) + 0.5 : 0),
                   (n > 0 ? busy * 1000000 / hz / n : 0) }')"
        # The group commit during the run and the report stages (bench/lib.sh).
        result+=" $(stage_means "$commits0" "$commits1" \
          "$(awk -v n="$answered" -v rps="$(field rps "$result")" 'BEGIN {print (rps > 0 ? n / rps : 0)}')")"
        rows+=("$label $result")
      done
    done
  done
  if ! kill -0 "$smsd_pid" 2>/dev/null; then
    tail -n 30 "$work/smsd-$db.log" >&2 || true
    die "smsd exited during the $db runs"
  fi
  stop_smsd
}

for db in $databases; do
  case "$db" in
    sqlite) run_database sqlite "sqlite:$work/bench.db" ;;
    postgresql)
      pg_started=1
      url="$("$SMSD_ROOT/scripts/pg-test-cluster.sh" start "$work/pg" "$(free_port)")"
      run_database postgresql "$url"
      "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$work/pg"
      pg_started=0
      ;;
  esac
done

echo
echo "smsd callback benchmark: $messages messages x (sent, delivered) per run, $(nproc) cores," \
  "${SMSD_HTTP_IO_THREADS:-1} HTTP event loop(s)"
printf '%-17s %5s %8s %8s %7s %6s %9s %8s %8s %8s %8s %9s %9s %7s %7s %8s %8s\n' database conns \
  requests '200' non-200 errors 'req/s' 'p50 ms' 'p90 ms' 'p99 ms' 'max ms' served 'cpu us/r' \
  'ops/cm' 'cm busy' 'box busy' 'box us/r'
for row in "${rows[@]}"; do
  db="${row%% *}"
  printf '%-17s %5s %8s %8s %7s %6s %9s %8s %8s %8s %8s %9s %9s %7s %6s%% %7s%% %8s\n' "$db" \
    "$(field connections "$row")" "$(field requests "$row")" "$(field ok "$row")" \
    "$(field non200 "$row")" "$(($(field errors "$row") + $(field unanswered "$row")))" \
    "$(field rps "$row")" "$(field p50_ms "$row")" "$(field p90_ms "$row")" \
    "$(field p99_ms "$row")" "$(field max_ms "$row")" \
    "$(field served "$row")/$(field connections "$row")" "$(field cpu_us "$row")" \
    "$(field ops_per_commit "$row")" "$(field commit_busy "$row")" \
    "$(field box_busy "$row")" "$(field box_us "$row")"
done
echo
echo "where a callback's time went inside smsd (mean ms per acknowledged report, from /metrics):"
echo "to_actor = router + CAF mailbox; state_load = reading the message first (its first report"
echo "only; 'loaded' is their share); to_writer = waiting for the commit in progress; commit = its own"
printf '%-17s %5s %9s %11s %8s %10s %8s %8s\n' database conns to_actor state_load loaded \
  to_writer commit total
for row in "${rows[@]}"; do
  printf '%-17s %5s %9s %11s %7s%% %10s %8s %8s\n' "${row%% *}" "$(field connections "$row")" \
    "$(field stage_to_actor "$row")" "$(field stage_state_load "$row")" \
    "$(field loaded_share "$row")" "$(field stage_to_writer "$row")" \
    "$(field stage_commit "$row")" "$(field stage_total "$row")"
done
if ((repeat > 1)); then
  echo
  echo "medians of $repeat runs"
  printf '%-17s %5s %9s %8s %9s\n' database conns 'req/s' 'p99 ms' 'cpu us/r'
  median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
  labels=""
  for db in $databases; do
    for v in $variants; do
      if ((v == 0)); then labels+=" $db"; else labels+=" $db+${v}streams"; fi
    done
  done
  for db in $labels; do
    for c in $connections; do
      rps=() p99=() cpu=()
      for row in "${rows[@]}"; do
        [[ "${row%% *}" == "$db" && "$(field connections "$row")" == "$c" ]] || continue
        rps+=("$(field rps "$row")")
        p99+=("$(field p99_ms "$row")")
        cpu+=("$(field cpu_us "$row")")
      done
      printf '%-17s %5s %9s %8s %9s\n' "$db" "$c" "$(median "${rps[@]}")" "$(median "${p99[@]}")" \
        "$(median "${cpu[@]}")"
    done
  done
fi
if ((all_clean)); then
  echo "every request answered 200, every connection served"
else
  echo "NOT CLEAN: some requests were refused, failed or unanswered, or connections unserved"
  exit 1
fi
