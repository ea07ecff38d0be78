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
#
# POSIX sh.  Run from anywhere: sh tests/demo.sh
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

PACKAGES="build-essential pkg-config libsqlite3-dev libsodium-dev libjansson-dev libcmocka-dev sqlite3"

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
if [ ! -x "$LB" ]; then
    say "linkbook demo: make did not produce $LB"
    exit 1
fi
say

# --- 3. a day ---------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/linkbook-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
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

step "Done"
say "The temporary store is removed now. 'linkbook help' lists every command;"
say "README.md is the guide."
