#!/bin/sh
# test_report_fixed.sh - the HTML report of the fixed data set of
# review_data.sh (figures worked out by hand there), loaded in headless
# Chromium: each chart's bars carry exactly those figures, the tables give
# the same ones, for the whole record and for February only; no console
# error, no request; none of the names, NHS numbers, notes or other text
# recorded, and no person's id, appears in the file.
# Without Chromium the browser checks are skipped (# SKIPPED), except
# under CI (CI=true), where they fail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/review_data.sh"
need python3 faketime

review_data

# browse PAGE: load it, the summary in $json; 0 loaded, 3 no chromium.
json="$tmp/browser.json"
browse() {
    python3 "$CLI_DIR/browser.py" "$1" "$CLI_DIR/report_check.js" >"$json" 2>"$err"
}

# loaded NAME: ok when browse worked; 1 (after saying so) when it did not.
loaded() {
    _b=$?
    if [ "$_b" -eq 3 ] && [ "${CI:-}" != "true" ]; then
        echo "# SKIPPED: $1: chromium is not installed (Debian package: chromium)"
        return 1
    fi
    if [ "$_b" -ne 0 ]; then
        fail "$1: loads in headless chromium" "browser.py exit $_b" "$(cat "$err")"
        return 1
    fi
    ok "$1: loads in headless chromium"
    expect_json "$1: no console errors, no request but the file" "$json" \
        'doc["errors"] == [] and doc["blocked"] == [] and len(doc["requests"]) == 1'
    return 0
}

C='doc["result"]["charts"]'
B='doc["result"]["body"]'

# --- everything, as of 2026-03-31 ---------------------------------------------------
page="$tmp/report.html"
rd_at "$RD_TODAY" report --html "$page"
if [ "$rc" -eq 0 ]; then ok "report --html"; else fail "report --html" "$(_describe)"; fi

leaks=""
while IFS= read -r secret; do
    [ -n "$secret" ] || continue
    if grep -qwF -- "$secret" "$page"; then leaks="$leaks [$secret]"; fi
done <<EOF_SECRETS
$RD_SECRETS
EOF_SECRETS
for p in "$P1" "$P2" "$P3" "$P4" "$P5" "$P6"; do
    if grep -qF -- "$(prefix "$p" 8)" "$page"; then leaks="$leaks [id $p]"; fi
done
if [ -z "$leaks" ]; then ok "the page holds no name, NHS number, note, free text or id"; else
    fail "the page holds no personal data" "found:$leaks"; fi

if browse "$page"; loaded "whole record"; then
    expect_json "per month: referrals and contacts 2/2, 2/3, 2/4" "$json" \
        "$C"'["chart-months"]["values"] == [2, 2, 2, 3, 2, 4]'
    expect_json "by category: occupation 1, health-coaching 1, psychosocial 5, mental-health 1, cognitive 1, signposting 2" \
        "$json" "$C"'["chart-categories"]["values"] == [1, 1, 5, 1, 1, 2]'
    expect_json "waits: 0-7 seen 1 (P1) waiting 1 (P5), 8-14 seen 1 (P2), 15-28 waiting 1 (P3), 29-56 seen 1 (P4)" \
        "$json" "$C"'["chart-waits"]["values"] == [1, 1, 1, 0, 0, 1, 1, 0, 0, 0]'
    expect_json "goals: active 1, achieved 1, partly 1, not-achieved 0, withdrawn 1" "$json" \
        "$C"'["chart-goals"]["values"] == [1, 1, 1, 0, 1]'
    expect_json "SWEMWBS: 2 pairs; ONS4: 2 pairs, 4 items each" "$json" \
        "$C"'["chart-swemwbs"]["marks"] == 2 and '"$C"'["chart-ons4"]["marks"] == 8'
    expect_json "table: SWEMWBS 2 people, 1 better, 1 worse, mean +1.27" "$json" \
        '"SWEMWBS metric score\t2\t1\t0\t1\t+1.27" in '"$B"
    expect_json "table: ONS4 anxiety 2 people, 1 better, 1 worse, mean -1.5" "$json" \
        '"anxious yesterday\t2\t1\t0\t1\t-1.5" in '"$B"
    expect_json "table: ONS4 happy 2 better, +2; satisfaction 1 better, 1 worse, +1" "$json" \
        '"happy yesterday\t2\t2\t0\t0\t+2" in '"$B"' and "life satisfaction\t2\t1\t0\t1\t+1" in '"$B"
    expect_json "table: waits median 14, mean 17, longest 30; 2 waiting, longest 21" "$json" \
        '"median of 14.0 days (mean 17.0, longest 30)" in '"$B"' and "2 people are still waiting" in '"$B"' and "21 days" in '"$B"
    expect_json "table: caseloads alpha and beta" "$json" \
        '"alpha\t3\t3\t7\t1\t1\t3\t1" in '"$B"' and "beta\t3\t3\t2\t1\t0\t1\t0" in '"$B"
fi

# --- February only ---------------------------------------------------------------------
feb="$tmp/february.html"
rd_at "$RD_TODAY" report --html "$feb" --from 2026-02-01 --to 2026-02-28
if [ "$rc" -eq 0 ]; then ok "report --html, February"; else fail "report --html, February" "$(_describe)"; fi
if browse "$feb"; loaded "February"; then
    expect_json "February: one month, 2 referrals, 3 contacts" "$json" \
        "$C"'["chart-months"]["values"] == [2, 3]'
    expect_json "February: health-coaching 1, mental-health 1, cognitive 1, signposting 1" \
        "$json" "$C"'["chart-categories"]["values"] == [0, 1, 0, 1, 1, 1]'
    expect_json "February: P2 seen after 14 days, nothing else" "$json" \
        "$C"'["chart-waits"]["values"] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]'
    expect_json "February: goals set 3 (active, partly, withdrawn now)" "$json" \
        "$C"'["chart-goals"]["values"] == [1, 0, 1, 0, 1]'
    expect_json "February: ONS4 1 pair, no SWEMWBS pair" "$json" \
        "$C"'["chart-ons4"]["marks"] == 4 and "chart-swemwbs" not in '"$C"
fi

finish
