-- 005_team.sql - the team roster as this device last received it with a
-- supervisor's pull (core/lb_team.c): every enrolled device of the team, so
-- that review can name each caseload's worker and say when each device last
-- synced, offline.  Clear: ids, caseload, role, times (as the rest of the
-- sync facts).  Sealed under the data key, bound to the device id: the
-- worker's name and the device's name.
CREATE TABLE team_roster (
    device    TEXT PRIMARY KEY,
    user      TEXT NOT NULL,
    caseload  TEXT NOT NULL,
    role      TEXT NOT NULL,
    created   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    revoked   INTEGER NOT NULL,
    fetched   INTEGER NOT NULL,
    names     BLOB NOT NULL
) WITHOUT ROWID;
