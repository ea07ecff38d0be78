#!/bin/sh
# test_sync_cut.sh - the connection is cut in the middle of the server's
# answer.  A tiny TCP proxy (python3, written into the test's temp dir,
# listening on 127.0.0.1:0) sits between two devices and linkbookd; it cuts
# the server-to-device stream after N bytes on the first K connections,
# then forwards faithfully.  The proxy is restarted on its own port to
# change N and K; the devices behind it were enrolled through it.
#   1. a pull whose every answer is cut: the sync fails (non-zero exit, a
#      clear message), and the device's records and cursors are as before;
#      the next sync, through the healthy proxy, brings every change once;
#   2. a push whose answers are cut (the server committed, the device never
#      heard): the sync fails, the changes stay in the outbox; the next
#      sync pushes them again and the supervisor gets each exactly once;
#   3. only the first connection cut: the client's retry finishes the sync.
. "$(dirname "$0")/lib.sh"
need sqlite3

cat >"$tmp/proxy.py" <<'EOF'
#!/usr/bin/env python3
"""proxy.py LISTEN_PORT TARGET_PORT N K LOG - forward 127.0.0.1:LISTEN_PORT
to 127.0.0.1:TARGET_PORT; on the first K connections, close both sides
after N bytes of the target's answer.  Prints "listening on 127.0.0.1:P";
appends "conn I cut after N bytes" / "conn I closed after B bytes" to LOG."""
import select
import socket
import struct
import sys
import threading

lport, tport, limit, first_k, log = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lock = threading.Lock()


def note(line):
    with lock:
        with open(log, "a") as f:
            f.write(line + "\n")


def pipe(n, cli, srv, cut):
    """One connection, both directions, in one thread (select)."""
    sent = 0
    open_up = True
    try:
        while True:
            r, _, _ = select.select([cli, srv] if open_up else [srv], [], [], 120)
            if not r:
                break
            if cli in r:
                b = cli.recv(65536)
                if b:
                    srv.sendall(b)
                else:
                    open_up = False
                    srv.shutdown(socket.SHUT_WR)
            if srv in r:
                b = srv.recv(65536)
                if not b:
                    break
                if cut and sent + len(b) >= limit:
                    cli.sendall(b[:limit - sent])
                    sent = limit
                    note("conn %d cut after %d bytes" % (n, sent))
                    # An abrupt end: a reset, not a clean close.
                    cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                cli.sendall(b)
                sent += len(b)
    except OSError:
        pass
    if not (cut and sent >= limit):
        note("conn %d closed after %d bytes" % (n, sent))
    for s in (cli, srv):
        try:
            s.close()
        except OSError:
            pass


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(64)
    print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    n = 0
    while True:
        cli, _ = ls.accept()
        n += 1
        try:
            srv = socket.create_connection(("127.0.0.1", tport), timeout=10)
            srv.settimeout(None)
        except OSError:
            cli.close()
            continue
        threading.Thread(target=pipe, args=(n, cli, srv, n <= first_k), daemon=True).start()


main()
EOF

PX_PID=""
PX_PORT=0
PX_LOG="$tmp/proxy.log"

# px_start N K: (re)start the proxy on $PX_PORT (0 the first time); one check.
px_start() {
    px_stop
    : >"$PX_LOG"
    : >"$tmp/px.out"
    python3 "$tmp/proxy.py" "$PX_PORT" "$PORT" "$1" "$2" "$PX_LOG" >"$tmp/px.out" 2>"$tmp/px.err" </dev/null &
    PX_PID=$!
    BG_PIDS="$BG_PIDS $PX_PID"
    _i=0
    _line=""
    while [ $_i -lt 100 ]; do
        _line=$(grep -m1 -E '^listening on 127\.0\.0\.1:[0-9]+' "$tmp/px.out" 2>/dev/null)
        [ -n "$_line" ] && break
        kill -0 "$PX_PID" 2>/dev/null || break
        sleep 0.1
        _i=$((_i + 1))
    done
    if [ -z "$_line" ]; then
        fail "proxy (cut after $1 bytes, first $2 connections) listens" "$(cat "$tmp/px.err" | tail -n 5)"
        finish
    fi
    PX_PORT=${_line##*:}
    PX_URL="http://127.0.0.1:$PX_PORT"
    ok "proxy (cut after $1 bytes on the first $2 connections) listens on 127.0.0.1:$PX_PORT"
}

px_stop() {
    [ -n "$PX_PID" ] || return 0
    kill "$PX_PID" 2>/dev/null
    wait "$PX_PID" 2>/dev/null
    PX_PID=""
}

# cuts: how many connections the proxy cut since it started.
cuts() {
    grep -c ' cut after ' "$PX_LOG" 2>/dev/null || true
}

# state DEV: the device's cursors, change count and record count, one line
# (not the outbox: a push before the cut pull may well succeed).
state() {
    sqlite3 -batch "$(dev_store "$1")/store.db" \
        "SELECT group_concat(caseload || '=' || seq, ',') FROM (SELECT * FROM cursors ORDER BY caseload);
         SELECT count(*) FROM changes; SELECT count(*) FROM records;" 2>&1 | tr '\n' ' '
}

# notes_once DEV PERSON PREFIX COUNT NAME: `show PERSON --json` on DEV has
# the notes "PREFIX 1 ..." to "PREFIX COUNT ..." exactly once each.
notes_once() {
    expect_exit 0 "$1: show the person" -- dv "$1" show "$2" --json || return 1
    cp "$out" "$tmp/show.json"
    if _why=$(python3 - "$tmp/show.json" "$3" "$4" <<'PYEOF' 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
texts = []
def walk(x):
    if isinstance(x, dict):
        if x.get("kind") == "note":
            texts.append(str(x.get("text", "")))
        for v in x.values():
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(doc)
bad = []
for i in range(1, int(sys.argv[3]) + 1):
    n = len([t for t in texts if t.startswith("%s %d " % (sys.argv[2], i))])
    if n != 1:
        bad.append("%s %d: %d times" % (sys.argv[2], i, n))
extra = [t for t in texts if t.startswith(sys.argv[2] + " ")]
if len(extra) != int(sys.argv[3]):
    bad.append("%d notes '%s N' in all" % (len(extra), sys.argv[2]))
if bad:
    print("; ".join(bad[:10]))
    sys.exit(1)
PYEOF
    ); then
        ok "$5"
    else
        fail "$5" "$_why"
    fi
}

team_setup 1
PAD="padding so that the pull answer is a good many kilobytes long: the quick brown fox jumps over the lazy dog"

# A second supervisor and a second worker, enrolled through the proxy.
px_start 0 0
invite supervisor sup2
dev_new sup2
URL_DIRECT=$URL
URL=$PX_URL
dev_enrol sup2 "$CODE"
URL=$URL_DIRECT
invite link-worker w2
dev_new w2
URL=$PX_URL
dev_enrol w2 "$CODE"
URL=$URL_DIRECT
sync_ok sup "sup: sync (seals the team key to sup2 and w2)"
sync_ok sup2 "sup2: first sync through the proxy"
sync_ok w2 "w2: first sync through the proxy"

expect_exit 0 "w1: person add" -- dv w1 person add --given Perpetua --family Moorcroft
expect_id "w1: person id"
P=$id
expect_exit 0 "w2: person add" -- dv w2 person add --given Barnaby --family Quill
expect_id "w2: person id"
Q=$id
sync_ok w1 "w1: sync the person"
sync_ok w2 "w2: sync the person (through the proxy)"
sync_ok sup2 "sup2: sync both people"
sync_ok sup2 "sup2: sync again (nothing new)"

# --- 1. every pull answer cut ----------------------------------------------------------------
_i=1
_bad=0
while [ $_i -le 30 ]; do
    dv w1 note add "$P" "pull-cut $_i $PAD" >/dev/null 2>"$err" || _bad=$((_bad + 1))
    _i=$((_i + 1))
done
if [ $_bad -eq 0 ]; then ok "w1: 30 notes recorded"; else fail "w1: 30 notes recorded" "$_bad failed"; fi
sync_ok w1 "w1: push the 30 notes (directly)"
W1PUSHED=$pushed

dump sup2 "$tmp/before"
before=$(state sup2)
px_start 2000 1000
expect_exit "1 5" "sup2: sync with every answer cut after 2000 bytes fails (exit 5 or 1, not a crash)" -- \
    dv sup2 sync
expect_stderr_has "connection|partial|network|offline|failed" "sup2: the failed sync says the connection failed"
head -n 3 "$err" | sed "s/^/# sup2 said: /"
expect_stderr_has "$PX_PORT|127\.0\.0\.1|server" "sup2: the message names the server"
n=$(cuts)
if [ "$n" -ge 1 ]; then ok "the proxy cut $n answers mid-way"; else fail "the proxy cut answers mid-way" "proxy log: $(cat "$PX_LOG")"; fi
after=$(state sup2)
if [ "$before" = "$after" ]; then
    ok "sup2: cursors, change log and records as before the cut sync ($after)"
else
    fail "sup2: cursors, change log and records as before the cut sync" "before: $before" "after:  $after"
fi
dump sup2 "$tmp/after"
same_dump "sup2: what the device shows is as before the cut sync" "$tmp/before/canon.json" "$tmp/after/canon.json"
expect_exit 0 "sup2: linkbook check after the cut sync" -- dv sup2 check

px_start 0 0
sync_ok sup2 "sup2: sync through the healthy proxy"
if [ -n "$W1PUSHED" ] && [ "$pulled" = "$W1PUSHED" ]; then
    ok "sup2: pulled exactly what w1 pushed ($pulled)"
else
    fail "sup2: pulled exactly what w1 pushed" "w1 pushed '$W1PUSHED', sup2 pulled '$pulled'" "$(_describe)"
fi
notes_once sup2 "$P" pull-cut 30 "sup2: each of the 30 notes exactly once"
sync_ok sup2 "sup2: one more sync"
if [ "$pulled" = 0 ] && [ "$rejected" = 0 ]; then ok "sup2: nothing pulled again"; else fail "sup2: nothing pulled again" "pulled '$pulled', rejected '$rejected'"; fi

# --- 2. every push answer cut ----------------------------------------------------------------
_i=1
_bad=0
while [ $_i -le 20 ]; do
    dv w2 note add "$Q" "push-cut $_i $PAD" >/dev/null 2>"$err" || _bad=$((_bad + 1))
    _i=$((_i + 1))
done
if [ $_bad -eq 0 ]; then ok "w2: 20 notes recorded"; else fail "w2: 20 notes recorded" "$_bad failed"; fi
pend_before=$(sqlite3 -batch "$(dev_store w2)/store.db" "SELECT count(*) FROM changes WHERE pushed = 0;")
# A push answer is small: cut it after its first 40 bytes (inside the headers).
px_start 40 1000
expect_exit "1 5" "w2: sync with every answer cut after 40 bytes fails (exit 5 or 1, not a crash)" -- dv w2 sync
expect_stderr_has "connection|partial|network|offline|failed" "w2: the failed sync says the connection failed"
n=$(cuts)
if [ "$n" -ge 1 ]; then ok "the proxy cut $n push answers"; else fail "the proxy cut push answers" "proxy log: $(cat "$PX_LOG")"; fi
pend_after=$(sqlite3 -batch "$(dev_store w2)/store.db" "SELECT count(*) FROM changes WHERE pushed = 0;")
if [ "$pend_before" -ge 20 ] && [ "$pend_after" = "$pend_before" ]; then
    ok "w2: the unacknowledged changes stay in the outbox ($pend_after)"
else
    fail "w2: the unacknowledged changes stay in the outbox" "before $pend_before, after $pend_after"
fi
px_start 0 0
sync_ok w2 "w2: sync through the healthy proxy"
if [ "$pending" = 0 ]; then
    ok "w2: nothing left in the outbox after the healthy sync"
else
    fail "w2: nothing left in the outbox after the healthy sync" "pending '$pending'" "$(_describe)"
fi
# The server committed the batch whose answer was lost; sending it again
# must be acknowledged (lb_proto.h: "Re-pushing an envelope answers its
# original sequence numbers"), not refused.
_pr=$(jget "$tmp/sync.json" push_rejected)
if [ "$_pr" = 0 ]; then
    ok "w2: the re-sent changes are acknowledged, none refused (push_rejected 0)"
else
    fail "w2: the re-sent changes are acknowledged, none refused (push_rejected 0)" \
        "push_rejected '$_pr', pushed '$pushed'" "$(_describe)"
fi
sync_ok sup "sup: sync (directly)"
notes_once sup "$Q" push-cut 20 "sup: each of w2's 20 notes exactly once"

# --- 3. only the first connection cut: the retry finishes -----------------------------------
_i=1
while [ $_i -le 30 ]; do
    dv w1 note add "$P" "retry-cut $_i $PAD" >/dev/null 2>"$err"
    _i=$((_i + 1))
done
sync_ok w1 "w1: push 30 more notes (directly)"
W1PUSHED=$pushed
px_start 2000 1
sync_ok sup2 "sup2: sync with only the first answer cut succeeds (the client retries)"
n=$(cuts)
if [ "$n" = 1 ]; then ok "the proxy cut exactly one answer"; else fail "the proxy cut exactly one answer" "cuts '$n'; log: $(cat "$PX_LOG")"; fi
if [ -n "$W1PUSHED" ] && [ -n "$pulled" ] && [ "$pulled" -ge "$W1PUSHED" ]; then
    ok "sup2: pulled w1's new notes after the retry ($pulled)"
else
    fail "sup2: pulled w1's new notes after the retry" "w1 pushed '$W1PUSHED', sup2 pulled '$pulled'"
fi
notes_once sup2 "$P" retry-cut 30 "sup2: each of the 30 new notes exactly once"

# --- the end: every device agrees ------------------------------------------------------------
px_start 0 0
for d in w1 w2 sup sup2 w1 w2 sup sup2; do
    dv "$d" sync >/dev/null 2>&1
done
sync_ok sup "sup: final sync"
sync_ok sup2 "sup2: final sync"
dump sup "$tmp/f-sup"
dump sup2 "$tmp/f-sup2"
same_dump "sup and sup2 hold the same records" "$tmp/f-sup/canon.json" "$tmp/f-sup2/canon.json"
expect_exit 0 "sup2: linkbook check" -- dv sup2 check
expect_exit 0 "w2: linkbook check" -- dv w2 check

px_stop
srv_stop
finish
