#!/bin/sh
# test_sync_basic.sh - the story: a supervisor and a link worker enrol; the
# worker records a person, a referral, a contact with a note, a goal and a
# measure; the worker's sync says what moved; the supervisor's sync brings
# it all, and `show` on the supervisor's device has the note.  A sync with
# nothing new moves nothing in one request; syncing again changes nothing.
. "$(dirname "$0")/lib.sh"

team_setup 1

# --- the worker's day ---------------------------------------------------------
expect_exit 0 "w1: person add" -- dv w1 person add --given Ottoline --family Brackenbury \
    --nhs 9434765919 --dob 1949-07-02 --postcode "LS6 2AB"
expect_id "w1: person add prints the id"
P=$id
expect_exit 0 "w1: referral add" -- dv w1 referral add "$P" --source gp --reason isolation,money
expect_exit 0 "w1: contact add with a note" -- dv w1 contact add "$P" --mode home --minutes 40 \
    --category health-coaching --note "Talked about the allotment society on Wednesdays"
expect_exit 0 "w1: goal add" -- dv w1 goal add "$P" "Visit the allotment society twice" --domain social
G=$(last_id)
expect_exit 0 "w1: note add" -- dv w1 note add "$P" "Daughter visits on Sundays; prefers morning calls"
expect_exit 0 "w1: measure add ons4" -- dv w1 measure add "$P" ons4 --answers 4,5,3,6 --when baseline

# --- the worker's sync says what moved -------------------------------------------
expect_exit 0 "w1: sync" -- dv w1 sync
expect_stdout_has '^pushed [1-9][0-9]*, pulled [0-9]+, rejected 0 \(' "w1: sync prints a summary line with what it pushed"
expect_stderr_has 'pushed [0-9]+ change' "w1: sync tells what moved in words"
w1_pushed=$(sed -n 's/^pushed \([0-9]*\),.*/\1/p' "$out" | head -n 1)
if [ -n "$w1_pushed" ] && [ "$w1_pushed" -ge 6 ]; then
    ok "w1: the sync pushed at least the 6 records made (pushed $w1_pushed)"
else
    fail "w1: the sync pushed at least the 6 records made" "pushed '$w1_pushed'" "$(_describe)"
fi

# --- the supervisor's sync ----------------------------------------------------------
sync_ok sup "sup: sync"
if [ -n "$w1_pushed" ] && [ "$pulled" = "$w1_pushed" ]; then
    ok "sup: pulled exactly what w1 pushed ($pulled)"
else
    fail "sup: pulled exactly what w1 pushed" "w1 pushed '$w1_pushed', sup pulled '$pulled'" "$(_describe)"
fi
if [ "$rejected" = 0 ]; then ok "sup: no pulled change was rejected"; else fail "sup: no pulled change was rejected" "$(_describe)"; fi

expect_exit 0 "sup: person list shows the worker's person" -- dv sup person list
expect_stdout_has "Brackenbury" "sup: person list names the worker's person"
expect_exit 0 "sup: show the worker's person" -- dv sup show "$P"
expect_stdout_has "Daughter visits on Sundays; prefers morning calls" "sup: show has the worker's note"
expect_stdout_has "Talked about the allotment society on Wednesdays" "sup: show has the contact's note"
expect_stdout_has "Visit the allotment society twice" "sup: show has the goal"
expect_stdout_has "ons4" "sup: show has the measure"
expect_stdout_has "referral" "sup: show has the referral"
expect_exit 0 "sup: show --json of the worker's person" -- dv sup show "$P" --json
cp "$out" "$tmp/sup-show.json"
expect_json "sup: show --json has the goal by its id" "$tmp/sup-show.json" \
    'entry("'"$G"'").get("kind") == "goal"'
expect_json "sup: the note appears exactly once" "$tmp/sup-show.json" \
    'len([e for e in entries("note") if e.get("text") == "Daughter visits on Sundays; prefers morning calls"]) == 1'

# Same view on both devices.
dump w1 "$tmp/d-w1"
dump sup "$tmp/d-sup"
python3 "$SYNC_DIR/canon.py" "$tmp/d-sup" "$tmp/d-w1" >"$tmp/d-sup-of-w1.json"
same_dump "sup's view of w1's person equals w1's own" "$tmp/d-w1/canon.json" "$tmp/d-sup-of-w1.json"

# --- a sync with nothing new -----------------------------------------------------------
# Viewing a person is an audit event that travels like any change
# (lb_view.h), so the views above (both devices) are pushed, then pulled.
sync_ok sup "sup: sync (pushes its view audit events)"
sync_ok w1 "w1: sync (pulls them, pushes its own)"
sync_ok sup "sup: sync (pulls w1's)"
before=$(metric_requests)
sync_ok sup "sup: sync with nothing new"
after=$(metric_requests)
if [ "$pushed" = 0 ] && [ "$pulled" = 0 ]; then
    ok "sup: nothing new moves nothing (pushed 0, pulled 0)"
else
    fail "sup: nothing new moves nothing" "pushed '$pushed', pulled '$pulled'" "$(_describe)"
fi
if [ "$requests" = 1 ]; then
    ok "sup: a sync with nothing new is one HTTP request (client's count)"
else
    fail "sup: a sync with nothing new is one HTTP request (client's count)" "requests '$requests'" "$(_describe)"
fi
if [ -n "$before" ] && [ -n "$after" ]; then
    if [ $((after - before)) -eq 1 ]; then
        ok "sup: the server counted one request for a sync with nothing new"
    else
        fail "sup: the server counted one request for a sync with nothing new" \
            "linkbookd_requests_total (not /metrics, /healthz) went $before -> $after"
    fi
else
    fail "server /metrics counts requests (linkbookd_requests_total)" "before '$before', after '$after'" \
        "$(curl -sS --max-time 5 "$URL/metrics" | head -n 20)"
fi
sync_ok w1 "w1: sync with nothing new"
if [ "$pushed" = 0 ] && [ "$pulled" = 0 ] && [ "$requests" = 1 ]; then
    ok "w1: nothing new: pushed 0, pulled 0, one request"
else
    fail "w1: nothing new: pushed 0, pulled 0, one request" "$(_describe)"
fi

# --- edits: a push with nothing else waiting is the whole sync --------------------------
# The push answer says whether a pull would bring the worker anything; when
# not, the sync is one request, and the edits reach the supervisor in one more.
dv w1 note add "$P" "Edit pushed in one round trip" >/dev/null 2>&1
sync_ok w1 "w1: sync after one edit"
if [ "$pushed" -ge 1 ] && [ "$pulled" = 0 ] && [ "$requests" = 1 ]; then
    ok "w1: an edit with nothing else waiting syncs in one request"
else
    fail "w1: an edit with nothing else waiting syncs in one request" "$(_describe)"
fi
sync_ok sup "sup: sync pulls the edit"
if [ "$pulled" -ge 1 ] && [ "$requests" = 1 ]; then
    ok "sup: the edit arrives in one request (two round trips in all)"
else
    fail "sup: the edit arrives in one request (two round trips in all)" "$(_describe)"
fi
# When someone else wrote meanwhile, the same push is followed by a pull.
dv sup note add "$P" "Supervisor's note for w1 to receive" >/dev/null 2>&1
sync_ok sup "sup: sync its note"
dv w1 note add "$P" "Another edit from w1" >/dev/null 2>&1
sync_ok w1 "w1: sync with news waiting"
if [ "$pushed" -ge 1 ] && [ "$pulled" -ge 1 ] && [ "$requests" = 2 ]; then
    ok "w1: news waiting: push, then pull (two requests)"
else
    fail "w1: news waiting: push, then pull (two requests)" "$(_describe)"
fi
expect_exit 0 "w1: show after receiving the supervisor's note" -- dv w1 show "$P"
if grep -q "Supervisor's note for w1 to receive" "$out"; then
    ok "w1: the supervisor's note arrived"
else
    fail "w1: the supervisor's note arrived" "$(_describe)"
fi
sync_ok w1 "w1: sync its view of the person"
sync_ok sup "sup: sync, settled again"

# --- syncing again changes nothing -----------------------------------------------------
dump w1 "$tmp/e-w1"
dump sup "$tmp/e-sup"
sync_ok sup "sup: sync again (1)"
sync_ok sup "sup: sync again (2)"
sync_ok w1 "w1: sync again (1)"
sync_ok w1 "w1: sync again (2)"
dump w1 "$tmp/f-w1"
dump sup "$tmp/f-sup"
same_dump "sup: two more syncs change nothing" "$tmp/e-sup/canon.json" "$tmp/f-sup/canon.json"
same_dump "w1: two more syncs change nothing" "$tmp/e-w1/canon.json" "$tmp/f-w1/canon.json"
expect_exit 0 "sup: person list after the syncs" -- dv sup person list --json
cp "$out" "$tmp/sup-list.json"
expect_json "sup: the worker's person is listed once" "$tmp/sup-list.json" \
    'len([p for p in people if p.get("id") == "'"$P"'"]) == 1'
expect_exit 0 "sup: linkbook check after the syncs" -- dv sup check
expect_exit 0 "w1: linkbook check after the syncs" -- dv w1 check

srv_stop
finish
