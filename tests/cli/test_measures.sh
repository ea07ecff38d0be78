#!/bin/sh
# test_measures.sh - outcome instruments are scored as DOMAIN.md says:
# SWEMWBS sums seven 1..5 items to a raw 7..35 and converts it with the
# published metric table; ONS4 reports each of its four 0..10 items on its
# own and is never summed.
. "$(dirname "$0")/lib.sh"
need python3

expect_exit 0 "init" -- lb init
expect_exit 0 "person add" -- lb person add --given Measure --family Subject
expect_id "person id"
P=$id

# add_measure INSTRUMENT ANSWERS: sets $id to the new measure's id.
add_measure() {
    expect_exit 0 "measure add $1 $2" -- lb measure add "$P" "$1" --answers "$2"
    expect_id "measure add $1 $2 prints its id"
}

# SWEMWBS answers, raw total, metric score from the table in DOMAIN.md
# (29 values for raw 7..35, so raw 21 is the 15th: 19.25; 20.73 is raw 23).
swemwbs_cases="3,3,3,3,3,3,3:21:19.25
4,4,4,4,3,2,2:23:20.73
5,5,5,5,5,5,5:35:35.00
1,1,1,1,1,1,1:7:7.00
1,2,3,4,5,1,2:18:17.43
2,2,2,2,2,2,1:13:14.75
4,4,4,4,4,4,5:29:26.02"

ids=""
for c in $swemwbs_cases; do
    add_measure swemwbs "${c%%:*}"
    ids="$ids $id"
done

add_measure ons4 8,7,6,2
ONS=$id
add_measure ons4 0,0,0,10
ONS_EDGE=$id

expect_exit 0 "show --json" -- lb show "$P" --json
cp "$out" "$tmp/show.json"
J="$tmp/show.json"
expect_json "show --json is valid JSON" "$J" 'True'

set -- $ids
for c in $swemwbs_cases; do
    mid=$1
    shift
    answers=${c%%:*}
    rest=${c#*:}
    raw=${rest%%:*}
    metric=${rest#*:}
    expect_json "swemwbs $answers: entry has a scores object" "$J" \
        'isinstance(find_key(entry("'"$mid"'"), "scores"), dict)'
    expect_json "swemwbs $answers: metric score $metric" "$J" \
        'abs(entry("'"$mid"'")["scores"]["metric"] - '"$metric"') < 0.005'
    expect_json "swemwbs $answers: raw score $raw" "$J" \
        'entry("'"$mid"'")["scores"]["raw"] == '"$raw"
done

expect_json "ons4 8,7,6,2: each item reported with its own value" "$J" \
    'all(has_num(find_key(entry("'"$ONS"'"), "scores"), v) for v in (8, 7, 6, 2))'
expect_json "ons4 8,7,6,2: item values in the right places" "$J" \
    '[entry("'"$ONS"'")["scores"][k]["value"] for k in ("satisfaction", "worthwhile", "happy", "anxious")] == [8, 7, 6, 2]'
expect_json "ons4 8,7,6,2: scores hold the four items and nothing else" "$J" \
    'sorted(entry("'"$ONS"'")["scores"]) == ["anxious", "happy", "satisfaction", "worthwhile"]'
expect_json "ons4 8,7,6,2: never summed (no 23 anywhere in the entry)" "$J" \
    'not has_num(entry("'"$ONS"'"), 23)'
expect_json "ons4 8,7,6,2: bands from DOMAIN.md (high, high, medium, low)" "$J" \
    '[entry("'"$ONS"'")["scores"][k].get("band") for k in ("satisfaction", "worthwhile", "happy", "anxious")] == ["high", "high", "medium", "low"]'
expect_json "ons4 0,0,0,10 accepted at the edges" "$J" \
    '[entry("'"$ONS_EDGE"'")["scores"][k]["value"] for k in ("satisfaction", "worthwhile", "happy", "anxious")] == [0, 0, 0, 10]'
expect_json "ons4 0,0,0,10: bands low and high (anxiety 10 is high)" "$J" \
    '[entry("'"$ONS_EDGE"'")["scores"][k].get("band") for k in ("satisfaction", "anxious")] == ["low", "high"]'

# The text view prints the metric score too.
expect_exit 0 "show (text)" -- lb show "$P"
expect_stdout_has "19\\.25" "show prints the SWEMWBS metric 19.25"
expect_stdout_has "17\\.43" "show prints the SWEMWBS metric 17.43"

finish
