#!/bin/sh
# test_sync_kill.sh - kill -9 in the middle of a sync, on either side:
#   1. the server, twice, while a worker pushes ~300 notes recorded offline;
#      it comes back on the same port; the next sync finishes the job;
#   2. the supervisor's `linkbook sync`, while it pulls them;
#   3. the worker's `linkbook sync`, twice, while it pushes 200 more notes.
# In the end the supervisor has every note exactly once, the worker lost
# nothing, nothing is left to push, and both stores pass `linkbook check`.
# Delays are random (seeded: LINKBOOK_TEST_SEED=N reruns them).
. "$(dirname "$0")/lib.sh"

SEED=${LINKBOOK_TEST_SEED:-$(date +%s)}
echo "# seed $SEED (rerun with LINKBOOK_TEST_SEED=$SEED)"
# Seven delays in seconds, in the first part of a sync of this size.
set -- $(python3 -c '
import random, sys
r = random.Random(int(sys.argv[1]))
print(" ".join("%.3f" % r.uniform(lo, hi) for lo, hi in
      [(0.03, 0.12), (0.01, 0.1), (0.03, 0.12), (0.03, 0.12), (0.01, 0.1), (0.03, 0.1), (0.03, 0.1)]))' "$SEED")
D_SRV1=$1; D_SRV2=$2; D_PULL=$3; D_CLI1=$4; D_CLI2=$5; D_PULL2=$6; D_CLI3=$7
echo "# delays: server kills $D_SRV1 $D_SRV2, pull kill $D_PULL, client kills $D_CLI1 $D_CLI2, $D_CLI3, pull kill $D_PULL2"

team_setup 1
FIRST_PORT=$PORT
PAD="Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua; ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat."

expect_exit 0 "w1: person add" -- dv w1 person add --given Hieronymus --family Blackwood
expect_id "w1: person id"
P=$id
expect_exit 0 "w1: second person add" -- dv w1 person add --given Philomena --family Ravenscroft
expect_id "w1: second person id"
Q=$id
sync_ok w1 "w1: sync the people"
sync_ok sup "sup: sync the people"

# add_notes PERSON PREFIX COUNT: COUNT notes "PREFIX N PAD"; one check.
add_notes() {
    _i=1
    _bad=0
    while [ "$_i" -le "$3" ]; do
        dv w1 note add "$1" "$2 $_i $PAD" >/dev/null 2>"$err" || _bad=$((_bad + 1))
        _i=$((_i + 1))
    done
    if [ "$_bad" -eq 0 ]; then ok "w1: $3 notes '$2 N' recorded"; else fail "w1: $3 notes '$2 N' recorded" "$_bad failed; last: $(cat "$err")"; fi
}

# bg_sync DEV LOG: start `linkbook sync` on DEV in the background, no
# timeout wrapper (so that $BGPID is linkbook itself, for kill -9).
bg_sync() {
    LINKBOOK_STORE="$(dev_store "$1")" "$LINKBOOK" sync >"$2.out" 2>"$2.err" </dev/null &
    BGPID=$!
    BG_PIDS="$BG_PIDS $BGPID"
}

# wait_bg NAME ALLOWED: wait (at most 60 s) for $BGPID; one check that it
# ended with one of ALLOWED statuses (never hung).
wait_bg() {
    _i=0
    while [ $_i -lt 600 ] && kill -0 "$BGPID" 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
    if kill -0 "$BGPID" 2>/dev/null; then
        kill -9 "$BGPID" 2>/dev/null
        wait "$BGPID" 2>/dev/null
        fail "$1" "still running after 60 s"
        return
    fi
    wait "$BGPID"
    _st=$?
    for _a in $2; do
        if [ "$_st" -eq "$_a" ]; then ok "$1 (exit $_st)"; return; fi
    done
    fail "$1" "exit $_st, expected one of: $2" "stderr: $(head -c 400 "$tmp/bg.err")"
}

# --- 1. the server dies mid-push -----------------------------------------------------------
add_notes "$P" "kill-server note" 300
for d in "$D_SRV1" "$D_SRV2"; do
    bg_sync w1 "$tmp/bg"
    sleep "$d"
    if kill -0 "$BGPID" 2>/dev/null; then state="mid-sync"; else state="after the sync ended"; fi
    srv_kill9
    echo "# server killed after ${d}s, $state"
    srv_start "$FIRST_PORT" || finish
    wait_bg "w1: the sync the server died under ends: done or offline, no hang or crash" "0 5"
done
sync_ok w1 "w1: sync after the server came back"
if [ "$pending" = 0 ]; then ok "w1: nothing left to push"; else fail "w1: nothing left to push" "pending '$pending'"; fi

# --- 2. the supervisor's sync dies mid-pull --------------------------------------------------
bg_sync sup "$tmp/bg"
sleep "$D_PULL"
if kill -0 "$BGPID" 2>/dev/null; then state="mid-sync"; else state="after it ended"; fi
kill -9 "$BGPID" 2>/dev/null
wait "$BGPID" 2>/dev/null
echo "# sup's sync killed after ${D_PULL}s, $state"
sync_ok sup "sup: sync after its sync was killed"
expect_exit 0 "sup: linkbook check after the kill" -- dv sup check

expect_exit 0 "sup: show the first person" -- dv sup show "$P" --json
cp "$out" "$tmp/sup-p.json"
count_notes() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
prefix, n = sys.argv[2] + " ", int(sys.argv[3])
seen = {}
for e in doc.get("timeline", []):
    t = e.get("text", "") if e.get("kind") == "note" else ""
    if t.startswith(prefix):
        k = int(t[len(prefix):].split(" ", 1)[0])
        seen[k] = seen.get(k, 0) + 1
missing = [k for k in range(1, n + 1) if k not in seen]
doubled = sorted(k for k, c in seen.items() if c > 1)
if missing or doubled:
    print("missing %d %s; doubled %d %s" % (len(missing), missing[:10], len(doubled), doubled[:10]))
    sys.exit(1)
print("all %d once" % n)
EOF
}
if why=$(count_notes "$tmp/sup-p.json" "kill-server note" 300); then
    ok "sup: every one of the 300 notes exactly once ($why)"
else
    fail "sup: every one of the 300 notes exactly once" "$why" "seed $SEED"
fi

# --- 3. the worker's sync dies mid-push ------------------------------------------------------
add_notes "$Q" "kill-client note" 200
for d in "$D_CLI1" "$D_CLI2"; do
    bg_sync w1 "$tmp/bg"
    sleep "$d"
    if kill -0 "$BGPID" 2>/dev/null; then state="mid-sync"; else state="after it ended"; fi
    kill -9 "$BGPID" 2>/dev/null
    wait "$BGPID" 2>/dev/null
    echo "# w1's sync killed after ${d}s, $state"
done
expect_exit 0 "w1: linkbook check after its syncs were killed" -- dv w1 check
sync_ok w1 "w1: sync after its syncs were killed"
if [ "$pending" = 0 ]; then ok "w1: nothing left to push"; else fail "w1: nothing left to push" "pending '$pending'"; fi

# And once more both ways: the worker killed mid-push, the supervisor mid-pull.
add_notes "$Q" "kill-late note" 60
bg_sync w1 "$tmp/bg"
sleep "$D_CLI3"
kill -9 "$BGPID" 2>/dev/null
wait "$BGPID" 2>/dev/null
sync_ok w1 "w1: sync after another kill"
bg_sync sup "$tmp/bg"
sleep "$D_PULL2"
kill -9 "$BGPID" 2>/dev/null
wait "$BGPID" 2>/dev/null
sync_ok sup "sup: sync after another kill mid-pull"
sync_ok sup "sup: sync again"
sync_ok w1 "w1: final sync"
if [ "$pushed" = 0 ] && [ "$pending" = 0 ]; then ok "w1: the final sync had nothing left to push"; else fail "w1: the final sync had nothing left to push" "pushed '$pushed', pending '$pending'"; fi

expect_exit 0 "sup: show the second person" -- dv sup show "$Q" --json
cp "$out" "$tmp/sup-q.json"
expect_exit 0 "sup: show the first person again" -- dv sup show "$P" --json
cp "$out" "$tmp/sup-p2.json"
expect_exit 0 "w1: show the first person" -- dv w1 show "$P" --json
cp "$out" "$tmp/w1-p.json"
expect_exit 0 "w1: show the second person" -- dv w1 show "$Q" --json
cp "$out" "$tmp/w1-q.json"
for spec in "sup-q kill-client 200" "sup-q kill-late 60" "sup-p2 kill-server 300" \
    "w1-p kill-server 300" "w1-q kill-client 200" "w1-q kill-late 60"; do
    set -- $spec
    if why=$(count_notes "$tmp/$1.json" "$2 note" "$3"); then
        ok "${1%%-*}: every '$2 note' exactly once ($why)"
    else
        fail "${1%%-*}: every '$2 note' exactly once" "$why" "seed $SEED"
    fi
done
expect_exit 0 "w1: linkbook check at the end" -- dv w1 check
expect_exit 0 "sup: linkbook check at the end" -- dv sup check
srv_stop
finish
