#!/bin/sh
# test_sync_concurrent.sh - one linkbookd under concurrent pushes and pulls:
# 8 devices push batches for one person on one caseload at once while 4
# devices pull that caseload over and over (tests/sync/pg_drive.py).  On
# SQLite concurrent pushes are stored in groups, one transaction and one
# commit for several pushes; on PostgreSQL each in its own transaction.
# Either way every acknowledged envelope has its own number, the numbers run
# 1..N without a hole, every puller gets every change once and in order, no
# pull returns a number above a gap, and the database holds exactly what
# was acknowledged.
. "$(dirname "$0")/lib.sh"
. "$SYNC_DIR/concurrent_lib.sh"

srv_start || finish

setup crowd
expect_exit 0 "crowd: 8 devices push 15 batches of 5 at once while 4 pull" -- \
    timeout 200 python3 "$DRIVE" load "$tmp/crowd.json" "$tmp/crowd-report.json" "$URL" \
        --pushers 8 --pullers 4 --batches 15 --batch 5 --deadline 150
verdict crowd "$tmp/crowd-report.json" 601
expect_json "crowd: no request failed" "$tmp/crowd-report.json" 'doc["failures"]'
in_db crowd "$tmp/crowd-report.json"
srv_stop
finish
