#!/bin/sh
# test_interactive.sh - 'linkbook' with no arguments on a terminal: an
# interactive session driven through a pseudo-terminal (interactive.py):
# the passphrase asked once, a wrong one refused, commands run, Tab
# completes command names and id prefixes, quoting, help, exit and Ctrl-D,
# the idle lock (LINKBOOK_IDLE_LOCK=1) and the passphrase asked again; and
# without a terminal, the usage as before.
. "$(dirname "$0")/lib.sh"
need python3

expect_exit 0 "init" -- lb init
lb person add --given Zephyrine --family Quillfeather --nhs 9434765919 >"$out" 2>"$err"
P=$(last_id)
lb person add --given Aaron --family Abbott >"$out" 2>"$err"
Q=$(last_id)
[ -n "$P" ] && [ -n "$Q" ] && ok "two people registered" || fail "two people registered"

expect_exit 2 "no arguments and no terminal: usage, exit 2" -- lb
expect_stderr_has "usage: linkbook" "the usage is printed"

python3 "$CLI_DIR/interactive.py" "$LINKBOOK" "$LINKBOOK_PASSPHRASE" "$P" "$Q" >"$tmp/pty.out" 2>&1
st=$?
cat "$tmp/pty.out"
PASSED=$((PASSED + $(grep -c '^ok ' "$tmp/pty.out")))
FAILED=$((FAILED + $(grep -c '^not ok ' "$tmp/pty.out")))
if [ "$st" -ne 0 ] && ! grep -q '^not ok ' "$tmp/pty.out"; then
    fail "the session driver ran to the end" "exit status $st"
fi

# What the sessions did is in the store like any command's work.
expect_exit 0 "show --json after the sessions" -- lb show "$P" --json
expect_json "the quoted note was recorded as one argument" "$out" \
    "[e['text'] for e in entries('note')] == ['Two words, one note']"
expect_exit 0 "audit after the sessions" -- lb audit --person "$P" --json
expect_json "the session's show was audited as a view" "$out" \
    "len([e for e in doc['events'] if e['action'] == 'view']) >= 1"

finish
