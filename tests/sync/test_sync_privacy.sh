#!/bin/sh
# test_sync_privacy.sh - what the server holds and who can reach what.
#   - After the story has gone through the server, its data directory
#     (database, WAL, shared memory, anything else) and its log contain no
#     name, NHS number, note, goal or story text recorded (the grep is
#     proved able to find a string planted in a copy of the same files).
#   - A worker's device never receives the other worker's people.
#   - The server itself: no token or a bogus one gets 401; a real worker
#     token (enrolled with curl, as a store keeps its token sealed) cannot
#     pull another worker's caseload (403), cannot use supervisor routes
#     (403), and cannot pull a stranger's history by pushing an assignment
#     of that person to its own caseload.
. "$(dirname "$0")/lib.sh"

team_setup 2

# --- w1's person: every kind of sensitive text -----------------------------------------
SECRETS="Quillfeather Zephyrine 9434765919 1957-03-14 07700900461"
expect_exit 0 "w1: person add" -- dv w1 person add --given Zephyrine --family Quillfeather \
    --nhs 9434765919 --dob 1957-03-14 --phone 07700900461 --postcode "S7 1QW"
expect_id "w1: person id"
A=$id
NOTE="Husband died in March; finds evenings hardest"
CNOTE="Discussed debt letters from the council"
GOAL="Join the bereavement cafe at St Aidans"
REVIEW="Went once with her neighbour Mrs Oddbjorn"
STORY="I have somewhere to be on Tuesdays now"
expect_exit 0 "w1: note" -- dv w1 note add "$A" "$NOTE"
expect_exit 0 "w1: contact with a note" -- dv w1 contact add "$A" --mode home --minutes 50 \
    --category psychosocial --note "$CNOTE"
expect_exit 0 "w1: goal" -- dv w1 goal add "$A" "$GOAL"
G=$(last_id)
expect_exit 0 "w1: goal review with a note" -- dv w1 goal review "$G" --score 6 --note "$REVIEW"
expect_exit 0 "w1: story" -- dv w1 story add "$A" "$STORY"

# --- w2's person --------------------------------------------------------------------------
expect_exit 0 "w2: person add" -- dv w2 person add --given Bartholomew --family Inglethorpe --nhs 4010232137
expect_id "w2: person id"
B=$id
expect_exit 0 "w2: note" -- dv w2 note add "$B" "Works nights at the bakery on Kirkgate"

sync_ok w1 "w1: sync"
sync_ok w2 "w2: sync"
sync_ok sup "sup: sync"
sync_ok w1 "w1: sync again"
sync_ok w2 "w2: sync again"

# The story did travel: the supervisor reads it all.
expect_exit 0 "sup: show w1's person" -- dv sup show "$A"
for t in Quillfeather "$NOTE" "$CNOTE" "$GOAL" "$REVIEW" "$STORY"; do
    expect_stdout_has "$t" "sup: reads '$t' (it went through the server)"
done
expect_exit 0 "sup: show w2's person" -- dv sup show "$B"
expect_stdout_has "Works nights at the bakery on Kirkgate" "sup: reads w2's note"

# --- a worker never receives the other's people ------------------------------------------
expect_exit 0 "w1: person list" -- dv w1 person list --json
cp "$out" "$tmp/w1.json"
expect_json "w1: sees its own person" "$tmp/w1.json" 'len([p for p in people if p.get("id") == "'"$A"'"]) == 1'
expect_json "w1: does not have w2's person" "$tmp/w1.json" '[p for p in people if p.get("id") == "'"$B"'"]'
expect_json "w1: no trace of w2's person's name" "$tmp/w1.json" 'not has_text(doc, "Inglethorpe")'
expect_exit 4 "w1: show of w2's person: no such record" -- dv w1 show "$B"
expect_exit 0 "w2: person list" -- dv w2 person list --json
cp "$out" "$tmp/w2.json"
expect_json "w2: does not have w1's person" "$tmp/w2.json" '[p for p in people if p.get("id") == "'"$A"'"]'
expect_exit 4 "w2: show of w1's person: no such record" -- dv w2 show "$A"

# --- the server's files and log -------------------------------------------------------------
# grep_secrets DIR...: prints every secret found (file: string).
grep_secrets() {
    for s in $SECRETS "S7 1QW" "$NOTE" "$CNOTE" "$GOAL" "$REVIEW" "$STORY" Inglethorpe Bartholomew \
        4010232137 "Works nights at the bakery"; do
        grep -r -a -l -F -e "$s" "$@" 2>/dev/null | sed "s|\$| contains '$s'|"
    done
}
# The server's store as files (SQLite: its data directory; PostgreSQL: a
# pg_dump, bytea decoded).  The grep can find: plant a string in a copy.
srv_files "$tmp/store"
srv_files "$tmp/scratch"
db=$(ls "$tmp/scratch" | head -n 1)
if [ "$BACKEND" = postgres ]; then
    # A bytea value as pg_dump writes it: found only once decoded.
    printf '\\x%s\n' "$(printf 'xx\000Husband died in March; finds evenings hardest\000yy' |
        od -An -tx1 | tr -d ' \n')" >>"$tmp/scratch/dump.sql"
    pg_unhex "$tmp/scratch"
else
    printf 'xx\000Husband died in March; finds evenings hardest\000yy' >>"$tmp/scratch/$db"
fi
if [ -n "$(grep_secrets "$tmp/scratch")" ]; then
    ok "grep finds a note planted in a copy of the server's store ($db)"
else
    fail "grep finds a note planted in a copy of the server's store" "nothing found in $tmp/scratch"
fi
echo "# server store files: $(cd "$tmp/store" && ls -la | tail -n +2 | awk '{print $NF" "$5}' | tr '\n' ' ')"
found=$(grep_secrets "$tmp/store")
if [ -z "$found" ]; then
    ok "the running server's store ($BACKEND) holds no name, NHS number, note, goal or story"
else
    fail "the running server's store ($BACKEND) holds no name, NHS number, note, goal or story" "$found"
fi

# --- the server refuses who it must -------------------------------------------------------
apost "pull without a token: 401" 401 /v1/pull '{"cursors": {}}' -
expect_error_doc "pull without a token: error document with code bad_token" bad_token
apost "pull with a bogus token: 401" 401 /v1/pull '{"cursors": {}}' "bogus-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
expect_error_doc "pull with a bogus token: error document with code bad_token" bad_token

expect_exit 0 "sup: team devices --json" -- dv sup team devices --json
cp "$out" "$tmp/devices.json"
caseload_of() {
    python3 -c '
import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    if d.get("name") == sys.argv[2]:
        print(d.get("caseload", "")); break' "$tmp/devices.json" "$1"
}
CL1=$(caseload_of w1)
CL2=$(caseload_of w2)
if [ -n "$CL1" ] && [ -n "$CL2" ] && [ "$CL1" != "$CL2" ]; then
    ok "team devices names each worker's caseload ($CL1, $CL2)"
else
    fail "team devices names each worker's caseload" "w1 '$CL1', w2 '$CL2'" "$(head -c 600 "$tmp/devices.json")"
fi

invite link-worker w3
curl_enrol w3 "$CODE"
CL3=$TOKCASELOAD
apost "w3's token: pull its own caseloads: 200" 200 /v1/pull '{"cursors": {}}'
python3 "$SYNC_DIR/lbwire.py" decode "$tmp/body" >"$tmp/pull3.json" 2>&1
expect_json "w3's pull answers only w3's caseload" "$tmp/pull3.json" \
    'sorted(doc["control"].get("cursors", {}).keys()) == ["'"$CL3"'"]'
expect_json "w3's pull carries none of w1's or w2's envelopes" "$tmp/pull3.json" \
    '[e for e in doc.get("envelopes", []) if e.get("person") in ("'"$A"'", "'"$B"'")]'
apost "w3's token: pull w1's caseload: 403" 403 /v1/pull "{\"cursors\": {\"$CL1\": 0}}"
expect_error_doc "pull of another caseload: error document with code forbidden" forbidden
apost "w3's token: pull w2's caseload from its middle: 403" 403 /v1/pull "{\"cursors\": {\"$CL2\": 1}}"
curl_json "w3's token: team devices (supervisor only): 403" 403 GET /v1/team/devices \
    -H "Authorization: Bearer $TOKEN"
apost "w3's token: team invite (supervisor only): 403" 403 /v1/team/invite '{"role": "supervisor", "name": "mallory"}'
apost "w3's token: team revoke (supervisor only): 403" 403 /v1/team/revoke "{\"device\": \"$DEVID_w1\"}"

# A worker's push that says where its pulls stand, with nothing else
# waiting: "news" false, and the cursors moved past its own envelope, so
# that its next push is not judged by looking through it again.
P3=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
for k in 1 2; do
    eid=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    body=$(head -c 64 /dev/urandom | base64 | tr -d '\n')
    cur=$(jget "$tmp/cursors3.json" "$CL3" 2>/dev/null)
    python3 "$SYNC_DIR/lbwire.py" push "$tmp/push3.bin" --cursors "{\"$CL3\": ${cur:-0}}" \
        "{\"id\": \"$eid\", \"person\": \"$P3\", \"key\": 1, \"body\": \"$body\"}"
    run curl -sS -o "$tmp/body" -w '%{http_code}' --max-time 20 -X POST "$URL/v1/push" \
        -H 'Content-Type: application/vnd.linkbook.v2' -H "Authorization: Bearer $TOKEN" \
        --data-binary @"$tmp/push3.bin"
    [ "$(cat "$out")" = 200 ] && ok "w3's token: push $k with its cursors: 200" ||
        fail "w3's token: push $k with its cursors: 200" "HTTP $(cat "$out")"
    python3 "$SYNC_DIR/lbwire.py" decode "$tmp/body" >"$tmp/push3.json" 2>&1
    expect_json "w3's push $k: no news, cursors moved to its own envelope" "$tmp/push3.json" \
        'doc["control"].get("news") is False and doc["control"]["cursors"]["'"$CL3"'"] == doc["acks"][0]["seq"]["'"$CL3"'"]'
    python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["control"]["cursors"]))' \
        "$tmp/push3.json" >"$tmp/cursors3.json" 2>/dev/null
done

# Pushing an assignment of w1's person to w3's own caseload must not open
# that person's history to w3.
body=$(head -c 64 /dev/urandom | base64 | tr -d '\n')
eid=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
python3 "$SYNC_DIR/lbwire.py" push "$tmp/push3.bin" \
    "{\"id\": \"$eid\", \"person\": \"$A\", \"key\": 1, \"body\": \"$body\", \"assign\": {\"caseload\": \"$CL3\", \"active\": true}}"
run curl -sS -o "$tmp/body" -w '%{http_code}' --max-time 20 -X POST "$URL/v1/push" \
    -H 'Content-Type: application/vnd.linkbook.v2' -H "Authorization: Bearer $TOKEN" \
    --data-binary @"$tmp/push3.bin"
echo "# w3's push of an assignment of w1's person: HTTP $(cat "$out"): $(python3 "$SYNC_DIR/lbwire.py" decode "$tmp/body" 2>&1 | head -c 300)"
apost "w3's token: pull after that push: 200" 200 /v1/pull '{"cursors": {}}'
python3 "$SYNC_DIR/lbwire.py" decode "$tmp/body" >"$tmp/pull3b.json" 2>&1
expect_json "w3 still receives none of w1's person's history" "$tmp/pull3b.json" \
    '[e.get("id") for e in doc.get("envelopes", []) if e.get("person") == "'"$A"'" and e.get("id") != "'"$eid"'"]'
sync_ok sup "sup: sync after w3's attempt"
expect_exit 0 "sup: w1's person still shows" -- dv sup show "$A" --json
cp "$out" "$tmp/a.json"
expect_json "sup: w1's person is still on w1's caseload only" "$tmp/a.json" \
    'doc["person"].get("caseloads") == ["'"$CL1"'"]'

# --- after a clean stop, the store again (SQLite: WAL checkpointed into the db) -----------
srv_stop
srv_files "$tmp/store"
found=$(grep_secrets "$tmp/store")
if [ -z "$found" ]; then
    ok "the stopped server's store ($BACKEND) holds no name, NHS number, note, goal or story"
else
    fail "the stopped server's store ($BACKEND) holds no name, NHS number, note, goal or story" "$found"
fi
found=$(grep_secrets "$tmp/srv.log" "$tmp/srv.out")
if [ -s "$tmp/srv.log" ] && [ -z "$found" ]; then
    ok "the server's request log ($(wc -l <"$tmp/srv.log") lines) holds no record content"
else
    fail "the server's request log holds no record content" "log size $(wc -c <"$tmp/srv.log")" "$found"
fi
finish
