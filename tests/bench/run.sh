#!/bin/sh
# tests/bench/run.sh BUILD_DIR - run linkbook's benchmarks (make bench).
#
# Expects BUILD_DIR to hold an optimised build: BUILD_DIR/bench/bench_local
# and BUILD_DIR/linkbook (make bench builds both into build-bench).  Prints
# the machine, then one table (figure, median, min-max, unit, goal, met?),
# and writes the same figures to BUILD_DIR/bench.json.
#
# Environment: BENCH_N (contacts per write run, default 20000), BENCH_RUNS
# (default 5), BENCH_TMP (where the temporary stores go, default /tmp).
# A benchmark, not a test: a missed goal says NO in the table; the exit
# status is non-zero only when the benchmark itself could not run.
set -u

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
