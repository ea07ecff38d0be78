#!/bin/sh
# test_sync_restore.sh - the server's database is restored from an older
# copy: it announces a new epoch, the devices push again what it lacks,
# and nothing is lost or doubled - on the devices that were there, and on
# a supervisor's device enrolled after the restore, which can only get
# those changes from the refilled server.  A change made after the restore
# still reaches the supervisor (its cursors must not skip it).
. "$(dirname "$0")/lib.sh"

team_setup 1
FIRST_PORT=$PORT

expect_exit 0 "w1: person add" -- dv w1 person add --given Wilhelmina --family Thistlewood
expect_id "w1: person id"
P=$id
expect_exit 0 "w1: note before the backup" -- dv w1 note add "$P" "restore note 1 before the backup"
sync_ok w1 "w1: sync"
sync_ok sup "sup: sync"

# --- the backup: a copy of the data directory after a clean stop (pg_dump) ---------------
srv_stop
check "a backup of the server's store" srv_backup b1
srv_start "$FIRST_PORT" || finish
curl_json "healthz before the restore" 200 GET /healthz
EPOCH1=$(jget "$tmp/body" epoch)

expect_exit 0 "w1: note after the backup" -- dv w1 note add "$P" "restore note 2 after the backup"
expect_exit 0 "w1: goal after the backup" -- dv w1 goal add "$P" "restore goal after the backup"
sync_ok w1 "w1: sync the changes the backup lacks"
sync_ok sup "sup: sync them"

# --- the restore ------------------------------------------------------------------------------
srv_stop
check "the backup restored (a fresh database, pg_restore)" srv_restore b1
srv_start "$FIRST_PORT" || finish
curl_json "healthz after the restore" 200 GET /healthz
EPOCH2=$(jget "$tmp/body" epoch)
if [ -n "$EPOCH1" ] && [ -n "$EPOCH2" ] && [ "$EPOCH1" != "$EPOCH2" ]; then
    ok "the restored server announces a new epoch ($EPOCH1 -> $EPOCH2)"
else
    fail "the restored server announces a new epoch" "before '$EPOCH1', after '$EPOCH2'"
fi

sync_ok w1 "w1: sync with the restored server"
if [ -n "$pushed" ] && [ "$pushed" -ge 2 ]; then
    ok "w1: pushed again what the server lost (pushed $pushed)"
else
    fail "w1: pushed again what the server lost" "pushed '$pushed'" "$(_describe)"
fi
sync_ok sup "sup: sync with the restored server"
sync_ok w1 "w1: sync again"
sync_ok sup "sup: sync again"

# A change after the restore reaches the supervisor.
expect_exit 0 "w1: note after the restore" -- dv w1 note add "$P" "restore note 3 after the restore"
sync_ok w1 "w1: sync the new note"
sync_ok sup "sup: sync the new note"

# A supervisor's device enrolled after the restore gets everything from the server.
invite supervisor sup2
dev_new sup2
dev_enrol sup2 "$CODE"
sync_ok sup "sup: seal the key to sup2"
sync_ok sup2 "sup2: first sync with the key"

check_notes() {
    _f="$tmp/$1-p.json"
    expect_exit 0 "$1: show the person" -- dv "$1" show "$P" --json || return
    cp "$out" "$_f"
    for t in "restore note 1 before the backup" "restore note 2 after the backup" "restore note 3 after the restore"; do
        expect_json "$1: '$t' exactly once" "$_f" \
            'len([e for e in entries("note") if e.get("text") == "'"$t"'"]) == 1'
    done
    expect_json "$1: the goal made after the backup exactly once" "$_f" \
        'len([e for e in entries("goal") if e.get("text") == "restore goal after the backup"]) == 1'
}
check_notes sup
check_notes sup2
check_notes w1

dump w1 "$tmp/d-w1"
dump sup2 "$tmp/d-sup2"
python3 "$SYNC_DIR/canon.py" "$tmp/d-sup2" "$tmp/d-w1" >"$tmp/d-sup2-of-w1.json"
same_dump "sup2's view of w1's person equals w1's own" "$tmp/d-w1/canon.json" "$tmp/d-sup2-of-w1.json"
srv_stop
finish
