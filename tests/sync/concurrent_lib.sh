# concurrent_lib.sh - the checks of a concurrent load driven by pg_drive.py
# (raw protocol, random sealed bodies), shared by test_sync_concurrent.sh
# and pg_concurrent.sh.  Sourced after lib.sh, with the first server
# started ($URL).
DRIVE="$SYNC_DIR/pg_drive.py"

# setup NAME: a new team of 13 supervisors' devices (1 setup, 8 pushers, 4
# pullers) in $tmp/NAME.json; one check.
setup() {
    expect_exit 0 "linkbookd admin team-create $1" -- lbd admin team-create "$1"
    _code=$(tail -n 1 "$out" | tr -d '\r')
    expect_exit 0 "$1: 13 devices enrolled, the person assigned" -- \
        timeout 120 python3 "$DRIVE" team "$URL" "$_code" 12 "$tmp/$1.json"
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

