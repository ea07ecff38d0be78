#!/bin/sh
# tests/bench/run.sh BUILD_DIR - run linkbook's benchmarks (make bench).
#
# Expects BUILD_DIR to hold an optimised build: BUILD_DIR/bench/bench_local,
# BUILD_DIR/bench/bench_sync, BUILD_DIR/linkbook and BUILD_DIR/linkbookd
# (make bench builds them into build-bench).  Prints the machine, then the
# local table (figure, median, min-max, unit, goal, met?), then the sync
# table (the same columns and PouchDB's figures, quoted from
# ../shared/bench/README.md), and writes every figure to BUILD_DIR/bench.json.
#
# Environment: BENCH_N (contacts per write run, default 20000), BENCH_RUNS
# (default 5), BENCH_TMP (where the temporary stores go, default /tmp);
# for the sync benchmark (linkbookd on 127.0.0.1 only): BENCH_SYNC_N
# (contacts pushed and pulled, default 10000), BENCH_SYNC_RUNS (default 3),
# BENCH_SYNC_MEM (changes pulled by `linkbook sync` for its peak memory,
# default 100000; 0 skips), BENCH_SYNC_DEVICES (concurrent devices of the
# load generator, default 200; 0 skips), BENCH_SYNC_SECS (its length,
# default 10).
# BENCH_REVIEW_PEOPLE / BENCH_REVIEW_CONTACTS (the review benchmark's team:
# 10 workers, default 3000 people and 60000 contacts; 0 people skips it).
# Beside them (tests/bench/bench_lb.h, counted on the socket by
# bench_proxy): bench_peer, linkbook beside PouchDB in the same run
# (BENCH_PEER_N visits, default 10000; BENCH_PEER_RUNS, default 3; PouchDB
# installed by tests/bench/pouch/install.sh into BUILD_DIR/pouch, or
# "skipped: ..." without node and npm); bench_team, a supervisor's first
# sync of a team (BENCH_TEAM_CHANGES, default 50000, in 10 caseloads;
# BENCH_TEAM_RUNS, default 3); bench_growth, the same syncs as the stores
# grow (BENCH_GROWTH_SIZES, default 1000,10000,100000; BENCH_GROWTH_REPS,
# default 9).  BENCH_SYNC_DEVICES may be a list (default 50,200,500).
# Then one table of every figure (bench_report).
# BENCH_QUICK=1: a fast smoke run (small sizes, fewer runs); any variable
# set explicitly still wins.
# A benchmark, not a test: a missed goal says NO in the table; the exit
# status is non-zero only when the benchmark itself could not run.
set -u

if [ "${BENCH_QUICK:-0}" = 1 ]; then
    : "${BENCH_N:=2000}" "${BENCH_RUNS:=2}" "${BENCH_SYNC_N:=2000}" "${BENCH_SYNC_RUNS:=1}"
    : "${BENCH_SYNC_MEM:=0}" "${BENCH_SYNC_DEVICES:=50}" "${BENCH_SYNC_SECS:=3}"
    : "${BENCH_PEER_N:=1000}" "${BENCH_PEER_RUNS:=2}" "${BENCH_TEAM_CHANGES:=5000}"
    : "${BENCH_TEAM_RUNS:=2}" "${BENCH_GROWTH_SIZES:=1000,10000}" "${BENCH_GROWTH_REPS:=3}"
fi

if [ $# -ne 1 ]; then
    echo "usage: sh tests/bench/run.sh BUILD_DIR" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || {
    echo "run.sh: no build directory $1 (run 'make bench')" >&2
    exit 1
}
BENCH="$BUILD_DIR/bench/bench_local"
if [ ! -x "$BENCH" ]; then
    echo "run.sh: $BENCH is missing (run 'make bench')" >&2
    exit 1
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "linkbook benchmark - $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc 2>/dev/null || echo '?') cores, ${cpu:-unknown CPU}, $(uname -sr)"
echo "commit:  $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "build:   $BUILD_DIR"
echo "load:    $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null) (1, 5, 15 min; the figures are noisier when this is high)"
echo

"$BENCH" --n "${BENCH_N:-20000}" --runs "${BENCH_RUNS:-5}" --tmp "${BENCH_TMP:-/tmp}" \
    --cli "$BUILD_DIR/linkbook" --json "$BUILD_DIR/bench.json" 2>&1
st=$?
if [ "$st" -ne 0 ]; then
    echo "run.sh: the benchmark failed (exit $st)" >&2
    exit 1
fi

SYNC="$BUILD_DIR/bench/bench_sync"
if [ ! -x "$SYNC" ] || [ ! -x "$BUILD_DIR/linkbookd" ]; then
    echo "run.sh: $SYNC or $BUILD_DIR/linkbookd is missing (run 'make bench')" >&2
    exit 1
fi
"$SYNC" --linkbook "$BUILD_DIR/linkbook" --linkbookd "$BUILD_DIR/linkbookd" \
    --n "${BENCH_SYNC_N:-10000}" --runs "${BENCH_SYNC_RUNS:-3}" \
    --mem-changes "${BENCH_SYNC_MEM:-100000}" --devices "${BENCH_SYNC_DEVICES:-50,200,500}" \
    --secs "${BENCH_SYNC_SECS:-10}" --tmp "${BENCH_TMP:-/tmp}" \
    --json "$BUILD_DIR/bench.json" 2>&1
st=$?
if [ "$st" -ne 0 ]; then
    echo "run.sh: the sync benchmark failed (exit $st)" >&2
    exit 1
fi

REVIEW="$BUILD_DIR/bench/bench_review"
if [ "${BENCH_REVIEW_PEOPLE:-3000}" -gt 0 ] && [ -x "$REVIEW" ]; then
    "$REVIEW" --workers 10 --people "${BENCH_REVIEW_PEOPLE:-3000}" \
        --contacts "${BENCH_REVIEW_CONTACTS:-60000}" --runs "${BENCH_RUNS:-5}" \
        --tmp "${BENCH_TMP:-/tmp}" --cli "$BUILD_DIR/linkbook" \
        --json "$BUILD_DIR/bench_review.json" 2>&1 || {
        echo "run.sh: the review benchmark failed" >&2
        exit 1
    }
fi
BIN="$BUILD_DIR/bench"
TMPD="${BENCH_TMP:-/tmp}"
JSON="$BUILD_DIR/bench.json"
HERE=$(cd "$(dirname "$0")" && pwd)
if skip=$(sh "$HERE/pouch/install.sh" "$BUILD_DIR/pouch"); then
    set -- --node "$(command -v node)" --pouch-js "$HERE/pouch/bench.js" \
        --node-modules "$BUILD_DIR/pouch/node_modules"
else
    echo "PouchDB $skip" >&2
    set -- --pouch-skip "${skip#skipped: }"
fi
"$BIN/bench_peer" --linkbook "$BUILD_DIR/linkbook" --linkbookd "$BUILD_DIR/linkbookd" \
    --proxy "$BIN/bench_proxy" --n "${BENCH_PEER_N:-10000}" --runs "${BENCH_PEER_RUNS:-3}" \
    --tmp "$TMPD" --json "$JSON" "$@" 2>&1 || { echo "run.sh: bench_peer failed" >&2; exit 1; }
"$BIN/bench_team" --linkbook "$BUILD_DIR/linkbook" --linkbookd "$BUILD_DIR/linkbookd" \
    --proxy "$BIN/bench_proxy" --changes "${BENCH_TEAM_CHANGES:-50000}" \
    --runs "${BENCH_TEAM_RUNS:-3}" --tmp "$TMPD" --json "$JSON" 2>&1 ||
    { echo "run.sh: bench_team failed" >&2; exit 1; }
"$BIN/bench_growth" --linkbookd "$BUILD_DIR/linkbookd" \
    --sizes "${BENCH_GROWTH_SIZES:-1000,10000,100000}" --reps "${BENCH_GROWTH_REPS:-9}" \
    --tmp "$TMPD" --json "$JSON" 2>&1 || { echo "run.sh: bench_growth failed" >&2; exit 1; }
"$BIN/bench_report" "$JSON" || exit 1
