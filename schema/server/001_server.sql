-- 001_server.sql - linkbookd's SQLite store: teams, users, devices, sealed
-- team keys, and the opaque envelopes filed under caseloads.  The server
-- never holds a key that opens an envelope; everything here is routing.

-- Settings: 'epoch' (random, made with the database).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE teams (
    id TEXT PRIMARY KEY,              -- 32 hex
    name TEXT NOT NULL,
    current_key INTEGER NOT NULL DEFAULT 0,  -- 0 until a supervisor makes key 1
    created INTEGER NOT NULL          -- unix ms
) WITHOUT ROWID;

-- A user's caseload id is the user id.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_team ON users(team);

-- One-time enrolment codes, kept as BLAKE2b-256 of the normalised code.
CREATE TABLE enrol_codes (
    hash BLOB PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(id),
    created INTEGER NOT NULL,
    used INTEGER                      -- unix ms when consumed, NULL until then
) WITHOUT ROWID;

-- Devices; the token is kept as its BLAKE2b-256 hash only.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(id),
    token_hash BLOB NOT NULL UNIQUE,
    device_key BLOB NOT NULL,         -- X25519 public key
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    revoked INTEGER                   -- unix ms, NULL while valid
) WITHOUT ROWID;
CREATE INDEX devices_user ON devices(user);

-- Team keys sealed to one device each (crypto_box_seal); relayed only.
CREATE TABLE sealed_keys (
    device TEXT NOT NULL REFERENCES devices(id),
    key_id INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    PRIMARY KEY (device, key_id)
) WITHOUT ROWID;

-- Envelopes, one row per change id within a team.
CREATE TABLE envelopes (
    n INTEGER PRIMARY KEY,
    team TEXT NOT NULL,
    id TEXT NOT NULL,
    person TEXT NOT NULL,
    key_id INTEGER NOT NULL,
    body BLOB NOT NULL,
    assign_caseload TEXT,             -- assignment changes only
    assign_active INTEGER,
    device TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (team, id)
);
CREATE INDEX envelopes_person ON envelopes(team, person);

-- Which caseloads each person is on (from the assignment facts).
CREATE TABLE assignments (
    team TEXT NOT NULL,
    person TEXT NOT NULL,
    caseload TEXT NOT NULL,
    active INTEGER NOT NULL,
    PRIMARY KEY (team, person, caseload)
) WITHOUT ROWID;

-- Per-caseload head: the last sequence number handed out, updated in the
-- same transaction as the rows it numbers.
CREATE TABLE caseloads (
    team TEXT NOT NULL,
    caseload TEXT NOT NULL,
    head INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team, caseload)
) WITHOUT ROWID;
CREATE INDEX caseloads_caseload ON caseloads(caseload);

-- An envelope filed under a caseload at a sequence number.
CREATE TABLE filed (
    team TEXT NOT NULL,
    caseload TEXT NOT NULL,
    seq INTEGER NOT NULL,
    envelope INTEGER NOT NULL REFERENCES envelopes(n),
    PRIMARY KEY (team, caseload, seq),
    UNIQUE (team, caseload, envelope)
) WITHOUT ROWID;
CREATE INDEX filed_envelope ON filed(envelope);
