#!/bin/sh
# test_sync_review.sh - review across a team: the supervisor's sync brings
# the team roster, so its review names each caseload's worker and says when
# each device last synced, offline; `review WORKER` takes a name or a user
# id prefix; `show` works on the worker's people on the supervisor's
# device; a worker's own review shows only their caseload.  The
# supervisor's review and export are audit events that go up sealed like
# any change: the server holds them as envelopes from the supervisor's
# device, and a second supervisor's `audit` lists them after its sync.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

team_setup 1
invite supervisor "Lead Two"
dev_new sup2
dev_enrol sup2 "$CODE"
sync_ok sup "sup: sync seals the team key to the second supervisor"
sync_ok sup2 "sup2: first sync with the team key"

# --- the worker's day ----------------------------------------------------------
expect_exit 0 "w1: person add" -- dv w1 person add --given Rosalind --family Featherstonehaugh \
    --nhs 9434765919 --dob 1952-04-09
expect_id "w1: person add prints the id"
P=$id
expect_exit 0 "w1: referral add" -- dv w1 referral add "$P" --source gp --reason isolation
expect_exit 0 "w1: contact add with a follow-up now overdue" -- dv w1 contact add "$P" \
    --mode home --minutes 30 --category psychosocial --note "Likes the library on Thursdays" \
    --date 2026-01-10 --follow-up 2026-01-20
sync_ok w1 "w1: sync"
sync_ok sup "sup: sync brings the worker's records and the roster"

# --- the supervisor's review, offline ------------------------------------------------
srv_stop
expect_exit 0 "sup: review --json with the server down" -- dv sup review --json
cp "$out" "$tmp/sup.json"
expect_json "sup: the worker's caseload is named after the worker" "$tmp/sup.json" \
    'any(c.get("worker", {}).get("name") == "w1" and c["worker"].get("role") == "link-worker" and c["people"]["total"] == 1 for c in doc["caseloads"])'
expect_json "sup: the team's figures include the worker's person and contact" "$tmp/sup.json" \
    'doc["team"]["people"]["total"] == 1 and doc["team"]["contacts"]["total"] == 1'
expect_json "sup: every device of the team, with its last sync" "$tmp/sup.json" \
    'len(doc["devices"]) == 3 and {"Lead Two", "w1"} <= {d["name"] for d in doc["devices"]}'
expect_json "sup: the worker's device has a last sync time" "$tmp/sup.json" \
    'any(d["device"] == "'"$DEVID_w1"'" and d.get("last_sync", "").endswith("Z") for d in doc["devices"])'
expect_json "sup: the roster says when it was fetched" "$tmp/sup.json" 'doc.get("roster_fetched", "").endswith("Z")'
W1_USER=$(python3 -c 'import json,sys; print([d["user"] for d in json.load(open(sys.argv[1]))["devices"] if d["device"] == sys.argv[2]][0])' "$tmp/sup.json" "$DEVID_w1" 2>/dev/null)
expect_exit 0 "sup: review w1 (by name)" -- dv sup review w1
expect_stdout_has "Featherstonehaugh" "sup: review w1 names the person waiting or overdue by name"
expect_exit 0 "sup: review by user id prefix" -- dv sup review "$(prefix "$W1_USER" 8)" --json
expect_json "sup: the user id prefix names w1's caseload" "$out" \
    '[c["caseload"] for c in doc["caseloads"]] == ["'"$W1_USER"'"]'
expect_exit 2 "sup: review of an unknown worker" -- dv sup review nobody
expect_stderr_has "no worker 'nobody'" "sup: the message names the unknown worker"
expect_exit 0 "sup: show the worker's person" -- dv sup show "$P"
expect_stdout_has "Likes the library on Thursdays" "sup: show has the worker's note"
expect_exit 0 "sup: report --csv" -- dv sup report --csv "$tmp/csv"
check "sup: the dataset was written" test -s "$tmp/csv/support.csv"
srv_start "$PORT"

# --- the worker's own review ------------------------------------------------------------
expect_exit 0 "w1: review --json" -- dv w1 review --json
cp "$out" "$tmp/w1.json"
expect_json "w1: only the worker's own caseload" "$tmp/w1.json" \
    'len(doc["caseloads"]) == 1 and doc["team"]["people"]["total"] == 1 and doc["devices"] == []'
expect_exit 0 "w1: review by the worker's own name" -- dv w1 review w1

# --- the supervisor's reads travel as sealed changes ----------------------------------------
expect_exit 0 "sup: audit --json" -- dv sup audit --json
cp "$out" "$tmp/sup-audit.json"
changes=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(e["change"] for e in d["events"] if e["action"] in ("review", "export")))' "$tmp/sup-audit.json")
n_reads=$(echo "$changes" | wc -w)
if [ "$n_reads" -ge 4 ]; then ok "sup: its reviews and export are in its own audit ($n_reads)"; else fail "sup: its reviews and export are in its own audit" "$changes"; fi
# The device that wrote a change is named in the audit trail by the id its
# store gave itself (the one its changes carry).
SUP_STORE_DEV=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([e["device"] for e in d["events"] if e["action"] == "export"][0])' "$tmp/sup-audit.json")
sync_ok sup "sup: sync pushes the audit events"
inlist=$(printf "'%s'," $changes | sed 's/,$//')
on_server=$(srv_sql "SELECT count(*) FROM envelopes WHERE device = '$DEVID_sup' AND id IN ($inlist)" 2>/dev/null)
if [ "$on_server" = "$n_reads" ]; then
    ok "server: every review and export of sup is an envelope from sup's device ($on_server)"
else
    fail "server: every review and export of sup is an envelope from sup's device" "expected $n_reads, found '$on_server'"
fi
if [ "$BACKEND" = postgres ]; then
    in_clear="position('review'::bytea in body) > 0 OR position('export'::bytea in body) > 0"
else
    in_clear="instr(body, 'review') > 0 OR instr(body, 'export') > 0"
fi
sealed=$(srv_sql "SELECT count(*) FROM envelopes WHERE id IN ($inlist) AND ($in_clear)" 2>/dev/null)
if [ "$sealed" = 0 ]; then ok "server: the envelopes are sealed (no 'review' or 'export' in clear)"; else fail "server: the envelopes are sealed" "found $sealed"; fi
sync_ok sup2 "sup2: sync"
expect_exit 0 "sup2: audit --json" -- dv sup2 audit --json
cp "$out" "$tmp/sup2-audit.json"
expect_json "sup2: sup's review of the team is in its audit, from sup's device" "$tmp/sup2-audit.json" \
    'any(e["action"] == "review" and e.get("scope") == "team" and e["device"] == "'"$SUP_STORE_DEV"'" for e in doc["events"])'
expect_json "sup2: sup's export is in its audit" "$tmp/sup2-audit.json" \
    'any(e["action"] == "export" and e["device"] == "'"$SUP_STORE_DEV"'" for e in doc["events"])'
expect_json "sup2: sup's view of the person is in its audit" "$tmp/sup2-audit.json" \
    'any(e["action"] == "view" and e["person"] == "'"$P"'" and e["device"] == "'"$SUP_STORE_DEV"'" for e in doc["events"])'
expect_exit 0 "sup2: audit --person" -- dv sup2 audit --person "$P" --json
expect_json "sup2: audit --person lists sup's view and w1's changes of the person" "$out" \
    'all(e["person"] == "'"$P"'" for e in doc["events"]) and len({e["device"] for e in doc["events"]}) >= 2 and "'"$SUP_STORE_DEV"'" in {e["device"] for e in doc["events"]}'

finish
