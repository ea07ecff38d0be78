#!/bin/sh
# pg_multi.sh - two linkbookd processes on one PostgreSQL database: any
# request can go to either.  A device enrolled through one is known to the
# other at once; an invitation made through one is redeemed through the
# other; what is pushed through one is pulled through the other; a key
# rotation and a revocation through one take effect on the other with the
# very next request; 'linkbookd admin new-epoch' reaches both while they
# run; restarting both keeps the epoch.
. "$(dirname "$0")/lib.sh"

srv_team "several servers"
SUPCODE=$CODE
srv_start || finish
URL_a=$URL
srv_more b || finish
on() {
    case $1 in a) URL=$URL_a ;; b) URL=$URL_b ;; esac
}
epoch_of() {
    curl -sS --max-time 10 "$1/healthz" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("epoch", ""))' 2>/dev/null
}

# --- enrolment through a, the token works on b -------------------------------------------
on a
curl_enrol sup "$SUPCODE"
SUP=$TOKEN
SUPDEV=$TOKDEV
TEAM=$(jget "$tmp/body" team)
on b
curl_json "b: the supervisor enrolled through a reads its keys" 200 GET /v1/keys -H "Authorization: Bearer $SUP"
apost "b: the supervisor invites a worker" 200 /v1/team/invite '{"role": "link-worker", "name": "w1"}' "$SUP"
W1CODE=$(jget "$tmp/body" code)
on a
curl_enrol w1 "$W1CODE"
W1=$TOKEN
W1DEV=$TOKDEV
W1CL=$TOKCASELOAD
on b
apost "b: the code redeemed through a is used up on b (403)" 403 /v1/enrol \
    "{\"code\": \"$W1CODE\", \"device_key\": \"$(head -c 32 /dev/urandom | base64 | tr -d '\n')\", \"device_name\": \"again\"}" -

# --- pushed through a, pulled through b --------------------------------------------------
PERSON=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
EID=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
BODY=$(head -c 64 /dev/urandom | base64 | tr -d '\n')
on a
wpost "a: w1 pushes an envelope for its new person" 200 /v1/push \
    "{\"envelopes\": [{\"id\": \"$EID\", \"person\": \"$PERSON\", \"key\": 1, \"body\": \"$BODY\", \"assign\": {\"caseload\": \"$W1CL\", \"active\": true}}]}" "$W1"
expect_json "a: acknowledged under w1's caseload" "$tmp/body" \
    'doc["acks"][0]["id"] == "'"$EID"'" and "'"$W1CL"'" in doc["acks"][0]["seq"]'
on b
wpost "b: the supervisor pulls" 200 /v1/pull '{"cursors": {}}' "$SUP"
expect_json "b: the supervisor gets w1's envelope, pushed through a" "$tmp/body" \
    'len([e for e in doc["envelopes"] if e["id"] == "'"$EID"'"]) == 1'

# --- key rotation through b, seen on a ----------------------------------------------------
sealed() { head -c 80 /dev/urandom | base64 | tr -d '\n'; }
on b
apost "b: the supervisor seals key 1 to both devices" 200 /v1/keys \
    "{\"keys\": [{\"device\": \"$SUPDEV\", \"key\": 1, \"sealed\": \"$(sealed)\"}, {\"device\": \"$W1DEV\", \"key\": 1, \"sealed\": \"$(sealed)\"}], \"current\": 1}" "$SUP"
apost "b: the supervisor rotates to key 2" 200 /v1/keys \
    "{\"keys\": [{\"device\": \"$SUPDEV\", \"key\": 2, \"sealed\": \"$(sealed)\"}, {\"device\": \"$W1DEV\", \"key\": 2, \"sealed\": \"$(sealed)\"}], \"current\": 2}" "$SUP"
on a
curl_json "a: w1 reads its sealed keys" 200 GET /v1/keys -H "Authorization: Bearer $W1"
expect_json "a: w1 has keys 1 and 2 at once" "$tmp/body" 'sorted(k["key"] for k in doc["keys"]) == [1, 2]'
wpost "a: w1 pulls" 200 /v1/pull '{"cursors": {}}' "$W1"
expect_json "a: the pull answer names key 2 as current" "$tmp/body" 'doc["key"] == 2'
apost "a: a rotation back to key 1 is refused" 400 /v1/keys '{"keys": [], "current": 1}' "$SUP"

# --- revocation through a, refused by b at once --------------------------------------------
on b
wpost "b: w1 pulls before the revocation" 200 /v1/pull '{"cursors": {}}' "$W1"
on a
apost "a: the supervisor revokes w1's device" 200 /v1/team/revoke "{\"device\": \"$W1DEV\"}" "$SUP"
on b
wpost "b: w1's very next pull is refused (401)" 401 /v1/pull '{"cursors": {}}' "$W1"
expect_error_doc "b: the refusal is an error document (bad_token)" bad_token
on a
wpost "a: w1 is refused there too" 401 /v1/pull '{"cursors": {}}' "$W1"
# An operator's revocation (linkbookd admin revoke, a third process).
on a
apost "a: the supervisor invites w2" 200 /v1/team/invite '{"role": "link-worker", "name": "w2"}' "$SUP"
W2CODE=$(jget "$tmp/body" code)
on b
curl_enrol w2 "$W2CODE"
W2=$TOKEN
wpost "b: w2 pulls" 200 /v1/pull '{"cursors": {}}' "$W2"
expect_exit 0 "linkbookd admin revoke w2 (another process)" -- lbd admin revoke "$TEAM" "$TOKDEV"
on a
wpost "a: w2 is refused at once after the operator's revocation" 401 /v1/pull '{"cursors": {}}' "$W2"
on b
wpost "b: and on b" 401 /v1/pull '{"cursors": {}}' "$W2"

# --- the command line ---------------------------------------------------------------------
expect_exit 0 "linkbookd admin devices --postgres lists the team's devices" -- lbd admin devices "$TEAM"
expect_stdout_has "$TOKDEV.*revoked" "admin devices: w2's device, revoked"
expect_exit 0 "--data DIR --postgres C: the PostgreSQL store is used" -- \
    "$LINKBOOKD" admin devices "$TEAM" --data "$tmp/unused" --postgres "$SRV_PG"
expect_stdout_has "$TOKDEV" "the devices listed are the database's"
expect_stderr_has "data .* is not used" "it says --data is not used"
check "nothing was made in the --data directory" [ ! -e "$tmp/unused" ]
expect_exit 2 "--epoch-file with --postgres is refused (the epoch lives in the database)" -- \
    "$LINKBOOKD" admin new-epoch --postgres "$SRV_PG" --epoch-file "$tmp/e"
expect_exit 2 "--pool without --postgres is refused" -- "$LINKBOOKD" serve --data "$tmp/x" --pool 4
expect_exit 2 "--pool 0 is refused" -- "$LINKBOOKD" serve --postgres "$SRV_PG" --pool 0
expect_exit 1 "serve on a database that does not exist: exit 1" -- timeout 30 \
    "$LINKBOOKD" serve --postgres "$LB_TEST_PG dbname=lbt_no_such_database" --listen 127.0.0.1:0
expect_stderr_has "cannot open the PostgreSQL store.*does not exist" \
    "it says it cannot open the PostgreSQL store, and why"

# --- the epoch: one for both, new-epoch reaches both, restarts keep it ----------------------
EA=$(epoch_of "$URL_a")
EB=$(epoch_of "$URL_b")
check "both processes announce the same epoch ($EA)" [ -n "$EA" ] && [ "$EA" = "$EB" ]
expect_exit 0 "linkbookd admin new-epoch while both serve" -- lbd admin new-epoch
NEW=$(tail -n 1 "$out" | tr -d '\r')
_i=0
while [ $_i -lt 150 ]; do
    [ "$(epoch_of "$URL_a")" = "$NEW" ] && [ "$(epoch_of "$URL_b")" = "$NEW" ] && break
    sleep 0.1
    _i=$((_i + 1))
done
check "both running processes announce the forced epoch within 15 s (${_i}00 ms)" \
    [ "$(epoch_of "$URL_a")" = "$NEW" ] && [ "$(epoch_of "$URL_b")" = "$NEW" ]
srv_stop
kill -TERM "$PID_b"
wait "$PID_b" 2>/dev/null
check "b stops cleanly on SIGTERM (exit 0)" [ $? -eq 0 ]
srv_start || finish
URL_a=$URL
srv_more b || finish
check "the epoch survives restarting both processes" \
    [ "$(epoch_of "$URL_a")" = "$NEW" ] && [ "$(epoch_of "$URL_b")" = "$NEW" ]
check "no restore was logged" [ "$(cat "$tmp"/srv*.log | grep -c 'database restored')" = 0 ]
srv_stop
finish
