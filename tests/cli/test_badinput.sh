#!/bin/sh
# test_badinput.sh - bad input gets exit 2, a message naming the field, and
# nothing written (the store's logical content is unchanged); an unknown but
# well-formed id gets exit 4 ("no such record"), also writing nothing.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

expect_exit 0 "init" -- lb init
expect_exit 0 "person add" -- lb person add --given Bad --family Input --nhs 9434765919
expect_id "person id"
P=$id
expect_exit 0 "goal add" -- lb goal add "$P" "Join the choir"
expect_id "goal id"
G=$id
expect_exit 0 "note add" -- lb note add "$P" "A note to amend"
expect_id "note id"
N=$id

# bad NAME FIELD_RE -- CMD...: exit 2, stderr matches FIELD_RE, nothing written.
bad() {
    _bn=$1
    _bf=$2
    shift 2
    [ "${1:-}" = "--" ] && shift
    _before=$(store_digest)
    expect_exit 2 "$_bn: exit 2" -- "$@"
    expect_stderr_has "$_bf" "$_bn: message names the field (/$_bf/)"
    expect_unchanged "$_bn: nothing written" "$_before"
}

# also_lists PATTERN NAME: the refusal says what is accepted.
also_lists() {
    expect_stderr_has "$1" "$2: message lists what is accepted (/$1/)"
}

# --- NHS number ------------------------------------------------------------------
bad "nhs wrong check digit 9434765918" "nhs" -- lb person add --given A --family B --nhs 9434765918
bad "nhs check digit would be 10 (1000000010)" "nhs" -- lb person add --given A --family B --nhs 1000000010
bad "nhs nine digits" "nhs" -- lb person add --given A --family B --nhs 943476591
bad "nhs with letters" "nhs" -- lb person add --given A --family B --nhs 94347659AB

# --- dates -----------------------------------------------------------------------
bad "dob 2026-02-30" "dob|birth|date" -- lb person add --given A --family B --dob 2026-02-30
bad "dob 2026-13-01" "dob|birth|date" -- lb person add --given A --family B --dob 2026-13-01
bad "dob yesterday" "dob|birth|date" -- lb person add --given A --family B --dob yesterday
bad "dob 2025-02-29 (not a leap year)" "dob|birth|date" -- lb person add --given A --family B --dob 2025-02-29
bad "referral date 2026-02-30" "date" -- lb referral add "$P" --source gp --reason isolation --date 2026-02-30
bad "contact follow-up 2026-13-01" "follow" -- lb contact add "$P" --mode home --minutes 30 --category psychosocial --follow-up 2026-13-01
bad "goal target yesterday" "target|date" -- lb goal add "$P" "Sleep better" --target yesterday

# --- codes -----------------------------------------------------------------------
bad "unknown category dancing" "categor" -- lb contact add "$P" --mode home --minutes 30 --category dancing
also_lists "health-coaching" "unknown category"
bad "one unknown category in a list" "categor" -- lb contact add "$P" --mode home --minutes 30 --category psychosocial,dancing
bad "unknown mode telepathy" "mode" -- lb contact add "$P" --mode telepathy --minutes 30 --category psychosocial
also_lists "community" "unknown mode"
bad "minutes not a number" "minute" -- lb contact add "$P" --mode home --minutes abc --category psychosocial
bad "minutes zero" "minute" -- lb contact add "$P" --mode home --minutes 0 --category psychosocial
bad "unknown referral source" "source" -- lb referral add "$P" --source postman --reason isolation
also_lists "social-care" "unknown referral source"
bad "unknown referral reason" "reason" -- lb referral add "$P" --source gp --reason boredom
bad "unknown goal status" "status" -- lb goal status "$G" finished

# --- scores and answers ---------------------------------------------------------------
bad "goal review score 11" "score" -- lb goal review "$G" --score 11
bad "goal review score -1" "score" -- lb goal review "$G" --score -1
bad "goal review score 7x" "score" -- lb goal review "$G" --score 7x
bad "goal review score empty" "score" -- lb goal review "$G" --score ""
bad "ons4 with 3 answers" "answer" -- lb measure add "$P" ons4 --answers 5,6,7
bad "ons4 with 5 answers" "answer" -- lb measure add "$P" ons4 --answers 5,6,7,8,9
bad "ons4 answer 11" "answer" -- lb measure add "$P" ons4 --answers 5,6,7,11
bad "swemwbs answer 6" "answer" -- lb measure add "$P" swemwbs --answers 3,3,3,3,3,3,6
bad "swemwbs answer 0" "answer" -- lb measure add "$P" swemwbs --answers 0,3,3,3,3,3,3
bad "swemwbs answer not a number" "answer" -- lb measure add "$P" swemwbs --answers 3,3,x,3,3,3,3
bad "unknown instrument" "instrument" -- lb measure add "$P" phq9 --answers 1,2,3
bad "unknown measure occasion" "when" -- lb measure add "$P" ons4 --answers 5,6,7,8 --when never

# --- usage ------------------------------------------------------------------------
bad "unknown option --colour" "colour" -- lb person add --given A --family B --colour blue
bad "missing --family" "family" -- lb person add --given A
bad "missing --category" "categor" -- lb contact add "$P" --mode home --minutes 30
bad "missing --source" "source" -- lb referral add "$P" --reason isolation
bad "missing --answers" "answer" -- lb measure add "$P" ons4
bad "empty note text" "text|note" -- lb note add "$P" ""
bad "empty amendment text" "text|note" -- lb note amend "$N" ""
bad "unknown command" "frobnicate|command|usage" -- lb frobnicate

# --- id prefixes --------------------------------------------------------------------
# The core accepts prefixes of at least 4 hex digits: one digit is too short
# to name anything (and with three records it would often be ambiguous too).
p1=$(prefix "$P" 1)
bad "one-digit id prefix" "person id|prefix|ambiguous|digits" -- lb show "$p1"

# Two ids sharing a 4-digit prefix would take hundreds of records to happen by
# chance, so make one: a second row in records whose id shares the person's
# first 4 digits.  Resolving a prefix must refuse as ambiguous before reading
# any body.
p4=$(prefix "$P" 4)
c5=$(printf '%s' "$P" | cut -c5)
if [ "$c5" = 0 ]; then fill=1; else fill=0; fi
twin="$p4$(printf "%028d" 0 | tr 0 "$fill")"
cols=$(sql "SELECT group_concat(name, ', ') FROM pragma_table_info('records') WHERE name NOT IN ('id', 'seq');")
sql "INSERT INTO records(id, $cols) SELECT '$twin', $cols FROM records WHERE id = '$P';"
if [ "$(sql "SELECT count(*) FROM records WHERE id LIKE '$p4%';")" = 2 ]; then
    ok "set-up: two records share the prefix $p4"
    bad "ambiguous 4-digit prefix $p4" "ambiguous|more than one" -- lb show "$p4"
    bad "ambiguous prefix in note add" "ambiguous|more than one" -- lb note add "$p4" "should not be written"
else
    fail "set-up: two records share the prefix $p4" "could not insert the twin row"
fi
sql "DELETE FROM records WHERE id = '$twin';"

# An unknown but well-formed id: exit 4, nothing written.
missing() {
    _mn=$1
    shift
    [ "${1:-}" = "--" ] && shift
    _before=$(store_digest)
    expect_exit 4 "$_mn: exit 4" -- "$@"
    expect_stderr_has "no such|not found|no record|no [a-z]+ with" "$_mn: says no such record"
    expect_unchanged "$_mn: nothing written" "$_before"
}
for pfx in ffffffff fffffffe; do
    if [ -n "$(sql "SELECT id FROM records WHERE id LIKE '$pfx%';")" ]; then
        continue # astronomically unlikely: pick the other one
    fi
    missing "show $pfx" -- lb show "$pfx"
    missing "note add to $pfx" -- lb note add "$pfx" "nobody to attach to"
    missing "note amend $pfx" -- lb note amend "$pfx" "nothing to amend"
    missing "goal review $pfx" -- lb goal review "$pfx" --score 5
    break
done
missing "show by an NHS number nobody has (4010232137)" -- lb show 4010232137

# A valid command after all that still works, and the refused ones left no trace.
expect_exit 0 "show after refusals" -- lb show "$P" --json
cp "$out" "$tmp/show.json"
expect_json "no refused write reached the record" "$tmp/show.json" \
    'not has_text(doc, "should not be written") and not has_text(doc, "nobody to attach to") and len([e for e in doc["timeline"] if e.get("kind") == "goal"]) == 1'

finish
