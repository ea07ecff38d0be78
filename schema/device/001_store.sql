-- 001_store.sql - the device store.
-- Nothing personal is stored in clear: every body is XChaCha20-Poly1305
-- ciphertext bound to its row (see core/lb_crypto.h).  What is clear:
-- random ids, record kinds, HLC stamps, the writer's caseload name.

-- Store settings: KDF parameters, wrapped data key, device identity.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- The change log: every mutation, sealed.  The source of truth.
CREATE TABLE changes (
    seq      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    record   TEXT NOT NULL,
    person   TEXT NOT NULL,
    caseload TEXT NOT NULL,
    hlc      INTEGER NOT NULL,
    device   TEXT NOT NULL,
    schema   INTEGER NOT NULL,
    body     BLOB NOT NULL
);

-- Materialised records: the current state of each record.  A record that
-- one change made points at that change (its sealed body is the record's
-- state), so the row stays small; once a second change touches it, the
-- merged state is sealed here with the stamp of every field inside the
-- ciphertext.  Rebuildable from changes.
CREATE TABLE records (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    person  TEXT NOT NULL,
    created INTEGER NOT NULL,
    change  INTEGER,
    body    BLOB,
    CHECK ((change IS NULL) <> (body IS NULL))
) WITHOUT ROWID;
CREATE INDEX records_person ON records(person, created);

-- Keyed blind index of NHS numbers (BLAKE2b under a derived key).
CREATE TABLE nhs_index (
    blind  BLOB PRIMARY KEY,
    person TEXT NOT NULL
) WITHOUT ROWID;
