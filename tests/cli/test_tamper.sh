#!/bin/sh
# test_tamper.sh - a tampered ciphertext or a damaged store file is reported
# as such (which record, and no crash), never returned as data.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

ALPHA="Alpha note: tamper target"
BRAVO="Bravo note: swap partner"
QNOTE="Quentin's own note"

expect_exit 0 "init" -- lb init
expect_exit 0 "person add" -- lb person add --given Tamper --family Target
expect_id "person id"
P=$id
expect_exit 0 "note 1" -- lb note add "$P" "$ALPHA"
expect_id "note 1 id"
N1=$id
expect_exit 0 "note 2" -- lb note add "$P" "$BRAVO"
expect_id "note 2 id"
N2=$id
expect_exit 0 "other person" -- lb person add --given Quentin --family Other
expect_id "other person id"
Q=$id
expect_exit 0 "other person's note" -- lb note add "$Q" "$QNOTE"
expect_id "other note id"
NQ=$id
expect_exit 0 "check on a healthy store" -- lb check

N1p=$(prefix "$N1" 7)
N2p=$(prefix "$N2" 7)
NQp=$(prefix "$NQ" 7)

# Where a record's sealed state lives: its own body in records, or, when the
# schema lets a record made by one change point at that change instead
# (records.change), the body of that change.
body_sql() { # ID -> "TABLE WHERE-CLAUSE"
    if [ "$(sql "SELECT count(*) FROM pragma_table_info('records') WHERE name = 'change';")" = 1 ] &&
        [ "$(sql "SELECT body IS NULL FROM records WHERE id = '$1';")" = 1 ]; then
        echo "changes WHERE seq = (SELECT change FROM records WHERE id = '$1')"
    else
        echo "records WHERE id = '$1'"
    fi
}
body_hex() { sql "SELECT hex(body) FROM $(body_sql "$1");"; }
set_body() { # ID HEX: write where body_hex read
    _w=$(body_sql "$1")
    sql "UPDATE ${_w%% WHERE*} SET body = X'$2' WHERE ${_w#* WHERE }"
}
# flip_hex HEX: the same bytes with the middle byte XORed with 0x01.
flip_hex() {
    python3 -c 'import sys
h = bytearray(bytes.fromhex(sys.argv[1])); i = len(h) // 2; h[i] ^= 1
print(h.hex().upper())' "$1"
}

# refused_naming NAME PATTERN -- CMD...: exits 1..127 (refused, not crashed)
# and stdout+stderr match PATTERN (the record named).
refused_naming() {
    _rn=$1
    _rp=$2
    shift 2
    [ "${1:-}" = "--" ] && shift
    expect_exit fail "$_rn: refused without a crash" -- "$@"
    if cat "$out" "$err" | grep -qiE -- "$_rp"; then
        ok "$_rn: names the record (/$_rp/)"
    else
        fail "$_rn: names the record (/$_rp/)" "$(_describe)"
    fi
    expect_stderr_has "tamper|authentic|damag|corrupt|integrity|modified" "$_rn: says it was tampered with"
    _exit_is_1 "$_rn"
}

# README.md: exit 1 is "a damaged or tampered store".
_exit_is_1() {
    if [ "$rc" -eq 1 ]; then
        ok "$1: exit 1 (README: damaged or tampered store)"
    else
        fail "$1: exit 1 (README: damaged or tampered store)" "$(_describe)"
    fi
}

# --- one flipped byte in a note's body -------------------------------------------
orig1=$(body_hex "$N1")
orig2=$(body_hex "$N2")
origq=$(body_hex "$NQ")
if [ -n "$orig1" ] && [ -n "$orig2" ]; then ok "set-up: read the notes' ciphertext"; else fail "set-up: read the notes' ciphertext" "no rows for $N1 / $N2"; fi
set_body "$N1" "$(flip_hex "$orig1")"
refused_naming "flipped byte: show" "$N1p" -- lb show "$P"
expect_stdout_lacks "$ALPHA" "flipped byte: show does not print the tampered note"
refused_naming "flipped byte: show --json" "$N1p" -- lb show "$P" --json
expect_stdout_lacks "$ALPHA" "flipped byte: show --json does not print the tampered note"
refused_naming "flipped byte: check" "$N1p" -- lb check
set_body "$N1" "$orig1"
expect_exit 0 "restored byte: check passes again" -- lb check
expect_exit 0 "restored byte: show works again" -- lb show "$P"
expect_stdout_has "$ALPHA" "restored byte: the note reads back"

# --- two bodies of the same person swapped ------------------------------------------
set_body "$N1" "$orig2"
set_body "$N2" "$orig1"
refused_naming "swapped bodies: show" "$N1p|$N2p" -- lb show "$P"
expect_stdout_lacks "$ALPHA" "swapped bodies: show prints neither note as valid (alpha)"
expect_stdout_lacks "$BRAVO" "swapped bodies: show prints neither note as valid (bravo)"
refused_naming "swapped bodies: check" "$N1p|$N2p" -- lb check
set_body "$N1" "$orig1"
set_body "$N2" "$orig2"

# --- a body moved to another person's record ----------------------------------------
set_body "$NQ" "$orig1"
refused_naming "body moved across people: show other person" "$NQp" -- lb show "$Q"
expect_stdout_lacks "$ALPHA" "body moved across people: the moved note is not shown as Quentin's"
set_body "$NQ" "$origq"
expect_exit 0 "all restored: check passes" -- lb check

# --- the change log tampered with --------------------------------------------------
ch=$(sql "SELECT id FROM changes WHERE record = '$N2' ORDER BY seq LIMIT 1;")
if [ -n "$ch" ]; then
    ok "set-up: found the change that wrote note 2"
    chorig=$(sql "SELECT hex(body) FROM changes WHERE id = '$ch';")
    sql "UPDATE changes SET body = X'$(flip_hex "$chorig")' WHERE id = '$ch';"
    refused_naming "tampered change: check" "$(prefix "$ch" 7)|$N2p" -- lb check
    sql "UPDATE changes SET body = X'$chorig' WHERE id = '$ch';"
    expect_exit 0 "change restored: check passes" -- lb check
else
    fail "set-up: found the change that wrote note 2" "no row in changes with record = $N2"
fi

# --- the person record itself -------------------------------------------------------
origp=$(body_hex "$P")
set_body "$P" "$(flip_hex "$origp")"
refused_naming "tampered person: show" "$(prefix "$P" 7)" -- lb show "$P"
set_body "$P" "$origp"

# --- damaged files ----------------------------------------------------------------
# fresh_store DIR: a store with enough records for several pages; sets $P2.
fresh_store() {
    LINKBOOK_STORE=$1
    export LINKBOOK_STORE
    lb init >/dev/null 2>&1
    P2=$(lb person add --given Damage --family Subject 2>/dev/null | tail -n 1)
    i=0
    while [ $i -lt 6 ]; do
        lb note add "$P2" "note $i $(awk 'BEGIN { for (j = 0; j < 120; j++) printf "padding%03d ", j }')" >/dev/null 2>&1
        i=$((i + 1))
    done
    sqlite3 "$LINKBOOK_STORE/store.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
}

# damaged NAME: every command is refused without a crash, saying damage.
damaged() {
    for c in "show $P2" "person list" "check" "note add $P2 written-to-a-damaged-store"; do
        # shellcheck disable=SC2086
        expect_exit fail "$1: '$(printf '%s' "$c" | cut -c1-12)' refused without a crash" -- lb $c
        expect_stderr_has "corrupt|damag" "$1: '$(printf '%s' "$c" | cut -c1-12)' says the store is damaged"
        _exit_is_1 "$1: '$(printf '%s' "$c" | cut -c1-12)'"
    done
    # A damaged store is still a store: init must not replace it.
    _sum=$(sha256sum <"$LINKBOOK_STORE/store.db")
    expect_exit fail "$1: init refuses to replace the damaged store" -- lb init
    if [ "$(sha256sum <"$LINKBOOK_STORE/store.db")" = "$_sum" ]; then
        ok "$1: store.db left byte for byte as it was"
    else
        fail "$1: store.db left byte for byte as it was" "store.db changed after the commands above"
    fi
}

fresh_store "$tmp/store-pages"
pagesize=$(sqlite3 "$LINKBOOK_STORE/store.db" 'PRAGMA page_size;')
pages=$(sqlite3 "$LINKBOOK_STORE/store.db" 'PRAGMA page_count;')
if [ -n "$P2" ] && [ "${pages:-0}" -ge 4 ]; then
    ok "set-up: damage store has $pages pages of $pagesize bytes"
    # Deterministic junk (first byte 0x07: not a b-tree page type).
    python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.buffer.write(bytes((i * 131 + 7) % 256 for i in range(n)))' \
        $((2 * pagesize)) >"$tmp/junk"
    dd if="$tmp/junk" of="$LINKBOOK_STORE/store.db" bs="$pagesize" seek=1 count=2 conv=notrunc 2>/dev/null
    damaged "pages 2-3 overwritten"
else
    fail "set-up: damage store has at least 4 pages" "P2=$P2 pages=$pages"
fi

fresh_store "$tmp/store-trunc"
size=$(wc -c <"$LINKBOOK_STORE/store.db")
truncate -s $((size / 2)) "$LINKBOOK_STORE/store.db"
damaged "file truncated to half"

fresh_store "$tmp/store-notdb"
rm -f "$LINKBOOK_STORE/store.db-wal" "$LINKBOOK_STORE/store.db-shm"
printf 'this is not a database, just text\n%.0s' 1 2 3 4 5 6 7 8 >"$LINKBOOK_STORE/store.db"
for c in "show $P2" "person list"; do
    # shellcheck disable=SC2086
    expect_exit fail "not a database: '$c' refused without a crash" -- lb $c
    expect_stderr_has "corrupt|damag|not a linkbook|not a database" "not a database: '$(printf '%s' "$c" | cut -c1-12)' says what is wrong"
    _exit_is_1 "not a database: '$(printf '%s' "$c" | cut -c1-12)'"
done

finish
