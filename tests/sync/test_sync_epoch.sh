#!/bin/sh
# test_sync_epoch.sh - the server's epoch: a plain restart keeps it; a
# restore of the database alone (SQLite: the file, against the high-water
# file $SRV_DATA.epoch beside the data directory; PostgreSQL: a pg_dump
# restored into a fresh database), the data directory without its
# high-water file (SQLite) or a pg_restore --clean into the live database
# (PostgreSQL), and 'linkbookd admin new-epoch' each give a new epoch,
# logged once, and the worker refills the server with nothing doubled.
# And bandwidth: a device is never sent back what it pushed itself, though
# its cursors move past it.
. "$(dirname "$0")/lib.sh"

team_setup 1
FIRST_PORT=$PORT
STATE="$SRV_DATA.epoch"

# healthz_epoch NAME: one check; the epoch served into $E.
healthz_epoch() {
    curl_json "healthz ($1)" 200 GET /healthz
    E=$(jget "$tmp/body" epoch)
}
# at_least N VALUE: VALUE is a number >= N.
at_least() {
    [ -n "$2" ] && [ "$2" -ge "$1" ]
}
restored_lines() {
    grep -c "database restored or replaced" "$tmp/srv.log" 2>/dev/null || true
}

expect_exit 0 "w1: person add" -- dv w1 person add --given Ottoline --family Quarrington
expect_id "w1: person id"
P=$id
expect_exit 0 "w1: note 1" -- dv w1 note add "$P" "epoch note 1"
expect_exit 0 "w1: note 2" -- dv w1 note add "$P" "epoch note 2"
sync_ok w1 "w1: sync its person and notes"
if [ -n "$pushed" ] && [ "$pushed" -ge 3 ] && [ "$pulled" = 0 ]; then
    ok "w1: pushed its changes and pulled none of them back (pushed $pushed, pulled $pulled)"
else
    fail "w1: pushed its changes and pulled none of them back" "pushed '$pushed', pulled '$pulled'"
fi
sync_ok w1 "w1: sync again"
check "w1: an idle sync is one request" [ "$requests" = 1 ]
sync_ok sup "sup: sync"
if [ -n "$pulled" ] && [ "$pulled" -ge 3 ]; then
    ok "sup: pulled w1's changes (pulled $pulled)"
else
    fail "sup: pulled w1's changes" "pulled '$pulled'"
fi
expect_exit 0 "sup: note on w1's person" -- dv sup note add "$P" "epoch note from sup"
sync_ok sup "sup: push its note"
sync_ok w1 "w1: sync"
check "w1: pulled sup's note, and only it (pulled $pulled)" [ "$pulled" = 1 ]

healthz_epoch "first"
E1=$E
if [ "$BACKEND" = sqlite ]; then
    check "the high-water file sits beside the data directory" [ -f "$STATE" ]
    check "the high-water file names the epoch served" grep -q "$E1" "$STATE"
else
    check "the database holds the epoch served" \
        [ "$(srv_sql "SELECT epoch FROM server_epoch")" = "$E1" ]
fi

# --- a plain restart keeps the epoch ------------------------------------------------------
srv_stop
srv_start "$FIRST_PORT" || finish
healthz_epoch "after a restart"
check "a restart keeps the epoch" [ "$E" = "$E1" ]
check "a restart logs no restore" [ "$(restored_lines)" = 0 ]
sync_ok w1 "w1: sync after the restart"
check "w1: nothing to push again after a restart" [ "$pushed" = 0 ]

# --- the database alone restored ----------------------------------------------------------
srv_stop
if [ "$BACKEND" = sqlite ]; then
    cp "$SRV_DATA/linkbookd.db" "$tmp/db-backup"
else
    check "pg_dump of the database" srv_backup e1
fi
srv_start "$FIRST_PORT" || finish
expect_exit 0 "w1: note 3 after the backup" -- dv w1 note add "$P" "epoch note 3"
sync_ok w1 "w1: sync note 3"
srv_stop
if [ "$BACKEND" = sqlite ]; then
    rm -f "$SRV_DATA/linkbookd.db" "$SRV_DATA/linkbookd.db-wal" "$SRV_DATA/linkbookd.db-shm"
    cp "$tmp/db-backup" "$SRV_DATA/linkbookd.db"
else
    check "the dump restored into a fresh database of the same name" srv_restore e1
fi
srv_start "$FIRST_PORT" || finish
healthz_epoch "after the database restore"
E2=$E
check "a restored database file gives a new epoch ($E1 -> $E2)" [ -n "$E2" -a "$E2" != "$E1" ]
check "the restore is logged, once" [ "$(restored_lines)" = 1 ]
sync_ok w1 "w1: sync with the restored server"
if at_least 4 "$pushed" && [ "$pulled" = 0 ]; then
    ok "w1: pushed its whole log again, pulled none of it back (pushed $pushed, pulled $pulled)"
else
    fail "w1: pushed its whole log again, pulled none of it back" "pushed '$pushed', pulled '$pulled'"
fi
check "w1: its outbox is empty after the refill (pending $pending)" [ "$pending" = 0 ]
expect_json "w1: the server refused none of the refill" "$tmp/sync.json" 'doc["push_rejected"] == 0'
sync_ok w1 "w1: sync again"
check "w1: settled (nothing pushed)" [ "$pushed" = 0 ]

if [ "$BACKEND" = sqlite ]; then
    # --- a data directory without its high-water file -------------------------------------
    srv_stop
    rm -f "$STATE"
    srv_start "$FIRST_PORT" || finish
    healthz_epoch "without the high-water file"
    E3=$E
    check "a missing high-water file beside envelopes gives a new epoch" [ -n "$E3" -a "$E3" != "$E2" ]
    check "the high-water file is written again" [ -f "$STATE" ]
    sync_ok w1 "w1: sync after the missing file"
else
    # --- a dump restored with --clean over the live database (same database oid) ----------
    check "pg_dump of the refilled database" srv_backup e2
    srv_stop
    expect_exit 0 "pg_restore --clean into the same database" -- \
        timeout 60 pg_restore --clean --if-exists -d "$SRV_PG" "$tmp/backup-e2.pgdump"
    srv_start "$FIRST_PORT" || finish
    healthz_epoch "after pg_restore --clean"
    E3=$E
    check "re-created tables give a new epoch ($E2 -> $E3)" [ -n "$E3" -a "$E3" != "$E2" ]
    check "that restore is logged too" [ "$(restored_lines)" = 2 ]
    sync_ok w1 "w1: sync after the clean restore"
fi
check "w1: pushed its log again (pushed $pushed)" at_least 4 "$pushed"

# --- admin new-epoch ----------------------------------------------------------------------
srv_stop
expect_exit 0 "linkbookd admin new-epoch" -- lbd admin new-epoch
E4=$(tail -n 1 "$out" | tr -d '\r')
check "new-epoch prints a new epoch" [ ${#E4} = 32 -a "$E4" != "$E3" ]
expect_exit 2 "new-epoch refuses an argument" -- lbd admin new-epoch x
srv_start "$FIRST_PORT" || finish
healthz_epoch "after new-epoch"
check "the server announces the forced epoch" [ "$E" = "$E4" ]
sync_ok w1 "w1: sync after new-epoch"
check "w1: pushed its log again after new-epoch (pushed $pushed)" at_least 4 "$pushed"
check "w1: its outbox is empty after new-epoch (pending $pending)" [ "$pending" = 0 ]
sync_ok sup "sup: sync after new-epoch"
sync_ok sup "sup: sync again"

# Nothing lost, nothing doubled.
for d in w1 sup; do
    expect_exit 0 "$d: show the person" -- dv "$d" show "$P" --json || continue
    cp "$out" "$tmp/$d-p.json"
    for t in "epoch note 1" "epoch note 2" "epoch note 3" "epoch note from sup"; do
        expect_json "$d: '$t' exactly once" "$tmp/$d-p.json" \
            'len([e for e in entries("note") if e.get("text") == "'"$t"'"]) == 1'
    done
done
srv_stop
finish
