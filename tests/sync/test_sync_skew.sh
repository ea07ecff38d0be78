#!/bin/sh
# test_sync_skew.sh - devices whose clocks are a day wrong still converge.
# The worker w1 runs a day ahead and the supervisor a day behind (faketime,
# libfaketime's wrapper; only `linkbook` is skewed, never linkbookd) while
# both edit the same goal's status and add notes on the same person:
#   1. ahead first, then behind after pulling it: the behind device's edit,
#      made later in real time and after seeing the other, wins everywhere
#      (a hybrid logical clock absorbs the ahead device's time);
#   2. behind first, then ahead after pulling it: the ahead device's wins;
#   3. the two edit without seeing each other: both values stay, listed by
#      `linkbook conflicts` on both devices, which still agree; `resolve`
#      settles it everywhere.
# After each round every device agrees (canonical dumps), every note is
# there exactly once, and a note's "recorded" time shows the skew took
# effect.  linkbook has no clock-skew warning (none is checked).
. "$(dirname "$0")/lib.sh"
need faketime

# Only relative offsets; keep CLOCK_MONOTONIC real (libcurl's timeouts).
export FAKETIME_DONT_FAKE_MONOTONIC=1

# A sanitizer build (make asan) must have its runtime first in the list of
# libraries, before libfaketime: preload it first then.
ASAN_RT=$(ldd "$LINKBOOK" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')

# dvt OFFSET DEV ARGS...: linkbook on DEV with its clock moved by OFFSET
# (faketime -f syntax: +1d, -1d).
dvt() {
    _off=$1
    _d=$2
    shift 2
    if [ -n "$ASAN_RT" ]; then
        LINKBOOK_STORE="$tmp/dev/$_d" timeout -k 5 60 env LD_PRELOAD="$ASAN_RT" \
            faketime -f "$_off" "$LINKBOOK" "$@" </dev/null
    else
        LINKBOOK_STORE="$tmp/dev/$_d" timeout -k 5 60 faketime -f "$_off" "$LINKBOOK" "$@" </dev/null
    fi
}
AHEAD=+1d
BEHIND=-1d
# The devices with their clocks: w1 ahead, sup behind.
w1t() { dvt "$AHEAD" w1 "$@"; }
supt() { dvt "$BEHIND" sup "$@"; }

# sync_t DEV NAME: a skewed device's sync must succeed (one check).
sync_t() {
    case $1 in
        w1) expect_exit 0 "$2" -- w1t sync ;;
        sup) expect_exit 0 "$2" -- supt sync ;;
    esac
}

# The wrapper really moves the clock (else every check below proves little).
now=$(date -u +%s)
t_ahead=$(faketime -f "$AHEAD" date -u +%s)
t_behind=$(faketime -f "$BEHIND" date -u +%s)
if [ $((t_ahead - now)) -ge 86000 ] && [ $((now - t_behind)) -ge 86000 ]; then
    ok "faketime moves the clock a day each way"
else
    fail "faketime moves the clock a day each way" "now $now, ahead $t_ahead, behind $t_behind"
fi

team_setup 1

expect_exit 0 "w1: person add" -- w1t person add --given Araminta --family Fairweather
expect_id "w1: person id"
P=$id
expect_exit 0 "w1: goal add" -- w1t goal add "$P" "Walk to the library each week" --domain social
expect_id "w1: goal id"
G=$id
sync_t w1 "w1 (+1d): sync the person and goal"
sync_t sup "sup (-1d): sync pulls them"

# status DEV: the goal's status as DEV shows it ("" if none).
status_on() {
    dv "$1" show "$P" --json >"$tmp/st.json" 2>/dev/null
    python3 - "$tmp/st.json" "$G" <<'EOF' 2>/dev/null
import json, sys
doc = json.load(open(sys.argv[1]))
def walk(x):
    if isinstance(x, dict):
        yield x
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
for e in walk(doc):
    if e.get("id") == sys.argv[2] and e.get("kind") == "goal":
        print(e.get("status", ""))
        break
EOF
}

# expect_status NAME WANT: both devices show the goal with status WANT.
expect_status() {
    _a=$(status_on w1)
    _b=$(status_on sup)
    if [ "$_a" = "$2" ] && [ "$_b" = "$2" ]; then
        ok "$1 (both devices: $2)"
    else
        fail "$1" "expected status '$2' on both devices; w1 has '$_a', sup has '$_b'"
    fi
}

# agree NAME: canonical dumps of w1 and sup are identical (sup's view of
# w1's people, as tests/sync/test_sync_basic.sh does).
agree() {
    dump w1 "$tmp/d-w1"
    dump sup "$tmp/d-sup"
    python3 "$SYNC_DIR/canon.py" "$tmp/d-sup" "$tmp/d-w1" >"$tmp/d-sup-of-w1.json"
    same_dump "$1" "$tmp/d-w1/canon.json" "$tmp/d-sup-of-w1.json"
}

# settle: sync everyone twice (views are audit events that travel too).
settle() {
    sync_t w1 "w1 (+1d): sync ($1, 1)"
    sync_t sup "sup (-1d): sync ($1, 1)"
    sync_t w1 "w1 (+1d): sync ($1, 2)"
    sync_t sup "sup (-1d): sync ($1, 2)"
}

NOTES="$tmp/notes"
: >"$NOTES"
# note DEV TEXT: add a note on P from skewed DEV; one check.
note() {
    echo "$2" >>"$NOTES"
    case $1 in
        w1) expect_exit 0 "w1 (+1d): note '$2'" -- w1t note add "$P" "$2" ;;
        sup) expect_exit 0 "sup (-1d): note '$2'" -- supt note add "$P" "$2" ;;
    esac
}

# notes_once NAME: both devices have every note written so far exactly once.
notes_once() {
    for _d in w1 sup; do
        dv "$_d" show "$P" --json >"$tmp/n-$_d.json" 2>"$tmp/n-$_d.err"
        if _why=$(python3 - "$tmp/n-$_d.json" "$NOTES" <<'EOF' 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
want = [l.rstrip("\n") for l in open(sys.argv[2]) if l.strip()]
texts = []
def walk(x):
    if isinstance(x, dict):
        if x.get("kind") == "note":
            texts.append(x.get("text"))
        for v in x.values():
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(doc)
bad = ["%r %d times" % (t, texts.count(t)) for t in want if texts.count(t) != 1]
extra = [t for t in texts if t not in want]
if bad or extra:
    print("; ".join(bad + ["unexpected %r" % t for t in extra]))
    sys.exit(1)
EOF
        ); then
            ok "$1: $_d has every note exactly once ($(wc -l <"$NOTES" | tr -d ' '))"
        else
            fail "$1: $_d has every note exactly once" "$_why"
        fi
    done
}

# --- the skew took effect -----------------------------------------------------------------
note w1 "Round zero: written a day ahead"
note sup "Round zero: written a day behind"
sync_t w1 "w1 (+1d): sync round zero"
sync_t sup "sup (-1d): sync round zero"
sync_t w1 "w1 (+1d): sync round zero again"
dv sup show "$P" --json >"$tmp/z.json" 2>/dev/null
python3 - "$tmp/z.json" "$(date -u +%s)" <<'EOF' >"$tmp/z.out" 2>&1
import json, sys, datetime
doc = json.load(open(sys.argv[1]))
now = int(sys.argv[2])
def walk(x):
    if isinstance(x, dict):
        yield x
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
# Only the ahead device's: the behind one has pulled the ahead device's
# changes, so its hybrid clock runs at the ahead device's time already.
want = {"Round zero: written a day ahead": 1}
for e in walk(doc):
    if e.get("kind") == "note" and e.get("text") in want:
        t = datetime.datetime.strptime(e["recorded"][:19], "%Y-%m-%dT%H:%M:%S")
        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        d = (t - now) / 86400.0
        s = want.pop(e["text"])
        assert abs(d - s) < 0.1, "%r recorded %s, %.2f days from now" % (e["text"], e["recorded"], d)
assert not want, "notes not found: %r" % list(want)
EOF
if [ $? -eq 0 ]; then
    ok "a note written a day ahead is recorded a day ahead (the skew took effect)"
else
    fail "a note written a day ahead is recorded a day ahead" "$(cat "$tmp/z.out")"
fi

# --- 1. ahead first; behind later, after seeing it ---------------------------------------------
expect_exit 0 "w1 (+1d): goal status partly" -- w1t goal status "$G" partly
note w1 "Round one: ahead, first"
sync_t w1 "w1 (+1d): sync its edit"
sync_t sup "sup (-1d): sync (sees w1's edit)"
sleep 1
expect_exit 0 "sup (-1d): goal status achieved (later, after seeing partly)" -- supt goal status "$G" achieved
note sup "Round one: behind, later"
settle "round one"
expect_status "round one: the later edit (the device a day behind, after seeing the other) wins" achieved
expect_exit 0 "sup: conflicts --json after round one" -- dv sup conflicts --json
cp "$out" "$tmp/c1.json"
expect_json "round one: no conflict for edits that saw each other" "$tmp/c1.json" \
    'not [c for c in doc["conflicts"] if c.get("record") == "'"$G"'"]'
notes_once "round one"
agree "round one: w1 and sup agree"

# --- 2. behind first; ahead later, after seeing it ---------------------------------------------
expect_exit 0 "sup (-1d): goal status not-achieved" -- supt goal status "$G" not-achieved
note sup "Round two: behind, first"
sync_t sup "sup (-1d): sync its edit"
sync_t w1 "w1 (+1d): sync (sees sup's edit)"
sleep 1
expect_exit 0 "w1 (+1d): goal status active (later, after seeing not-achieved)" -- w1t goal status "$G" active
note w1 "Round two: ahead, later"
settle "round two"
expect_status "round two: the later edit (the device a day ahead) wins" active
notes_once "round two"
agree "round two: w1 and sup agree"

# --- 3. the behind device again, twice in a row after a pull -----------------------------------
# Its clock reads two days before the last edit it saw: each new edit must
# still count as later than the one before it.
expect_exit 0 "sup (-1d): goal status partly" -- supt goal status "$G" partly
expect_exit 0 "sup (-1d): goal status withdrawn (its second edit)" -- supt goal status "$G" withdrawn
settle "round three"
expect_status "round three: the behind device's last edit wins" withdrawn

# --- 4. edits that did not see each other ------------------------------------------------------
expect_exit 0 "w1 (+1d): goal status achieved (offline)" -- w1t goal status "$G" achieved
note w1 "Round four: ahead, concurrent"
sleep 1
expect_exit 0 "sup (-1d): goal status not-achieved (offline, later in real time)" -- supt goal status "$G" not-achieved
note sup "Round four: behind, concurrent"
settle "round four"
a=$(status_on w1)
b=$(status_on sup)
if [ -n "$a" ] && [ "$a" = "$b" ]; then
    ok "round four: both devices show the same status ($a)"
else
    fail "round four: both devices show the same status" "w1 '$a', sup '$b'"
fi
for d in w1 sup; do
    expect_exit 0 "$d: conflicts --json after round four" -- dv "$d" conflicts --json
    cp "$out" "$tmp/c4-$d.json"
    expect_json "round four: $d lists the goal's conflict with both values" "$tmp/c4-$d.json" \
        'len([c for c in doc["conflicts"] if c.get("record") == "'"$G"'" and c.get("field") == "status" and sorted(v.get("value") for v in c.get("values", [])) == ["achieved", "not-achieved"]]) == 1'
done
notes_once "round four"
agree "round four: w1 and sup agree"

# Settle the conflict on the supervisor's device, keeping w1's value.
CID=$(python3 - "$tmp/c4-sup.json" "$G" <<'EOF' 2>/dev/null
import json, sys
doc = json.load(open(sys.argv[1]))
def walk(x):
    if isinstance(x, dict):
        yield x
        for v in x.values():
            yield from walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from walk(v)
for c in walk(doc):
    if c.get("record") == sys.argv[2] and c.get("field") == "status" and isinstance(c.get("values"), list) and c.get("id"):
        for v in c["values"]:
            if isinstance(v, dict) and v.get("value") == "achieved" and v.get("value_id"):
                print(c["id"], v["value_id"])
                sys.exit(0)
EOF
)
if [ -n "$CID" ]; then
    ok "sup: the conflict's id and w1's value number are in conflicts --json ($CID)"
    set -- $CID
    expect_exit 0 "sup (-1d): resolve the conflict keeping 'achieved'" -- supt resolve "$1" --keep "$2"
    settle "after resolve"
    expect_status "after resolve: the kept value holds everywhere" achieved
    for d in w1 sup; do
        expect_exit 0 "$d: conflicts --json after resolve" -- dv "$d" conflicts --json
        cp "$out" "$tmp/c5-$d.json"
        expect_json "after resolve: $d lists no conflict for the goal's status" "$tmp/c5-$d.json" \
            'not [c for c in doc["conflicts"] if c.get("record") == "'"$G"'" and c.get("field") == "status"]'
    done
    agree "after resolve: w1 and sup agree"
else
    fail "sup: the conflict's id and w1's value number are in conflicts --json" \
        "$(head -c 800 "$tmp/c4-sup.json")"
fi

expect_exit 0 "w1: linkbook check" -- w1t check
expect_exit 0 "sup: linkbook check" -- supt check
srv_stop
finish
