#!/bin/sh
# pg_restart.sh - PostgreSQL stops and starts again under load: two
# linkbookd processes answer with a clear 503 (an error document, code
# "unavailable", naming the database) while it is down, and work again once
# it is back, without being restarted; nothing acknowledged is lost, no
# pull skips anything, and the epoch is the same before and after.
#
# Needs the cluster's directory in $LB_TEST_PG_DIR (tests/pg_cluster.sh
# stops and starts it; .ci/run sets it); skipped without it.
. "$(dirname "$0")/lib.sh"
[ "$BACKEND" = postgres ] || { echo "skip - pg_restart needs LB_TEST_BACKEND=postgres"; exit 0; }
if [ -z "${LB_TEST_PG_DIR:-}" ]; then
    [ "${CI:-}" = true ] && { fail "LB_TEST_PG_DIR is set in CI" ".ci/run exports it"; finish; }
    echo "skip - pg_restart (LB_TEST_PG_DIR is not set: the cluster cannot be restarted)"
    exit 0
fi
DRIVE="$SYNC_DIR/pg_drive.py"
CLUSTER="$SYNC_DIR/../pg_cluster.sh"
PG_DOWN=0
_pg_up() {
    [ "$PG_DOWN" = 1 ] && sh "$CLUSTER" start "$LB_TEST_PG_DIR" >/dev/null 2>&1
    PG_DOWN=0
}
trap '_pg_up; _sync_cleanup' EXIT

srv_team "restart"
srv_start || finish
URL_a=$URL
srv_more b || finish
expect_exit 0 "13 devices enrolled, the person assigned" -- \
    timeout 120 python3 "$DRIVE" team "$URL_a" "$CODE" 12 "$tmp/team.json"
E1=$(curl -sS --max-time 10 "$URL_a/healthz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["epoch"])')
TOKEN=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["devices"][12]["token"])' "$tmp/team.json")

timeout 200 python3 "$DRIVE" load "$tmp/team.json" "$tmp/report.json" "$URL_a" "$URL_b" \
    --pushers 8 --pullers 4 --batches 40 --batch 5 --deadline 150 --progress "$tmp/progress" \
    >"$tmp/drive.out" 2>&1 &
DRIVER=$!
BG_PIDS="$BG_PIDS $DRIVER"
_i=0
while [ $_i -lt 300 ] && [ "$(cat "$tmp/progress" 2>/dev/null || echo 0)" -lt 200 ]; do
    sleep 0.1
    _i=$((_i + 1))
done
check "the load is under way (200 acknowledged)" [ "$(cat "$tmp/progress" 2>/dev/null || echo 0)" -ge 200 ]

# --- PostgreSQL down -----------------------------------------------------------------------
expect_exit 0 "PostgreSQL stops (fast shutdown) under load" -- sh "$CLUSTER" stop "$LB_TEST_PG_DIR"
PG_DOWN=1
for u in a b; do
    eval "URL=\$URL_$u"
    apost "$u: a pull while PostgreSQL is down: 503" 503 /v1/pull '{"cursors": {}}'
    expect_error_doc "$u: the 503 is an error document (unavailable)" unavailable
    expect_json "$u: the 503 says the database is unreachable" "$tmp/body" '"database" in doc["error"]'
    curl_json "$u: healthz while PostgreSQL is down: 503" 503 GET /healthz
done
acked_down=$(cat "$tmp/progress")
sleep 1
check "nothing was acknowledged while PostgreSQL was down" [ "$(cat "$tmp/progress")" = "$acked_down" ]
expect_exit 0 "PostgreSQL starts again" -- sh "$CLUSTER" start "$LB_TEST_PG_DIR"
PG_DOWN=0

# --- back ------------------------------------------------------------------------------------
wait "$DRIVER"
check "the load finished (driver exit 0)" [ $? -eq 0 ]
echo "# $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%d acknowledged in %.1f s; %d failed requests (%d HTTP 503, %d connections cut)" % (
    d["acked"], d["seconds"], len(d["failures"]), d["failures_503"], d["failures_conn"]))' "$tmp/report.json" 2>&1)"
expect_json "the devices saw 503s while it was down" "$tmp/report.json" 'doc["failures_503"] > 0'
expect_json "every 503 was an 'unavailable' error document" "$tmp/report.json" \
    '[f for f in doc["failures"] if f["status"] == 503 and f["code"] != "unavailable"]'
expect_json "every envelope pushed was acknowledged in the end (1601)" "$tmp/report.json" 'doc["acked"] == 1601'
expect_json "within the deadline" "$tmp/report.json" 'not doc["late"]'
expect_json "the numbers run 1..N without a hole" "$tmp/report.json" 'not doc["findings"]["seqs_not_contiguous"]'
expect_json "every puller got every change exactly once, in order" "$tmp/report.json" \
    'doc["findings"]["pullers_wrong"] == {}'
expect_json "no pull returned a number above a gap" "$tmp/report.json" 'doc["findings"]["gap_reads"]'
n=$(srv_sql "SELECT count(*) FROM envelopes")
check "the database holds every acknowledged envelope ($n)" [ "$n" = 1601 ]
URL=$URL_a
for u in a b; do
    eval "URL=\$URL_$u"
    curl_json "$u: healthz after PostgreSQL is back: 200" 200 GET /healthz
    check "$u: the epoch is the same after the restart" [ "$(jget "$tmp/body" epoch)" = "$E1" ]
done
check "the outage is in the log, saying the database is unreachable" \
    grep -q "unreachable" "$tmp/srv.log"
check "no restore was logged" [ "$(cat "$tmp"/srv*.log | grep -c 'database restored')" = 0 ]
srv_stop
finish
