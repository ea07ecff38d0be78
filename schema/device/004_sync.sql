-- 003_sync.sql - the device side of sync (core/lb_sync.c).
-- Clear: the server's URL, ids it gave (device, team, user), role, caseload
-- names, the server epoch, sequence numbers.  Sealed under the data key:
-- the device token, the device's X25519 secret key, team keys, and names of
-- people (the worker's name, the team's name).

-- Enrolment facts and device key pair: key -> value (sealed values are
-- nonce || ciphertext bound to their key name, see lb_sync.c).
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- Team keys held by this device, each sealed under the data key with an
-- associated data naming its id.
CREATE TABLE team_keys (
    key_id INTEGER PRIMARY KEY,
    sealed BLOB NOT NULL
);

-- Pull cursors: the last sequence number applied, per caseload.  Saved in
-- the same transaction as the changes they cover.
CREATE TABLE cursors (
    caseload TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL
) WITHOUT ROWID;

-- Envelopes a pull brought that were not applied, and why (tampered,
-- malformed, sealed with a team key not held yet).  No content.
CREATE TABLE rejected (
    id     TEXT NOT NULL,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (id, reason)
) WITHOUT ROWID;

-- The outbox: changes not yet acknowledged by the server.  Written locally:
-- 0; applied from a pull or acknowledged by a push: 1.
ALTER TABLE changes ADD COLUMN pushed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX changes_outbox ON changes(seq) WHERE pushed = 0;
