#!/bin/sh
# tests/demo.sh - make demo: a link worker's day with linkbook, from nothing.
#
# 1. Installs what the build needs if it is missing (Debian 12, as root:
#    apt-get update once, then apt-get install -y of the missing packages;
#    not root: says what to install and stops).
# 2. Builds with make.
# 3. Walks through a day in a temporary store (removed at the end): a new
#    store, a person registered, a GP referral, a home visit with a note,
#    signposting and a follow-up that is already overdue, a goal, an ONS4
#    baseline, the overdue list and the person's record.  Each step prints
#    a heading, the command, then what linkbook prints.
# 4. The team: linkbookd on loopback, a supervisor and the link worker
#    enrol, the worker records offline while the server is down, the server
#    comes back, sync, and the supervisor's device shows the new records;
#    the server's files hold no name.
#
# POSIX sh.  Run from anywhere: sh tests/demo.sh
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

PACKAGES="build-essential pkg-config libsqlite3-dev libsodium-dev libjansson-dev libcmocka-dev sqlite3
libcurl4-openssl-dev libmicrohttpd-dev"

say() {
    printf '%s\n' "$*"
}

# --- 1. what the build needs --------------------------------------------------
missing_packages() {
    _m=""
    if command -v dpkg >/dev/null 2>&1; then
        for p in $PACKAGES; do
            dpkg -s "$p" >/dev/null 2>&1 || _m="$_m $p"
        done
    else
        # Not Debian: judge by the tools and pkg-config alone.
        command -v cc >/dev/null 2>&1 || _m="$_m build-essential"
        command -v make >/dev/null 2>&1 || _m="$_m build-essential"
        command -v pkg-config >/dev/null 2>&1 || _m="$_m pkg-config"
    fi
    if command -v pkg-config >/dev/null 2>&1; then
        pkg-config --exists sqlite3 || _m="$_m libsqlite3-dev"
        pkg-config --exists libsodium || _m="$_m libsodium-dev"
        pkg-config --exists jansson || _m="$_m libjansson-dev"
        pkg-config --exists libcurl || _m="$_m libcurl4-openssl-dev"
        pkg-config --exists libmicrohttpd || _m="$_m libmicrohttpd-dev"
    fi
    # One name once each, in a stable order.
    printf '%s\n' $_m | sort -u | tr '\n' ' ' | sed 's/ *$//'
}

need=$(missing_packages)
if [ -n "$need" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "linkbook demo: these packages are missing: $need"
        say "Install them as root, then run 'make demo' again:"
        say "  apt-get update && apt-get install -y $need"
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "linkbook demo: missing $need, and there is no apt-get here; install the"
        say "equivalents of those Debian packages and run 'make demo' again."
        exit 1
    fi
    say "== Installing what the build needs: $need"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need
    say
fi

# --- 2. build -------------------------------------------------------------------
say "== Building linkbook (make)"
make -s
LB="$ROOT/build/linkbook"
LBD="$ROOT/build/linkbookd"
if [ ! -x "$LB" ] || [ ! -x "$LBD" ]; then
    say "linkbook demo: make did not produce $LB"
    exit 1
fi
say

# --- 3. a day ---------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/linkbook-demo.XXXXXX")
SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP
LINKBOOK_STORE="$WORK/store"
LINKBOOK_PASSPHRASE="demo passphrase - never use a fixed one for real records"
export LINKBOOK_STORE LINKBOOK_PASSPHRASE
# Dates relative to today, so the follow-up is overdue whenever this runs.
day() {
    date -u -d "$1" +%Y-%m-%d
}
REFERRED=$(day '12 days ago')
VISITED=$(day '5 days ago')
FOLLOW_UP=$(day '2 days ago')
TARGET=$(day '+3 months')

# The command as the user would type it.
show_cmd() {
    printf '$ linkbook'
    for a in "$@"; do
        case $a in
            *[!A-Za-z0-9_.,:/@=+-]*|'') printf " '%s'" "$a" ;;
            *) printf ' %s' "$a" ;;
        esac
    done
    printf '\n'
}

# step HEADING: a heading before each step.
step() {
    printf '\n--- %s\n' "$*"
}

# run ARGS...: print the command, run it, print what it printed.
run() {
    show_cmd "$@"
    "$LB" "$@"
}

# new VAR ARGS...: like run, and keep the id printed on the last line in VAR.
new() {
    _var=$1
    shift
    show_cmd "$@"
    _out=$("$LB" "$@")
    printf '%s\n' "$_out"
    eval "$_var=\$(printf '%s\n' \"\$_out\" | tail -n 1)"
}

say "== A day of a link worker, in a temporary store"
say "The store is $LINKBOOK_STORE (removed at the end)."
say "LINKBOOK_PASSPHRASE is set for this demo so that no passphrase is asked;"
say "at a terminal, linkbook asks for it instead."

step "Morning: create the encrypted store on the laptop"
run init --name "Priya Shah" --role link-worker --caseload north-leeds

step "A GP referral arrives: register the person (prints the new id)"
new P person add --given Margaret --family Okafor --nhs "943 476 5919" --dob 1948-03-12 \
    --postcode "LS6 2AB" --phone "0113 496 0000" --consent record,share-team

step "Record the referral: from the GP, for isolation and a long-term condition"
run referral add "$P" --source gp --reason isolation,long-term-condition --date "$REFERRED"

step "The home visit: 50 minutes, with a note, signposting and a follow-up"
run contact add "$P" --mode home --minutes 50 --category psychosocial,signposting \
    --date "$VISITED" \
    --note "Margaret has lived alone since her husband died in the spring. She rarely goes out because of her knee and misses company. We talked about what matters to her: getting out of the house and meeting people. She is interested in the Tuesday walking group at St Chad's if someone goes with her the first time." \
    --signpost "Tuesday walking group (St Chad's),Age UK befriending" \
    --follow-up "$FOLLOW_UP"

step "What matters to Margaret: agree a goal"
new G goal add "$P" "Join the Tuesday walking group" --domain "physical activity" \
    --target "$TARGET"

step "ONS4 personal wellbeing at baseline (satisfied, worthwhile, happy, anxious; 0-10)"
run measure add "$P" ons4 --answers 4,6,3,7 --when baseline

step "End of the day: which follow-ups are overdue?"
run tasks --overdue

step "Margaret's whole record, as a timeline (by NHS number; any unique id prefix works too)"
run show 9434765919

step "On disk everything personal is ciphertext: search the store for her name and NHS number"
say "$ grep -rl -e Okafor -e 9434765919 \"\$LINKBOOK_STORE\""
if grep -rl -e Okafor -e 9434765919 "$LINKBOOK_STORE"; then
    say "linkbook demo: plaintext found in the store - this is a bug, please report it"
    exit 1
fi
say "(nothing found)"

# --- 4. the team ------------------------------------------------------------------
say
say "== The team: sync through linkbookd on this machine (127.0.0.1)"

# start_server LISTEN: run linkbookd in the background; PORT is where it listens.
start_server() {
    : >"$WORK/server.out"
    "$LBD" serve --data "$WORK/server" --listen "$1" >"$WORK/server.out" 2>>"$WORK/server.log" &
    SERVER_PID=$!
    _i=0
    while ! grep -q '^listening on' "$WORK/server.out"; do
        _i=$((_i + 1))
        if [ $_i -gt 100 ]; then
            say "linkbook demo: linkbookd did not start; its log:"
            cat "$WORK/server.log"
            exit 1
        fi
        sleep 0.1
    done
    PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/server.out")
}

step "The service manager creates the team on the server (prints the supervisor's code)"
say "$ linkbookd admin team-create \"North Leeds PCN\" --data \"\$WORK/server\""
SUPCODE=$("$LBD" admin team-create "North Leeds PCN" --data "$WORK/server" --name "Sam Okoro" | tail -n 1)
say "$SUPCODE"
start_server 127.0.0.1:0
URL="http://127.0.0.1:$PORT"
say "(linkbookd serve is listening on $URL)"

WORKER_STORE=$LINKBOOK_STORE
LINKBOOK_STORE="$WORK/supervisor"
step "The supervisor makes a store on their own laptop and enrols it"
run init --name "Sam Okoro" --role supervisor
run enrol "$URL" "$SUPCODE"

step "The supervisor invites Priya (prints her one-time code)"
new CODE team invite --role link-worker --name "Priya Shah"

LINKBOOK_STORE=$WORKER_STORE
step "Priya enrols the laptop she recorded on today: Margaret moves to her caseload"
run enrol "$URL" "$CODE"

LINKBOOK_STORE="$WORK/supervisor"
step "The supervisor syncs: the team key is sealed to Priya's device"
run sync

LINKBOOK_STORE=$WORKER_STORE
step "Priya syncs: her day goes up, end-to-end encrypted"
run sync

step "Afternoon, no signal (the server is down): Priya records a phone call"
stop_server
run contact add 9434765919 --mode phone --minutes 15 --category signposting \
    --note "Rang Margaret: her neighbour will walk with her on Tuesday."
show_cmd sync
set +e
"$LB" sync
rc=$?
set -e
say "(exit $rc: offline, the work is kept)"

step "The signal is back: the server is up again and Priya syncs"
start_server "127.0.0.1:$PORT"
run sync

LINKBOOK_STORE="$WORK/supervisor"
step "The supervisor syncs and reads Margaret's record on their own device"
run sync
run show 9434765919

step "The server never saw a name or a note: search its files"
say "$ grep -rl -e Okafor -e 9434765919 -e neighbour \"\$WORK/server\""
if grep -rl -e Okafor -e 9434765919 -e neighbour "$WORK/server"; then
    say "linkbook demo: plaintext found on the server - this is a bug, please report it"
    exit 1
fi
say "(nothing found)"
stop_server

step "Done"
say "The temporary stores and the server's data are removed now. 'linkbook help'"
say "lists every command; README.md is the guide."
