# shellcheck shell=bash
# Helpers shared by the benchmark scripts (on top of scripts/lib.sh, which this sources).
# Source it; it does not change shell options.
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

# A value from a row of key=value pairs separated by spaces (callback_load's RESULT line).
field() { # field KEY LINE
  local kv
  for kv in $2; do
    [[ "$kv" == "$1="* ]] && { printf '%s' "${kv#*=}"; return; }
  done
}

# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The whole box's CPU time so far, in clock ticks: "busy idle" (idle includes iowait).
box_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit}' /proc/stat; }

# The median of numbers.
median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
    END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'
}

# Stops a child process by its pid: SIGTERM, then SIGKILL if it still runs 20 s later; waits
# for it. NAME is for the message.
stop_child() { # stop_child PID NAME
  local pid="$1" name="$2"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name ($pid) did not stop within 20 s of SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# smsd's group-commit counters from GET /metrics: "commits ops seconds", then the seconds and
# report count of each report stage (bash's /dev/tcp, so no curl is needed). Prints zeros if the
# scrape fails.
commit_counters() { # commit_counters PORT
  local text=""
  if exec 3<>"/dev/tcp/127.0.0.1/$1"; then
    printf 'GET /metrics HTTP/1.0\r\nAuthorization: Bearer bench-admin-token\r\n\r\n' >&3
    text="$(timeout 5 cat <&3 || true)"
    exec 3<&-
  fi
  # Then the report stages' seconds and counts: to_actor, state_load, to_writer, commit, total.
  awk '$1 == "smsd_group_commits_total" {c = $2}
       $1 == "smsd_group_commit_ops_total" {o = $2}
       $1 == "smsd_group_commit_seconds_total" {s = $2}
       match($1, /^smsd_report_stage_seconds_total\{stage="[a-z_]+"\}$/) {
         split($1, p, "\""); secs[p[2]] = $2 }
       match($1, /^smsd_report_stage_reports_total\{stage="[a-z_]+"\}$/) {
         split($1, p, "\""); reps[p[2]] = $2 }
       END {
         printf "%d %d %s", c, o, (s == "" ? 0 : s)
         split("to_actor state_load to_writer commit total", names, " ")
         for (i = 1; i <= 5; i++) printf " %s %d", secs[names[i]] + 0, reps[names[i]] + 0
         printf "\n" }' <<<"$text"
}

# One sample's value from smsd's GET /metrics, or "-" if absent. NAME is the sample's name as
# the text has it, labels included: smsd_message_actors, 'smsd_callbacks_total{result="durable"}'.
metric_value() { # metric_value PORT NAME
  local text=""
  if exec 3<>"/dev/tcp/127.0.0.1/$1"; then
    printf 'GET /metrics HTTP/1.0\r\nAuthorization: Bearer bench-admin-token\r\n\r\n' >&3
    text="$(timeout 5 cat <&3 || true)"
    exec 3<&-
  fi
  awk -v n="$2" '$1 == n {v = $2} END {print (v == "" ? "-" : v)}' <<<"$text"
}

# The group commit and the report stages between two commit_counters readings, as key=value
# pairs: writes per commit, the commit workers' busy share of WALL seconds, the mean ms per report
# in each stage, and the share of reports that waited for a state load.
stage_means() { # stage_means BEFORE AFTER WALL_SECONDS
  awk -v a="$1" -v b="$2" -v wall="$3" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    commits = y[1] - x[1]; ops = y[2] - x[2]; secs = y[3] - x[3];
    printf "ops_per_commit=%.1f commit_busy=%d", (commits > 0 ? ops / commits : 0),
           (wall > 0 ? 100 * secs / wall + 0.5 : 0)
    split("to_actor state_load to_writer commit total", names, " ")
    for (i = 1; i <= 5; i++) {
      s = y[2 + 2 * i] - x[2 + 2 * i]; k = y[3 + 2 * i] - x[3 + 2 * i]
      printf " stage_%s=%.2f", names[i], (k > 0 ? 1000 * s / k : 0)
      if (names[i] == "state_load") loaded = k
      if (names[i] == "total") reports = k
    }
    printf " loaded_share=%d\n", (reports > 0 ? 100 * loaded / reports + 0.5 : 0) }'
}
