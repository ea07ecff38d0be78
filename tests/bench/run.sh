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
# default 10); BENCH_PACED_DEVICES and BENCH_PACED_MS (the same load paced:
# each device syncs once every BENCH_PACED_MS, default 500 devices and 1000
# ms; 0 ms skips); for the 200-device load on PostgreSQL with one and two
# linkbookd processes (then a side-by-side table of the three): BENCH_PG (a
# conninfo), else LB_TEST_PG, else a throwaway cluster (tests/pg_cluster.sh);
# skipped, saying so, without PostgreSQL (BENCH_PG_DEVICES, default 200; 0
# skips).
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
    : "${BENCH_PACED_DEVICES:=50}"
    : "${BENCH_PEER_N:=1000}" "${BENCH_PEER_RUNS:=2}" "${BENCH_TEAM_CHANGES:=5000}"
    : "${BENCH_TEAM_RUNS:=2}" "${BENCH_GROWTH_SIZES:=1000,10000}" "${BENCH_GROWTH_REPS:=3}"
    : "${BENCH_PG_DEVICES:=50}"
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
# Devices paced (BENCH_PACED_DEVICES, default 500): each syncs once every
# BENCH_PACED_MS (default 1000; 0 skips), the first syncs spread over one
# period; a push's latency counts from when it was due.
if [ "${BENCH_PACED_MS:-1000}" -gt 0 ]; then
    "$SYNC" --linkbook "$BUILD_DIR/linkbook" --linkbookd "$BUILD_DIR/linkbookd" \
        --runs 0 --mem-changes 0 --devices "${BENCH_PACED_DEVICES:-500}" \
        --secs "${BENCH_SYNC_SECS:-10}" --pace-ms "${BENCH_PACED_MS:-1000}" \
        --label "paced load (a sync every ${BENCH_PACED_MS:-1000} ms)" --tmp "${BENCH_TMP:-/tmp}" \
        --json "$BUILD_DIR/bench.json" 2>&1 ||
        { echo "run.sh: the paced load failed" >&2; exit 1; }
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
# --- the 200-device load on PostgreSQL: one and two linkbookd processes ------------------
# Side by side with the SQLite row above (bench_sync --postgres, --servers).
# The database: $BENCH_PG (a conninfo; the benchmark adds teams to it), else a
# fresh database in the cluster $LB_TEST_PG reaches, else a throwaway cluster
# started here (tests/pg_cluster.sh, needs Debian's postgresql); without any,
# the PostgreSQL rows are skipped, saying so.
pg_rows() {
    _pg_dir=""
    _pg=${BENCH_PG:-}
    if [ -z "$_pg" ] && [ -z "${LB_TEST_PG:-}" ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        _pg_dir=$(mktemp -d /tmp/linkbook-bench-pg.XXXXXX)
        LB_TEST_PG=$(sh "$(dirname "$0")/../pg_cluster.sh" start "$_pg_dir" 2>/dev/null) || LB_TEST_PG=""
    fi
    if [ -z "$_pg" ] && [ -n "${LB_TEST_PG:-}" ]; then
        _db="lbbench_$$"
        psql "$LB_TEST_PG dbname=postgres" -qAt -c "CREATE DATABASE $_db" >/dev/null 2>&1 &&
            _pg="$LB_TEST_PG dbname=$_db"
    fi
    if [ -z "$_pg" ]; then
        echo
        echo "load on PostgreSQL: skipped (no PostgreSQL: set BENCH_PG or LB_TEST_PG, or apt-get install postgresql)"
    else
        for _n in 1 2; do
            _label="load pg x$_n"
            "$SYNC" --linkbook "$BUILD_DIR/linkbook" --linkbookd "$BUILD_DIR/linkbookd" \
                --runs 0 --mem-changes 0 --devices "$PG_DEVICES" \
                --secs "${BENCH_SYNC_SECS:-10}" --tmp "${BENCH_TMP:-/tmp}" \
                --postgres "$_pg" --servers "$_n" --label "$_label" \
                --json "$BUILD_DIR/bench.json" >/dev/null 2>"$BUILD_DIR/bench-pg$_n.log" ||
                echo "run.sh: the load on PostgreSQL ($_n process(es)) failed: $(tail -n 3 "$BUILD_DIR/bench-pg$_n.log")" >&2
        done
    fi
    [ -n "${_db:-}" ] && [ -z "${BENCH_PG:-}" ] &&
        psql "$LB_TEST_PG dbname=postgres" -qAt -c "DROP DATABASE IF EXISTS $_db WITH (FORCE)" >/dev/null 2>&1
    if [ -n "$_pg_dir" ]; then
        sh "$(dirname "$0")/../pg_cluster.sh" stop "$_pg_dir" >/dev/null 2>&1
        rm -rf "$_pg_dir"
    fi
}
PG_DEVICES=${BENCH_PG_DEVICES:-200}
if [ "$PG_DEVICES" -gt 0 ]; then
    pg_rows
    python3 - "$BUILD_DIR/bench.json" "$PG_DEVICES" <<'PY'
import json, sys
figs = {f["figure"]: f["median"] for f in json.load(open(sys.argv[1])).get("figures", [])}
rows = [("SQLite, 1 process", "load"), ("PostgreSQL, 1 process", "load pg x1"),
        ("PostgreSQL, 2 processes", "load pg x2")]
print("\n%s-device load, side by side (one run each; the machine's 2 cores are shared by "
      "the load generator, linkbookd and PostgreSQL)" % sys.argv[2])
print("%-26s %14s %10s %10s %8s" % ("server", "changes/s", "p50 ms", "p99 ms", "failed"))
for name, label in rows:
    label = "%s %s devices" % (label, sys.argv[2])
    k = label + ": changes pushed (committed)"
    if k not in figs:
        print("%-26s %14s" % (name, "not run"))
        continue
    print("%-26s %14.0f %10.1f %10.1f %8.0f" % (name, figs[k], figs[label + ": request latency p50"],
          figs[label + ": request latency p99"], figs[label + ": failed requests"]))
PY
fi
"$BIN/bench_report" "$JSON" || exit 1
