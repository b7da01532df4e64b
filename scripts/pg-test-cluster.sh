#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for tests and benchmarks, on 127.0.0.1 only, trust auth.
#
#   scripts/pg-test-cluster.sh start DIR PORT   creates the cluster in DIR (new or empty), starts
#                                               it and prints its URL on stdout
#   scripts/pg-test-cluster.sh stop DIR         stops it by its own pid file and removes DIR
#
# PostgreSQL refuses to run as root: as root, DIR is given to the `postgres` user and every
# server command runs through `runuser -u postgres --`. Set PG_BIN to use another server build, and
# SMSD_PG_OPTIONS to pass more server settings (e.g. "-c shared_preload_libraries=pg_stat_statements").
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
MARKER=".smsd-pg-test-cluster" # only a DIR carrying it is ever removed by `stop`

usage() {
  echo "usage: $(basename "$0") start DIR PORT | stop DIR" >&2
  exit 2
}

as_pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir="$1" port="$2"
  if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "bad port '$port'"
  fi
  [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || die "no PostgreSQL server in $PG_BIN"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  # Unix socket paths are limited to 107 bytes: ".s.PGSQL.PORT" must fit after DIR.
  ((${#dir} < 80)) || die "$dir is too long for a socket directory; use a shorter path"
  touch "$dir/$MARKER"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (is the postgresql package installed?)"
    chown postgres: "$dir"
    chmod 700 "$dir"
    as_pg test -w "$dir" || die "user postgres cannot write $dir (is a parent folder closed to it?)"
  fi
  if port_in_use "$port"; then
    die "something already listens on 127.0.0.1:$port"
  fi

  if ! as_pg timeout 120 "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed in $dir/data"
  fi
  # pg_ctl -w waits until the server accepts connections; -t bounds that wait.
  if ! as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 ${SMSD_PG_OPTIONS:-}" \
    start >/dev/null; then
    tail -n 30 "$dir/postgres.log" >&2 || true
    die "PostgreSQL did not start on 127.0.0.1:$port (log: $dir/postgres.log)"
  fi
  log "PostgreSQL running on 127.0.0.1:$port (data and log in $dir)"
  printf 'postgresql://postgres@127.0.0.1:%s/postgres\n' "$port"
}

stop() {
  local dir="$1" pid_file pid
  [[ -d "$dir" ]] || {
    log "$dir does not exist; nothing to stop"
    return 0
  }
  [[ -f "$dir/$MARKER" ]] || die "$dir was not made by this script; not touching it"
  pid_file="$dir/data/postmaster.pid"
  if [[ -f "$pid_file" ]]; then
    pid="$(head -n 1 "$pid_file")"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
      # Fast shutdown did not finish in time: immediate shutdown of that postmaster only.
      if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        log "fast shutdown timed out; sending SIGQUIT to postmaster $pid"
        kill -QUIT "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
          kill -0 "$pid" 2>/dev/null || break
          sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && die "postmaster $pid is still running; $dir kept"
      fi
    fi
  fi
  rm -rf "$dir"
  log "PostgreSQL in $dir stopped and removed"
}

case "${1:-}" in
  start)
    (($# == 3)) || usage
    start "$2" "$3"
    ;;
  stop)
    (($# == 2)) || usage
    stop "$2"
    ;;
  *) usage ;;
esac
