#!/bin/sh
# test_record.sh - a link worker's whole day through the command line:
# init, person, referral, contacts with notes and follow-ups, notes and
# amendments, goals, measures, tasks and the overdue list, discharge, story;
# show (text and JSON), person list, id prefixes and lookup by NHS number.
. "$(dirname "$0")/lib.sh"
need python3

PAST=2000-01-10      # a follow-up long gone: overdue
FUTURE=2199-12-01    # a follow-up far ahead: not overdue

expect_exit 0 "init creates a store" -- lb init
check "init made store.db in LINKBOOK_STORE" test -f "$LINKBOOK_STORE/store.db"

# --- person -----------------------------------------------------------------
expect_exit 0 "person add" -- lb person add --given Zephyrine --family Quillfeather \
    --nhs 9434765919 --dob 1957-03-14 --postcode "S7 1QW" --phone "07700 900461"
expect_id "person add prints the new id alone on the last line"
P=$id
P8=$(prefix "$P" 8)

expect_exit 0 "second person add" -- lb person add --given Aaron --family Abbott
expect_id "second person add prints its id"
Q=$id
if [ -n "$P" ] && [ "$P" != "$Q" ]; then ok "two people get different ids"; else fail "two people get different ids" "P=$P Q=$Q"; fi

# --- referral ---------------------------------------------------------------
expect_exit 0 "referral add" -- lb referral add "$P" --source gp --reason isolation,money --date 2026-01-05
expect_id "referral add prints its id"
R=$id

# --- contacts (by id prefix) ----------------------------------------------
expect_exit 0 "contact add by 8-char person prefix, with note and past follow-up" -- \
    lb contact add "$P8" --mode home --minutes 45 --category health-coaching,signposting \
    --note "Visited at home; talked about the Tuesday walking group" \
    --signpost "Walking for Health" --follow-up "$PAST"
expect_id "contact add prints its id"
C1=$id

expect_exit 0 "contact add with future follow-up" -- \
    lb contact add "$P" --mode phone --minutes 10 --category psychosocial --follow-up "$FUTURE"
expect_id "second contact add prints its id"
C2=$id

# --- notes and amendments -----------------------------------------------------
expect_exit 0 "note add" -- lb note add "$P" "Prefers morning visits; dog is friendly"
expect_id "note add prints its id"
N=$id
N8=$(prefix "$N" 8)

expect_exit 0 "note amend by 8-char note prefix" -- lb note amend "$N8" "Correction: prefers afternoon visits"
expect_id "note amend prints the amendment's id"
NA=$id
if [ -n "$NA" ] && [ "$NA" != "$N" ]; then
    ok "an amendment is a new record, not an overwrite"
else
    fail "an amendment is a new record, not an overwrite" "note id $N, amendment id $NA"
fi

# --- goals --------------------------------------------------------------------
expect_exit 0 "goal add" -- lb goal add "$P" "Walk to the community garden twice a week" \
    --domain physical-activity --target 2026-06-30
expect_id "goal add prints its id"
G=$id
G8=$(prefix "$G" 8)
expect_exit 0 "goal review by prefix with score 8" -- lb goal review "$G8" --score 8 --note "Walked there once this week"
expect_id "goal review prints its id"
GR=$id
expect_exit 0 "goal status achieved" -- lb goal status "$G" achieved

# --- measures -----------------------------------------------------------------
expect_exit 0 "measure add ons4" -- lb measure add "$P" ons4 --answers 6,7,5,3 --when baseline
expect_id "measure add ons4 prints its id"
M1=$id
expect_exit 0 "measure add swemwbs" -- lb measure add "$P" swemwbs --answers 3,3,3,3,3,3,3 --when review
expect_id "measure add swemwbs prints its id"
M2=$id

# --- story --------------------------------------------------------------------
expect_exit 0 "story add" -- lb story add "$P" "I feel part of something again" --share-anonymised
expect_id "story add prints its id"
S=$id

# --- show (text) -----------------------------------------------------------------
expect_exit 0 "show by full id" -- lb show "$P"
expect_stdout_has "Quillfeather" "show names the person"
expect_stdout_has "Prefers morning visits; dog is friendly" "show keeps the original note"
expect_stdout_has "Correction: prefers afternoon visits" "show prints the amendment too"
expect_stdout_has "talked about the Tuesday walking group" "show prints the contact's note"
expect_stdout_has "Walk to the community garden twice a week" "show prints the goal"
expect_stdout_has "I feel part of something again" "show prints the story"

expect_exit 0 "show by 8-char prefix" -- lb show "$P8"
expect_stdout_has "Quillfeather" "show by prefix finds the person"

# --- show --json ----------------------------------------------------------------
expect_exit 0 "show --json" -- lb show "$P" --json
cp "$out" "$tmp/show.json"
J="$tmp/show.json"
expect_json "show --json is one valid JSON document" "$J" 'True'
expect_json "show --json has person and timeline" "$J" \
    'isinstance(doc, dict) and isinstance(doc.get("person"), dict) and isinstance(doc.get("timeline"), list)'
expect_json "show --json person is the one asked for" "$J" 'doc["person"].get("id") == "'"$P"'"'
expect_json "show --json person names and NHS number" "$J" \
    'has_text(doc["person"], "Zephyrine") and has_text(doc["person"], "Quillfeather") and has_text(doc["person"], "9434765919")'
expect_json "show --json person date of birth" "$J" 'has_text(doc["person"], "1957-03-14")'
for pair in "referral:$R" "contact:$C1" "contact:$C2" "note:$N" "goal:$G" "measure:$M1" "measure:$M2" "story:$S"; do
    kind=${pair%%:*}
    rid=${pair#*:}
    expect_json "timeline has the $kind $(prefix "$rid" 8) with kind $kind" "$J" \
        'any(isinstance(e, dict) and e.get("id") == "'"$rid"'" and e.get("kind") == "'"$kind"'" for e in doc["timeline"])'
done
expect_json "timeline is not empty" "$J" 'len(doc["timeline"]) > 0'
# README.md ("JSON output") documents the keys: every entry has id, kind,
# author and recorded; the others depend on the kind.
expect_json "timeline entries carry id, kind, author and recorded" "$J" \
    '[(e.get("kind"), k) for e in doc["timeline"] for k in ("id", "kind", "author", "recorded") if k not in e]'
expect_json "timeline entries carry the keys README documents for their kind" "$J" \
    '[(e.get("kind"), k) for e in doc["timeline"] for k in {"assignment": ("caseload", "role", "from", "reason", "active"), "referral": ("source", "reasons", "date", "status"), "contact": ("date", "minutes", "mode", "role", "categories"), "note": ("text", "date"), "task": ("due", "text", "done"), "goal": ("text", "status", "date"), "measure": ("instrument", "when", "date", "answers", "scores"), "story": ("text", "domains", "share_anonymised", "date"), "discharge": ("reason", "date")}.get(e.get("kind"), ("unknown kind",)) if k not in e]'
expect_json "timeline in date order (assignment by from, task by due)" "$J" \
    '[e.get("date") or e.get("from") or e.get("due") for e in doc["timeline"]] == sorted(e.get("date") or e.get("from") or e.get("due") for e in doc["timeline"])'
expect_json "referral entry has source and reasons" "$J" \
    'has_text(entry("'"$R"'"), "gp") and has_text(entry("'"$R"'"), "isolation") and has_text(entry("'"$R"'"), "money") and has_text(entry("'"$R"'"), "2026-01-05")'
expect_json "contact entry has mode, minutes, categories, signpost, follow-up" "$J" \
    'has_text(entry("'"$C1"'"), "home") and has_num(entry("'"$C1"'"), 45) and has_text(entry("'"$C1"'"), "health-coaching") and has_text(entry("'"$C1"'"), "signposting") and has_text(entry("'"$C1"'"), "Walking for Health") and has_text(entry("'"$C1"'"), "'"$PAST"'")'
expect_json "original note text kept in JSON" "$J" 'has_text(entry("'"$N"'"), "Prefers morning visits; dog is friendly")'
expect_json "amendment present in JSON with its text" "$J" 'has_text(entry("'"$NA"'"), "Correction: prefers afternoon visits")'
expect_json "amendment points at the note it corrects" "$J" \
    '"'"$N"'" in [v for v in leaves(entry("'"$NA"'")) if v != entry("'"$NA"'").get("id")] or "'"$NA"'" in leaves(entry("'"$N"'"))'
expect_json "goal entry: text, status achieved" "$J" \
    'has_text(entry("'"$G"'"), "Walk to the community garden twice a week") and has_text(entry("'"$G"'"), "achieved")'
expect_json "goal review: score 8 and its note, on the timeline" "$J" \
    'has_num(entry("'"$GR"'"), 8) and has_text(entry("'"$GR"'"), "Walked there once this week")'
expect_json "story entry: text and share flag" "$J" \
    'has_text(entry("'"$S"'"), "I feel part of something again") and entry("'"$S"'").get("share_anonymised") is True'
expect_json "measure entries name their instrument and occasion" "$J" \
    'has_text(entry("'"$M1"'"), "ons4") and has_text(entry("'"$M1"'"), "baseline") and has_text(entry("'"$M2"'"), "swemwbs") and has_text(entry("'"$M2"'"), "review")'
expect_json "second person's data not in first person's record" "$J" '"'"$Q"'" not in leaves(doc)'

# --- show by NHS number --------------------------------------------------------
expect_exit 0 "show by NHS number" -- lb show 9434765919 --json
cp "$out" "$tmp/nhs.json"
expect_json "show by NHS number finds the right person" "$tmp/nhs.json" 'doc["person"].get("id") == "'"$P"'"'

# --- tasks ----------------------------------------------------------------------
expect_exit 0 "tasks" -- lb tasks
expect_stdout_has "$PAST" "tasks lists the past follow-up"
expect_stdout_has "$FUTURE" "tasks lists the future follow-up"
expect_exit 0 "tasks --json" -- lb tasks --json
cp "$out" "$tmp/tasks.json"
expect_json "tasks --json: both follow-ups, for the person" "$tmp/tasks.json" \
    'sorted(t.get("due") for t in tasks if t.get("person") == "'"$P"'") == ["'"$PAST"'", "'"$FUTURE"'"]'
expect_json "tasks --json: past one has positive overdue_days, future one not" "$tmp/tasks.json" \
    'all((t.get("overdue_days", 0) > 0) == (t.get("due") == "'"$PAST"'") for t in tasks)'
# README.md documents the keys of a task.
expect_json "tasks --json entries carry the documented keys" "$tmp/tasks.json" \
    '[(t.get("id", "?")[:8], k) for t in tasks for k in ("id", "person", "given", "family", "due", "overdue_days", "text", "contact") if k not in t]'
expect_json "tasks --json: a follow-up points at its contact" "$tmp/tasks.json" \
    'sorted(t.get("contact") for t in tasks) == sorted(["'"$C1"'", "'"$C2"'"])'
expect_json "tasks --json: overdue_days is 0 for the task not yet due" "$tmp/tasks.json" \
    '[t.get("overdue_days") for t in tasks if t.get("due") == "'"$FUTURE"'"] == [0]'
expect_json "tasks --json says what today is" "$tmp/tasks.json" 'isinstance(doc.get("today"), str) and len(doc["today"]) == 10'
expect_json "tasks --json sorted by due date" "$tmp/tasks.json" '[t.get("due") for t in tasks] == sorted(t.get("due") for t in tasks)'
expect_exit 0 "tasks --overdue" -- lb tasks --overdue
expect_stdout_has "$PAST" "tasks --overdue lists the past follow-up"
expect_stdout_lacks "$FUTURE" "tasks --overdue leaves out the future follow-up"
expect_exit 0 "tasks --overdue --json" -- lb tasks --overdue --json
cp "$out" "$tmp/overdue.json"
expect_json "tasks --overdue --json: exactly the past follow-up" "$tmp/overdue.json" \
    '[t.get("due") for t in tasks] == ["'"$PAST"'"] and tasks[0].get("person") == "'"$P"'"'
expect_json "tasks --overdue --json names the person" "$tmp/overdue.json" \
    'tasks[0].get("family") == "Quillfeather" and tasks[0].get("given") == "Zephyrine"'

# --- person list ------------------------------------------------------------------
expect_exit 0 "person list" -- lb person list
expect_stdout_has "Quillfeather" "person list shows the first person"
expect_stdout_has "Abbott" "person list shows the second person"
expect_exit 0 "person list --json" -- lb person list --json
cp "$out" "$tmp/list.json"
expect_json "person list --json has both people" "$tmp/list.json" \
    'person("'"$P"'").get("given") == "Zephyrine" and person("'"$Q"'").get("family") == "Abbott"'
expect_json "person list --json entries carry the documented keys" "$tmp/list.json" \
    '[(p.get("family"), k) for p in people for k in ("id", "given", "family", "nhs", "dob", "status", "caseloads") if k not in p and not (k in ("nhs", "dob") and p.get("family") == "Abbott")]'
expect_json "person list --json sorted by family name (README)" "$tmp/list.json" \
    '[p.get("family") for p in people] == ["Abbott", "Quillfeather"]'
expect_json "person list --json status is not discharged yet" "$tmp/list.json" \
    'person("'"$P"'").get("status") in ("referred", "active")'

# --- audit: every write and every read, never the values ---------------------------
expect_exit 0 "audit --person --json" -- lb audit --person "$P" --json
cp "$out" "$tmp/audit.json"
expect_json "audit has a create event for every record made" "$tmp/audit.json" \
    '[r for r in ["'"$P"'", "'"$R"'", "'"$C1"'", "'"$C2"'", "'"$N"'", "'"$NA"'", "'"$G"'", "'"$GR"'", "'"$M1"'", "'"$M2"'", "'"$S"'"] if not any(e.get("record") == r and e.get("action") == "create" for e in doc.get("events", []))]'
expect_json "audit has an update event for the goal status" "$tmp/audit.json" \
    'any(e.get("record") == "'"$G"'" and e.get("action") == "update" for e in doc["events"])'
expect_json "audit records the views of the person (show)" "$tmp/audit.json" \
    'len([e for e in doc["events"] if e.get("action") == "view" and e.get("person") == "'"$P"'"]) >= 3'
expect_json "audit never shows the values" "$tmp/audit.json" \
    'not any(has_text(doc, t) for t in ("Zephyrine", "Quillfeather", "Prefers morning visits", "Walk to the community garden", "I feel part of something again"))'

# --- discharge ----------------------------------------------------------------------
expect_exit 0 "discharge" -- lb discharge "$P8" --reason "goals met"
expect_exit 0 "person list --json after discharge" -- lb person list --json
cp "$out" "$tmp/list2.json"
expect_json "discharged person has status discharged" "$tmp/list2.json" 'person("'"$P"'").get("status") == "discharged"'
expect_json "other person not discharged" "$tmp/list2.json" 'person("'"$Q"'").get("status") != "discharged"'
expect_exit 0 "person list --status discharged --json" -- lb person list --status discharged --json
cp "$out" "$tmp/list3.json"
expect_json "status filter keeps only the discharged person" "$tmp/list3.json" \
    '[p.get("id") for p in people] == ["'"$P"'"]'
expect_exit 0 "show after discharge" -- lb show "$P" --json
cp "$out" "$tmp/show2.json"
expect_json "discharge is on the timeline with its reason" "$tmp/show2.json" \
    'has_text(doc["timeline"], "goals met") and has_text(doc["person"], "discharged")'
expect_json "history kept after discharge" "$tmp/show2.json" 'has_text(doc, "Prefers morning visits; dog is friendly")'

finish
