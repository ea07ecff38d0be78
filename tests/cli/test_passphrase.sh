#!/bin/sh
# test_passphrase.sh - the passphrase guards the store: a wrong one is exit 3
# and changes nothing; passwd rewraps the data key (records' ciphertext is
# untouched) and the old passphrase stops working; no store is exit 4; init
# never overwrites a store.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

OLD='old passphrase, long enough'
NEW='new passphrase: quite different'
WRONG='not the passphrase'
export LINKBOOK_PASSPHRASE="$OLD"

# records_cipher: every record's and change's ciphertext, by id.
records_cipher() {
    sql "SELECT id, hex(body) FROM records ORDER BY id;" | sha256sum | cut -c1-64
}
changes_cipher() {
    sql "SELECT id, hex(body) FROM changes ORDER BY id;" | sha256sum | cut -c1-64
}
meta_dump() {
    sql "SELECT key, hex(value) FROM meta ORDER BY key;"
}

expect_exit 0 "init" -- lb init
expect_exit 0 "person add" -- lb person add --given Pass --family Phrase --nhs 9434765919
expect_id "person id"
P=$id
expect_exit 0 "note add" -- lb note add "$P" "Keep this note readable after passwd"
expect_exit 0 "goal add" -- lb goal add "$P" "Goal that survives passwd"
expect_exit 0 "contact add" -- lb contact add "$P" --mode video --minutes 20 --category mental-health --note "Contact note survives"
expect_exit 0 "second person" -- lb person add --given Second --family Person
expect_id "second person id"
Q=$id

# --- wrong passphrase --------------------------------------------------------------
before=$(store_digest)
for cmd in "show $P" "person list" "note add $P should-not-be-written" "passwd"; do
    # shellcheck disable=SC2086
    expect_exit 3 "wrong passphrase: $(printf '%s' "$cmd" | cut -c1-20): exit 3" -- \
        lbenv LINKBOOK_PASSPHRASE="$WRONG" LINKBOOK_NEW_PASSPHRASE="$NEW" -- $cmd
    expect_stderr_has "passphrase" "wrong passphrase: $(printf '%s' "$cmd" | cut -c1-20): message mentions the passphrase"
    expect_stderr_has "wrong|incorrect|does not match|not match" "wrong passphrase: $(printf '%s' "$cmd" | cut -c1-20): message says it is wrong"
    expect_stdout_lacks "Phrase" "wrong passphrase: $(printf '%s' "$cmd" | cut -c1-20): prints no record"
done
expect_unchanged "wrong passphrase: nothing written" "$before"
expect_exit "fail" "empty passphrase refused" -- lbenv LINKBOOK_PASSPHRASE= -- show "$P"
expect_stdout_lacks "Phrase" "empty passphrase: prints no record"
expect_unchanged "empty passphrase: nothing written" "$before"

# --- passwd rewraps -----------------------------------------------------------------
rc_before=$(records_cipher)
ch_before=$(changes_cipher)
meta_before=$(meta_dump)
expect_exit 0 "passwd old -> new" -- lbenv LINKBOOK_PASSPHRASE="$OLD" LINKBOOK_NEW_PASSPHRASE="$NEW" -- passwd
rc_after=$(records_cipher)
ch_after=$(changes_cipher)
meta_after=$(meta_dump)
if [ "$rc_before" = "$rc_after" ]; then
    ok "passwd leaves every record's ciphertext unchanged (rewrap, not re-encrypt)"
else
    fail "passwd leaves every record's ciphertext unchanged (rewrap, not re-encrypt)" \
        "SELECT id, hex(body) FROM records changed: $rc_before -> $rc_after"
fi
if [ "$ch_before" = "$ch_after" ]; then
    ok "passwd leaves the change log's ciphertext unchanged"
else
    fail "passwd leaves the change log's ciphertext unchanged" "$ch_before -> $ch_after"
fi
if [ "$meta_before" != "$meta_after" ]; then
    ok "passwd rewrote the wrapped key in meta"
else
    fail "passwd rewrote the wrapped key in meta" "meta table identical before and after"
fi

before=$(store_digest)
expect_exit 3 "old passphrase refused after passwd" -- lbenv LINKBOOK_PASSPHRASE="$OLD" -- show "$P"
expect_stderr_has "passphrase" "old passphrase refused: message mentions the passphrase"
expect_unchanged "old passphrase refused: nothing written" "$before"

export LINKBOOK_PASSPHRASE="$NEW"
expect_exit 0 "new passphrase opens the store" -- lb show "$P" --json
cp "$out" "$tmp/show.json"
expect_json "note readable after passwd" "$tmp/show.json" 'has_text(doc, "Keep this note readable after passwd")'
expect_json "goal readable after passwd" "$tmp/show.json" 'has_text(doc, "Goal that survives passwd")'
expect_json "contact note readable after passwd" "$tmp/show.json" 'has_text(doc, "Contact note survives")'
expect_json "NHS number readable after passwd" "$tmp/show.json" 'has_text(doc["person"], "9434765919")'
expect_exit 0 "show by NHS number after passwd (blind index still works)" -- lb show 9434765919 --json
cp "$out" "$tmp/nhs.json"
expect_json "NHS lookup after passwd finds the person" "$tmp/nhs.json" 'doc["person"].get("id") == "'"$P"'"'
expect_exit 0 "person list after passwd" -- lb person list --json
cp "$out" "$tmp/list.json"
expect_json "both people listed after passwd" "$tmp/list.json" \
    'person("'"$P"'").get("family") == "Phrase" and person("'"$Q"'").get("family") == "Person"'
expect_exit 0 "check after passwd: every record decrypts" -- lb check
expect_exit 0 "write after passwd" -- lb note add "$P" "Written with the new passphrase"
expect_exit 0 "passwd back new -> old works" -- lbenv LINKBOOK_PASSPHRASE="$NEW" LINKBOOK_NEW_PASSPHRASE="$OLD" -- passwd
expect_exit 3 "new passphrase refused after changing back" -- lbenv LINKBOOK_PASSPHRASE="$NEW" -- person list
expect_exit 0 "old passphrase works again" -- lbenv LINKBOOK_PASSPHRASE="$OLD" -- show "$P"
expect_stdout_has "Written with the new passphrase" "note written under the new passphrase still readable"
export LINKBOOK_PASSPHRASE="$OLD"

# passwd without a new passphrase (no tty) is refused, nothing changed.
before=$(store_digest)
expect_exit "fail" "passwd with no new passphrase and no tty is refused" -- lb passwd
expect_unchanged "refused passwd: nothing written" "$before"
expect_exit 0 "old passphrase still works after refused passwd" -- lb person list

# --- no store --------------------------------------------------------------------
expect_exit 4 "no store: show exits 4" -- lbenv LINKBOOK_STORE="$tmp/nothere" -- show "$P"
expect_stderr_has "store|init" "no store: message says there is no store"
expect_exit 4 "no store: person list exits 4" -- lbenv LINKBOOK_STORE="$tmp/nothere" -- person list
check "no store: nothing created by reading" test ! -e "$tmp/nothere/store.db"

# --- init twice --------------------------------------------------------------------
before=$(store_digest)
expect_exit "fail" "init on an existing store is refused" -- lb init
expect_stderr_has "exist|already" "init twice: message says a store exists"
expect_exit "fail" "init on an existing store with another passphrase is refused" -- \
    lbenv LINKBOOK_PASSPHRASE="$WRONG" -- init
expect_unchanged "init twice: first store intact" "$before"
expect_exit 0 "init twice: original passphrase still opens it" -- lb show "$P"
expect_stdout_has "Keep this note readable after passwd" "init twice: records still readable"
expect_exit 3 "init twice: the second passphrase does not open it" -- lbenv LINKBOOK_PASSPHRASE="$WRONG" -- person list

finish
