#!/usr/bin/env bash
# Builds smsd and runs its whole test suite against a throw-away PostgreSQL on loopback.
#
#   scripts/test.sh [--quick] [--no-deps] [-- CTEST_ARGS...]
#     --quick     leave out the Catch2 tests tagged [slow] (and any ctest label "slow")
#     --no-deps   skip scripts/install-deps.sh (for a machine you know is ready)
#     CTEST_ARGS  passed on to ctest, e.g. -- -R "^persistence:" or -- -L integration
#
# Environment: SMSD_BUILD_DIR (default build), SMSD_TEST_TIMEOUT (seconds for the whole ctest
# run, default 1800), SMSD_TEST_JOBS (ctest -j, default 2).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SMSD_ROOT"

quick=0
deps=1
ctest_extra=()
while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-deps) deps=0 ;;
    --)
      shift
      ctest_extra=("$@")
      break
      ;;
    -h | --help)
      sed -n '2,11s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

build_dir="$(smsd_build_dir)"
if ((deps)); then
  "$SMSD_ROOT/scripts/install-deps.sh"
fi
"$SMSD_ROOT/scripts/build.sh"

# A ctest -E pattern matching every Catch2 test tagged [slow], as ctest names them
# ("<area>:<test name>" for tests/unit/<area>, "integration:<test name>", with or without a
# space after the colon). Catch2 2's test discovery does not turn tags into ctest labels, so
# ask each test binary.
# Fills slow_tests with one pattern per test.
slow_tests=()
find_slow_tests() {
  local exe area name
  while IFS= read -r -d '' exe; do
    case "$(basename "$exe")" in
      unit_*) area="$(basename "$exe")"; area="${area#unit_}" ;;
      integration_tests) area="integration" ;;
      *) continue ;;
    esac
    while IFS= read -r name; do
      [[ -n "$name" ]] || continue
      # Every character but letters, digits and spaces is escaped: CMake's regex reads "\x" as x.
      slow_tests+=("$(escape_regex "$area"): ?$(escape_regex "$name")")
    done < <("$exe" '[slow]' --list-test-names-only </dev/null || true)
  done < <(find "$build_dir/tests" -maxdepth 2 -type f -perm -u+x \( -name 'unit_*' -o -name integration_tests \) -print0 2>/dev/null)
}

escape_regex() {
  printf '%s' "$1" | sed 's/[^A-Za-z0-9 ]/\\&/g'
}

ctest_args=(--test-dir "$build_dir" --output-on-failure --no-tests=error -j "${SMSD_TEST_JOBS:-2}")
if ((quick)); then
  ctest_args+=(-LE slow)
  find_slow_tests
  if ((${#slow_tests[@]} > 0)); then
    ctest_args+=(-E "^($(IFS='|' && echo "${slow_tests[*]}"))\$")
    log "--quick: leaving out ${#slow_tests[@]} test(s) tagged [slow]"
  fi
fi

pg_dir="$(mktemp -d /tmp/smsd-test-pg.XXXXXX)"
ctest_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$ctest_pid" ]] && kill -0 "$ctest_pid" 2>/dev/null; then
    # Interrupted: `timeout` passes the signal to ctest's process group, KILL 30 s later.
    kill -TERM "$ctest_pid" 2>/dev/null || true
    wait "$ctest_pid" 2>/dev/null || true
  fi
  "$SMSD_ROOT/scripts/pg-test-cluster.sh" stop "$pg_dir" || rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_port="$(free_port)"
SMSD_TEST_PG_URL="$("$SMSD_ROOT/scripts/pg-test-cluster.sh" start "$pg_dir" "$pg_port")"
export SMSD_TEST_PG_URL
log "SMSD_TEST_PG_URL=$SMSD_TEST_PG_URL"

limit="${SMSD_TEST_TIMEOUT:-1800}"
status=0
# In the background, so that a signal to this script is handled at once (bash runs traps only
# between commands, and `wait` is one it interrupts).
timeout --kill-after=30 "$limit" ctest "${ctest_args[@]}" "${ctest_extra[@]}" </dev/null &
ctest_pid=$!
wait "$ctest_pid" || status=$?
ctest_pid=""
if ((status == 124 || status == 137)); then
  die "the test suite did not finish within ${limit}s"
elif ((status != 0)); then
  die "tests failed (ctest exit status $status)"
fi
log "all tests passed"
