#!/bin/sh
# test_sync_revoke.sh - a supervisor revokes a worker's device: `team devices`
# lists it as revoked, the device's next sync exits 3 with a clear message,
# its local records stay readable, the server answers its token 401 at
# once; the team key is rotated and a change the supervisor seals after
# that still reaches the remaining worker.
. "$(dirname "$0")/lib.sh"

team_setup 2

expect_exit 0 "w1: person add" -- dv w1 person add --given Ermintrude --family Waddingham
expect_id "w1: person id"
A=$id
expect_exit 0 "w1: note" -- dv w1 note add "$A" "Note written before the revocation"
expect_exit 0 "w2: person add" -- dv w2 person add --given Cuthbert --family Pennyfeather
expect_id "w2: person id"
B=$id
sync_ok w1 "w1: sync"
sync_ok w2 "w2: sync"
sync_ok sup "sup: sync"

# A device enrolled with curl, to see the server's answer to a revoked token.
invite link-worker w3
curl_enrol w3 "$CODE"
W3TOKEN=$TOKEN
W3DEV=$TOKDEV
apost "w3's token works before the revocation (200)" 200 /v1/pull '{"cursors": {}}'
sync_ok sup "sup: sync (seals the key to w3)"

# --- find and revoke w1's device ----------------------------------------------------------
expect_exit 0 "sup: team devices" -- dv sup team devices
expect_stdout_has "w1" "sup: team devices lists w1"
expect_exit 0 "sup: team devices --json" -- dv sup team devices --json
cp "$out" "$tmp/devices.json"
W1DEV=$(python3 -c '
import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    if d.get("name") == "w1": print(d["device"]); break' "$tmp/devices.json")
if [ -n "$W1DEV" ] && [ "$W1DEV" = "${DEVID_w1:-}" ]; then
    ok "team devices --json gives w1's device id (the one enrol printed)"
else
    fail "team devices --json gives w1's device id" "from list '$W1DEV', enrol printed '${DEVID_w1:-}'"
fi
expect_json "team devices: w1 is not revoked yet" "$tmp/devices.json" \
    '[d for d in doc["devices"] if d.get("name") == "w1" and d.get("revoked") not in (None, False, 0, "")]'

expect_exit 0 "sup: team revoke w1's device" -- dv sup team revoke "$W1DEV"
expect_stderr_has "revoked" "sup: revoke says the device was revoked"
expect_stderr_has "rotated|new key|key [0-9]+" "sup: revoke says the team key was rotated"
expect_exit 0 "sup: team devices --json after the revocation" -- dv sup team devices --json
cp "$out" "$tmp/devices2.json"
expect_json "team devices: w1 is revoked" "$tmp/devices2.json" \
    'len([d for d in doc["devices"] if d.get("device") == "'"$W1DEV"'" and d.get("revoked") not in (None, False, 0, "")]) == 1'
expect_json "team devices: w2 is still active" "$tmp/devices2.json" \
    'len([d for d in doc["devices"] if d.get("name") == "w2" and d.get("revoked") in (None, False, 0, "")]) == 1'
expect_exit "2 1" "sup: revoking its own device is refused" -- dv sup team revoke "$DEVID_sup"

# --- the revoked device --------------------------------------------------------------------
expect_exit 0 "w1: records still work locally after the revocation" -- dv w1 note add "$A" "Note after the revocation"
expect_exit 3 "w1: sync after the revocation exits 3" -- dv w1 sync
expect_stderr_has "revoked|refused|credentials" "w1: sync says the credentials were refused"
expect_exit 3 "w1: and again (stays refused)" -- dv w1 sync
expect_exit 0 "w1: show still works" -- dv w1 show "$A"
expect_stdout_has "Note written before the revocation" "w1: the synced note is still there"
expect_stdout_has "Note after the revocation" "w1: the note written after is still there"
expect_exit 0 "w1: linkbook check" -- dv w1 check

# Revoke the curl device too: its token gets 401 at once.
expect_exit 0 "sup: team revoke w3's device" -- dv sup team revoke "$W3DEV"
apost "w3's revoked token: pull: 401" 401 /v1/pull '{"cursors": {}}' "$W3TOKEN"
expect_error_doc "w3's revoked token: error document with code bad_token" bad_token
curl_json "w3's revoked token: keys: 401" 401 GET /v1/keys -H "Authorization: Bearer $W3TOKEN"

# --- after rotation: the supervisor writes, the remaining worker reads ----------------------
sync_ok sup "sup: sync after the revocations"
sync_ok w2 "w2: sync (gets the new team key)"
expect_exit 0 "sup: note on w2's person after the rotation" -- \
    dv sup note add "$B" "Supervisor note sealed after the rotation"
sync_ok sup "sup: sync pushes the note"
if [ "$pushed" -ge 1 ] 2>/dev/null; then ok "sup: pushed the new note"; else fail "sup: pushed the new note" "pushed '$pushed'"; fi
sync_ok w2 "w2: sync pulls the note"
if [ "$rejected" = 0 ]; then
    ok "w2: nothing rejected (it opens changes sealed with the new key)"
else
    fail "w2: nothing rejected (it opens changes sealed with the new key)" "rejected '$rejected'" "$(_describe)"
fi
expect_exit 0 "w2: show its person" -- dv w2 show "$B"
expect_stdout_has "Supervisor note sealed after the rotation" "w2: reads the supervisor's note sealed after the rotation"

sync_ok w2 "w2: sync again"
expect_exit 3 "w1: sync still refused at the end" -- dv w1 sync
expect_exit 0 "w1: its records are all still there" -- dv w1 person list --json
cp "$out" "$tmp/w1list.json"
expect_json "w1: still lists its person" "$tmp/w1list.json" 'len([p for p in people if p.get("id") == "'"$A"'"]) == 1'
srv_stop
finish
