#!/bin/sh
# test_report_html.sh - linkbook report --html on a small fixed data set:
# the page loads in a real headless Chromium (browser.py) with no console
# error and no request but the file itself; every chart has exactly the
# marks (and bar values) worked out by hand below, a title, a description
# and its table; headings, landmarks and contrast hold; print hides only
# the contents list.  The file holds no name, NHS number, note, goal text
# or id of a person (the worker's name heads their caseload's row).  Bad
# dates, unwritable paths and empty periods exit 2 and leave no file (and
# an existing one as it was).
#
# Without Chromium (Debian package: chromium) the browser checks are
# skipped and say so, except under CI (CI=true), where they fail.
. "$(dirname "$0")/lib.sh"
need python3

# --- the data set ------------------------------------------------------------------
# A: referred 2025-01-05, seen 2025-01-09 (4 days), 2025-02-14, 2025-03-20;
# B: referred 2025-01-20, seen 2025-03-02 (41 days); C: referred 2025-02-10,
# never seen (still waiting).  Categories: psychosocial 1, signposting 2,
# health-coaching 1, mental-health 1.  Goals (dated today): A achieved and
# active, B withdrawn.  SWEMWBS pairs: A, B (C has a baseline only); ONS4: A.
expect_exit 0 "init" -- lb init --name "Sam Okoro" --caseload north
expect_exit 0 "person A" -- lb person add --given Zanzibar --family Quixotic --nhs 4010232137
A=$(last_id)
expect_exit 0 "person B" -- lb person add --given Ysolde --family Pemberton-Vane --nhs 4857773457
B=$(last_id)
expect_exit 0 "person C" -- lb person add --given Xanthe --family Oyelaran --nhs 4505577104
C=$(last_id)

setup() {
    lb referral add "$A" --source gp --reason isolation --date 2025-01-05 &&
    lb referral add "$B" --source self --reason money --date 2025-01-20 &&
    lb referral add "$C" --source nurse --reason housing --date 2025-02-10 &&
    lb contact add "$A" --mode home --minutes 45 --category psychosocial,signposting \
        --note "NOTE-SECRET-ONE lives alone" --date 2025-01-09 &&
    lb contact add "$A" --mode phone --minutes 20 --category health-coaching --date 2025-02-14 &&
    lb contact add "$A" --mode surgery --minutes 30 --category mental-health --date 2025-03-20 &&
    lb contact add "$B" --mode community --minutes 60 --category signposting \
        --note "NOTE-SECRET-TWO" --date 2025-03-02 &&
    lb note add "$C" "NOTE-SECRET-THREE still waiting" &&
    G1=$(lb goal add "$A" "GOAL-SECRET walk to the shop") &&
    lb goal status "$G1" achieved &&
    lb goal add "$A" "GOAL-SECRET join the choir" &&
    G3=$(lb goal add "$B" "GOAL-SECRET sort the debts") &&
    lb goal status "$G3" withdrawn &&
    lb measure add "$A" swemwbs --answers 2,2,3,2,2,3,2 --when baseline &&
    lb measure add "$A" swemwbs --answers 4,3,4,3,4,4,3 --when review &&
    lb measure add "$B" swemwbs --answers 3,3,3,3,3,3,3 --when baseline &&
    lb measure add "$B" swemwbs --answers 3,3,3,3,3,3,3 --when discharge &&
    lb measure add "$C" swemwbs --answers 1,2,1,2,1,2,1 --when baseline &&
    lb measure add "$A" ons4 --answers 4,5,6,7 --when baseline &&
    lb measure add "$A" ons4 --answers 6,5,8,3 --when review
}
if setup >"$out" 2>"$err"; then ok "data set recorded"; else fail "data set recorded" "$(cat "$err")"; fi

# --- the report, and the exact figures of its charts ---------------------------------
page="$tmp/report.html"
expect_exit 0 "report --html" -- lb report --html "$page" --from 2025-01-01
expect_stderr_has "wrote the report" "report says where it wrote"
check "report file exists" test -s "$page"

# Months from 2025-01 to this month (UTC), two bars each.
nmonths=$(python3 -c 'import time; t = time.gmtime(); print((t.tm_year - 2025) * 12 + t.tm_mon)')

for banned in Zanzibar Quixotic Ysolde Pemberton Xanthe Oyelaran 4010232137 4857773457 \
              4505577104 NOTE-SECRET GOAL-SECRET "$A" "$B" "$C"; do
    if grep -qF -- "$banned" "$page"; then
        fail "report holds no '$banned'" "found in $page"
    else
        ok "report holds no '$banned'"
    fi
done

check "the caseload appears under its worker's name" grep -q '<th scope="row">Sam Okoro</th>' "$page"

json="$tmp/browser.json"
browser() {
    python3 "$CLI_DIR/browser.py" "$1" "$CLI_DIR/report_check.js" >"$json" 2>"$err"
}

browser "$page"
brc=$?
if [ "$brc" -eq 3 ] && [ "${CI:-}" != "true" ]; then
    echo "# SKIPPED: browser checks: chromium is not installed (Debian package: chromium)"
elif [ "$brc" -ne 0 ]; then
    fail "page loads in headless chromium" "browser.py exit $brc" "$(cat "$err")"
else
    ok "page loads in headless chromium"
    expect_json "no console errors" "$json" 'doc["errors"]'
    expect_json "no request but the file itself" "$json" \
        'doc["blocked"] == [] and doc["requests"] == ["file://" + "'"$page"'"]'
    expect_json "prints (PDF made with the print style)" "$json" 'doc["pdf_bytes"] > 10000'
    r='doc["result"]["charts"]'
    expect_json "months chart: 2 marks per month" "$json" "$r[\"chart-months\"][\"marks\"] == 2 * $nmonths"
    expect_json "months chart: first three months by hand" "$json" \
        "$r[\"chart-months\"][\"values\"][:6] == [2, 1, 1, 1, 0, 2] and set($r[\"chart-months\"][\"values\"][6:]) <= {0}"
    expect_json "categories chart: 6 marks" "$json" "$r[\"chart-categories\"][\"marks\"] == 6"
    expect_json "categories chart: counts by hand" "$json" \
        "$r[\"chart-categories\"][\"values\"] == [0, 1, 1, 1, 0, 2]"
    expect_json "waits chart: 10 marks" "$json" "$r[\"chart-waits\"][\"marks\"] == 10"
    expect_json "waits chart: 4 and 41 days seen, one still waiting 57+" "$json" \
        "$r[\"chart-waits\"][\"values\"] == [1, 0, 0, 0, 0, 0, 1, 0, 0, 1]"
    expect_json "goals chart: 5 marks, by hand" "$json" \
        "$r[\"chart-goals\"][\"values\"] == [1, 1, 0, 0, 1]"
    expect_json "SWEMWBS chart: 2 pairs" "$json" "$r[\"chart-swemwbs\"][\"marks\"] == 2"
    expect_json "ONS4 chart: 1 pair, 4 items" "$json" "$r[\"chart-ons4\"][\"marks\"] == 4"
    expect_json "every chart: role img, title and desc by aria-labelledby" "$json" \
        "[k for k, c in $r.items() if not (c[\"role\"] == \"img\" and c[\"labelled\"] and c[\"title\"] and c[\"desc\"])]"
    expect_json "every chart: a table beside it" "$json" "[k for k, c in $r.items() if not c[\"table\"]]"
    expect_json "one h1, no heading level skipped" "$json" \
        'doc["result"]["h1"] == 1 and doc["result"]["skips"] == 0'
    expect_json "landmarks: header, nav, main, footer" "$json" \
        'doc["result"]["landmarks"] == ["header", "nav", "main", "footer"]'
    expect_json "tables: captions and scoped headers" "$json" \
        '[t for t in doc["result"]["tables"] if not (t["caption"] and t["scoped"])]'
    expect_json "text contrast at least 4.5:1" "$json" 'doc["result"]["lowContrast"]'
    expect_json "language, title, no script, no outside link" "$json" \
        'doc["result"]["lang"] == "en-GB" and doc["result"]["title"].startswith("Caseload report") and doc["result"]["scripts"] == 0 and doc["result"]["externalRefs"] == []'
    expect_json "table: signposting 2 of 4 contacts (50%)" "$json" \
        '"signposting\t2\t50" in doc["result"]["body"]'
    expect_json "print: only the contents are hidden, every chart drawn" "$json" \
        'doc["print_result"]["hiddenHeadings"] == ["Contents"] and all(c["rendered"] for c in doc["print_result"]["charts"].values())'

    # A closed period: three months exactly; goals and measures (dated today) fall outside.
    expect_exit 0 "report --from 2025-01-01 --to 2025-03-31" -- \
        lb report --html "$tmp/q1.html" --from 2025-01-01 --to 2025-03-31
    browser "$tmp/q1.html"
    expect_json "closed period: 6 month marks, no goal or wellbeing chart" "$json" \
        "$r[\"chart-months\"][\"values\"] == [2, 1, 1, 1, 0, 2] and sorted($r) == [\"chart-categories\", \"chart-months\", \"chart-waits\"]"
    expect_json "closed period: no console errors, no requests" "$json" \
        'doc["errors"] == [] and doc["blocked"] == []'
fi

# --- refusals: exit 2, no file, no temporary file, an existing file kept ----------------
mkdir "$tmp/outdir"
no_files() {
    if [ -z "$(ls -A "$tmp/outdir")" ]; then ok "$1: no file left"; else
        fail "$1: no file left" "$(ls -A "$tmp/outdir")"; fi
}
expect_exit 2 "inverted dates" -- lb report --html "$tmp/outdir/r.html" --from 2025-03-01 --to 2025-02-01
expect_stderr_has "before it begins" "inverted dates: says so"
no_files "inverted dates"
expect_exit 2 "impossible date 2025-02-30" -- lb report --html "$tmp/outdir/r.html" --to 2025-02-30
expect_stderr_has "--to" "impossible date: names the option"
no_files "impossible date"
expect_exit 2 "empty period" -- lb report --html "$tmp/outdir/r.html" --from 2019-01-01 --to 2019-12-31
expect_stderr_has "nothing was recorded" "empty period: says so"
no_files "empty period"
expect_exit 2 "missing --html" -- lb report --from 2025-01-01
expect_exit 2 "directory does not exist" -- lb report --html "$tmp/outdir/none/r.html"
expect_stderr_has "cannot write" "missing directory: says it cannot write"
expect_exit 2 "path is a directory" -- lb report --html "$tmp/outdir"
echo x >"$tmp/plain"
expect_exit 2 "parent is a file" -- lb report --html "$tmp/plain/r.html"
no_files "unwritable paths"

printf 'old report\n' >"$tmp/outdir/keep.html"
expect_exit 2 "empty period over an existing file" -- \
    lb report --html "$tmp/outdir/keep.html" --from 2019-01-01 --to 2019-01-31
check "existing file kept as it was" test "$(cat "$tmp/outdir/keep.html")" = "old report"
check "no temporary file beside it" test "$(ls -A "$tmp/outdir")" = "keep.html"
expect_exit 0 "a report replaces the existing file" -- lb report --html "$tmp/outdir/keep.html"
check "replaced whole, no temporary file" test "$(ls -A "$tmp/outdir")" = "keep.html"
check "the new file is a whole page" grep -q '</html>' "$tmp/outdir/keep.html"

finish
