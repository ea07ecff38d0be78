-- 001_accounts.sql - linkbookd's PostgreSQL store, first half: the epoch,
-- teams, users, devices and sealed team keys (002: the envelopes).  The
-- same model as schema/server/ (SQLite); the server never holds a key that
-- opens an envelope; everything here is routing.  Applied by linkbookd in
-- one transaction, under an advisory lock, recorded in schema_migrations.

-- The epoch and the identity of the database it was made in (see
-- sync/lb_srvstore_pg.c, "Epoch"): one row.  A restore from a dump brings
-- this row back beside a different identity, which makes a new epoch.
CREATE TABLE server_epoch (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch text NOT NULL,              -- 32 hex, random
    system_id text NOT NULL,          -- pg_control_system().system_identifier
    timeline bigint NOT NULL,         -- WAL timeline (PITR and failover move it)
    db_oid bigint NOT NULL,           -- the database's oid
    table_oid bigint NOT NULL,        -- this table's oid (a re-created table has another)
    renewed bigint NOT NULL           -- unix ms
);

CREATE TABLE teams (
    id text PRIMARY KEY,              -- 32 hex
    name text NOT NULL,
    current_key bigint NOT NULL DEFAULT 0,  -- 0 until a supervisor makes key 1
    created bigint NOT NULL           -- unix ms
);

-- A user's caseload id is the user id.
CREATE TABLE users (
    id text PRIMARY KEY,
    team text NOT NULL REFERENCES teams(id),
    name text NOT NULL,
    role text NOT NULL,
    created bigint NOT NULL
);
CREATE INDEX users_team ON users(team);

-- One-time enrolment codes, kept as BLAKE2b-256 of the normalised code.
CREATE TABLE enrol_codes (
    hash bytea PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id),
    created bigint NOT NULL,
    used bigint                       -- unix ms when consumed, NULL until then
);

-- Devices; the token is kept as its BLAKE2b-256 hash only.
CREATE TABLE devices (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id),
    token_hash bytea NOT NULL UNIQUE,
    device_key bytea NOT NULL,        -- X25519 public key
    name text NOT NULL,
    created bigint NOT NULL,
    last_seen bigint NOT NULL,
    revoked bigint                    -- unix ms, NULL while valid
);
CREATE INDEX devices_user ON devices(user_id);

-- Team keys sealed to one device each (crypto_box_seal); relayed only.
CREATE TABLE sealed_keys (
    device text NOT NULL REFERENCES devices(id),
    key_id bigint NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (device, key_id)
);

