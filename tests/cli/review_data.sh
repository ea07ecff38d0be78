# tests/cli/review_data.sh - the fixed data set of review and reports,
# sourced by the scripts that check their figures (after lib.sh).
#
# review_data builds it in $LINKBOOK_STORE through the command line, each
# command run on the day it belongs to (libfaketime, `faketime`), so dates
# recorded as "today" (goals, goal statuses, measures, tasks done) are
# fixed too.  The review is then read on RD_TODAY (rd_at "$RD_TODAY" ...).
#
# Two caseloads: alpha (Ada P1, Bob P2, Eve P5) and beta (Cleo P3, Dan P4,
# Fay P6).  The expected figures, worked out by hand (as of 2026-03-31):
#
#   people 6: referred 2 (P3, P5), active 3 (P1, P2, P4), discharged 1 (P6)
#   ages on 2026-03-31: P1 75 (75-84), P2 36 (35-44), P3 17 (0-17), P4 none
#     (unknown), P5 66 today (65-74), P6 40 (35-44); carers 1 (P4),
#     interpreters 1 (P2)
#   referrals 6, 2 this month (P3, P5); sources gp 2, self 1, nurse 1,
#     hospital 1, voluntary 1; reasons one each of isolation, money,
#     mental-health, housing, long-term-condition, carer-support,
#     bereavement, other
#   contacts 9, 315 minutes; modes home 5, community 4; categories
#     psychosocial 5, signposting 2, health-coaching 1, mental-health 1,
#     occupation 1, cognitive 1; by month: 2026-01 2 referrals 2 contacts,
#     2026-02 2 and 3, 2026-03 2 and 4
#   waits: P1 7 days (01-05 -> 01-12), P2 14 (02-01 -> 02-15), P4 30 (01-20
#     -> 02-19; its contact of 01-19 came before the referral), P3 still
#     waiting 21 (from 03-10), P5 still waiting 6 (from 03-25); P6 was
#     discharged without a contact and is left out.  Waiting people 2,
#     longest 21; first contact: 3 referrals, mean 17, median 14, max 30
#   overdue: 1 (P1's follow-up due 03-01: 30 days; P2's was done 03-02,
#     P4's is due 04-15)
#   goals set 4: active 1 (G2), achieved 1 (G1), partly 1 (G4), withdrawn 1 (G3)
#   ONS4 pairs 2: P1 4,5,3,8 -> 7,7,6,4 (its 02-10 review 5,5,5,5 is not the
#     latest), P2 6,6,6,2 -> 5,6,7,3; mean change satisfaction +1.0,
#     worthwhile +1.0, happy +2.0, anxious -1.5.  P4 has a baseline only.
#   SWEMWBS pairs 2: P1 raw 14 (15.32) -> 21 (19.25), +3.93; P2 raw 22
#     (19.98) -> 20 (18.59), -1.39; mean +1.27
#   alpha: people 3, referrals 3, contacts 7, waiting 1 (P5), overdue 1,
#     goals 3, ONS4 pairs 2; beta: people 3, referrals 3, contacts 2,
#     waiting 1 (P3), first contact mean 30, goals 1, ONS4 pairs 0
#   February only (--from 2026-02-01 --to 2026-02-28, as of 02-28):
#     referrals 2, contacts 3 (105 minutes), goals set 3, waits: P2 14 only,
#     overdue 0, ONS4 pairs 1 (P1 4,5,3,8 -> 5,5,5,5: +1, 0, +2, -3),
#     SWEMWBS pairs 0, months 2026-02 only
#
# The names, NHS numbers, notes and other free text it records are in
# RD_SECRETS (one a line), for the checks that they never leave in a
# dataset.

RD_TODAY=2026-03-31

# rd_at DATE ARGS...: linkbook ARGS on DATE (10:00 UTC), output in $out/$err.
# faketime -f "@..." hands the time to libfaketime as is: without -f the
# wrapper parses it with date(1), which fails with a sanitizer's runtime
# preloaded.
rd_at() {
    _day=$1
    shift
    _lastcmd="linkbook $* (on $_day)"
    if [ -n "${RD_ASAN_RT:-}" ]; then
        timeout -k 5 120 env LD_PRELOAD="$RD_ASAN_RT" FAKETIME_DONT_FAKE_MONOTONIC=1 \
            faketime -f "@$_day 10:00:00" "$LINKBOOK" "$@" </dev/null >"$out" 2>"$err"
    else
        timeout -k 5 120 env FAKETIME_DONT_FAKE_MONOTONIC=1 \
            faketime -f "@$_day 10:00:00" "$LINKBOOK" "$@" </dev/null >"$out" 2>"$err"
    fi
    rc=$?
}

# A sanitizer build must have its runtime first, before libfaketime.
RD_ASAN_RT=$(ldd "$LINKBOOK" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')

# rd DATE ARGS...: rd_at that must succeed; $id is the id it printed.
rd() {
    rd_at "$@"
    id=$(last_id)
    if [ "$rc" -ne 0 ]; then
        fail "data set: $_lastcmd" "exit $rc" "$(_describe)"
        RD_BROKEN=1
    fi
}

review_data() {
    RD_BROKEN=0
    rd 2026-01-05 init --name "Sam Okoro" --role supervisor --caseload team
    rd 2026-01-05 person add --given Ada --family Lovelace --nhs 9434765919 --dob 1950-06-15 \
        --postcode "LS6 2AB" --phone "0113 496 0001" --caseload alpha
    P1=$id
    rd 2026-01-05 referral add "$P1" --source gp --reason isolation,money --date 2026-01-05
    rd 2026-01-12 contact add "$P1" --mode home --minutes 60 --category psychosocial,signposting \
        --note "Ada talked about the choir at St Marks" --signpost "St Marks choir" --date 2026-01-12
    rd 2026-01-12 goal add "$P1" "Walk to the park every day" --domain "physical activity"
    G1=$id
    rd 2026-01-12 measure add "$P1" ons4 --answers 4,5,3,8 --when baseline
    rd 2026-01-12 measure add "$P1" swemwbs --answers 2,2,2,2,2,2,2 --when baseline
    rd 2026-01-19 person add --given Dan --family Brown --nhs 4010232137 --carer --caseload beta
    P4=$id
    rd 2026-01-19 contact add "$P4" --mode home --minutes 30 --category occupation --date 2026-01-19
    rd 2026-01-20 referral add "$P4" --source hospital --reason long-term-condition,carer-support \
        --date 2026-01-20
    rd 2026-02-01 person add --given Bob --family Marley --dob 1990-02-01 --interpreter --caseload alpha
    P2=$id
    rd 2026-02-01 referral add "$P2" --source self --reason mental-health --date 2026-02-01
    rd 2026-02-10 contact add "$P1" --mode home --minutes 20 --category health-coaching \
        --follow-up 2026-03-01 --date 2026-02-10
    rd 2026-02-10 goal add "$P1" "Join the Tuesday choir"
    G2=$id
    rd 2026-02-10 measure add "$P1" ons4 --answers 5,5,5,5 --when review
    rd 2026-02-15 contact add "$P2" --mode home --minutes 45 --category mental-health \
        --follow-up 2026-03-01 --date 2026-02-15 --note "Bob sleeps four hours a night"
    rd 2026-02-15 goal add "$P2" "Sleep through the night"
    G3=$id
    rd 2026-02-15 measure add "$P2" ons4 --answers 6,6,6,2 --when baseline
    rd 2026-02-15 measure add "$P2" swemwbs --answers 3,3,3,3,3,3,4 --when baseline
    rd 2026-02-19 contact add "$P4" --mode home --minutes 40 --category cognitive,signposting \
        --follow-up 2026-04-15 --date 2026-02-19 --signpost "Carers Leeds"
    rd 2026-02-19 goal add "$P4" "Get a carers assessment"
    G4=$id
    rd 2026-02-19 measure add "$P4" ons4 --answers 5,5,5,5 --when baseline
    rd 2026-02-20 person add --given Fay --family Green --dob 1985-12-31 --caseload beta
    P6=$id
    rd 2026-02-20 referral add "$P6" --source voluntary --reason other --date 2026-02-20
    rd 2026-03-01 goal status "$G3" withdrawn
    rd 2026-03-02 tasks --json
    RD_T2=$(python3 -c 'import json,sys; print([t["id"] for t in json.load(open(sys.argv[1]))["tasks"] if t["person"] == sys.argv[2]][0])' "$out" "$P2" 2>/dev/null)
    rd 2026-03-02 task done "$RD_T2"
    for _d in 2026-03-03 2026-03-10 2026-03-17 2026-03-24; do
        rd "$_d" contact add "$P2" --mode community --minutes 30 --category psychosocial --date "$_d"
    done
    rd 2026-03-05 discharge "$P6" --reason "Moved out of the area"
    rd 2026-03-10 person add --given Cleo --family Jones --dob 2008-05-01 --caseload beta
    P3=$id
    rd 2026-03-10 referral add "$P3" --source nurse --reason housing --date 2026-03-10
    rd 2026-03-20 goal status "$G1" achieved
    rd 2026-03-20 goal status "$G4" partly
    rd 2026-03-20 measure add "$P1" ons4 --answers 7,7,6,4 --when review
    rd 2026-03-20 measure add "$P1" swemwbs --answers 3,3,3,3,3,3,3 --when review
    rd 2026-03-20 measure add "$P2" ons4 --answers 5,6,7,3 --when review
    rd 2026-03-20 measure add "$P2" swemwbs --answers 2,3,3,3,3,3,3 --when review
    rd 2026-03-25 person add --given Eve --family Adams --dob 1960-03-31 --caseload alpha
    P5=$id
    rd 2026-03-25 referral add "$P5" --source gp --reason bereavement --date 2026-03-25
    rd 2026-03-25 note add "$P5" "Eve's husband died in February"
    rd 2026-03-25 story add "$P1" "I sing with the choir again and I feel I belong" --share-anonymised
    if [ "$RD_BROKEN" = 0 ]; then ok "data set: built through the command line"; fi
}

RD_SECRETS="Ada
Lovelace
Bob
Marley
Cleo
Jones
Dan
Brown
Eve
Adams
Fay
Green
9434765919
943 476 5919
4010232137
401 023 2137
1950-06-15
1990-02-01
2008-05-01
1960-03-31
1985-12-31
LS6 2AB
0113 496 0001
choir at St Marks
St Marks choir
Carers Leeds
four hours a night
husband died
Moved out of the area
Walk to the park
Tuesday choir
Sleep through the night
carers assessment
I sing with the choir
Sam Okoro"
