#!/usr/bin/env bash
# Installs what smsd needs to build and test on Debian 12, and nothing that is already there.
# Run as root (or with sudo available). Safe to run again: it only acts on what is missing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libcaf-dev libpoco-dev nlohmann-json3-dev libssl-dev libspdlog-dev libcli11-dev
  catch2 libpq-dev libsqlite3-dev libphonenumber-dev postgresql gdb curl wrk
  # bench/count_instructions.sh: instructions per callback, which the box's load does not move
  valgrind
  # bench/soak.sh plots its samples
  gnuplot-nox
  # the organizer page's browser tests (tests/browser): Debian's Chromium, and a font with
  # Arial's metrics so that screenshots look the same on every machine
  chromium fonts-liberation2
)

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

# A working node (e.g. /usr/bin/node v20 from another repository) is kept: Debian's own
# nodejs/npm would replace or conflict with it.
if ! node --version >/dev/null 2>&1; then
  missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
elif ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]} > 0)); then
  sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root: run as root"
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_log="$(mktemp)"
  trap 'rm -f "$apt_log"' EXIT
  # Quiet when it works; the whole apt output when it does not.
  if ! "${sudo[@]}" apt-get update -qq </dev/null >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    die "apt-get update failed"
  fi
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    </dev/null >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    die "apt-get install ${missing[*]} failed"
  fi
  for p in "${missing[@]}"; do
    installed "$p" || die "package $p is still not installed"
  done
fi

[[ -x /usr/lib/postgresql/15/bin/initdb ]] || die "PostgreSQL 15 server binaries not found in /usr/lib/postgresql/15/bin"
node --version >/dev/null 2>&1 || die "node does not run"

# npm packages of the test suite, each folder from its package-lock.json. node_modules/.smsd-lock is
# a copy of the lock file it was installed from: a changed lock file installs again.
#  tests/node: Twilio's official library as an independent signer, Prism, Redocly
#  tests/browser: playwright-core (drives /usr/bin/chromium; it downloads no browser), axe-core
npm_install() {
  local node_dir="$1"
  [[ -f "$node_dir/package.json" ]] || return 0
  cmp -s "$node_dir/package-lock.json" "$node_dir/node_modules/.smsd-lock" && return 0
  log "installing npm packages in ${node_dir#"$SMSD_ROOT"/}"
  local npm_flags=(--no-audit --no-fund --loglevel=error) npm_cmd=install
  [[ -f "$node_dir/package-lock.json" ]] && npm_cmd=ci
  if ! (cd "$node_dir" && timeout 600 npm "$npm_cmd" "${npm_flags[@]}" </dev/null >/dev/null); then
    rm -rf "$node_dir/node_modules" # a half-filled node_modules would be skipped next time
    die "npm $npm_cmd in ${node_dir#"$SMSD_ROOT"/} failed"
  fi
  cp "$node_dir/package-lock.json" "$node_dir/node_modules/.smsd-lock"
}
npm_install "$SMSD_ROOT/tests/node"
npm_install "$SMSD_ROOT/tests/browser"
#  bench/reference: twilio and pg for the seed-style reference server (bench/run_twilio_load.sh --reference)
npm_install "$SMSD_ROOT/bench/reference"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is missing (package chromium)"
