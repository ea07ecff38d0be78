#!/bin/sh
# test_review.sh - review and the commissioner's dataset against the fixed
# data set of review_data.sh, whose figures were worked out by hand: people
# by status and age band, referrals, contacts by category and mode, waits
# for a first contact, overdue follow-ups, goals, ONS4 and SWEMWBS change;
# for the team, each caseload, one worker and a period.  The CSV holds the
# same figures with small counts suppressed, and none of the names, NHS
# numbers, notes or other text recorded.  Bad input exits 2 and writes
# nothing.  Reviews and exports are in the audit trail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/review_data.sh"
need python3 faketime

review_data
J=$tmp/review.json

# --- the team -----------------------------------------------------------------
rd_at "$RD_TODAY" review --json
cp "$out" "$J"
if [ "$rc" -eq 0 ]; then ok "review --json"; else fail "review --json" "$(_describe)"; fi
T='doc["team"]'
expect_json "as of today" "$J" 'doc["as_of"] == "2026-03-31"'
expect_json "people 6" "$J" "$T"'["people"]["total"] == 6'
expect_json "people by status: referred 2, active 3, on-hold 0, discharged 1" "$J" \
    "$T"'["people"]["status"] == {"referred": 2, "active": 3, "on-hold": 0, "discharged": 1}'
expect_json "age bands" "$J" \
    "$T"'["people"]["age_bands"] == {"0-17": 1, "18-24": 0, "25-34": 0, "35-44": 2, "45-54": 0, "55-64": 0, "65-74": 1, "75-84": 1, "85+": 0, "unknown": 1}'
expect_json "carers 1, interpreters 1" "$J" "$T"'["people"]["carers"] == 1 and '"$T"'["people"]["interpreters"] == 1'
expect_json "referrals 6, this month 2" "$J" "$T"'["referrals"]["total"] == 6 and '"$T"'["referrals"]["this_month"] == 2'
expect_json "referral sources" "$J" \
    "$T"'["referrals"]["sources"] == {"gp": 2, "nurse": 1, "self": 1, "social-care": 0, "voluntary": 1, "hospital": 1, "other": 0}'
expect_json "referral reasons" "$J" \
    "$T"'["referrals"]["reasons"] == {"isolation": 1, "mental-health": 1, "housing": 1, "money": 1, "long-term-condition": 1, "carer-support": 1, "physical-activity": 0, "bereavement": 1, "other": 1}'
expect_json "contacts 9, 315 minutes" "$J" "$T"'["contacts"]["total"] == 9 and '"$T"'["contacts"]["minutes"] == 315'
expect_json "contacts by category" "$J" \
    "$T"'["contacts"]["categories"] == {"occupation": 1, "health-coaching": 1, "psychosocial": 5, "mental-health": 1, "cognitive": 1, "signposting": 2}'
expect_json "contacts by mode" "$J" \
    "$T"'["contacts"]["modes"] == {"home": 5, "community": 4, "surgery": 0, "phone": 0, "video": 0}'
expect_json "referrals and contacts per month" "$J" \
    '[(m["month"], m["referrals"], m["contacts"]) for m in '"$T"'["months"]] == [("2026-01", 2, 2), ("2026-02", 2, 3), ("2026-03", 2, 4)]'
expect_json "waits: P1 7, P2 14, P4 30, P3 waiting 21, P5 waiting 6 (P6 left out)" "$J" \
    'sorted((w["person"], w["days"], w["waiting"]) for w in '"$T"'["waiting"]["referrals"]) == sorted([("'"$P1"'", 7, False), ("'"$P2"'", 14, False), ("'"$P4"'", 30, False), ("'"$P3"'", 21, True), ("'"$P5"'", 6, True)])'
expect_json "first contact dates" "$J" \
    'sorted((w["person"], w.get("first_contact")) for w in '"$T"'["waiting"]["referrals"] if not w["waiting"]) == sorted([("'"$P1"'", "2026-01-12"), ("'"$P2"'", "2026-02-15"), ("'"$P4"'", "2026-02-19")])'
expect_json "2 people waiting, longest 21 days" "$J" \
    "$T"'["waiting"]["people"] == 2 and '"$T"'["waiting"]["longest_waiting_days"] == 21'
expect_json "first contact: 3 referrals, mean 17, median 14, max 30" "$J" \
    "$T"'["waiting"]["first_contact"]["count"] == 3 and abs('"$T"'["waiting"]["first_contact"]["mean_days"] - 17) < 0.005 and abs('"$T"'["waiting"]["first_contact"]["median_days"] - 14) < 0.005 and '"$T"'["waiting"]["first_contact"]["max_days"] == 30'
expect_json "one overdue follow-up: P1's, 30 days" "$J" \
    '[(o["person"], o["due"], o["days"]) for o in '"$T"'["overdue"]] == [("'"$P1"'", "2026-03-01", 30)]'
expect_json "goals set 4 and by status" "$J" \
    "$T"'["goals"] == {"set": 4, "status": {"active": 1, "achieved": 1, "partly": 1, "not-achieved": 0, "withdrawn": 1}}'
W="$T"'["wellbeing"]'
expect_json "ONS4: 2 pairs" "$J" "$W"'["ons4"]["pairs"] == 2'
expect_json "ONS4: P1 baseline to latest (not its middle review)" "$J" \
    '[(p["before"], p["after"], p["baseline"], p["latest"]) for p in '"$W"'["ons4"]["people"] if p["person"] == "'"$P1"'"] == [({"satisfaction": 4, "worthwhile": 5, "happy": 3, "anxious": 8}, {"satisfaction": 7, "worthwhile": 7, "happy": 6, "anxious": 4}, "2026-01-12", "2026-03-20")]'
expect_json "ONS4: mean change per item +1, +1, +2, -1.5" "$J" \
    'all(abs('"$W"'["ons4"]["mean_change"][k] - v) < 0.005 for k, v in {"satisfaction": 1.0, "worthwhile": 1.0, "happy": 2.0, "anxious": -1.5}.items())'
expect_json "SWEMWBS: P1 15.32 -> 19.25, P2 19.98 -> 18.59 (metric scores)" "$J" \
    'sorted((p["person"], p["raw_before"], p["raw_after"], p["metric_before"], p["metric_after"]) for p in '"$W"'["swemwbs"]["people"]) == sorted([("'"$P1"'", 14, 21, 15.32, 19.25), ("'"$P2"'", 22, 20, 19.98, 18.59)])'
expect_json "SWEMWBS: mean metric change +1.27" "$J" \
    'abs('"$W"'["swemwbs"]["mean_metric_change"] - 1.27) < 0.005'
expect_json "no open conflicts" "$J" "$T"'["conflicts"] == 0'

# --- each caseload --------------------------------------------------------------
C='{c["caseload"]: c for c in doc["caseloads"]}'
expect_json "two caseloads, alpha and beta" "$J" 'sorted('"$C"') == ["alpha", "beta"]'
expect_json "alpha: 3 people, 3 referrals, 7 contacts, 1 waiting, 1 overdue follow-up" "$J" \
    '(lambda a: (a["people"]["total"], a["referrals"]["total"], a["contacts"]["total"], a["waiting"]["people"], a["goals"]["set"], a["wellbeing"]["ons4"]["pairs"], a["wellbeing"]["swemwbs"]["pairs"]) == (3, 3, 7, 1, 3, 2, 2))('"$C"'["alpha"])'
expect_json "beta: 3 people, 3 referrals, 2 contacts, 1 waiting, first contact after 30 days" "$J" \
    '(lambda b: (b["people"]["total"], b["referrals"]["total"], b["contacts"]["total"], b["waiting"]["people"], b["waiting"]["first_contact"]["mean_days"], b["goals"]["set"], b["wellbeing"]["ons4"]["pairs"]) == (3, 3, 2, 1, 30, 1, 0))('"$C"'["beta"])'

# --- one worker's caseload ------------------------------------------------------------
rd_at "$RD_TODAY" review alpha --json
cp "$out" "$tmp/alpha.json"
if [ "$rc" -eq 0 ]; then ok "review alpha --json"; else fail "review alpha --json" "$(_describe)"; fi
expect_json "review alpha: only alpha's people" "$tmp/alpha.json" \
    'doc["team"]["people"]["total"] == 3 and [c["caseload"] for c in doc["caseloads"]] == ["alpha"]'
expect_json "review alpha: Eve Adams waits 6 days, by name" "$tmp/alpha.json" \
    '[(w["name"], w["days"]) for w in doc["team"]["waiting"]["referrals"] if w["waiting"]] == [("Eve Adams", 6)]'
expect_json "review alpha: Ada Lovelace's follow-up is 30 days overdue" "$tmp/alpha.json" \
    '[(o["name"], o["days"]) for o in doc["team"]["overdue"]] == [("Ada Lovelace", 30)]'
rd_at "$RD_TODAY" review alpha
if [ "$rc" -eq 0 ] && grep -q "Eve Adams" "$out" && grep -q "Ada Lovelace" "$out"; then
    ok "review alpha (text) lists who waits and who is overdue by name"
else
    fail "review alpha (text) lists who waits and who is overdue by name" "$(_describe)"
fi
rd_at "$RD_TODAY" review
if [ "$rc" -eq 0 ] && grep -q "caseload alpha" "$out" && grep -q "caseload beta" "$out" &&
   ! grep -q "Eve Adams" "$out"; then
    ok "review (text) has a block per caseload and names no one"
else
    fail "review (text) has a block per caseload and names no one" "$(_describe)"
fi

# --- a period ------------------------------------------------------------------------
rd_at "$RD_TODAY" review --from 2026-02-01 --to 2026-02-28 --json
cp "$out" "$tmp/feb.json"
if [ "$rc" -eq 0 ]; then ok "review of February"; else fail "review of February" "$(_describe)"; fi
F='doc["team"]'
expect_json "February: as of 02-28, one month" "$tmp/feb.json" \
    'doc["as_of"] == "2026-02-28" and [m["month"] for m in '"$F"'["months"]] == ["2026-02"]'
expect_json "February: referrals 2, contacts 3 (105 minutes), goals set 3" "$tmp/feb.json" \
    '('"$F"'["referrals"]["total"], '"$F"'["contacts"]["total"], '"$F"'["contacts"]["minutes"], '"$F"'["goals"]["set"]) == (2, 3, 105, 3)'
expect_json "February: P2's wait of 14 days only, nothing overdue by 02-28" "$tmp/feb.json" \
    '[(w["person"], w["days"]) for w in '"$F"'["waiting"]["referrals"]] == [("'"$P2"'", 14)] and '"$F"'["overdue"] == []'
expect_json "February: ONS4 P1 to its February review (+1, 0, +2, -3); no SWEMWBS pair" "$tmp/feb.json" \
    '('"$F"'["wellbeing"]["ons4"]["pairs"], '"$F"'["wellbeing"]["swemwbs"]["pairs"]) == (1, 0) and all(abs('"$F"'["wellbeing"]["ons4"]["mean_change"][k] - v) < 0.005 for k, v in {"satisfaction": 1, "worthwhile": 0, "happy": 2, "anxious": -3}.items())'

# --- the commissioner's dataset ------------------------------------------------------------
D=$tmp/dataset
rd_at "$RD_TODAY" report --csv "$D"
if [ "$rc" -eq 0 ]; then ok "report --csv"; else fail "report --csv" "$(_describe)"; fi
for f in demographics needs support outcomes; do
    check "report --csv wrote $f.csv" test -s "$D/$f.csv"
done
if [ -z "$(find "$D" -name '*.tmp*')" ]; then ok "no temporary file left"; else fail "no temporary file left" "$(ls -la "$D")"; fi
csv_has() {
    if grep -qxF -- "$2" "$D/$1.csv" || grep -qxF -- "$2$(printf '\r')" "$D/$1.csv"; then
        ok "$1.csv: $2"
    else
        fail "$1.csv: $2" "$(cat "$D/$1.csv")"
    fi
}
csv_has demographics "people,total,,6"
csv_has demographics "people,status,referred,*"
csv_has demographics "people,status,on-hold,0"
csv_has demographics "people,carer,yes,*"
csv_has demographics "people,carer,no,*"
csv_has demographics "people,age_band,85+,0"
csv_has needs "referrals,total,,6"
csv_has needs "referrals,source,gp,*"
csv_has needs "referrals,source,social-care,0"
csv_has support "contacts,total,,9"
csv_has support "contacts,minutes,,315"
csv_has support "contacts,mode,home,*"
csv_has support "contacts,mode,community,*"
csv_has support "contacts,mode,phone,0"
csv_has support "contacts,intervention_category,psychosocial,5"
csv_has support "contacts,intervention_category,signposting,*"
csv_has support "first_contact,referrals,,*"
csv_has support "first_contact,mean_days,,*"
csv_has support "follow_ups,overdue,,*"
csv_has outcomes "goals,set,,*"
csv_has outcomes "swemwbs,mean_metric_change,,*"
csv_has outcomes "dataset,period_to,,2026-03-31"
if grep -qE '^dataset,suppression,,"?counts from 1 to 4 are shown as \*' "$D/needs.csv"; then
    ok "each file says that small counts are suppressed"
else
    fail "each file says that small counts are suppressed" "$(head -12 "$D/needs.csv")"
fi

# No personal data: every name, NHS number, date of birth, note, goal, story,
# signpost, postcode and phone number recorded, and no record id.
leaks=""
while IFS= read -r secret; do
    [ -n "$secret" ] || continue
    if grep -rqF -- "$secret" "$D"; then leaks="$leaks [$secret]"; fi
done <<EOF_SECRETS
$RD_SECRETS
EOF_SECRETS
for p in "$P1" "$P2" "$P3" "$P4" "$P5" "$P6"; do
    if grep -rqF -- "$(prefix "$p" 8)" "$D"; then leaks="$leaks [id $p]"; fi
done
if [ -z "$leaks" ]; then ok "the dataset holds no name, NHS number, note, free text or id"; else fail "the dataset holds no personal data" "found:$leaks"; fi

D2=$tmp/dataset-alpha
rd_at "$RD_TODAY" report --csv "$D2" --worker alpha
if [ "$rc" -eq 0 ]; then ok "report --csv --worker alpha"; else fail "report --csv --worker alpha" "$(_describe)"; fi
D=$D2
csv_has support "contacts,total,,7"
csv_has support "contacts,intervention_category,psychosocial,5"
csv_has demographics "dataset,scope,,one caseload"

# --- bad input: exit 2, nothing written -------------------------------------------------------
before=$(store_digest)
bad() {
    _name=$1
    _pattern=$2
    shift 2
    rd_at "$RD_TODAY" "$@"
    if [ "$rc" -eq 2 ] && grep -qiE -- "$_pattern" "$err"; then
        ok "$_name: exit 2, says so"
    else
        fail "$_name: exit 2 with a message matching /$_pattern/" "$(_describe)"
    fi
}
bad "review: unknown worker" "no worker 'nobody'" review nobody
bad "review: not a date" "--from.*not a real date" review --from 2026-02-30
bad "review: inverted dates" "ends .* before it begins" review --from 2026-03-01 --to 2026-02-01
bad "review: a period after today" "begins after today" review --from 2026-05-01
bad "review: a period with nothing in it" "nothing was recorded" review --from 2025-01-01 --to 2025-06-30
expect_unchanged "a refused review writes nothing to the store" "$before"
mkdir -p "$tmp/out3"
bad "report: unknown worker" "no worker" report --csv "$tmp/out3" --worker nobody
bad "report: inverted dates" "before it begins" report --csv "$tmp/out3" --from 2026-03-01 --to 2026-02-01
bad "report: empty period" "nothing was recorded" report --csv "$tmp/out3" --from 2025-01-01 --to 2025-01-31
if [ -z "$(ls -A "$tmp/out3")" ]; then ok "refused reports left no file"; else fail "refused reports left no file" "$(ls -la "$tmp/out3")"; fi
: >"$tmp/plainfile"
bad "report: DIR under a file" "cannot write into --csv" report --csv "$tmp/plainfile/sub"
bad "report: neither --csv nor --html" "one of --csv DIR or --html FILE" report
bad "report: both --csv and --html" "one of --csv DIR or --html FILE" report --csv "$tmp/x" --html "$tmp/x.html"
bad "report: an empty path" "empty" report --csv ""
expect_unchanged "a refused report writes nothing to the store" "$before"

# --- audit: reviews and exports are recorded -------------------------------------------------
rd_at "$RD_TODAY" audit --json
cp "$out" "$tmp/audit.json"
expect_json "audit: the team's review is recorded (scope team)" "$tmp/audit.json" \
    'any(e["action"] == "review" and e.get("scope") == "team" for e in doc["events"])'
expect_json "audit: the worker's review is recorded (scope alpha)" "$tmp/audit.json" \
    'any(e["action"] == "review" and e.get("scope") == "alpha" for e in doc["events"])'
expect_json "audit: the export is recorded with its period" "$tmp/audit.json" \
    'any(e["action"] == "export" and e.get("scope") == "team" for e in doc["events"])'
expect_json "audit: events say which device and who" "$tmp/audit.json" \
    'all(e.get("device") and e.get("author") == "Sam Okoro" for e in doc["events"] if e["action"] in ("review", "export"))'
rd_at "$RD_TODAY" audit --person "$P1" --json
cp "$out" "$tmp/audit-p1.json"
expect_json "audit --person: only P1's events" "$tmp/audit-p1.json" \
    'len(doc["events"]) > 0 and all(e["person"] == "'"$P1"'" for e in doc["events"])'
expect_json "audit --person: P1's contacts are there" "$tmp/audit-p1.json" \
    'len([e for e in doc["events"] if e["kind"] == "contact" and e["action"] == "create"]) == 2'
rd_at "$RD_TODAY" audit
if [ "$rc" -eq 0 ] && grep -q "export" "$out" && grep -q "review" "$out"; then
    ok "audit (text) lists reviews and exports"
else
    fail "audit (text) lists reviews and exports" "$(_describe)"
fi

finish
