#!/bin/sh
# test_sync_converge.sh - three devices (a supervisor, two link workers with
# their own people) make random interleaved edits, sync in random orders,
# and go through a server outage in the middle; the supervisor edits goal
# statuses and adds notes on the workers' people between syncs.  Then every
# device syncs twice and:
#   - the supervisor's canonical dump of each worker's people equals that
#     worker's own (same records, same goal statuses, notes exactly once);
#   - the supervisor sees exactly the union of the workers' people, and no
#     worker sees the other's;
#   - every note written anywhere is there exactly once;
#   - syncing again changes nothing on any device.
# Seeded: LINKBOOK_TEST_SEED=N reruns one sequence (the seed is printed).
. "$(dirname "$0")/lib.sh"

SEED=${LINKBOOK_TEST_SEED:-$(date +%s)}
NOPS=${LINKBOOK_TEST_OPS:-40}
echo "# seed $SEED, $NOPS operations (rerun with LINKBOOK_TEST_SEED=$SEED)"

team_setup 2
FIRST_PORT=$PORT

notes="$tmp/notes.txt"      # every note text written, one a line
: >"$notes"
oplog="$tmp/ops.txt"
: >"$oplog"
opfail="$tmp/opfail.txt"
: >"$opfail"

# Each worker starts with one person who has a goal.
for w in w1 w2; do
    expect_exit 0 "$w: first person" -- dv "$w" person add --given "First" --family "Conv-$w-0"
    expect_id "$w: first person's id"
    expect_exit 0 "$w: first goal" -- dv "$w" goal add "$id" "First goal of $w"
    sync_ok "$w" "$w: first sync of its person"
done
sync_ok sup "sup: pulls both workers' people"

# The random sequence: lines "DEV OP R".  Outage from 35% to 60% of the run.
python3 - "$SEED" "$NOPS" >"$tmp/plan.txt" <<'EOF'
import random, sys
rnd = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
down, up = int(n * 0.35), int(n * 0.60)
ops = [("add", 2), ("note", 4), ("goal", 2), ("status", 4), ("measure", 1), ("sync", 5)]
for i in range(n):
    if i == down:
        print("srv down 0")
    if i == up:
        print("srv up 0")
    dev = rnd.choice(["sup", "w1", "w2"])
    op = rnd.choices([o for o, _ in ops], [w for _, w in ops])[0]
    if dev == "sup" and op in ("add", "goal", "measure"):
        op = rnd.choice(["status", "note", "sync"])
    print(dev, op, rnd.randrange(1 << 30))
EOF

down=0
n=0
nsync=0
# opdo DESC CMD...: run one operation; a failure is recorded, not fatal.
opdo() {
    _desc=$1
    shift
    run "$@"
    echo "$_desc -> exit $rc" >>"$oplog"
    if [ "$rc" -ne 0 ]; then
        printf '%s: exit %s: %s\n' "$_desc" "$rc" "$(head -c 300 "$err" | tr '\n' ' ')" >>"$opfail"
    fi
}

pick_person() {
    dv "$1" person list --json >"$tmp/pl.json" 2>/dev/null
    python3 "$SYNC_DIR/pick.py" "$tmp/pl.json" "$2"
}

while read -r dev op r; do
    n=$((n + 1))
    case $dev.$op in
        srv.down)
            srv_stop
            down=1
            echo "server down" >>"$oplog"
            continue ;;
        srv.up)
            srv_start "$FIRST_PORT" || finish
            down=0
            echo "server up" >>"$oplog"
            continue ;;
    esac
    case $op in
        add)
            opdo "$n $dev person add" dv "$dev" person add --given "Given$n" --family "Conv-$dev-$n" ;;
        note)
            P=$(pick_person "$dev" "$r")
            if [ -z "$P" ]; then echo "$n $dev note: nobody to write about" >>"$oplog"; continue; fi
            text="conv note $n by $dev seed $SEED"
            opdo "$n $dev note add $P" dv "$dev" note add "$P" "$text"
            [ "$rc" -eq 0 ] && printf '%s\t%s\n' "$P" "$text" >>"$notes" ;;
        goal)
            P=$(pick_person "$dev" "$r")
            [ -n "$P" ] || continue
            opdo "$n $dev goal add $P" dv "$dev" goal add "$P" "conv goal $n by $dev" ;;
        measure)
            P=$(pick_person "$dev" "$r")
            [ -n "$P" ] || continue
            a=$((r % 11)); b=$(((r / 11) % 11))
            opdo "$n $dev measure add $P" dv "$dev" measure add "$P" ons4 --answers "$a,$b,5,$((10 - a))" ;;
        status)
            P=$(pick_person "$dev" "$r")
            [ -n "$P" ] || continue
            dv "$dev" show "$P" --json >"$tmp/sh.json" 2>/dev/null
            G=$(python3 "$SYNC_DIR/pick.py" "$tmp/sh.json" "$((r / 7))" goal)
            if [ -z "$G" ]; then echo "$n $dev status: no goal for $P" >>"$oplog"; continue; fi
            set -- achieved partly not-achieved withdrawn active
            shift $(((r / 3) % 5))
            opdo "$n $dev goal status $G $1" dv "$dev" goal status "$G" "$1" ;;
        sync)
            nsync=$((nsync + 1))
            run dv "$dev" sync
            echo "$n $dev sync (server down=$down) -> exit $rc" >>"$oplog"
            if [ "$down" = 1 ]; then
                [ "$rc" -eq 5 ] || printf '%s\n' "$n $dev sync while the server is down: exit $rc, expected 5: $(head -c 300 "$err" | tr '\n' ' ')" >>"$opfail"
            else
                [ "$rc" -eq 0 ] || printf '%s\n' "$n $dev sync: exit $rc, expected 0: $(head -c 300 "$err" | tr '\n' ' ')" >>"$opfail"
            fi ;;
    esac
done <"$tmp/plan.txt"
[ "$down" = 1 ] && { srv_start "$FIRST_PORT" || finish; }

echo "# done: $(grep -c 'person add' "$oplog") person add, $(grep -c 'note add' "$oplog") note add," \
    "$(grep -c 'goal add' "$oplog") goal add, $(grep -c 'goal status' "$oplog") goal status" \
    "($(grep -c '^[0-9]* sup goal status' "$oplog") by sup), $(grep -c 'measure add' "$oplog") measure add," \
    "$nsync syncs ($(grep -c 'sync (server down=1)' "$oplog") while the server was down)"
if [ -s "$opfail" ]; then
    fail "every random operation did what it should ($n operations, $nsync syncs)" \
        "$(cat "$opfail" | head -n 20)" "seed $SEED"
else
    ok "every random operation did what it should ($n operations, $nsync syncs)"
fi

# --- everyone syncs twice ------------------------------------------------------------------
for round in 1 2; do
    for d in w1 w2 sup; do
        sync_ok "$d" "$d: final sync round $round"
    done
done

dump sup "$tmp/sup"
dump w1 "$tmp/w1"
dump w2 "$tmp/w2"
for w in w1 w2; do
    python3 "$SYNC_DIR/canon.py" "$tmp/sup" "$tmp/$w" >"$tmp/sup-of-$w.json"
    same_dump "sup's view of $w's people equals $w's own (seed $SEED)" "$tmp/$w/canon.json" "$tmp/sup-of-$w.json"
done

if python3 - "$tmp/sup/list.json" "$tmp/w1/list.json" "$tmp/w2/list.json" >"$tmp/why" 2>&1 <<'EOF'
import json, sys
ids = [set(p["id"] for p in json.load(open(f))["people"]) for f in sys.argv[1:]]
sup, w1, w2 = ids
problems = []
if w1 & w2:
    problems.append("workers share people: %s" % sorted(w1 & w2))
if sup != w1 | w2:
    problems.append("sup minus union: %s; union minus sup: %s" % (sorted(sup - (w1 | w2)), sorted((w1 | w2) - sup)))
if problems:
    print("\n".join(problems)); sys.exit(1)
print("sup %d people = w1 %d + w2 %d" % (len(sup), len(w1), len(w2)))
EOF
then
    ok "sup sees exactly the union of the workers' people; workers see only their own ($(cat "$tmp/why"))"
else
    fail "sup sees exactly the union of the workers' people; workers see only their own" "$(cat "$tmp/why")" "seed $SEED"
fi

# Every note written, exactly once on the supervisor and on its worker.
if python3 - "$notes" "$tmp/sup/canon.json" "$tmp/w1/canon.json" "$tmp/w2/canon.json" >"$tmp/why" 2>&1 <<'EOF'
import json, sys
notes = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if l.strip()]
docs = {name: json.load(open(f))["people"] for name, f in zip(("sup", "w1", "w2"), sys.argv[2:])}
def count(doc, pid, text):
    p = doc.get(pid)
    if not isinstance(p, dict):
        return 0
    return sum(1 for e in p.get("timeline", []) if e.get("kind") == "note" and e.get("text") == text)
bad = []
for pid, text in notes:
    owner = [w for w in ("w1", "w2") if pid in docs[w]]
    for dev in ["sup"] + owner:
        c = count(docs[dev], pid, text)
        if c != 1:
            bad.append("%s has %r %d times" % (dev, text, c))
    if len(owner) != 1:
        bad.append("person %s of note %r is on %d workers' devices" % (pid, text, len(owner)))
if bad:
    print("\n".join(bad[:20])); sys.exit(1)
print("%d notes" % len(notes))
EOF
then
    ok "every note written is there exactly once on the supervisor and its worker ($(cat "$tmp/why"))"
else
    fail "every note written is there exactly once on the supervisor and its worker" "$(cat "$tmp/why")" "seed $SEED"
fi

# --- syncing again changes nothing ---------------------------------------------------------
for d in w1 w2 sup w1 w2 sup; do
    sync_ok "$d" "$d: sync again"
done
for d in sup w1 w2; do
    dump "$d" "$tmp/again-$d"
    same_dump "$d: syncing again changes nothing (seed $SEED)" "$tmp/$d/canon.json" "$tmp/again-$d/canon.json"
done
for d in sup w1 w2; do
    expect_exit 0 "$d: linkbook check" -- dv "$d" check
done

if [ "$FAILED" -gt 0 ]; then
    echo "# operations (seed $SEED):"
    sed 's/^/#   /' "$oplog"
fi
srv_stop
finish
