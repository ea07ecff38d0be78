#!/bin/sh
# test_crash.sh - a killed process (kill -9 in the middle of a write) leaves
# the store consistent: check passes, show works, every write that reported
# success is there, a killed write is either wholly there or wholly absent,
# and nothing appears twice.
#
# What can be known: commands run one at a time, so at most one write is in
# flight when a kill lands.  A command that exited 0 committed.  A killed one
# may have committed just before the signal (then its note must be complete)
# or not at all.  So: exited-0 <= shown <= exited-0 + killed, with every
# shown item belonging to an attempt.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

ATTEMPTS=${CRASH_ATTEMPTS:-40}
FOLLOW=2031-01-01

expect_exit 0 "init" -- lb init
expect_exit 0 "person add" -- lb person add --given Crash --family Survivor
expect_id "person id"
P=$id

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# How long does one write take here?  Kills are aimed around its end, where
# the key derivation is over and the transaction runs.
# The estimate follows the machine's load: every attempt left to finish
# measures it again, and a kill that came too late shortens it.
T=100000
for t in 1 2 3; do
    t0=$(now_ms)
    lb note add "$P" "timing note $t" >/dev/null 2>&1
    t1=$(now_ms)
    [ $((t1 - t0)) -lt "$T" ] && T=$((t1 - t0))
done
[ "$T" -ge 5 ] || T=5
echo "# one write takes about ${T} ms"

rand() { # 0..$1-1
    _r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    echo $((_r % $1))
}

results="$tmp/results"
: >"$results"
i=1
while [ $i -le "$ATTEMPTS" ]; do
    if [ $((i % 2)) -eq 0 ]; then
        kind=contact
        "$LINKBOOK" contact add "$P" --mode phone --minutes 5 --category psychosocial \
            --note "crash contact $i" --follow-up "$FOLLOW" </dev/null >/dev/null 2>&1 &
    else
        kind=note
        "$LINKBOOK" note add "$P" "crash note $i" </dev/null >/dev/null 2>&1 &
    fi
    pid=$!
    started=$(now_ms)
    killed=no
    if [ $((i % 4)) -ne 1 ]; then
        # three in four attempts: kill at 40%..120% of a write's duration
        d=$((T * 4 / 10 + $(rand $((T * 8 / 10 + 1)))))
        sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
        if kill -9 "$pid" 2>/dev/null; then killed=yes; fi
    fi
    { wait "$pid"; } 2>/dev/null
    st=$?
    echo "$i $kind $st $killed" >>"$results"
    if [ "$killed" = no ] && [ "$st" -eq 0 ]; then
        T=$(($(now_ms) - started))
    elif [ "$st" -eq 0 ]; then
        T=$((T * 3 / 4))
    fi
    [ "$T" -ge 5 ] || T=5
    i=$((i + 1))
done

n_ok=$(awk '$3 == 0' "$results" | wc -l)
n_killed=$(awk '$3 == 137' "$results" | wc -l)
n_other=$(awk '$3 != 0 && $3 != 137' "$results" | wc -l)
echo "# $ATTEMPTS attempts: $n_ok exited 0, $n_killed killed mid-run, $n_other other"
if [ "$n_killed" -ge 3 ]; then
    ok "at least 3 writes were killed mid-run ($n_killed)"
else
    fail "at least 3 writes were killed mid-run" "only $n_killed; timing T=${T}ms" "$(cat "$results")"
fi
if [ "$n_other" -eq 0 ]; then
    ok "no write failed for another reason"
else
    fail "no write failed for another reason" "$(awk '$3 != 0 && $3 != 137' "$results")"
fi

# A store left by kill -9 must need nothing but the next open to be whole.
expect_exit 0 "check after the kills" -- lb check
integrity=$(sqlite3 -readonly "$LINKBOOK_STORE/store.db" 'PRAGMA integrity_check;' 2>&1)
if [ "$integrity" = ok ]; then ok "SQLite integrity_check is ok"; else fail "SQLite integrity_check is ok" "$integrity"; fi
expect_exit 0 "show after the kills" -- lb show "$P" --json
cp "$out" "$tmp/show.json"
expect_exit 0 "tasks --json after the kills" -- lb tasks --json
cp "$out" "$tmp/tasks.json"

# Compare what is shown with what was attempted.
verdict=$(python3 - "$tmp/show.json" "$tmp/tasks.json" "$results" "$P" "$FOLLOW" <<'EOF'
import json, re, sys
show = json.load(open(sys.argv[1]))
tasks = json.load(open(sys.argv[2])).get("tasks", [])
person, follow = sys.argv[4], sys.argv[5]
attempts = {}
for line in open(sys.argv[3]):
    i, kind, st, killed = line.split()
    attempts[int(i)] = (kind, int(st))

def walk(x):
    yield x
    if isinstance(x, dict):
        for v in x.values(): yield from walk(v)
    elif isinstance(x, list):
        for v in x: yield from walk(v)

timeline = show.get("timeline", [])
strings = [s for s in walk(show) if isinstance(s, str)]
found = {}  # i -> kind, from exact texts
bad = []
for s in strings:
    m = re.fullmatch(r"crash (note|contact) (\d+)", s)
    if m:
        found[int(m.group(2))] = m.group(1)
    elif "crash note" in s or "crash contact" in s:
        bad.append(s)
problems = []
if bad:
    problems.append("partial or garbled texts: %r" % bad[:5])
for i, (kind, st) in sorted(attempts.items()):
    if st == 0 and i not in found:
        problems.append("attempt %d (%s) exited 0 but is not shown" % (i, kind))
for i, kind in sorted(found.items()):
    if i not in attempts:
        problems.append("shown %s %d was never attempted" % (kind, i))
    elif attempts[i][0] != kind:
        problems.append("attempt %d shown as a %s" % (i, kind))
    elif attempts[i][1] not in (0, 137):
        problems.append("attempt %d failed with %d but is shown" % (i, attempts[i][1]))
# no duplicates: one note entry per crash note
note_entries = [e for e in timeline if isinstance(e, dict) and e.get("kind") == "note"
                and any(re.fullmatch(r"crash note \d+", s) for s in walk(e) if isinstance(s, str))]
n_notes = sum(1 for k in found.values() if k == "note")
if len(note_entries) != n_notes:
    problems.append("%d note entries for %d distinct crash notes" % (len(note_entries), n_notes))
# contacts are atomic: contact, its note and its follow-up task together
n_contacts_text = sum(1 for k in found.values() if k == "contact")
contact_entries = [e for e in timeline if isinstance(e, dict) and e.get("kind") == "contact"]
if len(contact_entries) != n_contacts_text:
    problems.append("%d contact entries but %d distinct contact notes" % (len(contact_entries), n_contacts_text))
my_tasks = [t for t in tasks if t.get("person") == person and t.get("due") == follow]
if len(my_tasks) != len(contact_entries):
    problems.append("%d follow-up tasks for %d contacts" % (len(my_tasks), len(contact_entries)))
n_ok = sum(1 for k, st in attempts.values() if st == 0)
n_killed = sum(1 for k, st in attempts.values() if st == 137)
print("shown %d of %d attempts (%d exited 0, %d killed)" % (len(found), len(attempts), n_ok, n_killed))
for p in problems:
    print("PROBLEM " + p)
EOF
)
echo "# $(printf '%s\n' "$verdict" | head -n 1)"
if printf '%s\n' "$verdict" | grep -q '^shown '; then
    ok "show output could be compared with the attempts"
else
    fail "show output could be compared with the attempts" "$verdict"
fi
for what in "exited 0 but is not shown" "never attempted" "shown as a" "but is shown" \
    "partial or garbled" "note entries for" "contact entries but" "follow-up tasks for"; do
    lines=$(printf '%s\n' "$verdict" | grep -F "$what")
    case $what in
        "exited 0 but is not shown") name="every write that exited 0 is shown" ;;
        "never attempted") name="nothing shown that was never attempted" ;;
        "shown as a") name="each shown item has the kind it was written as" ;;
        "but is shown") name="no failed write is shown" ;;
        "partial or garbled") name="no partial or garbled text" ;;
        "note entries for") name="no note shown twice" ;;
        "contact entries but") name="each contact and its note were written together" ;;
        "follow-up tasks for") name="each contact and its follow-up task were written together" ;;
    esac
    if [ -z "$lines" ]; then ok "$name"; else fail "$name" "$lines"; fi
done

# The store goes on working.
expect_exit 0 "a write after the kills" -- lb note add "$P" "after the crashes"
expect_exit 0 "show after that write" -- lb show "$P"
expect_stdout_has "after the crashes" "the new note is shown"
expect_exit 0 "check at the end" -- lb check

# --- passwd killed mid-run: exactly one of the two passphrases opens the store.
PASS_A=$LINKBOOK_PASSPHRASE
PASS_B="the other passphrase"
t0=$(now_ms)
lbenv LINKBOOK_PASSPHRASE="$PASS_A" LINKBOOK_NEW_PASSPHRASE="$PASS_B" -- passwd >/dev/null 2>&1
lbenv LINKBOOK_PASSPHRASE="$PASS_B" LINKBOOK_NEW_PASSPHRASE="$PASS_A" -- passwd >/dev/null 2>&1
t1=$(now_ms)
T2=$(((t1 - t0) / 2))
[ "$T2" -ge 5 ] || T2=5
echo "# one passwd takes about ${T2} ms"
cur=$PASS_A
other=$PASS_B
k=1
lost=""
while [ $k -le 8 ]; do
    env LINKBOOK_PASSPHRASE="$cur" LINKBOOK_NEW_PASSPHRASE="$other" "$LINKBOOK" passwd \
        </dev/null >/dev/null 2>&1 &
    pid=$!
    d=$((T2 * 3 / 10 + $(rand $((T2 + 1)))))
    sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
    kill -9 "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    st=$?
    lbenv LINKBOOK_PASSPHRASE="$cur" -- person list >/dev/null 2>&1
    old_rc=$?
    lbenv LINKBOOK_PASSPHRASE="$other" -- person list >/dev/null 2>&1
    new_rc=$?
    echo "# passwd attempt $k: exit $st; old passphrase -> $old_rc, new -> $new_rc"
    if [ "$st" -eq 0 ] && [ "$new_rc" -ne 0 ]; then
        lost="$lost attempt $k: passwd exited 0 but the new passphrase is refused ($new_rc);"
    fi
    if [ "$old_rc" -eq 0 ] && [ "$new_rc" -eq 0 ]; then
        lost="$lost attempt $k: both passphrases open the store;"
    elif [ "$old_rc" -ne 0 ] && [ "$new_rc" -ne 0 ]; then
        lost="$lost attempt $k: neither passphrase opens the store ($old_rc, $new_rc);"
        break
    fi
    if [ "$new_rc" -eq 0 ]; then
        _t=$cur
        cur=$other
        other=$_t
    fi
    k=$((k + 1))
done
if [ -z "$lost" ]; then
    ok "passwd killed mid-run: exactly one passphrase opens the store, every time"
else
    fail "passwd killed mid-run: exactly one passphrase opens the store, every time" "$lost"
fi
export LINKBOOK_PASSPHRASE="$cur"
expect_exit 0 "check after the killed passwds" -- lb check
expect_exit 0 "show after the killed passwds" -- lb show "$P"
expect_stdout_has "after the crashes" "records readable after the killed passwds"

# --- init killed mid-run: the directory is either a working store, or no
# store at all and init can start again; never a half-store that nothing
# opens and init refuses.
t0=$(now_ms)
lbenv LINKBOOK_STORE="$tmp/init-timing" -- init >/dev/null 2>&1
t1=$(now_ms)
T3=$((t1 - t0))
[ "$T3" -ge 5 ] || T3=5
stuck=""
k=1
while [ $k -le 6 ]; do
    dir="$tmp/init-$k"
    env LINKBOOK_STORE="$dir" "$LINKBOOK" init </dev/null >/dev/null 2>&1 &
    pid=$!
    d=$(rand $((T3 + 1)))
    sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
    kill -9 "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    st=$?
    lbenv LINKBOOK_STORE="$dir" -- person list >/dev/null 2>"$tmp/init-err"
    list_rc=$?
    state="works"
    if [ "$list_rc" -ne 0 ]; then
        lbenv LINKBOOK_STORE="$dir" -- init >/dev/null 2>"$tmp/init-err2"
        init_rc=$?
        lbenv LINKBOOK_STORE="$dir" -- person list >/dev/null 2>&1
        if [ "$init_rc" -eq 0 ] && [ $? -eq 0 ]; then
            state="re-initialised"
        else
            state="stuck"
            stuck="$stuck attempt $k (init exit $st): person list $list_rc ($(head -c 200 "$tmp/init-err")), init again $init_rc ($(head -c 200 "$tmp/init-err2"));"
        fi
    fi
    echo "# init attempt $k: exit $st, $state"
    k=$((k + 1))
done
if [ -z "$stuck" ]; then
    ok "init killed mid-run: never leaves a half-store"
else
    fail "init killed mid-run: never leaves a half-store" "$stuck"
fi

finish
