-- 003_conflicts.sql - concurrent edits kept for a person to settle.
-- Two values of one field whose writers did not see each other are both
-- kept (sealed: they are record content) until a later change that has seen
-- them sets the field.  Rebuildable from the change log, like records.
CREATE TABLE conflicts (
    id     TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    field  TEXT NOT NULL,
    body   BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX conflicts_record ON conflicts(record);
