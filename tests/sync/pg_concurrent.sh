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
DRIVE="$SYNC_DIR/pg_drive.py"

srv_start || finish
URL_a=$URL
srv_more b || finish

# setup NAME: a new team of 13 supervisors' devices (1 setup, 8 pushers, 4
# pullers) in $tmp/NAME.json; one check.
setup() {
    expect_exit 0 "linkbookd admin team-create $1" -- lbd admin team-create "$1"
    _code=$(tail -n 1 "$out" | tr -d '\r')
    expect_exit 0 "$1: 13 devices enrolled, the person assigned" -- \
        timeout 120 python3 "$DRIVE" team "$URL_a" "$_code" 12 "$tmp/$1.json"
}

# verdict NAME REPORT WANT: the checks on a load report.
verdict() {
    _r=$2
    echo "# $1: $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%d acknowledged in %.1f s; pulls per puller %s; %d failed requests (%d HTTP 503, %d connections refused or cut)" % (
    d["acked"], d["seconds"], sorted(d["pulls"].values()), len(d["failures"]), d["failures_503"], d["failures_conn"]))' "$_r" 2>&1)"
    expect_json "$1: every envelope pushed was acknowledged ($3)" "$_r" 'doc["acked"] == '"$3"
    expect_json "$1: none was refused" "$_r" 'doc["rejected"] == 0'
    expect_json "$1: within the deadline" "$_r" 'not doc["late"]'
    expect_json "$1: each acknowledgement names its number" "$_r" 'doc["findings"]["acked_without_seq"]'
    expect_json "$1: the numbers run 1..N without a hole" "$_r" 'not doc["findings"]["seqs_not_contiguous"]'
    expect_json "$1: every puller got every change exactly once, in sequence order" "$_r" \
        'doc["findings"]["pullers_wrong"] == {}'
    expect_json "$1: four pullers pulled, more than once each" "$_r" \
        'len(doc["pulls"]) == 4 and sorted(doc["pulls"].values())[0] > 1'
    expect_json "$1: no pull returned a number above a gap (each answer is cursor+1, +2, ...)" "$_r" \
        'doc["findings"]["gap_reads"]'
}

# in_db NAME REPORT: every acknowledged id is stored, filed once under the caseload.
in_db() {
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write("\n".join(sorted(r["seqs"])) + "\n")' "$2" "$tmp/$1.ids"
    set -- "$1" "$2" $(python3 -c 'import json, sys; t = json.load(open(sys.argv[1])); print(t["team"], t["caseload"])' "$tmp/$1.json")
    srv_sql "SELECT e.id FROM envelopes e JOIN filed f ON f.envelope = e.n WHERE f.team = '$3' AND f.caseload = '$4' ORDER BY e.id" >"$tmp/$1.db"
    if cmp -s "$tmp/$1.ids" "$tmp/$1.db"; then
        ok "$1: the database holds every acknowledged envelope, once, and nothing else ($(wc -l <"$tmp/$1.db"))"
    else
        fail "$1: the database holds every acknowledged envelope, once" \
            "acknowledged $(wc -l <"$tmp/$1.ids"), in the database $(wc -l <"$tmp/$1.db")" \
            "$(diff "$tmp/$1.ids" "$tmp/$1.db" | head -n 5)"
    fi
}

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
