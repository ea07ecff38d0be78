#!/bin/sh
# test_plaintext.sh - no plaintext on disk: after recording names, NHS
# numbers, dates of birth, contact details, notes, goals, stories and
# answers, no file in the store directory (database, WAL, shared memory,
# journals, temp files) nor in linkbook's temp directory contains any of them.
. "$(dirname "$0")/lib.sh"
need sqlite3 strings

# SQLite and anything else linkbook spills goes here, so it is searched too.
export TMPDIR="$tmp/lbtmp" SQLITE_TMPDIR="$tmp/lbtmp"
mkdir -p "$TMPDIR"

GIVEN=Zephyrine
FAMILY=Quillfeather
NHS=9434765919
NHS_SPACED="943 476 5919"
DOB=1957-03-14
POSTCODE="LS6 4QX"
PHONE="07700 900461"
NOTE="the allotment on Wexcombe Lane"
CONTACT_NOTE="Visited at Marigold Court about the befriending scheme"
SIGNPOST="Larkspur Befriending Service"
AMEND="Correction: it was Fennimore Terrace"
GOAL="Harvest marrows for the Thistlewood show"
REVIEW="Reviewed with Ottoline at the allotment"
STORY="Since the Brackenbury choir I sleep better"
DISCHARGE="Moved away to Cairnbrook"
ANSWERS="9,1,8,2"
BIGWORD=Ravensworthian

# The big note: about 24 KB, so that pages spill over and the WAL grows.
big=$(awk -v w="$BIGWORD" 'BEGIN { for (i = 0; i < 600; i++) printf "%s line %04d of the long note. ", w, i }')

expect_exit 0 "init" -- lb init
expect_exit 0 "person add with every identifying field" -- lb person add --given "$GIVEN" --family "$FAMILY" \
    --nhs "$NHS_SPACED" --dob "$DOB" --postcode "$POSTCODE" --phone "$PHONE"
expect_id "person id"
P=$id
expect_exit 0 "referral add" -- lb referral add "$P" --source self --reason bereavement,isolation
expect_exit 0 "contact add with note and signpost" -- lb contact add "$P" --mode community --minutes 60 \
    --category psychosocial --note "$CONTACT_NOTE" --signpost "$SIGNPOST" --follow-up 2030-05-01
expect_exit 0 "note add" -- lb note add "$P" "$NOTE"
expect_id "note id"
N=$id
expect_exit 0 "note amend" -- lb note amend "$N" "$AMEND"
expect_exit 0 "long note add" -- lb note add "$P" "$big"
expect_exit 0 "goal add" -- lb goal add "$P" "$GOAL" --target 2030-09-01
expect_id "goal id"
G=$id
expect_exit 0 "goal review" -- lb goal review "$G" --score 7 --note "$REVIEW"
expect_exit 0 "measure add ons4" -- lb measure add "$P" ons4 --answers "$ANSWERS"
expect_exit 0 "story add" -- lb story add "$P" "$STORY" --share-anonymised
expect_exit 0 "discharge" -- lb discharge "$P" --reason "$DISCHARGE"

# The same strings must be readable through linkbook, or the search below
# would prove nothing.
expect_exit 0 "show (the data is really there)" -- lb show "$P" --json
for s in "$GIVEN" "$FAMILY" "$NHS" "$NOTE" "$GOAL" "$STORY" "$BIGWORD line 0599"; do
    expect_stdout_has "$s" "show returns '$s'"
done

# scan PHASE: search every file under the store and the temp dir for every
# secret, raw bytes and printable strings (8-bit and UTF-16).
scan() {
    _phase=$1
    _files="$tmp/files"
    find "$LINKBOOK_STORE" "$TMPDIR" "$XDG_DATA_HOME" -type f 2>/dev/null | sort >"$_files"
    _n=$(wc -l <"$_files")
    if [ "$_n" -ge 1 ] && grep -q '/store\.db$' "$_files"; then
        ok "$_phase: found $_n file(s) to search, store.db among them"
    else
        fail "$_phase: found file(s) to search, store.db among them" "$(cat "$_files")"
    fi
    for secret in "$GIVEN" "$FAMILY" "$NHS" "$NHS_SPACED" "$DOB" "$POSTCODE" "$PHONE" \
        "07700900461" "$NOTE" "Wexcombe" "$CONTACT_NOTE" "Marigold Court" "$SIGNPOST" \
        "$AMEND" "Fennimore" "$GOAL" "Thistlewood" "$REVIEW" "Ottoline" "$STORY" \
        "Brackenbury" "$DISCHARGE" "Cairnbrook" "$BIGWORD" "$ANSWERS" "9, 1, 8, 2"; do
        _hits=""
        while IFS= read -r f; do
            if grep -q -a -i -F -- "$secret" "$f" ||
                strings -a "$f" | grep -q -i -F -- "$secret" ||
                strings -a -e l "$f" | grep -q -i -F -- "$secret"; then
                _hits="$_hits ${f#"$tmp"/}"
            fi
        done <"$_files"
        if [ -z "$_hits" ]; then
            ok "$_phase: '$secret' is in no file"
        else
            fail "$_phase: '$secret' is in no file" "found in:$_hits"
        fi
    done
}

scan "after writes"

expect_exit 0 "person list" -- lb person list
expect_exit 0 "tasks" -- lb tasks
expect_exit 0 "show by NHS number" -- lb show "$NHS"
scan "after reads"

expect_exit 0 "check" -- lb check
scan "after check"

# While another connection holds the database open, SQLite neither
# checkpoints nor deletes the WAL when linkbook closes, so the WAL keeps
# every page linkbook wrote.  If linkbook refuses to share the store (an
# exclusive lock is a fair choice), the phase is skipped, not failed.
holder_fifo="$tmp/holder.fifo"
mkfifo "$holder_fifo"
sqlite3 "$LINKBOOK_STORE/store.db" <"$holder_fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$holder_fifo"
echo "SELECT count(*) FROM meta;" >&3
sleep 0.3
run lb note add "$P" "Second visit to $NOTE with $GIVEN"
if [ "$rc" -eq 0 ]; then
    run lb goal add "$P" "$GOAL again"
    if [ -e "$LINKBOOK_STORE/store.db-wal" ] && [ -s "$LINKBOOK_STORE/store.db-wal" ]; then
        ok "with another reader open, the WAL is kept for inspection"
    else
        echo "# note: no WAL file kept while another connection was open"
    fi
    scan "WAL kept by another reader"
else
    echo "# skipped the held-open phase: linkbook refused while another connection was open (exit $rc)"
fi
exec 3>&-
wait "$holder" 2>/dev/null

finish
