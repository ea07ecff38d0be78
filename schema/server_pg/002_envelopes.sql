-- 002_envelopes.sql - linkbookd's PostgreSQL store, second half: the opaque
-- envelopes filed under caseloads, with a per-caseload sequence.

-- Envelopes, one row per change id within a team.
CREATE TABLE envelopes (
    n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team text NOT NULL,
    id text NOT NULL,
    person text NOT NULL,
    key_id bigint NOT NULL,
    body bytea NOT NULL,
    assign_caseload text,             -- assignment changes only
    assign_active boolean,
    device text NOT NULL,
    created bigint NOT NULL,
    UNIQUE (team, id)
);
CREATE INDEX envelopes_person ON envelopes(team, person, n);

-- Which caseloads each person is on (from the assignment facts).
CREATE TABLE assignments (
    team text NOT NULL,
    person text NOT NULL,
    caseload text NOT NULL,
    active boolean NOT NULL,
    PRIMARY KEY (team, person, caseload)
);

-- Per-caseload head: the last sequence number handed out.  Filing takes
-- the next number with an UPDATE of this row inside the push transaction,
-- so the row stays locked until that transaction commits: numbers of one
-- caseload are handed out, and become visible, in order (no gaps a pull
-- could skip; see sync/lb_srvpg_sync.c).
CREATE TABLE caseloads (
    team text NOT NULL,
    caseload text NOT NULL,
    head bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (team, caseload)
);
CREATE INDEX caseloads_caseload ON caseloads(caseload);

-- An envelope filed under a caseload at a sequence number.
CREATE TABLE filed (
    team text NOT NULL,
    caseload text NOT NULL,
    seq bigint NOT NULL,
    envelope bigint NOT NULL REFERENCES envelopes(n),
    PRIMARY KEY (team, caseload, seq),
    UNIQUE (team, caseload, envelope)
);
CREATE INDEX filed_envelope ON filed(envelope);
