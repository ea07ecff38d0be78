#!/bin/sh
# test_sync_tamper.sh - an envelope altered on the server is rejected by the
# device that pulls it, reported, and not applied; the rest of the batch
# still applies, and a later sync neither crashes nor loops.
#
# A worker records five notes and pushes them; the server is stopped and one
# envelope is altered in the server's database (the sqlite3 CLI, or psql); the
# server comes back on the same port; the supervisor syncs.  Three rounds:
#   1. one byte of the envelope's sealed body flipped (the ciphertext);
#   2. its person id changed in the clear column (routing metadata);
#   3. after a key rotation (a device revoked: team key 2), an envelope
#      sealed with key 2 relabelled key 1 in the clear column (the
#      supervisor holds both keys, so it tries key 1 and must fail).
. "$(dirname "$0")/lib.sh"
need sqlite3

team_setup 1

W1DB="$(dev_store w1)/store.db"
SUPDB="$(dev_store sup)/store.db"

expect_exit 0 "w1: person add" -- dv w1 person add --given Eglantine --family Thistlewood
expect_id "w1: person id"
P=$id
sync_ok w1 "w1: sync the person"
sync_ok sup "sup: sync the person"

# srvsql SQL: run SQL on the stopped server's database; a body as hex,
# and hex as a body, in its dialect.
srvsql() {
    srv_sql "$1"
}
if [ "$BACKEND" = postgres ]; then
    HEXBODY="upper(encode(body, 'hex'))"
    blob() { printf "decode('%s', 'hex')" "$1"; }
else
    HEXBODY="hex(body)"
    blob() { printf "X'%s'" "$1"; }
fi

# round NAME: w1 records five notes "NAME note N" (ids in $N1..$N5) and
# pushes them; the server is stopped afterwards.  $VICTIM is the change id
# of note 3 (from w1's change log, where ids are in clear).
round() {
    _i=1
    while [ $_i -le 5 ]; do
        expect_exit 0 "w1: $1: note $_i" -- dv w1 note add "$P" "$1 note $_i"
        eval "N$_i=\$(last_id)"
        _i=$((_i + 1))
    done
    sync_ok w1 "w1: $1: sync pushes the notes"
    if [ -n "$pushed" ] && [ "$pushed" -ge 5 ]; then
        ok "w1: $1: pushed the 5 notes (pushed $pushed)"
    else
        fail "w1: $1: pushed the 5 notes" "pushed '$pushed'" "$(_describe)"
    fi
    VICTIM=$(sqlite3 -batch "$W1DB" "SELECT id FROM changes WHERE record = '$N3' AND kind LIKE '%note%' ORDER BY seq LIMIT 1;" 2>&1)
    if [ "${#VICTIM}" -eq 32 ]; then
        ok "w1: $1: the change id of note 3 is in w1's change log ($VICTIM)"
    else
        VICTIM=$(sqlite3 -batch "$W1DB" "SELECT id FROM changes WHERE record = '$N3' ORDER BY seq LIMIT 1;" 2>&1)
        if [ "${#VICTIM}" -eq 32 ]; then
            ok "w1: $1: the change id of note 3 is in w1's change log ($VICTIM)"
        else
            fail "w1: $1: the change id of note 3 is in w1's change log" "got '$VICTIM'" \
                "kinds: $(sqlite3 -batch "$W1DB" "SELECT DISTINCT kind FROM changes;" 2>&1)"
        fi
    fi
    srv_stop
    _n=$(srvsql "SELECT count(*) FROM envelopes WHERE id = '$VICTIM';" 2>&1)
    if [ "$_n" = 1 ]; then
        ok "server: $1: note 3's envelope is in the database"
    else
        fail "server: $1: note 3's envelope is in the database" "count '$_n'"
    fi
}

# tampered_check NAME WHAT: start the server again, the supervisor syncs
# and must reject exactly the altered envelope and apply the four others.
tampered_check() {
    srv_start "$PORT" || finish
    sync_ok sup "sup: $1: sync after the envelope's $2 was altered (exit 0)"
    if [ "$rejected" = 1 ]; then
        ok "sup: $1: the sync reports one rejected envelope (rejected 1)"
    else
        fail "sup: $1: the sync reports one rejected envelope" "rejected '$rejected' (expected 1)" "$(_describe)"
    fi
    if [ -n "$pulled" ] && [ "$pulled" -ge 4 ]; then
        ok "sup: $1: the rest of the batch was pulled (pulled $pulled)"
    else
        fail "sup: $1: the rest of the batch was pulled" "pulled '$pulled' (expected >= 4)" "$(_describe)"
    fi
    expect_stderr_has "1 change.*(failed|rejected|tamper|not applied)" \
        "sup: $1: the sync says in words that a change failed its check and was not applied"
    _r=$(sqlite3 -batch "$SUPDB" "SELECT count(*) FROM rejected WHERE id = '$VICTIM';" 2>&1)
    if [ "$_r" = 1 ]; then
        ok "sup: $1: the altered envelope is in the device's list of rejected envelopes"
    else
        fail "sup: $1: the altered envelope is in the device's list of rejected envelopes" \
            "count '$_r'; rejected table: $(sqlite3 -batch "$SUPDB" "SELECT id, reason FROM rejected;" 2>&1)"
    fi
    _why=$(sqlite3 -batch "$SUPDB" "SELECT reason FROM rejected WHERE id = '$VICTIM';" 2>&1)
    case $_why in
        *"no team key"*) fail "sup: $1: the reason is an authentication failure" "reason '$_why'" ;;
        "") fail "sup: $1: the reason is an authentication failure" "no reason recorded" ;;
        *) ok "sup: $1: the reason is an authentication failure ($_why)" ;;
    esac
    expect_exit 0 "sup: $1: show the person" -- dv sup show "$P" --json
    cp "$out" "$tmp/show.json"
    expect_json "sup: $1: the altered note (note 3) is not applied" "$tmp/show.json" \
        'not entry("'"$N3"'") and not has_text(doc, "'"$1"' note 3")'
    expect_json "sup: $1: the four other notes are there, once each" "$tmp/show.json" \
        'all(len([e for e in entries("note") if e.get("text") == "'"$1"' note %d" % i]) == 1 for i in (1, 2, 4, 5))'
    expect_exit 0 "sup: $1: no change log entry for the altered change" -- \
        sqlite3 -batch "$SUPDB" "SELECT count(*) FROM changes WHERE id = '$VICTIM';"
    if [ "$(cat "$out")" = 0 ]; then
        ok "sup: $1: the altered change is not in the supervisor's change log"
    else
        fail "sup: $1: the altered change is not in the supervisor's change log" "count '$(cat "$out")'"
    fi
    # A later sync: bounded, succeeds, brings nothing again (no loop on the
    # rejected envelope), and rejects nothing new.
    sync_ok sup "sup: $1: a later sync succeeds"
    if [ "$pulled" = 0 ] && [ "$rejected" = 0 ] && [ -n "$requests" ] && [ "$requests" -le 2 ]; then
        ok "sup: $1: a later sync pulls nothing and rejects nothing ($requests requests)"
    else
        fail "sup: $1: a later sync pulls nothing and rejects nothing" \
            "pulled '$pulled', rejected '$rejected', requests '$requests'" "$(_describe)"
    fi
    expect_exit 0 "sup: $1: linkbook check" -- dv sup check
    # The worker's own copy is untouched.
    expect_exit 0 "w1: $1: show the person" -- dv w1 show "$P" --json
    cp "$out" "$tmp/w1show.json"
    expect_json "w1: $1: the worker still has all five notes" "$tmp/w1show.json" \
        'all(len([e for e in entries("note") if e.get("text") == "'"$1"' note %d" % i]) == 1 for i in (1, 2, 3, 4, 5))'
}

# --- 1. a byte of the sealed body flipped ---------------------------------------------------
round body
before=$(srvsql "SELECT $HEXBODY FROM envelopes WHERE id = '$VICTIM';")
# Flip the lowest bit of byte 40 (past the 24-byte nonce: the ciphertext);
# the new body is written back as a blob literal.
flipped=$(python3 -c '
import sys
b = bytearray(bytes.fromhex(sys.argv[1]))
b[39] ^= 1
print(b.hex().upper())' "$before" 2>&1)
expect_exit 0 "server: body: flip one byte of note 3's envelope body" -- \
    srvsql "UPDATE envelopes SET body = $(blob "$flipped") WHERE id = '$VICTIM';"
after=$(srvsql "SELECT $HEXBODY FROM envelopes WHERE id = '$VICTIM';")
python3 - "$before" "$after" <<'EOF' >"$tmp/diff" 2>&1
import sys
a, b = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
assert len(a) == len(b) and len(a) > 40, "lengths %d %d" % (len(a), len(b))
d = [i for i in range(len(a)) if a[i] != b[i]]
assert d == [39], "bytes differing: %r" % d
assert a[39] ^ b[39] == 1
EOF
if [ $? -eq 0 ]; then
    ok "server: body: exactly one byte of the body differs (byte 40, one bit)"
else
    fail "server: body: exactly one byte of the body differs" "$(cat "$tmp/diff")"
fi
tampered_check body "sealed body"

# --- 2. the person id changed in the clear column -------------------------------------------
round person
OTHER=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
expect_exit 0 "server: person: change note 3's envelope person id" -- \
    srvsql "UPDATE envelopes SET person = '$OTHER' WHERE id = '$VICTIM';"
got=$(srvsql "SELECT person FROM envelopes WHERE id = '$VICTIM';")
if [ "$got" = "$OTHER" ]; then ok "server: person: the envelope now names another person"; else fail "server: person: the envelope now names another person" "person '$got'"; fi
tampered_check person "person id"
# The other person id must not have appeared on the supervisor's device.
expect_exit 0 "sup: person: person list" -- dv sup person list --json
cp "$out" "$tmp/list.json"
expect_json "sup: person: no person made up from the altered person id" "$tmp/list.json" \
    'not [p for p in people if p.get("id") == "'"$OTHER"'"]'

# --- 3. the key id changed in the clear column (after a rotation) --------------------------
invite link-worker w9
curl_enrol w9 "$CODE"
W9DEV=$TOKDEV
sync_ok sup "sup: sync (seals the key to w9)"
expect_exit 0 "sup: team revoke w9 (rotates the team key)" -- dv sup team revoke "$W9DEV"
sync_ok sup "sup: sync after the rotation"
sync_ok w1 "w1: sync after the rotation (gets key 2)"
srv_stop
keynow=$(srvsql "SELECT max(current_key) FROM teams;")
if [ "$keynow" = 2 ]; then ok "server: the team key is now key 2"; else fail "server: the team key is now key 2" "current_key '$keynow'"; fi
srv_start "$PORT" || finish
round key
k=$(srvsql "SELECT key_id FROM envelopes WHERE id = '$VICTIM';")
if [ "$k" = 2 ]; then ok "server: key: note 3's envelope was sealed with key 2"; else fail "server: key: note 3's envelope was sealed with key 2" "key_id '$k'"; fi
expect_exit 0 "server: key: relabel note 3's envelope as sealed with key 1" -- \
    srvsql "UPDATE envelopes SET key_id = 1 WHERE id = '$VICTIM';"
tampered_check key "key id"

srv_stop
finish
