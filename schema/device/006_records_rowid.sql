-- 006_records_rowid.sql - records kept in insertion order.
-- A new record row is appended (rowid seq) and only the small id index
-- takes the random ids, so a batch of writes dirties far fewer pages than
-- rows spread over a b-tree keyed by id: the write-ahead log writes and
-- syncs less for every transaction.  The person index carries the id, so
-- a timeline still comes in (created, id) order without a sort.  Same
-- columns, same meaning; rebuildable from changes as before.
CREATE TABLE records_new (
    seq     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    kind    TEXT NOT NULL,
    person  TEXT NOT NULL,
    created INTEGER NOT NULL,
    change  INTEGER,
    body    BLOB,
    CHECK ((change IS NULL) <> (body IS NULL))
);
INSERT INTO records_new(id, kind, person, created, change, body)
    SELECT id, kind, person, created, change, body FROM records ORDER BY created, id;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE INDEX records_person ON records(person, created, id);
