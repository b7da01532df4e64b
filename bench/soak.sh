#!/usr/bin/env bash
# A soak: smsd under Twilio-shaped callbacks, organizer reads and sends through twilio_sim, all at
# once, for many minutes, with req/s, p99, RSS and the message actors alive sampled every minute,
# printed as a table and plotted (gnuplot) as a PNG. Everything runs on 127.0.0.1 and stops by
# itself.
#
#   bench/soak.sh [--build DIR] [--database sqlite|postgresql] [--minutes 30] [--rate 1000]
#                 [--connections 64] [--sends 5] [--reads 20] [--messages M] [--plot FILE.png]
#                 [--keep]
#     --build DIR      build folder with smsd, twilio_sim and bench/callback_load (SMSD_BUILD_DIR,
#                      else build/)
#     --database D     sqlite (default) or postgresql (a throw-away cluster of its own)
#     --minutes N      how long (30); one wrk run of 60 s per minute
#     --rate R         callbacks offered per second (1000): wrk -cC paced by bench/twilio_soak.lua
#                      (each connection waits C * 1000 / R ms before each request)
#     --connections C  wrk's connections (64)
#     --sends S        sends per second through POST /api/sms/send (5): smsd asks twilio_sim, whose
#                      status callbacks come back to smsd as Twilio's would
#     --reads Q        organizer reads per second (20): SMS summary and an attendee's SMS history,
#                      in turn, with an organizer token of the events' owner
#     --messages M     messages seeded in advance (default: enough for R x 60 x N callbacks, two
#                      per message, plus 5%), spread over 100 events x 100 attendees with
#                      callback_load --seed-set; every one gets its `sent` and then its outcome
#     --plot FILE      where the PNG goes (default: the temporary folder; docs/images/ for the docs)
#     --keep           keep the temporary folder (requests, logs, samples, the database)
# The callbacks of the simulator are counted from its /_sim/stats (callbacks_sent: posts answered
# 2xx) once none is pending.
#
# Per minute: callbacks answered/s and their p50/p99 (wrk), non-200 callback answers, sends and
# reads answered and not 2xx, smsd's RSS (VmRSS) and peak RSS (VmHWM), the message actors alive
# (smsd_message_actors), and the callbacks acknowledged durable so far (smsd_callbacks_total). At the
# end: every callback answered 200 must be stored (status events from webhooks >= distinct 200s of
# wrk plus the simulator's callbacks acknowledged). Exit 0 if every callback was answered 200 and
# stored and no send or read failed with a 5xx; 1 otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SMSD_ROOT"

build=""
database=sqlite
minutes=30
rate=1000
connections=64
sends=5
reads=20
messages=""
plot=""
keep=0
while (($# > 0)); do
  case "$1" in
    --build) build="${2:?--build needs a value}"; shift ;;
    --database) database="${2:?--database needs a value}"; shift ;;
    --minutes) minutes="${2:?--minutes needs a value}"; shift ;;
    --rate) rate="${2:?--rate needs a value}"; shift ;;
    --connections) connections="${2:?--connections needs a value}"; shift ;;
    --sends) sends="${2:?--sends needs a value}"; shift ;;
    --reads) reads="${2:?--reads needs a value}"; shift ;;
    --messages) messages="${2:?--messages needs a value}"; shift ;;
    --plot) plot="${2:?--plot needs a value}"; shift ;;
    --keep) keep=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
for n in "$minutes" "$rate" "$connections" "$sends" "$reads" ${messages:+"$messages"}; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive whole number"
done
[[ "$database" == sqlite || "$database" == postgresql ]] || die "unknown database '$database'"
[[ -n "$messages" ]] || messages=$((rate * 60 * minutes * 105 / 200 + 1000))
[[ -n "$build" ]] || build="$(smsd_build_dir)"
build="$(cd "$build" && pwd)"
for b in smsd twilio_sim bench/callback_load; do
  [[ -x "$build/$b" ]] || die "$build/$b is missing (build it first)"
done
for tool in wrk curl gnuplot node; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/install-deps.sh)"
done
[[ "$database" != sqlite ]] || command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is not installed"
[[ "$database" != postgresql ]] || command -v psql >/dev/null 2>&1 || die "psql is not installed"
per_minute=$((rate * 60))
delay_ms=$((connections * 1000 / rate))
((delay_ms >= 1)) || die "--rate $rate is more than $connections connections can pace (1 ms each)"

auth_token="soak-twilio-auth-token-0123456789"
account_sid="AC7f3c2a9b1d4e8f6a0b5c7d9e1f2a3b4c"
public_url="https://sms.soak.example"
admin_token="bench-admin-token" # bench/lib.sh's metric_value scrapes /metrics with it
jwt_secret="soak-jwt-secret-0123456789abcdef"
run_id="soak"

work="$(mktemp -d /tmp/smsd-soak.XXXXXX)"
chmod 711 "$work"
[[ -n "$plot" ]] || plot="$work/soak.png"
pids=()
pg_url=""
cleanup() {
  local rc=$?
  local p
  for p in "${pids[@]}"; do stop_child "$p" "soak helper"; done
  if [[ -n "$pg_url" ]]; then
    "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$work/pg" >/dev/null || rc=1
  fi
  if ((keep)); then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- the database, the messages, the requests ------------------------------------------------
if [[ "$database" == sqlite ]]; then
  url="sqlite:$work/soak.db"
else
  pg_url="$("$SMSD_ROOT/scripts/pg-test-cluster.sh" start "$work/pg" "$(free_port)")"
  timeout 60 psql "$pg_url" -X -q -c "CREATE DATABASE soak" </dev/null
  url="${pg_url%/postgres}/soak"
fi
log "seeding $messages messages over 100 events x 100 attendees"
timeout 1800 "$build/bench/callback_load" --seed-db "$url" --seed-only --seed-set --messages "$messages" \
  --seed-events 100 --seed-attendees 100 --run-id "$run_id" --account-sid "$account_sid" \
  </dev/null >/dev/null 2>"$work/seed.log" || { cat "$work/seed.log" >&2; die "seeding failed"; }
list="SELECT message_sid, id, to_phone FROM sms_messages ORDER BY message_sid"
if [[ "$database" == sqlite ]]; then
  timeout 600 sqlite3 -batch -noheader -separator $'\t' "$work/soak.db" "$list" >"$work/messages.tsv"
else
  timeout 600 psql "$url" -X -q -c "VACUUM ANALYZE" </dev/null
  timeout 600 psql "$url" -X -q -At -F $'\t' -c "$list" </dev/null >"$work/messages.tsv"
fi
timeout 1800 node "$SMSD_ROOT/bench/twilio_callbacks.mjs" --messages "$work/messages.tsv" \
  --out "$work/requests.txt" --auth-token "$auth_token" --public-url "$public_url" \
  --account-sid "$account_sid" </dev/null 2>"$work/generate.log" \
  || { cat "$work/generate.log" >&2; die "generating the requests failed"; }
log "$(cat "$work/generate.log")"
# One file per minute, in the order they were generated (each message's `sent` comes first).
split -d -a 4 -l "$per_minute" "$work/requests.txt" "$work/minute-"
rm -f "$work/requests.txt"

# -- twilio_sim and smsd ------------------------------------------------------------------------
smsd_port="$(free_port)"
sim_port="$(free_port)"
while [[ "$sim_port" == "$smsd_port" ]]; do sim_port="$(free_port)"; done
"$build/twilio_sim" --listen "127.0.0.1:$sim_port" --account-sid "$account_sid" \
  --auth-token "$auth_token" --callback-base "http://127.0.0.1:$smsd_port" --log-level warn \
  </dev/null >"$work/twilio_sim.log" 2>&1 &
pids+=($!)
wait_for_port "$sim_port" 30 "${pids[-1]}" || die "twilio_sim did not start"
SMSD_LISTEN="127.0.0.1:$smsd_port" SMSD_DATABASE_URL="$url" PUBLIC_APP_URL="$public_url" \
  TWILIO_AUTH_TOKEN="$auth_token" TWILIO_ACCOUNT_SID="$account_sid" \
  TWILIO_MESSAGING_SERVICE_SID="MG00000000000000000000000000000000" \
  TWILIO_API_BASE_URL="http://127.0.0.1:$sim_port" SMSD_ADMIN_TOKEN="$admin_token" \
  SMSD_JWT_SECRET="$jwt_secret" SMSD_LOG_LEVEL="${SMSD_LOG_LEVEL:-warn}" \
  "$build/smsd" serve </dev/null >"$work/smsd.log" 2>&1 &
smsd_pid=$!
pids+=("$smsd_pid")
wait_for_port "$smsd_port" 60 "$smsd_pid" || { tail -n 30 "$work/smsd.log" >&2; die "smsd did not start"; }
base="http://127.0.0.1:$smsd_port"
organizer="$(SMSD_JWT_SECRET="$jwt_secret" SMSD_DATABASE_URL="$url" "$build/smsd" token --user bench-owner --ttl 2d)" \
  || die "smsd token failed"

# -- sends and reads, paced by sleep, each answer's status appended to a file -------------------
event_of() { if (($1 == 0)); then printf 'bench-evt-%s' "$run_id"; else printf 'bench-evt-%s-%d' "$run_id" "$1"; fi; }
attendee_of() { # attendee_of EVENT_INDEX ATTENDEE_INDEX
  if (($1 == 0 && $2 == 0)); then printf 'bench-att-%s' "$run_id"; else printf 'bench-att-%s-%d-%d' "$run_id" "$1" "$2"; fi
}
# The pause after each request: 1/S s, less the ~10 ms a curl process takes to start and finish.
send_pause="$(awk -v s="$sends" 'BEGIN {p = 1 / s - 0.01; printf "%.3f", (p > 0 ? p : 0)}')"
read_pause="$(awk -v q="$reads" 'BEGIN {p = 1 / q - 0.01; printf "%.3f", (p > 0 ? p : 0)}')"
sender() {
  local i=0 k j
  while :; do
    k=$((i % 100)) j=$(((i / 100) % 100))
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -X POST "$base/api/sms/send" \
      -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
      -d "{\"eventId\":\"$(event_of "$k")\",\"attendeeId\":\"$(attendee_of "$k" "$j")\",\"body\":\"Soak $i\",\"notificationType\":\"event_reminder\"}" \
      >>"$work/sends.txt" || echo 000 >>"$work/sends.txt"
    i=$((i + 1))
    sleep "$send_pause"
  done
}
reader() {
  local i=0 k j path
  while :; do
    k=$(((i * 7) % 100)) j=$(((i * 13) % 100))
    if ((i % 2)); then
      path="/api/events/$(event_of "$k")/sms-summary"
    else
      path="/api/events/$(event_of "$k")/attendees/$(attendee_of "$k" "$j")/sms-history"
    fi
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "$base$path" \
      -H "Authorization: Bearer $organizer" >>"$work/reads.txt" || echo 000 >>"$work/reads.txt"
    i=$((i + 1))
    sleep "$read_pause"
  done
}
: >"$work/sends.txt"
: >"$work/reads.txt"
sender </dev/null >/dev/null 2>&1 &
pids+=($!)
reader </dev/null >/dev/null 2>&1 &
pids+=($!)

# -- the minutes ----------------------------------------------------------------------------------
# What an answer file holds so far: "total non-2xx 5xx".
answer_counts() { awk '{n++} $1 !~ /^2/ {bad++} $1 ~ /^5|^000/ {five++} END {printf "%d %d %d\n", n, bad, five}' "$1"; }
samples="$work/samples.tsv"
printf 'minute\treq_s\tp50_ms\tp99_ms\tnon200\trepeats\tsends\tsends_bad\treads\treads_bad\trss_mb\trss_peak_mb\tactors\tdurable\n' >"$samples"
ok200=0 repeats=0 answers=0 errors=0 sends_5xx=0 reads_5xx=0
s_prev=(0 0 0) r_prev=(0 0 0)
for ((m = 1; m <= minutes; m++)); do
  chunk="$(printf '%s/minute-%04d' "$work" $((m - 1)))"
  [[ -s "$chunk" ]] || die "no requests left for minute $m (raise --messages)"
  out="$work/wrk-$m.txt"
  timeout --kill-after=10 120 wrk -t2 "-c$connections" -d60s --timeout 15s --latency \
    -s "$SMSD_ROOT/bench/twilio_soak.lua" "$base" -- "$chunk" 2 "$delay_ms" </dev/null >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed in minute $m"; }
  kill -0 "$smsd_pid" 2>/dev/null || { tail -n 30 "$work/smsd.log" >&2; die "smsd exited in minute $m"; }
  result="$(grep '^RESULT ' "$out")"
  read -r -a s_now <<<"$(answer_counts "$work/sends.txt")"
  read -r -a r_now <<<"$(answer_counts "$work/reads.txt")"
  rss="$(awk '$1 == "VmRSS:" {printf "%d", $2 / 1024}' "/proc/$smsd_pid/status")"
  peak="$(awk '$1 == "VmHWM:" {printf "%d", $2 / 1024}' "/proc/$smsd_pid/status")"
  actors="$(metric_value "$smsd_port" smsd_message_actors)"
  durable="$(metric_value "$smsd_port" 'smsd_callbacks_total{result="durable"}')"
  non200=$(($(field answers "$result") - $(field ok200 "$result")))
  printf '%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n' "$m" "$(field rps "$result")" \
    "$(field p50_ms "$result")" "$(field p99_ms "$result")" "$non200" "$(field repeats "$result")" \
    $((s_now[0] - s_prev[0])) $((s_now[1] - s_prev[1])) $((r_now[0] - r_prev[0])) \
    $((r_now[1] - r_prev[1])) "$rss" "$peak" "$actors" "$durable" >>"$samples"
  s_prev=("${s_now[@]}") r_prev=("${r_now[@]}")
  ok200=$((ok200 + $(field ok200 "$result")))
  repeats=$((repeats + $(field repeats "$result")))
  answers=$((answers + $(field answers "$result")))
  errors=$((errors + $(field connect_errors "$result") + $(field read_errors "$result") \
    + $(field write_errors "$result") + $(field timeouts "$result")))
  log "minute $m: $(tail -n 1 "$samples" | tr '\t' ' ')"
done
sends_5xx="${s_prev[2]}"
reads_5xx="${r_prev[2]}"

# -- the end: stop, count, plot -------------------------------------------------------------------
# The sends stop first; then the simulator's callbacks still on their way are let through.
stop_child "${pids[2]}" sender
sim_stat() { curl -s --max-time 10 "http://127.0.0.1:$sim_port/_sim/stats" | tr ',{}' '\n\n\n' \
  | awk -F: -v k="\"$1\"" '$1 == k {gsub(/[^0-9]/, "", $2); print $2}'; }
for _ in $(seq 300); do [[ "$(sim_stat callbacks_pending)" != 0 ]] || break; sleep 0.1; done
sim_acked="$(sim_stat callbacks_sent)"
for p in "${pids[@]}"; do stop_child "$p" "soak process"; done
pids=()
q="SELECT count(*) FROM sms_status_events WHERE source = 'webhook'"
if [[ "$database" == sqlite ]]; then
  stored="$(timeout 600 sqlite3 -batch -noheader "$work/soak.db" "$q")"
else
  stored="$(timeout 600 psql "$url" -X -q -At -c "$q" </dev/null)"
fi
expected=$((ok200 - repeats + ${sim_acked:-0}))
lost=$((expected - stored))
((lost > 0)) || lost=0

echo
echo "smsd soak: $minutes minute(s) on $database, callbacks offered at $rate/s over $connections" \
  "connections, $sends sends/s through twilio_sim, $reads organizer reads/s, $messages messages"
echo "$build/smsd ($("$build/smsd" --version 2>/dev/null | head -n 1 || true)), $(nproc) cores"
column -t -s $'\t' "$samples"
echo
echo "callbacks: $answers answered, $ok200 answered 200 ($repeats repeats), $errors socket errors;" \
  "the simulator's callbacks acknowledged: ${sim_acked:-?}; status events stored: $stored; lost: $lost"
echo "sends and reads answered 5xx or not at all: $sends_5xx and $reads_5xx"

gnuplot <<GP || die "gnuplot failed"
set terminal pngcairo size 1200,900 font ",10"
set output "$plot"
set datafile separator "\t"
set key autotitle columnhead
set multiplot layout 2,2 title "smsd soak on $database: callbacks at $rate/s offered, $sends sends/s, $reads reads/s, $messages messages"
set xlabel "minute"
set grid
set key bottom right
set yrange [0:*]
set title "callbacks answered per second"
plot "$samples" using 1:2 with linespoints title "req/s"
set title "callback latency (ms)"
plot "$samples" using 1:3 with linespoints title "p50", "" using 1:4 with linespoints title "p99"
set title "smsd memory (MB)"
plot "$samples" using 1:11 with linespoints title "RSS", "" using 1:12 with linespoints title "peak RSS"
set title "message actors alive"
plot "$samples" using 1:13 with linespoints title "actors"
unset multiplot
GP
echo "plot: $plot"

if ((answers != ok200 || lost > 0 || errors > 0 || sends_5xx > 0 || reads_5xx > 0)); then
  echo "NOT CLEAN: non-200 callbacks $((answers - ok200)), lost $lost, socket errors $errors," \
    "sends 5xx $sends_5xx, reads 5xx $reads_5xx"
  exit 1
fi
echo "every callback was answered 200 and stored; no send or read failed with a 5xx"
