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
