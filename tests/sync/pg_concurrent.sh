#!/bin/sh
# pg_concurrent.sh - ordering that never skips, and a killed process, with
# two linkbookd processes on one PostgreSQL database.
#
# 1. 8 devices push batches for one person on one caseload, each batch to
#    the next process in turn, while 4 devices pull that caseload over and
#    over from the processes in turn (tests/sync/pg_drive.py: raw protocol,
#    random sealed bodies).  Every acknowledged envelope has its own number,
#    the numbers run 1..N without a hole; every puller ends with every
#    change exactly once, in sequence order; and no pull ever returned a
#    number above one it had not returned yet (each pull's numbers are
#    exactly cursor+1, cursor+2, ...: a later-filled gap would show here).
# 2. The same with one process killed (kill -9) once 150 envelopes are
#    acknowledged, pushes in flight: the devices carry on through the other
#    process, everything acknowledged is in the database and reaches every
#    puller, in order, once.
. "$(dirname "$0")/lib.sh"
[ "$BACKEND" = postgres ] || { echo "skip - pg_concurrent needs LB_TEST_BACKEND=postgres"; exit 0; }
. "$SYNC_DIR/concurrent_lib.sh"

srv_start || finish
URL_a=$URL
srv_more b || finish

# --- 1. 8 pushers, 4 pullers, two processes -----------------------------------------------
setup race
expect_exit 0 "race: 8 devices push 15 batches of 5 through a and b while 4 pull" -- \
    timeout 200 python3 "$DRIVE" load "$tmp/race.json" "$tmp/race-report.json" "$URL_a" "$URL_b" \
        --pushers 8 --pullers 4 --batches 15 --batch 5 --deadline 150
verdict race "$tmp/race-report.json" 601
expect_json "race: no request failed" "$tmp/race-report.json" 'doc["failures"]'
in_db race "$tmp/race-report.json"

# --- 2. kill -9 one process mid-push ----------------------------------------------------------
setup kill
expect_exit 0 "kill: the same load, b killed (kill -9) after 150 acknowledgements" -- \
    timeout 200 python3 "$DRIVE" load "$tmp/kill.json" "$tmp/kill-report.json" "$URL_a" "$URL_b" \
        --pushers 8 --pullers 4 --batches 15 --batch 5 --deadline 150 --kill "$PID_b" --kill-after 150
expect_json "kill: b was killed mid-load" "$tmp/kill-report.json" 'doc["killed"]'
check "kill: b is gone" sh -c "! kill -0 $PID_b 2>/dev/null"
expect_json "kill: devices saw b fail and carried on through a" "$tmp/kill-report.json" \
    'doc["failures_conn"] > 0 and all(f["url"] == "'"$URL_b"'" for f in doc["failures"])'
verdict kill "$tmp/kill-report.json" 601
in_db kill "$tmp/kill-report.json"
srv_stop
finish
