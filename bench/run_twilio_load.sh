#!/usr/bin/env bash
# smsd under a steady load of Twilio-shaped status callbacks, driven by a standard HTTP load tool
# (wrk), on SQLite and on PostgreSQL, for one build or two side by side, and beside the seed's own
# design (bench/reference/server.mjs) on the same PostgreSQL. Everything runs on 127.0.0.1 and
# stops by itself.
#
#   bench/run_twilio_load.sh [--builds "DIR_A [DIR_B]"] [--databases "sqlite postgresql"]
#                            [--connections "64 256"] [--repeat N] [--duration S]
#                            [--messages M] [--threads T] [--reference] [--pg-stats]
#                            [--seed-set] [--events E] [--attendees A] [--load-messages K]
#                            [--no-mid] [--keep]
#     --builds L       build folders holding smsd and bench/callback_load (default: the current
#                      SMSD_BUILD_DIR, else build/); with two, runs alternate A B, B A, A B, ...
#     --databases L    which databases (default "sqlite postgresql")
#     --connections L  wrk's connection counts (default "64 256")
#     --repeat N       runs per build, database and connection count (default 1); medians printed
#     --duration S     wrk's steady load time per run, seconds (default 10)
#     --messages M     messages that exist before each run, 2M requests (default 12000 per second
#                      of --duration: 120000 for 10 s, enough for 20k req/s x the duration x 1.2)
#     --threads T      wrk's threads (default 2)
#     --reference      also run the seed-style reference (label R: Node, twilio.validateRequest,
#                      one pg upsert per callback; bench/reference/) on PostgreSQL, on a copy of
#                      A's template and with A's requests, and print smsd/reference ratios
#     --pg-stats       where PostgreSQL's time goes in each PostgreSQL run: its statements by
#                      total time (pg_stat_statements, preloaded) and what its backends waited
#                      for (pg_stat_activity's wait events, sampled every 0.1 s by one psql;
#                      this costs a little CPU of its own), in pgstats-RUN.txt, printed too
#     --seed-set       seed the messages with one INSERT ... SELECT (callback_load --seed-set)
#                      rather than one insert_message each: for a million messages
#     --events E       spread the messages over E events (1) ...
#     --attendees A    ... with A attendees each (1)
#     --load-messages K  callbacks for K of the M messages only, every (M/K)-th of them (default
#                      all M): the database holds M messages, the requests file 2K callbacks
#     --no-mid         callback URLs without ?mid=<id> (smsd's own StatusCallback URLs carry it)
#     --keep           keep the temporary folder (requests, wrk outputs, smsd logs, SQLite files)
#
# Runs alternate: every build on every database (and R), in one order for odd repeats and in the
# reverse order for even ones, so that a drift of the box's speed falls on all of them alike.
# Each build gets, per database, one template database with M messages (status queued) seeded by
# its own bench/callback_load --seed-only (PostgreSQL: then VACUUM ANALYZE), and one request file
# from bench/twilio_callbacks.mjs: for every message `sent`, then `delivered` about 1,000
# requests later (2% `undelivered` or `failed`, with ErrorCode), with every parameter Twilio
# posts, signed by Twilio's official npm library over smsd's PUBLIC_APP_URL + path + ?mid=<id>,
# each with its own I-Twilio-Idempotency-Token. Every run starts smsd on a fresh copy of the
# template and runs `wrk -tT -cC -dSs --timeout 15s --latency -s bench/twilio_load.lua`, which
# sends the requests in order (thread t those of every T-th message) and counts every answer's
# status. If the requests run out before the time does, they are sent again: duplicates (same
# token) smsd must still answer 200, counted as "repeats". Then smsd is stopped and the database
# read: every distinct callback answered 200 must be stored as a status event of its message.
#
# Per run: req/s, p50/p99 (wrk's latency histogram), non-200 answers, repeats, status events
# stored, lost (answered 200 but not stored), CPU per answered request of smsd, of PostgreSQL
# (postmaster and its children), of wrk, and of the whole box (/proc/stat), and the box's busy
# share. Then the medians per build, database and connection count, with two builds the ratio B/A
# of the median req/s, and with --reference each build's median req/s over R's (R runs on
# PostgreSQL only; SQLite's ratio is over R on PostgreSQL at the same connection count) and the
# issue-15 targets (SQLite >= 3x R and p99 <= 10 ms, PostgreSQL >= 1.5x R and p99 <= 20 ms, at 64
# connections) marked met or not. R stores no status events: its "stored" column counts the
# messages its upserts reached (status sent or later), and its "lost" is not checked. smsd's settings come from the environment where set
# (SMSD_HTTP_IO_THREADS, SMSD_DB_WRITERS, ...), else smsd's defaults.
# Exit status: 0 if every answer of every run was 200 and every one was stored; 1 otherwise
# (also on wrk's socket errors or timeouts, or a callback stored without its message).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SMSD_ROOT"

builds=""
databases="sqlite postgresql"
connections="64 256"
repeat=1
duration=10
messages=""
threads=2
reference=0
pg_stats=0
seed_set=0
events=1
attendees=1
load_messages=""
mid=1
keep=0
while (($# > 0)); do
  case "$1" in
    --builds) builds="${2:?--builds needs a value}"; shift ;;
    --databases) databases="${2:?--databases needs a value}"; shift ;;
    --connections) connections="${2:?--connections needs a value}"; shift ;;
    --repeat) repeat="${2:?--repeat needs a value}"; shift ;;
    --duration) duration="${2:?--duration needs a value}"; shift ;;
    --messages) messages="${2:?--messages needs a value}"; shift ;;
    --threads) threads="${2:?--threads needs a value}"; shift ;;
    --reference) reference=1 ;;
    --pg-stats) pg_stats=1 ;;
    --seed-set) seed_set=1 ;;
    --events) events="${2:?--events needs a value}"; shift ;;
    --attendees) attendees="${2:?--attendees needs a value}"; shift ;;
    --load-messages) load_messages="${2:?--load-messages needs a value}"; shift ;;
    --no-mid) mid=0 ;;
    --keep) keep=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
for n in "$repeat" "$duration" "$threads" "$events" "$attendees" $connections ${messages:+"$messages"} \
  ${load_messages:+"$load_messages"}; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"
done
[[ -n "$messages" ]] || messages=$((12000 * duration))
[[ -n "$load_messages" ]] || load_messages="$messages"
((load_messages <= messages)) || die "--load-messages $load_messages is more than --messages $messages"
for c in $connections; do
  ((c >= threads)) || die "--connections $c is fewer than wrk's $threads threads"
done
for db in $databases; do
  [[ "$db" == sqlite || "$db" == postgresql ]] || die "unknown database '$db'"
done
[[ -n "$builds" ]] || builds="$(smsd_build_dir)"
build_dirs=()
for b in $builds; do
  [[ -d "$b" ]] || die "build folder $b does not exist"
  b="$(cd "$b" && pwd)"
  [[ -x "$b/smsd" && -x "$b/bench/callback_load" ]] || die "$b has no smsd or bench/callback_load (build it first)"
  build_dirs+=("$b")
done
((${#build_dirs[@]} == 1 || ${#build_dirs[@]} == 2)) || die "--builds takes one or two build folders"
labels=(A B)
labels[9]=R # the reference: index 9 in the loops below, never a build
R=9
if ((reference)); then
  [[ " $databases " == *" postgresql "* ]] || die "--reference runs on PostgreSQL: keep it in --databases"
  [[ -f "$SMSD_ROOT/bench/reference/node_modules/pg/package.json" ]] \
    || die "the reference's npm packages are missing in bench/reference: run scripts/install-deps.sh"
fi

command -v wrk >/dev/null 2>&1 || die "wrk is not installed: apt-get install wrk (Debian 12's has LuaJIT)"
node --version >/dev/null 2>&1 || die "node does not run (scripts/install-deps.sh)"
[[ -f "$SMSD_ROOT/tests/node/node_modules/twilio/package.json" ]] \
  || die "the npm package twilio is missing in tests/node: run scripts/install-deps.sh"
[[ " $databases " != *" sqlite "* ]] || command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is not installed"
[[ " $databases " != *" postgresql "* ]] || command -v psql >/dev/null 2>&1 || die "psql is not installed"

auth_token="bench-twilio-auth-token-0123456789"
account_sid="AC7f3c2a9b1d4e8f6a0b5c7d9e1f2a3b4c"
# What Twilio calls: smsd behind a TLS proxy. smsd validates signatures against this URL.
public_url="https://sms.bench.example"
run_id="twilio-load"
lua_script="$SMSD_ROOT/bench/twilio_load.lua"
hz="$(getconf CLK_TCK)"

work="$(mktemp -d /tmp/smsd-twilio-load.XXXXXX)"
chmod 711 "$work" # the postgres user must reach $work/pg
smsd_pid=""
pg_url=""

stop_smsd() {
  [[ -n "$smsd_pid" ]] || return 0
  stop_child "$smsd_pid" smsd
  smsd_pid=""
}

cleanup() {
  local rc=$?
  stop_smsd
  if [[ -n "$pg_url" ]]; then
    "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$work/pg" >/dev/null || rc=1
  fi
  if ((keep)); then
    log "kept $work (PostgreSQL's cluster is stopped and removed all the same)"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql_q() { # psql_q DATABASE SQL...: unaligned, tab-separated, no headers
  local dbname="$1"
  shift
  timeout 600 psql "${pg_url%/postgres}/$dbname" -X -q -At -F $'\t' -v ON_ERROR_STOP=1 "$@" </dev/null
}

# PostgreSQL's CPU time so far: the postmaster, the children it has reaped, and those alive.
pg_ticks() {
  local pm
  pm="$(head -n 1 "$work/pg/data/postmaster.pid")"
  {
    awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for p in $(ps -o pid= --ppid "$pm"); do
      awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true
    done
  } | awk '{s += $1} END {print s + 0}'
}

# CPU time of this shell's finished children (bash's `times`; it must run in this shell, not
# in a subshell, whose counts start at zero), in clock ticks: children_ticks FILE.
children_ticks() {
  awk -v hz="$hz" 'END { s = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
    printf "%d\n", s * hz + 0.5 }' "$1"
}

# The database a template or a run lives in: sqlite:FILE, or a database of the cluster.
db_url() { # db_url DB NAME
  if [[ "$1" == sqlite ]]; then
    printf 'sqlite:%s/%s.db\n' "$work" "$2"
  else
    printf '%s/%s\n' "${pg_url%/postgres}" "$2"
  fi
}

# prepare BUILD_INDEX DB: the build's template database with M messages, and its requests.
prepare() {
  local bi="$1" db="$2" build="${build_dirs[$1]}" name="tmpl_$1" url
  url="$(db_url "$db" "$name")"
  [[ "$db" == sqlite ]] || psql_q postgres -c "CREATE DATABASE $name"
  log "${labels[$bi]} $db: seeding $messages messages ($build/bench/callback_load)"
  local seed_opts=(--seed-events "$events" --seed-attendees "$attendees")
  ((!seed_set)) || seed_opts+=(--seed-set)
  timeout 1800 "$build/bench/callback_load" --seed-db "$url" --seed-only --messages "$messages" \
    --run-id "$run_id" --account-sid "$account_sid" "${seed_opts[@]}" </dev/null >/dev/null 2>"$work/seed-$bi-$db.log" \
    || { cat "$work/seed-$bi-$db.log" >&2; die "seeding $db with ${labels[$bi]}'s callback_load failed"; }
  local list="SELECT message_sid, id, to_phone FROM sms_messages ORDER BY message_sid"
  if [[ "$db" == sqlite ]]; then
    timeout 600 sqlite3 -batch -noheader -separator $'\t' "$work/$name.db" "$list" >"$work/messages-$bi-$db.tsv"
  else
    psql_q "$name" -c "VACUUM ANALYZE" # as autovacuum would have done long ago in production
    psql_q "$name" -c "$list" >"$work/messages-$bi-$db.tsv"
  fi
  local n
  n="$(wc -l <"$work/messages-$bi-$db.tsv")"
  ((n == messages)) || die "the $db template of ${labels[$bi]} holds $n messages, not $messages"
  log "$(tail -n 1 "$work/seed-$bi-$db.log")"
  if ((load_messages < messages)); then # every (M/K)-th message, K of them
    awk -v m="$messages" -v k="$load_messages" 'BEGIN {step = m / k; next_at = 0}
      NR - 1 >= next_at && taken < k {print; taken++; next_at += step}' \
      "$work/messages-$bi-$db.tsv" >"$work/messages-$bi-$db.load.tsv"
    mv "$work/messages-$bi-$db.load.tsv" "$work/messages-$bi-$db.tsv"
  fi
  local gen=(timeout 600 node "$SMSD_ROOT/bench/twilio_callbacks.mjs" --messages "$work/messages-$bi-$db.tsv"
    --out "$work/requests-$bi-$db.txt" --auth-token "$auth_token" --public-url "$public_url"
    --account-sid "$account_sid")
  ((mid)) || gen+=(--no-mid)
  "${gen[@]}" </dev/null 2>"$work/generate-$bi-$db.log" \
    || { cat "$work/generate-$bi-$db.log" >&2; die "generating the requests failed"; }
  log "$(cat "$work/generate-$bi-$db.log")"
  n="$(wc -l <"$work/requests-$bi-$db.txt")"
  ((n == 2 * load_messages)) || die "requests-$bi-$db.txt holds $n requests, not $((2 * load_messages))"
}

rows=()
all_clean=1
run_count=0

# run_one BUILD_INDEX DB CONNECTIONS REPEAT: one run on a fresh copy of the template.
run_one() {
  local bi="$1" db="$2" c="$3" r="$4" name url port
  # The reference runs on A's template, with A's requests.
  local data="$bi"
  ((bi != R)) || data=0
  run_count=$((run_count + 1))
  name="run_${run_count}"
  url="$(db_url "$db" "$name")"
  if [[ "$db" == sqlite ]]; then
    cp "$work/tmpl_$data.db" "$work/$name.db"
    [[ ! -f "$work/tmpl_$data.db-wal" ]] || cp "$work/tmpl_$data.db-wal" "$work/$name.db-wal"
  else
    psql_q postgres -c "CHECKPOINT" -c "CREATE DATABASE $name TEMPLATE tmpl_$data"
  fi

  port="$(free_port)"
  if ((bi == R)); then
    node "$SMSD_ROOT/bench/reference/server.mjs" --listen "127.0.0.1:$port" --database-url "$url" \
      --auth-token "$auth_token" --public-url "$public_url" </dev/null >"$work/smsd-$name.log" 2>&1 &
  else
    SMSD_LISTEN="127.0.0.1:$port" SMSD_DATABASE_URL="$url" PUBLIC_APP_URL="$public_url" \
      TWILIO_AUTH_TOKEN="$auth_token" TWILIO_ACCOUNT_SID="$account_sid" \
      SMSD_ADMIN_TOKEN="bench-admin-token" SMSD_LOG_LEVEL="${SMSD_LOG_LEVEL:-warn}" \
      "${build_dirs[$bi]}/smsd" serve </dev/null >"$work/smsd-$name.log" 2>&1 &
  fi
  smsd_pid=$!
  if ! wait_for_port "$port" 30 "$smsd_pid"; then
    tail -n 30 "$work/smsd-$name.log" >&2 || true
    die "the server (${labels[$bi]}) did not start listening on 127.0.0.1:$port within 30 s"
  fi

  log "${labels[$bi]} $db: $c connections, ${duration} s (run $r of $repeat)"
  local out="$work/wrk-$name.txt" s0 s1 p0=0 p1=0 b0 b1 g0 g1 wrk_rc=0 m0="" m1=""
  ((bi == R)) || m0="$(commit_counters "$port")"
  s0="$(cpu_ticks "$smsd_pid")"
  [[ "$db" == sqlite ]] || p0="$(pg_ticks)"
  b0="$(box_ticks)"
  local sampler=""
  if ((pg_stats)) && [[ "$db" == postgresql ]]; then
    psql_q "$name" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
      -c "SELECT pg_stat_statements_reset()" >/dev/null
    # One psql session samples every backend's wait event (but its own) every 0.1 s; the idle
    # waits of the background processes (wait_event_type Activity) are left out.
    { for ((k = 0; k < duration * 10; k++)); do
        echo "SELECT coalesce(backend_type, '-') || ' ' || coalesce(wait_event_type, 'CPU') || ':'
                || coalesce(wait_event, 'running') FROM pg_stat_activity
              WHERE pid <> pg_backend_pid() AND state IS DISTINCT FROM 'idle'
                AND wait_event_type IS DISTINCT FROM 'Activity'
                AND backend_type IN ('client backend', 'walwriter', 'checkpointer',
                                     'background writer', 'autovacuum worker');"
        echo "SELECT pg_sleep(0.1);"
      done; } | timeout $((duration + 30)) psql "${pg_url%/postgres}/$name" -X -q -At >"$work/waits-$name.txt" 2>&1 &
    sampler=$!
  fi
  times >"$work/times0"
  timeout --kill-after=10 $((duration + 60)) wrk "-t$threads" "-c$c" "-d${duration}s" \
    --timeout 15s --latency -s "$lua_script" "http://127.0.0.1:$port" \
    -- "$work/requests-$data-$db.txt" "$threads" </dev/null >"$out" 2>&1 || wrk_rc=$?
  times >"$work/times1"
  g0="$(children_ticks "$work/times0")"
  g1="$(children_ticks "$work/times1")"
  b1="$(box_ticks)"
  [[ "$db" == sqlite ]] || p1="$(pg_ticks)"
  s1="$(cpu_ticks "$smsd_pid")"
  ((bi == R)) || m1="$(commit_counters "$port")"
  # Memory: the server's peak resident set so far (VmHWM), and smsd's message actors alive now.
  local rss_peak actors="-"
  rss_peak="$(awk '$1 == "VmHWM:" {printf "%d", $2 / 1024}' "/proc/$smsd_pid/status")"
  ((bi == R)) || actors="$(metric_value "$port" smsd_message_actors)"
  sed -e 's/^/    /' -e '/^    RESULT /d' "$out" >&2
  if [[ -n "$sampler" ]]; then
    wait "$sampler" || true
    {
      echo "pg_stat_statements, by total execution time (ms), during ${labels[$bi]}'s run $name:"
      psql_q "$name" -F ' | ' -c "SELECT calls, round(total_exec_time::numeric, 1),
          round((total_exec_time / greatest(calls, 1))::numeric, 3), rows,
          round(total_plan_time::numeric, 1), shared_blks_hit, shared_blks_read, wal_fpi,
          round(wal_bytes / greatest(calls, 1)), left(regexp_replace(query, '\s+', ' ', 'g'), 90)
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10" \
        | sed '1i calls | total ms | mean ms | rows | plan ms | blks hit | blks read | wal fpi | wal bytes/call | query'
      echo "wait events of the busy backends, sampled every 0.1 s (count: backend wait):"
      grep -v '^$' "$work/waits-$name.txt" | sort | uniq -c | sort -rn | head -n 15
    } >"$work/pgstats-$name.txt" 2>&1
    sed 's/^/    /' "$work/pgstats-$name.txt" >&2
  fi
  local result
  result="$(grep '^RESULT ' "$out" || true)"
  [[ -n "$result" && "$wrk_rc" == 0 ]] || die "wrk failed (exit $wrk_rc) against ${labels[$bi]} on $db"
  if ! kill -0 "$smsd_pid" 2>/dev/null; then
    tail -n 30 "$work/smsd-$name.log" >&2 || true
    die "the server (${labels[$bi]}) exited during the run on $db"
  fi
  # Stopped before the database is read: answers in flight when wrk ended are finished.
  stop_smsd

  # The status events stored from webhooks; then how smsd disposed of them (applied, stale, ...).
  local q="SELECT count(*), coalesce(sum(applied), 0),
                  coalesce(sum(CASE WHEN message_id IS NULL THEN 1 ELSE 0 END), 0)
           FROM sms_status_events WHERE source = 'webhook'" counts dispositions
  local qd="SELECT disposition || ':' || count(*) FROM sms_status_events
            WHERE source = 'webhook' GROUP BY disposition ORDER BY disposition"
  if ((bi == R)); then # the reference keeps no events: the messages its upserts reached
    q="SELECT count(*), coalesce(sum(CASE WHEN status_rank >= 4 THEN 1 ELSE 0 END), 0), 0
       FROM sms_messages WHERE status_rank >= 3"
    qd="SELECT status || ':' || count(*) FROM sms_messages GROUP BY status ORDER BY status"
  fi
  if [[ "$db" == sqlite ]]; then
    counts="$(timeout 600 sqlite3 -batch -noheader -separator ' ' "$work/$name.db" "$q")"
    dispositions="$(timeout 600 sqlite3 -batch -noheader "$work/$name.db" "$qd" | paste -sd ' ')"
  else
    counts="$(psql_q "$name" -F ' ' -c "$q")"
    dispositions="$(psql_q "$name" -c "$qd" | paste -sd ' ')"
  fi
  local stored applied unmatched
  read -r stored applied unmatched <<<"$counts"
  [[ "$stored" =~ ^[0-9]+$ ]] || die "could not count the status events in $url: '$counts'"
  if ((!keep)); then
    if [[ "$db" == sqlite ]]; then
      rm -f "$work/$name.db" "$work/$name.db-wal" "$work/$name.db-shm"
    else
      psql_q postgres -c "DROP DATABASE $name"
    fi
  fi

  local answers ok200 repeats sent errors lost
  answers="$(field answers "$result")"
  ok200="$(field ok200 "$result")"
  repeats="$(field repeats "$result")"
  sent="$(field sent "$result")"
  errors=$(($(field connect_errors "$result") + $(field read_errors "$result") \
    + $(field write_errors "$result") + $(field timeouts "$result")))
  # Distinct callbacks answered 200: at least the 200s less the repeats sent. Each must be stored.
  lost=$((ok200 - repeats - stored))
  ((lost > 0 && bi != R)) || lost=0
  local per="$((answers > 0 ? answers : 1))"
  local row="label=${labels[$bi]} db=$db conns=$c $result stored=$stored applied=$applied"
  row+=" unmatched=$unmatched lost=$lost errors=$errors non200=$((answers - ok200))"
  row+=" smsd_us=$(((s1 - s0) * 1000000 / hz / per)) wrk_us=$(((g1 - g0) * 1000000 / hz / per))"
  if [[ "$db" == sqlite ]]; then row+=" pg_us=-"; else row+=" pg_us=$(((p1 - p0) * 1000000 / hz / per))"; fi
  row+=" $(awk -v a="$b0" -v b="$b1" -v n="$per" -v hz="$hz" 'BEGIN {
      split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2];
      printf "box_busy=%d box_us=%d", (busy + idle > 0 ? 100 * busy / (busy + idle) + 0.5 : 0),
             busy * 1000000 / hz / n }')"
  row+=" rss_peak_mb=${rss_peak:-0} actors=${actors:-0}"
  if ((bi != R)); then
    row+=" $(stage_means "$m0" "$m1" "$(field seconds "$result")")"
  fi
  rows+=("$row")
  log "${labels[$bi]} $db $c: $(field rps "$result") req/s, p99 $(field p99_ms "$result") ms," \
    "$answers answers ($((answers - ok200)) not 200: $(field other "$result")), $sent sent," \
    "$stored stored ($applied applied, $unmatched without their message; ${dispositions:-none}), $lost lost"
  if ((repeats > 0)); then
    log "  $repeats of the requests sent were repeats (duplicates of callbacks already sent, same" \
      "idempotency token, which smsd must answer 200 too): raise --messages to keep them distinct"
  fi
  if ((answers != ok200 || lost > 0 || errors > 0 || unmatched > 0 || stored > sent - repeats)); then
    log "  NOT CLEAN: non-200 $((answers - ok200)), lost $lost, socket errors/timeouts $errors," \
      "stored without message $unmatched, stored $stored of $((sent - repeats)) distinct sent"
    all_clean=0
  fi
}

if [[ " $databases " == *" postgresql "* ]]; then
  ((!pg_stats)) || export SMSD_PG_OPTIONS="${SMSD_PG_OPTIONS:-} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
  pg_url="$("$SMSD_ROOT/scripts/pg-test-cluster.sh" start "$work/pg" "$(free_port)")"
fi

# Everything measured: each build on each database, then the reference.
targets=()
for db in $databases; do
  for bi in "${!build_dirs[@]}"; do
    prepare "$bi" "$db"
    targets+=("$bi:$db")
  done
done
((!reference)) || targets+=("$R:postgresql")
for c in $connections; do
  for ((r = 1; r <= repeat; r++)); do
    order=("${targets[@]}")
    if ((r % 2 == 0)); then # the reverse order: what ran last runs first
      order=()
      for ((i = ${#targets[@]} - 1; i >= 0; i--)); do order+=("${targets[$i]}"); done
    fi
    for t in "${order[@]}"; do
      run_one "${t%%:*}" "${t#*:}" "$c" "$r"
    done
  done
done
if [[ " $databases " == *" postgresql "* ]] && ((!keep)); then
  for bi in "${!build_dirs[@]}"; do psql_q postgres -c "DROP DATABASE tmpl_$bi"; done
fi

echo
echo "smsd under Twilio-shaped callbacks: wrk -t$threads -d${duration}s, $load_messages of $messages" \
  "messages x (sent, then delivered/undelivered/failed) per run, $events event(s) x $attendees" \
  "attendee(s), $(nproc) cores"
for bi in "${!build_dirs[@]}"; do
  echo "${labels[$bi]} = ${build_dirs[$bi]} ($("${build_dirs[$bi]}/smsd" --version 2>/dev/null | head -n 1 || true))"
done
if ((reference)); then
  echo "R = bench/reference/server.mjs (node $(node --version), twilio" \
    "$(node -p 'require("./bench/reference/node_modules/twilio/package.json").version')," \
    "pg $(node -p 'require("./bench/reference/node_modules/pg/package.json").version'))"
fi
printf '%-5s %-10s %5s %8s %8s %7s %7s %7s %7s %7s %5s %7s %7s %7s %7s %5s\n' build database conns \
  answers 'req/s' 'p50 ms' 'p99 ms' non-200 repeats stored lost 'smsd us' 'pg us' 'wrk us' \
  'box us' box
for row in "${rows[@]}"; do
  printf '%-5s %-10s %5s %8s %8s %7s %7s %7s %7s %7s %5s %7s %7s %7s %7s %4s%%\n' \
    "$(field label "$row")" "$(field db "$row")" "$(field conns "$row")" "$(field answers "$row")" \
    "$(field rps "$row")" "$(field p50_ms "$row")" "$(field p99_ms "$row")" \
    "$(field non200 "$row")" "$(field repeats "$row")" "$(field stored "$row")" \
    "$(field lost "$row")" "$(field smsd_us "$row")" "$(field pg_us "$row")" \
    "$(field wrk_us "$row")" "$(field box_us "$row")" "$(field box_busy "$row")"
done
echo "(CPU columns: CPU time per answered request, in µs; box = the whole machine, busy share)"
echo
echo "inside smsd (/metrics): writes per group commit, commit workers' busy share, mean ms per report"
echo "in each stage (to_actor, state_load for the reports that waited for one, to_writer, commit,"
echo "total), the share of reports that waited for a state load, message actors alive at the end"
echo "and smsd's peak RSS (MB, VmHWM)"
printf '%-5s %-10s %5s %7s %6s %8s %8s %8s %8s %8s %6s %7s %6s\n' build database conns 'w/commit' busy \
  to_actor load to_writer commit total loaded actors 'rss MB' 
for row in "${rows[@]}"; do
  [[ "$(field label "$row")" != R ]] || continue
  printf '%-5s %-10s %5s %7s %5s%% %8s %8s %8s %8s %8s %5s%% %7s %6s\n' \
    "$(field label "$row")" "$(field db "$row")" "$(field conns "$row")" \
    "$(field ops_per_commit "$row")" "$(field commit_busy "$row")" "$(field stage_to_actor "$row")" \
    "$(field stage_state_load "$row")" "$(field stage_to_writer "$row")" \
    "$(field stage_commit "$row")" "$(field stage_total "$row")" "$(field loaded_share "$row")" \
    "$(field actors "$row")" "$(field rss_peak_mb "$row")"
done

echo
echo "medians of $repeat run(s)"
printf '%-5s %-10s %5s %8s %7s %7s %7s %7s\n' build database conns 'req/s' 'p50 ms' 'p99 ms' \
  'smsd us' 'box us'
declare -A median_rps=() median_p99=()
measured=("${!build_dirs[@]}")
((!reference)) || measured+=("$R")
for db in $databases; do
  for c in $connections; do
    for bi in "${measured[@]}"; do
      [[ "$bi" != "$R" || "$db" == postgresql ]] || continue
      rps=() p50=() p99=() cpu=() box=()
      for row in "${rows[@]}"; do
        [[ "$(field label "$row")" == "${labels[$bi]}" && "$(field db "$row")" == "$db" \
          && "$(field conns "$row")" == "$c" ]] || continue
        rps+=("$(field rps "$row")") p50+=("$(field p50_ms "$row")") p99+=("$(field p99_ms "$row")")
        cpu+=("$(field smsd_us "$row")") box+=("$(field box_us "$row")")
      done
      median_rps[$bi-$db-$c]="$(median "${rps[@]}")"
      median_p99[$bi-$db-$c]="$(median "${p99[@]}")"
      printf '%-5s %-10s %5s %8s %7s %7s %7s %7s\n' "${labels[$bi]}" "$db" "$c" \
        "${median_rps[$bi-$db-$c]}" "$(median "${p50[@]}")" "${median_p99[$bi-$db-$c]}" \
        "$(median "${cpu[@]}")" "$(median "${box[@]}")"
    done
  done
done
if ((${#build_dirs[@]} == 2)); then
  echo
  echo "B/A of the median req/s"
  for db in $databases; do
    for c in $connections; do
      awk -v d="$db" -v c="$c" -v a="${median_rps[0-$db-$c]}" -v b="${median_rps[1-$db-$c]}" \
        'BEGIN {printf "%-10s %5s %6.2f\n", d, c, (a > 0 ? b / a : 0)}'
    done
  done
fi
if ((reference)); then
  echo
  echo "smsd/reference of the median req/s (R on PostgreSQL at the same connection count), and"
  echo "issue 15's targets at 64 connections: SQLite >= 3x R, p99 <= 10 ms; PostgreSQL >= 1.5x R, p99 <= 20 ms"
  for bi in "${!build_dirs[@]}"; do
    for db in $databases; do
      for c in $connections; do
        awk -v b="${labels[$bi]}" -v d="$db" -v c="$c" -v s="${median_rps[$bi-$db-$c]}" \
          -v ref="${median_rps[$R-postgresql-$c]}" -v p99="${median_p99[$bi-$db-$c]}" 'BEGIN {
            ratio = (ref > 0 ? s / ref : 0)
            verdict = ""
            if (c == 64) {
              want = (d == "sqlite" ? 3 : 1.5); cap = (d == "sqlite" ? 10 : 20)
              verdict = sprintf("  target %.1fx and p99 <= %d ms: %s", want, cap,
                                (ratio >= want && p99 <= cap ? "met" : "NOT MET"))
            }
            printf "%-5s %-10s %5s %6.2f  (p99 %s ms)%s\n", b, d, c, ratio, p99, verdict
          }'
      done
    done
  done
fi
echo
if ((all_clean)); then
  echo "every answer was 200 and every callback answered 200 was stored"
else
  echo "NOT CLEAN: some answers were not 200, callbacks answered 200 were not stored, or wrk had socket errors"
  exit 1
fi
