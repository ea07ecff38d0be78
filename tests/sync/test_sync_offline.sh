#!/bin/sh
# test_sync_offline.sh - the server goes away: the worker goes on recording,
# `linkbook sync` exits 5 saying it is offline and how many changes it kept;
# the server comes back (same data directory, same port: a device keeps the
# URL it enrolled with), the next sync moves everything, and the supervisor
# sees every record exactly once.
. "$(dirname "$0")/lib.sh"

team_setup 1
FIRST_PORT=$PORT

# A person recorded and synced while the server is up.
expect_exit 0 "w1: person add (online)" -- dv w1 person add --given Peregrine --family Ashdown
expect_id "w1: person add prints the id"
P=$id
sync_ok w1 "w1: sync while online"

# --- the server goes down ---------------------------------------------------------------
srv_stop
expect_exit 0 "w1: note add while the server is down" -- dv w1 note add "$P" "Offline note one: bus pass renewed"
expect_exit 0 "w1: second note while down" -- dv w1 note add "$P" "Offline note two: wants the knitting circle"
expect_exit 0 "w1: goal add while down" -- dv w1 goal add "$P" "Go to the knitting circle on Thursday"
expect_exit 0 "w1: new person while down" -- dv w1 person add --given Marigold --family Featherstonehaugh
expect_id "w1: new person's id"
Q=$id
expect_exit 0 "w1: contact with a note while down" -- dv w1 contact add "$Q" --mode phone --minutes 15 \
    --category signposting --note "Offline contact note: gave the food bank number"
# (a view is an audit event, itself a change kept for the next sync)
expect_exit 0 "w1: the records are readable while offline" -- dv w1 show "$P"
expect_stdout_has "Offline note one: bus pass renewed" "w1: offline note in show"

start=$(date +%s)
expect_exit 5 "w1: sync while the server is down exits 5" -- dv w1 sync
took=$(($(date +%s) - start))
expect_stderr_has 'offline' "w1: sync says it is offline"
expect_stderr_has '[0-9]+ changes? kept' "w1: sync says how many changes it kept"
kept=$(sed -n 's/.*offline, \([0-9][0-9]*\) changes\{0,1\} kept.*/\1/p' "$err" | head -n 1)
if [ -n "$kept" ] && [ "$kept" -ge 7 ]; then
    ok "w1: at least the 6 offline records and the view are kept ($kept)"
else
    fail "w1: at least the 6 offline records and the view are kept" "kept '$kept'" "$(_describe)"
fi
if [ "$took" -le 45 ]; then
    ok "w1: an offline sync gives up in bounded time (${took}s)"
else
    fail "w1: an offline sync gives up in bounded time" "took ${took}s"
fi
expect_exit 5 "w1: a second offline sync exits 5 too" -- dv w1 sync
kept2=$(sed -n 's/.*offline, \([0-9][0-9]*\) changes\{0,1\} kept.*/\1/p' "$err" | head -n 1)
if [ -n "$kept" ] && [ "$kept2" = "$kept" ]; then
    ok "w1: the second offline sync keeps the same $kept changes"
else
    fail "w1: the second offline sync keeps the same changes" "first '$kept', second '$kept2'" "$(_describe)"
fi

# The supervisor, offline too, still works locally and is told so.
expect_exit 5 "sup: sync while the server is down exits 5" -- dv sup sync
expect_stderr_has 'offline' "sup: sync says it is offline"

# --- the server comes back on the same port, same data -----------------------------------
srv_start "$FIRST_PORT" || finish
sync_ok w1 "w1: sync after the server is back"
if [ -n "$kept" ] && [ "$pushed" = "$kept" ]; then
    ok "w1: the sync pushed exactly the $kept changes kept"
else
    fail "w1: the sync pushed exactly the changes kept" "kept '$kept', pushed '$pushed'" "$(_describe)"
fi
if [ "$pending" = 0 ]; then ok "w1: nothing left pending"; else fail "w1: nothing left pending" "pending '$pending'"; fi
sync_ok sup "sup: sync after the server is back"
if [ "$rejected" = 0 ]; then ok "sup: nothing rejected"; else fail "sup: nothing rejected" "$(_describe)"; fi
sync_ok sup "sup: sync again"
sync_ok w1 "w1: sync again"
if [ "$pushed" = 0 ]; then ok "w1: nothing pushed twice"; else fail "w1: nothing pushed twice" "pushed '$pushed'"; fi

expect_exit 0 "sup: show the first person" -- dv sup show "$P" --json
cp "$out" "$tmp/p.json"
for t in "Offline note one: bus pass renewed" "Offline note two: wants the knitting circle"; do
    expect_json "sup: note '$t' exactly once" "$tmp/p.json" \
        'len([e for e in entries("note") if e.get("text") == "'"$t"'"]) == 1'
done
expect_json "sup: the offline goal exactly once" "$tmp/p.json" \
    'len([e for e in entries("goal") if e.get("text") == "Go to the knitting circle on Thursday"]) == 1'
expect_exit 0 "sup: show the person made offline" -- dv sup show "$Q" --json
cp "$out" "$tmp/q.json"
expect_json "sup: the offline person's name" "$tmp/q.json" 'doc["person"].get("family") == "Featherstonehaugh"'
expect_json "sup: the offline contact exactly once" "$tmp/q.json" 'len(entries("contact")) == 1'
expect_json "sup: the offline contact's note exactly once" "$tmp/q.json" \
    'len([e for e in entries("note") if e.get("text") == "Offline contact note: gave the food bank number"]) == 1'
expect_exit 0 "sup: person list" -- dv sup person list --json
cp "$out" "$tmp/list.json"
expect_json "sup: each person listed once" "$tmp/list.json" \
    'sorted(p["id"] for p in people) == sorted(["'"$P"'", "'"$Q"'"])'

dump w1 "$tmp/d-w1"
dump sup "$tmp/d-sup"
python3 "$SYNC_DIR/canon.py" "$tmp/d-sup" "$tmp/d-w1" >"$tmp/d-sup-of-w1.json"
same_dump "sup's view of w1's people equals w1's own" "$tmp/d-w1/canon.json" "$tmp/d-sup-of-w1.json"

srv_stop
finish
