# shellcheck shell=bash
# Helpers shared by smsd's scripts. Source it; it does not change shell options.

# The repository's root (the parent of scripts/).
SMSD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SMSD_ROOT

# The build directory: build/ unless SMSD_BUILD_DIR names another (relative to the root).
smsd_build_dir() {
  local dir="${SMSD_BUILD_DIR:-build}"
  case "$dir" in
    /*) printf '%s\n' "$dir" ;;
    *) printf '%s\n' "$SMSD_ROOT/$dir" ;;
  esac
}

# Messages go to stderr, prefixed by the script's name, so stdout stays for results.
log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# True if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Prints a TCP port on 127.0.0.1 that nothing listens on, from 20000-32767: below Linux's
# default ephemeral range, so no outgoing connection holds it.
free_port() {
  local port tries=0
  while ((tries < 100)); do
    port=$((20000 + RANDOM % 12768))
    if ! port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  die "found no free TCP port on 127.0.0.1 after 100 tries"
}

# Waits until 127.0.0.1:PORT accepts connections or SECONDS pass; optional PID must stay alive.
wait_for_port() {
  local port="$1" seconds="$2" pid="${3:-}" deadline
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if port_in_use "$port"; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.1
  done
  return 1
}
