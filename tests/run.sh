#!/bin/sh
# tests/run.sh BUILD_DIR - run every test of linkbook and count the results.
#
#   1. every unit test binary BUILD_DIR/tests/test_* (cmocka), with
#      CMOCKA_MESSAGE_OUTPUT=TAP: each "ok N" line is a pass, each "not ok N"
#      a failure; a binary that crashes, times out or exits non-zero without
#      reporting a "not ok" counts as one failure named after it;
#   2. every scenario script tests/cli/test_*.sh, run with sh (POSIX), with
#      LINKBOOK exported as the absolute path of BUILD_DIR/linkbook: each
#      "ok - name" line is a pass, each "not ok - name" a failure; a script
#      that exits non-zero without reporting a failure counts as one failure;
#   3. every end-to-end sync script tests/sync/test_*.sh, run exactly the
#      same way, with LINKBOOKD exported as well (BUILD_DIR/linkbookd): they
#      start their own linkbookd on 127.0.0.1 (ephemeral port).  Each runs
#      twice: on SQLite (LB_TEST_BACKEND=sqlite, labelled sync/NAME) and on
#      PostgreSQL (LB_TEST_BACKEND=postgres, labelled sync-pg/NAME), the
#      latter in a fresh database of the cluster $LB_TEST_PG reaches; without
#      $LB_TEST_PG it prints "skip - ..." and counts as skipped.  Scripts
#      tests/sync/pg_*.sh are for PostgreSQL only (several linkbookd on one
#      database) and run once, the same way.  LB_TEST_PG_VARIANTS=0 runs the
#      test_*.sh scripts on SQLite only (the pg_*.sh scripts still run): .ci/run
#      does so for the AddressSanitizer suite, to keep CI's time in bounds.
#
# Each binary and script runs under `timeout 300`.  Every failure is named at
# the end, and the last line is "N passed, M failed" (then ", K skipped" when
# something was skipped); the exit status is non-zero when M > 0.  POSIX sh
# (dash) compatible.

set -u

if [ $# -ne 1 ]; then
    echo "usage: sh tests/run.sh BUILD_DIR" >&2
    exit 2
fi

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$1
if [ ! -d "$BUILD_DIR" ]; then
    echo "run.sh: no build directory $BUILD_DIR (run make first)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
LINKBOOK="$BUILD_DIR/linkbook"
LINKBOOKD="$BUILD_DIR/linkbookd"
export LINKBOOK LINKBOOKD

TIMEOUT=${LINKBOOK_TEST_TIMEOUT:-300}

work=$(mktemp -d "${TMPDIR:-/tmp}/linkbook-run.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP

failures="$work/failures"
: >"$failures"
passed=0
failed=0
skipped=0

# count_output FILE PASS_RE FAIL_RE LABEL: add the file's passes and failures
# to the totals, record failing lines as "LABEL: line"; sets $nfail.
count_output() {
    _p=$(grep -cE "$2" "$1")
    nfail=$(grep -cE "$3" "$1")
    passed=$((passed + _p))
    failed=$((failed + nfail))
    grep -E "$3" "$1" | sed "s|^|$4: |" >>"$failures"
    skipped=$((skipped + $(grep -cE '^skip( |$)' "$1")))
}

# whole_failure LABEL REASON: one failure for a binary or script as a whole.
whole_failure() {
    failed=$((failed + 1))
    echo "$1 ($2)" >>"$failures"
}

status_reason() {
    case $1 in
        124|137) echo "timed out after ${TIMEOUT}s" ;;
        *) if [ "$1" -gt 128 ]; then
               echo "killed by signal $(($1 - 128))"
           else
               echo "exit status $1 without a reported failure"
           fi ;;
    esac
}

# --- 1. unit tests ---------------------------------------------------------
for bin in "$BUILD_DIR"/tests/test_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    log="$work/$name.log"
    echo "== $name"
    CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$TIMEOUT" "$bin" >"$log" 2>&1 </dev/null
    st=$?
    cat "$log"
    count_output "$log" '^ok [0-9]+' '^not ok [0-9]+' "$name"
    if [ "$st" -ne 0 ] && [ "$nfail" -eq 0 ]; then
        whole_failure "$name" "$(status_reason "$st")"
    elif [ "$st" -gt 128 ] || [ "$st" -eq 124 ]; then
        # It crashed after reporting some failures: say so as well.
        whole_failure "$name" "$(status_reason "$st")"
    fi
done

# run_script SCRIPT LABEL [VAR=VALUE...]: one scenario script, counted.
run_script() {
    _script=$1
    _label=$2
    shift 2
    log="$work/$(echo "$_label" | tr '/' '-').log"
    echo "== $_label"
    env "$@" timeout -k 10 "$TIMEOUT" sh "$_script" >"$log" 2>&1 </dev/null
    st=$?
    cat "$log"
    count_output "$log" '^ok( |$)' '^not ok( |$)' "$_label"
    if [ "$st" -ne 0 ] && [ "$nfail" -eq 0 ]; then
        whole_failure "$_label" "$(status_reason "$st")"
    elif [ "$st" -gt 128 ] || [ "$st" -eq 124 ]; then
        whole_failure "$_label" "$(status_reason "$st")"
    fi
}

# --- 2. command-line scenarios, 3. end-to-end sync scenarios ---------------
for script in "$TESTS_DIR"/cli/test_*.sh; do
    [ -f "$script" ] || continue
    run_script "$script" "cli/$(basename "$script" .sh)"
done
for script in "$TESTS_DIR"/sync/test_*.sh; do
    [ -f "$script" ] || continue
    name=$(basename "$script" .sh)
    run_script "$script" "sync/$name" LB_TEST_BACKEND=sqlite
    [ "${LB_TEST_PG_VARIANTS:-1}" = 0 ] ||
        run_script "$script" "sync-pg/$name" LB_TEST_BACKEND=postgres
done
for script in "$TESTS_DIR"/sync/pg_*.sh; do
    [ -f "$script" ] || continue
    run_script "$script" "sync-pg/$(basename "$script" .sh)" LB_TEST_BACKEND=postgres
done

echo
if [ "$failed" -gt 0 ]; then
    echo "Failures:"
    sed 's/^/  /' "$failures"
    echo
fi
if [ "$skipped" -gt 0 ]; then
    echo "$skipped skipped (PostgreSQL runs need LB_TEST_PG: see tests/pg_cluster.sh)"
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
