/* lb_srvstore_pg.c - the PostgreSQL backend of lb_srvstore: any number of
 * linkbookd processes on one database, each with a pool of libpq
 * connections (lb_srvpg.h).  This file opens the store (migrations from
 * schema/server_pg/, applied under an advisory lock so that processes
 * starting together do not race), keeps the epoch, accounts and keys; push
 * and pull are in lb_srvpg_sync.c.
 *
 * Nothing is cached between requests but the epoch: a token, a revocation
 * or a new team key written through one process is seen by every process
 * with the next request, because each request reads the database.
 *
 * Epoch.  The epoch is a row of the database (server_epoch) beside the
 * identity of the database it was made in:
 *   - system_id: pg_control_system().system_identifier, made by initdb: a
 *     dump restored into another cluster sees another one;
 *   - db_oid: the database's oid: a dump restored into a new database
 *     (even of the same cluster, even under the same name) sees another;
 *   - table_oid: server_epoch's own oid: a restore with --clean into the
 *     same database re-creates the table, under another oid;
 *   - timeline: the WAL timeline: point-in-time recovery and the promotion
 *     of a standby (a failover, which may lose the last commits of an
 *     asynchronous primary) start a new one.
 * pg_dump brings back the row but none of these, so a restored row
 * disagrees with where it now lives.  Every new connection (and every pooled
 * one every CHECK_EVERY_S seconds) compares them; on any difference a new
 * random epoch is written, with the identity, by an UPDATE whose WHERE
 * repeats the comparison, so that of several processes noticing at once
 * exactly one renews (the others wait on the row lock, then find it
 * current).  The server asks for the epoch with every answer (a copy kept
 * here, updated by each check), so a restore is announced by every process
 * from its first request on the restored database.  A spurious new epoch
 * (a major-version upgrade with pg_upgrade, a failover that lost nothing)
 * costs one re-push of every device's log; a missed one would lose data.
 * Not detected: rows put back with a data-only restore into the same,
 * live tables; run 'linkbookd admin new-epoch' after such a restore.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_srvcode.h"
#include "lb_srvpg.h"

#define DEFAULT_POOL 8
#define MAX_POOL LB_SRVPOOL_MAX
#define MIGRATION_LOCK "7265316331"   /* pg_advisory_lock key: linkbookd migrations */

/* ---- migrations ---------------------------------------------------------- */

static const char SQL_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
    "name text NOT NULL, applied bigint NOT NULL)";
static const char SQL_MIGRATIONS_LATEST[] =
    "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations";
static const char SQL_MIGRATION_DONE[] =
    "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)";

#define IDENTITY "(SELECT (SELECT system_identifier::text FROM pg_control_system()) AS sid, " \
    "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int::bigint AS tl, " \
    "(SELECT oid::bigint FROM pg_database WHERE datname = current_database()) AS db, " \
    "'server_epoch'::regclass::oid::bigint AS tb) i"
static const char SQL_EPOCH_FIRST[] =
    "INSERT INTO server_epoch (one, epoch, system_id, timeline, db_oid, table_oid, renewed) "
    "SELECT true, $1, i.sid, i.tl, i.db, i.tb, $2 FROM " IDENTITY " ON CONFLICT DO NOTHING";

static lb_err migration_apply(lb_srvpg *s, lb_srvpg_conn *c, const lb_migration *m)
{
    char epoch[LB_SRV_ID_LEN + 1];
    lb_srvpg_args a = { 0 };
    lb_err err = lb_srvpg_cmd(s, c, "BEGIN", "upgrading the database");
    if (!err)
        err = lb_srvpg_cmd(s, c, m->sql, m->name);
    lb_srvpg_int(&a, m->version);
    lb_srvpg_text(&a, m->name);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    if (!err)
        err = lb_srvpg_do(s, c, SQL_MIGRATION_DONE, &a, "upgrading the database");
    if (!err && m->version == 1) {
        memset(&a, 0, sizeof a);
        lb_srvcode_id(epoch);
        lb_srvpg_text(&a, epoch);
        lb_srvpg_int(&a, lb_srvpg_now_ms());
        err = lb_srvpg_do(s, c, SQL_EPOCH_FIRST, &a, "making the epoch");
    }
    if (!err)
        err = lb_srvpg_cmd(s, c, "COMMIT", "upgrading the database");
    return err;
}

/* Apply the migrations the database lacks, each in its own transaction,
 * holding an advisory lock (other processes starting now wait). */
static lb_err migrate(lb_srvpg *s, lb_srvpg_conn *c)
{
    const lb_migration *m;
    PGresult *r = NULL;
    int64_t cur = 0;
    int latest = 0;
    lb_err err = lb_srvpg_cmd(s, c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")",
                              "locking the schema");
    if (err)
        return err;
    err = lb_srvpg_cmd(s, c, SQL_MIGRATIONS_TABLE, "reading the schema version");
    if (!err)
        err = lb_srvpg_run(s, c, SQL_MIGRATIONS_LATEST, NULL, &r, "reading the schema version");
    if (!err)
        cur = lb_srvpg_col_int(r, 0, 0);
    PQclear(r);
    for (m = lb_schema_server_pg; m->version; m++)
        latest = m->version;
    if (!err && cur > latest) {
        lb_srvpg_msg(s, "opening the database", "it was written by a newer linkbookd");
        err = LB_ERR_VERSION;
    }
    for (m = lb_schema_server_pg; m->version && !err; m++)
        if (m->version > cur)
            err = migration_apply(s, c, m);
    if (c->pg)
        PQclear(PQexec(c->pg, "ROLLBACK")), PQclear(PQexec(c->pg, "SELECT pg_advisory_unlock("
                                                           MIGRATION_LOCK ")"));
    return err;
}

/* ---- the epoch ----------------------------------------------------------- */

static const char SQL_EPOCH_CHECK[] =
    "SELECT e.epoch, e.system_id, e.timeline, e.db_oid, e.table_oid, i.sid, i.tl, i.db, i.tb "
    "FROM server_epoch e, " IDENTITY;
static const char SQL_EPOCH_RENEW[] =
    "UPDATE server_epoch e SET epoch = $1, system_id = i.sid, timeline = i.tl, db_oid = i.db, "
    "table_oid = i.tb, renewed = $2 FROM " IDENTITY " WHERE (e.system_id, e.timeline, "
    "e.db_oid, e.table_oid) IS DISTINCT FROM (i.sid, i.tl, i.db, i.tb) RETURNING e.epoch";
static const char SQL_EPOCH_FORCE[] =
    "UPDATE server_epoch e SET epoch = $1, system_id = i.sid, timeline = i.tl, db_oid = i.db, "
    "table_oid = i.tb, renewed = $2 FROM " IDENTITY " RETURNING e.epoch";
static const char SQL_EPOCH_GET[] = "SELECT epoch FROM server_epoch";

static void logf_pg(lb_srvpg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_pg(lb_srvpg *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!s->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, line);
}

/* Why the row's identity is not the database's (a check row), or NULL. */
static const char *moved_why(const PGresult *r)
{
    if (strcmp(lb_srvpg_col_str(r, 0, 1), lb_srvpg_col_str(r, 0, 5)) != 0)
        return "another cluster: restored from a dump, or a new cluster";
    if (lb_srvpg_col_int(r, 0, 3) != lb_srvpg_col_int(r, 0, 7))
        return "another database: restored from a dump";
    if (lb_srvpg_col_int(r, 0, 4) != lb_srvpg_col_int(r, 0, 8))
        return "its tables were re-created: restored from a dump";
    if (lb_srvpg_col_int(r, 0, 2) != lb_srvpg_col_int(r, 0, 6))
        return "a new timeline: point-in-time recovery or a failover";
    return NULL;
}

static void epoch_keep(lb_srvpg *s, const char *epoch)
{
    pthread_mutex_lock(&s->mu);
    snprintf(s->epoch, sizeof s->epoch, "%s", epoch);
    pthread_mutex_unlock(&s->mu);
}

/* Renew the epoch if the identity moved (see the top of this file). */
static lb_err epoch_check(lb_srvpg *s, lb_srvpg_conn *c)
{
    char fresh[LB_SRV_ID_LEN + 1], old[LB_SRV_ID_LEN + 1];
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL, *u = NULL;
    const char *why;
    lb_err err = lb_srvpg_run(s, c, SQL_EPOCH_CHECK, NULL, &r, "checking the epoch");
    if (!err && PQntuples(r) != 1) {
        lb_srvpg_msg(s, "checking the epoch", "the epoch row is missing");
        err = LB_ERR_CORRUPT;
    }
    if (err || !(why = moved_why(r))) {
        if (!err && lb_proto_is_id(lb_srvpg_col_str(r, 0, 0)))
            epoch_keep(s, lb_srvpg_col_str(r, 0, 0));
        PQclear(r);
        return err;
    }
    snprintf(old, sizeof old, "%s", lb_srvpg_col_str(r, 0, 0));
    PQclear(r);
    lb_srvcode_id(fresh);
    lb_srvpg_text(&a, fresh);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    err = lb_srvpg_run(s, c, SQL_EPOCH_RENEW, &a, &u, "saving a new epoch");
    if (!err && PQntuples(u) == 1)
        logf_pg(s, "database restored or replaced (%s; epoch %.8s): new epoch %.8s; devices "
                "will push again what it lacks", why, old, fresh);
    PQclear(u);
    if (!err)
        err = lb_srvpg_run(s, c, SQL_EPOCH_GET, NULL, &r, "reading the epoch");
    if (!err && PQntuples(r) == 1)
        epoch_keep(s, lb_srvpg_col_str(r, 0, 0));
    PQclear(r);
    return err;
}

static lb_err pg_epoch(lb_srvstore *base, char out[LB_SRV_ID_LEN + 1])
{
    lb_srvpg *s = (lb_srvpg *)base;
    pthread_mutex_lock(&s->mu);
    memcpy(out, s->epoch, sizeof s->epoch);
    pthread_mutex_unlock(&s->mu);
    return out[0] ? LB_OK : LB_ERR_CORRUPT;
}

static lb_err pg_epoch_set(lb_srvstore *base, const char *epoch)
{
    lb_srvpg *s = (lb_srvpg *)base;
    lb_srvpg_conn *c;
    lb_srvpg_args a = { 0 };
    lb_err err;
    if (!lb_proto_is_id(epoch))
        return LB_ERR_INVALID;
    if (!(c = lb_srvpg_get(s)))
        return LB_ERR_BUSY;
    lb_srvpg_text(&a, epoch);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    err = lb_srvpg_do(s, c, SQL_EPOCH_FORCE, &a, "saving a new epoch");
    if (!err)
        epoch_keep(s, epoch);
    lb_srvpg_put(s, c);
    return err;
}

/* A one-row, one-integer query. */
static lb_err one_int(lb_srvpg *s, const char *sql, const lb_srvpg_args *a, int64_t *out,
                      const char *what)
{
    lb_srvpg_conn *c = lb_srvpg_get(s);
    PGresult *r = NULL;
    lb_err err;
    if (!c)
        return LB_ERR_BUSY;
    err = lb_srvpg_run(s, c, sql, a, &r, what);
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_NOTFOUND;
    if (!err)
        *out = lb_srvpg_col_int(r, 0, 0);
    PQclear(r);
    lb_srvpg_put(s, c);
    return err;
}

static const char SQL_HIGH_WATER[] = "SELECT coalesce(max(n), 0) FROM envelopes";
static const char SQL_COUNT[] = "SELECT count(*) FROM envelopes";

static lb_err pg_high_water(lb_srvstore *base, int64_t *n)
{
    return one_int((lb_srvpg *)base, SQL_HIGH_WATER, NULL, n, "reading the highest envelope");
}

static lb_err pg_count_envelopes(lb_srvstore *base, int64_t *n)
{
    return one_int((lb_srvpg *)base, SQL_COUNT, NULL, n, "counting envelopes");
}

/* ---- teams and users ----------------------------------------------------- */

static const char SQL_TEAM_NEW[] =
    "INSERT INTO teams (id, name, current_key, created) VALUES ($1, $2, 0, $3)";
static const char SQL_USER_NEW[] =
    "INSERT INTO users (id, team, name, role, created) VALUES ($1, $2, $3, $4, $5)";
static const char SQL_CODE_NEW[] =
    "INSERT INTO enrol_codes (hash, user_id, created) VALUES ($1, $2, $3)";

/* What a team creation or an invitation makes (outputs after COMMIT). */
typedef struct user_job {
    const char *team_name, *team, *role, *name;
    char new_team[LB_SRV_ID_LEN + 1];
    char user[LB_SRV_ID_LEN + 1];
    char code[LB_SRV_CODE_LEN + 1];
} user_job;

/* A user and its enrolment code, in the caller's transaction. */
static lb_err user_new(lb_srvpg *s, lb_srvpg_conn *c, user_job *j, const char *team)
{
    unsigned char h[LB_SRVCODE_HASH_LEN];
    lb_srvpg_args a = { 0 };
    int64_t now = lb_srvpg_now_ms();
    lb_err err;
    lb_srvcode_id(j->user);
    lb_srvcode_make(j->code);
    lb_srvpg_text(&a, j->user), lb_srvpg_text(&a, team);
    lb_srvpg_text(&a, j->name), lb_srvpg_text(&a, j->role);
    lb_srvpg_int(&a, now);
    if ((err = lb_srvpg_do(s, c, SQL_USER_NEW, &a, "adding a user")) != LB_OK)
        return err;
    lb_srvcode_hash(j->code, h);
    memset(&a, 0, sizeof a);
    lb_srvpg_bytes(&a, h, sizeof h);
    lb_srvpg_text(&a, j->user);
    lb_srvpg_int(&a, now);
    return lb_srvpg_do(s, c, SQL_CODE_NEW, &a, "adding an enrolment code");
}

static lb_err team_job(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    user_job *j = ctx;
    lb_srvpg_args a = { 0 };
    lb_err err;
    lb_srvcode_id(j->new_team);
    lb_srvpg_text(&a, j->new_team), lb_srvpg_text(&a, j->team_name);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    if ((err = lb_srvpg_do(s, c, SQL_TEAM_NEW, &a, "creating a team")) != LB_OK)
        return err;
    return user_new(s, c, j, j->new_team);
}

static lb_err invite_job(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    user_job *j = ctx;
    return user_new(s, c, j, j->team);
}

static lb_err pg_team_create(lb_srvstore *base, const char *team_name, const char *user_name,
                             lb_srv_who *who, char code[LB_SRV_CODE_LEN + 1])
{
    user_job j;
    lb_srv_who w;
    lb_err err;
    memset(&j, 0, sizeof j);
    j.team_name = team_name, j.name = user_name, j.role = LB_SRV_SUPERVISOR;
    err = lb_srvpg_txn((lb_srvpg *)base, "BEGIN", team_job, &j, 0, "creating a team");
    if (!err) {
        memset(&w, 0, sizeof w);
        memcpy(w.team, j.new_team, sizeof w.team);
        memcpy(w.user, j.user, sizeof w.user);
        snprintf(w.team_name, sizeof w.team_name, "%s", team_name);
        snprintf(w.name, sizeof w.name, "%s", user_name);
        snprintf(w.role, sizeof w.role, "%s", LB_SRV_SUPERVISOR);
        memcpy(w.caseload, w.user, sizeof w.user);
        w.supervisor = 1;
        *who = w;
        memcpy(code, j.code, sizeof j.code);
    }
    sodium_memzero(j.code, sizeof j.code);
    return err;
}

static lb_err pg_invite(lb_srvstore *base, const char *team, const char *role, const char *name,
                        char user[LB_SRV_ID_LEN + 1], char code[LB_SRV_CODE_LEN + 1])
{
    user_job j;
    lb_err err;
    memset(&j, 0, sizeof j);
    j.team = team, j.role = role, j.name = name;
    err = lb_srvpg_txn((lb_srvpg *)base, "BEGIN", invite_job, &j, 0, "inviting a user");
    if (!err) {
        memcpy(user, j.user, sizeof j.user);
        memcpy(code, j.code, sizeof j.code);
    }
    sodium_memzero(j.code, sizeof j.code);
    return err;
}

/* ---- devices ------------------------------------------------------------- */

#define WHO_SELECT "SELECT d.id, u.id, t.id, t.name, u.name, u.role, d.token_hash " \
    "FROM devices d JOIN users u ON u.id = d.user_id JOIN teams t ON t.id = u.team "
/* The last_seen update rides along (at most once a minute per device). */
static const char SQL_WHO_TOKEN[] =
    "WITH seen AS (UPDATE devices SET last_seen = $2::bigint WHERE token_hash = $1 AND "
    "revoked IS NULL AND last_seen < $2::bigint - 60000) " WHO_SELECT "WHERE d.token_hash = $1 AND d.revoked IS NULL";
static const char SQL_WHO_DEVICE[] = WHO_SELECT "WHERE d.id = $1";
static const char SQL_CODE_USE[] =
    "UPDATE enrol_codes SET used = $2 WHERE hash = $1 AND used IS NULL RETURNING user_id";
static const char SQL_DEVICE_NEW[] =
    "INSERT INTO devices (id, user_id, token_hash, device_key, name, created, last_seen) "
    "VALUES ($1, $2, $3, $4, $5, $6, $6)";

static void who_from_row(const PGresult *r, lb_srv_who *w)
{
    memset(w, 0, sizeof *w);
    snprintf(w->device, sizeof w->device, "%s", lb_srvpg_col_str(r, 0, 0));
    snprintf(w->user, sizeof w->user, "%s", lb_srvpg_col_str(r, 0, 1));
    snprintf(w->team, sizeof w->team, "%s", lb_srvpg_col_str(r, 0, 2));
    snprintf(w->team_name, sizeof w->team_name, "%s", lb_srvpg_col_str(r, 0, 3));
    snprintf(w->name, sizeof w->name, "%s", lb_srvpg_col_str(r, 0, 4));
    snprintf(w->role, sizeof w->role, "%s", lb_srvpg_col_str(r, 0, 5));
    memcpy(w->caseload, w->user, sizeof w->user);
    w->supervisor = strcmp(w->role, LB_SRV_SUPERVISOR) == 0;
}

static lb_err pg_auth(lb_srvstore *base, const char *token, lb_srv_who *who)
{
    lb_srvpg *s = (lb_srvpg *)base;
    unsigned char h[LB_SRVCODE_HASH_LEN];
    const unsigned char *got;
    lb_srvpg_args a = { 0 };
    lb_srvpg_conn *c;
    PGresult *r = NULL;
    size_t len = 0;
    lb_err err;
    if (strlen(token) != LB_SRV_TOKEN_LEN)
        return LB_ERR_NOTFOUND;
    if (!(c = lb_srvpg_get(s)))
        return LB_ERR_BUSY;
    lb_srvcode_hash(token, h);
    lb_srvpg_bytes(&a, h, sizeof h);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    err = lb_srvpg_run(s, c, SQL_WHO_TOKEN, &a, &r, "checking a token");
    if (!err && PQntuples(r) == 1 && (got = lb_srvpg_col_blob(r, 0, 6, &len)) &&
        len == sizeof h && sodium_memcmp(got, h, sizeof h) == 0)
        who_from_row(r, who);
    else if (!err)
        err = LB_ERR_NOTFOUND;
    PQclear(r);
    lb_srvpg_put(s, c);
    return err;
}

typedef struct enrol_job {
    const char *code, *device_name;
    const unsigned char *device_key;
    char user[LB_SRV_ID_LEN + 1], device[LB_SRV_ID_LEN + 1];
    char token[LB_SRV_TOKEN_LEN + 1];
    lb_srv_who who;
} enrol_job;

/* Consume the code: its user into j->user, or LB_ERR_NOTFOUND. */
static lb_err use_code(lb_srvpg *s, lb_srvpg_conn *c, enrol_job *j)
{
    unsigned char h[LB_SRVCODE_HASH_LEN];
    char norm[LB_SRV_CODE_LEN + 1];
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL;
    lb_err err;
    if (lb_srvcode_normalise(j->code, norm) != 0)
        return LB_ERR_NOTFOUND;
    lb_srvcode_hash(norm, h);
    sodium_memzero(norm, sizeof norm);
    lb_srvpg_bytes(&a, h, sizeof h);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    err = lb_srvpg_run(s, c, SQL_CODE_USE, &a, &r, "using an enrolment code");
    if (!err && PQntuples(r) == 1)
        snprintf(j->user, sizeof j->user, "%s", lb_srvpg_col_str(r, 0, 0));
    else if (!err)
        err = LB_ERR_NOTFOUND;
    PQclear(r);
    return err;
}

static lb_err enrol_job_run(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    enrol_job *j = ctx;
    unsigned char h[LB_SRVCODE_HASH_LEN];
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL;
    lb_err err = use_code(s, c, j);
    if (err)
        return err;
    lb_srvcode_token(j->token);
    lb_srvcode_hash(j->token, h);
    lb_srvcode_id(j->device);
    lb_srvpg_text(&a, j->device), lb_srvpg_text(&a, j->user);
    lb_srvpg_bytes(&a, h, sizeof h);
    lb_srvpg_bytes(&a, j->device_key, LB_SRV_DEVICE_KEY_LEN);
    lb_srvpg_text(&a, j->device_name);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    if ((err = lb_srvpg_do(s, c, SQL_DEVICE_NEW, &a, "adding a device")) != LB_OK)
        return err;
    memset(&a, 0, sizeof a);
    lb_srvpg_text(&a, j->device);
    err = lb_srvpg_run(s, c, SQL_WHO_DEVICE, &a, &r, "reading a device");
    if (!err && PQntuples(r) == 1)
        who_from_row(r, &j->who);
    else if (!err)
        err = LB_ERR_INTERNAL;
    PQclear(r);
    return err;
}

static lb_err pg_enrol(lb_srvstore *base, const char *code,
                       const unsigned char device_key[LB_SRV_DEVICE_KEY_LEN],
                       const char *device_name, char token[LB_SRV_TOKEN_LEN + 1],
                       lb_srv_who *who)
{
    enrol_job j;
    lb_err err;
    memset(&j, 0, sizeof j);
    j.code = code, j.device_key = device_key, j.device_name = device_name;
    err = lb_srvpg_txn((lb_srvpg *)base, "BEGIN", enrol_job_run, &j, 0, "enrolling a device");
    if (!err) {
        memcpy(token, j.token, sizeof j.token);
        *who = j.who;
    }
    sodium_memzero(j.token, sizeof j.token);
    return err;
}

#define DEVICE_SELECT "SELECT d.id, u.id, u.name, d.name, u.role, d.device_key, d.created, " \
    "d.last_seen, coalesce(d.revoked, 0) FROM devices d JOIN users u ON u.id = d.user_id "
static const char SQL_DEVICES[] = DEVICE_SELECT "WHERE u.team = $1 ORDER BY d.created, d.id";
static const char SQL_PENDING[] = DEVICE_SELECT
    "WHERE u.team = $1 AND d.revoked IS NULL AND NOT EXISTS (SELECT 1 FROM sealed_keys k "
    "WHERE k.device = d.id AND k.key_id = $2) ORDER BY d.created, d.id";

static void device_from_row(const PGresult *r, int i, lb_srv_device *d)
{
    size_t len = 0;
    const unsigned char *key = lb_srvpg_col_blob(r, i, 5, &len);
    memset(d, 0, sizeof *d);
    snprintf(d->device, sizeof d->device, "%s", lb_srvpg_col_str(r, i, 0));
    snprintf(d->user, sizeof d->user, "%s", lb_srvpg_col_str(r, i, 1));
    snprintf(d->name, sizeof d->name, "%s", lb_srvpg_col_str(r, i, 2));
    snprintf(d->device_name, sizeof d->device_name, "%s", lb_srvpg_col_str(r, i, 3));
    snprintf(d->role, sizeof d->role, "%s", lb_srvpg_col_str(r, i, 4));
    if (len == LB_SRV_DEVICE_KEY_LEN)
        memcpy(d->device_key, key, LB_SRV_DEVICE_KEY_LEN);
    d->created = lb_srvpg_col_int(r, i, 6);
    d->last_seen = lb_srvpg_col_int(r, i, 7);
    d->revoked = lb_srvpg_col_int(r, i, 8);
}

static lb_err list_devices(lb_srvpg *s, const char *sql, const char *team, int64_t key,
                           lb_srv_device_fn fn, void *ctx)
{
    lb_srvpg_conn *c = lb_srvpg_get(s);
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL;
    lb_srv_device d;
    lb_err err;
    int i;
    if (!c)
        return LB_ERR_BUSY;
    lb_srvpg_text(&a, team);
    if (sql == SQL_PENDING)
        lb_srvpg_int(&a, key);
    err = lb_srvpg_run(s, c, sql, &a, &r, "listing devices");
    for (i = 0; !err && i < PQntuples(r); i++) {
        device_from_row(r, i, &d);
        if (fn(ctx, &d) != 0)
            err = LB_ERR_NOMEM;
    }
    PQclear(r);
    lb_srvpg_put(s, c);
    return err;
}

static lb_err pg_devices(lb_srvstore *base, const char *team, lb_srv_device_fn fn, void *ctx)
{
    return list_devices((lb_srvpg *)base, SQL_DEVICES, team, 0, fn, ctx);
}

static lb_err pg_pending(lb_srvstore *base, const char *team, int64_t key, lb_srv_device_fn fn,
                         void *ctx)
{
    return list_devices((lb_srvpg *)base, SQL_PENDING, team, key, fn, ctx);
}

static const char SQL_DEVICE_OF_TEAM[] =
    "SELECT 1 FROM devices d JOIN users u ON u.id = d.user_id WHERE d.id = $1 AND u.team = $2";
static const char SQL_REVOKE[] =
    "UPDATE devices SET revoked = $2 WHERE id = $1 AND revoked IS NULL";

/* LB_OK if device belongs to team, LB_ERR_NOTFOUND if not. */
static lb_err device_of_team(lb_srvpg *s, lb_srvpg_conn *c, const char *device, const char *team)
{
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL;
    lb_err err;
    lb_srvpg_text(&a, device), lb_srvpg_text(&a, team);
    err = lb_srvpg_run(s, c, SQL_DEVICE_OF_TEAM, &a, &r, "reading a device");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_NOTFOUND;
    PQclear(r);
    return err;
}

typedef struct revoke_job {
    const char *team, *device;
} revoke_job;

static lb_err revoke_run(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    revoke_job *j = ctx;
    lb_srvpg_args a = { 0 };
    lb_err err = device_of_team(s, c, j->device, j->team);
    if (err)
        return err;
    lb_srvpg_text(&a, j->device);
    lb_srvpg_int(&a, lb_srvpg_now_ms());
    return lb_srvpg_do(s, c, SQL_REVOKE, &a, "revoking a device");
}

static lb_err pg_revoke(lb_srvstore *base, const char *team, const char *device)
{
    revoke_job j = { team, device };
    return lb_srvpg_txn((lb_srvpg *)base, "BEGIN", revoke_run, &j, 1, "revoking a device");
}

/* ---- team keys ----------------------------------------------------------- */

static const char SQL_KEY_CURRENT[] = "SELECT current_key FROM teams WHERE id = $1";
static const char SQL_KEY_CURRENT_LOCK[] =
    "SELECT current_key FROM teams WHERE id = $1 FOR UPDATE";
static const char SQL_KEY_PUT[] =
    "INSERT INTO sealed_keys (device, key_id, sealed) VALUES ($1, $2, $3) "
    "ON CONFLICT (device, key_id) DO UPDATE SET sealed = EXCLUDED.sealed";
static const char SQL_KEY_SET[] = "UPDATE teams SET current_key = $2 WHERE id = $1";
static const char SQL_KEYS_GET[] =
    "SELECT key_id, sealed FROM sealed_keys WHERE device = $1 ORDER BY key_id";

static lb_err pg_key_current(lb_srvstore *base, const char *team, int64_t *key)
{
    lb_srvpg_args a = { 0 };
    lb_srvpg_text(&a, team);
    return one_int((lb_srvpg *)base, SQL_KEY_CURRENT, &a, key, "reading the team key id");
}

typedef struct keys_job {
    const char *team;
    const lb_srv_sealed *keys;
    size_t n;
    int64_t current;
} keys_job;

static lb_err set_current(lb_srvpg *s, lb_srvpg_conn *c, const char *team, int64_t current)
{
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL;
    int64_t now = 0;
    lb_err err;
    lb_srvpg_text(&a, team);
    err = lb_srvpg_run(s, c, SQL_KEY_CURRENT_LOCK, &a, &r, "reading the team key id");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_NOTFOUND;
    if (!err)
        now = lb_srvpg_col_int(r, 0, 0);
    PQclear(r);
    if (err)
        return err;
    if (current < now) {
        lb_srvpg_msg(s, "setting the team key", "the key id would go back");
        return LB_ERR_INVALID;
    }
    lb_srvpg_int(&a, current);
    return lb_srvpg_do(s, c, SQL_KEY_SET, &a, "setting the team key");
}

static lb_err keys_run(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    keys_job *j = ctx;
    lb_srvpg_args a;
    size_t i;
    lb_err err = LB_OK;
    for (i = 0; i < j->n && !err; i++) {
        if ((err = device_of_team(s, c, j->keys[i].device, j->team)) != LB_OK)
            break;
        memset(&a, 0, sizeof a);
        lb_srvpg_text(&a, j->keys[i].device);
        lb_srvpg_int(&a, j->keys[i].key);
        lb_srvpg_bytes(&a, j->keys[i].sealed, j->keys[i].sealed_len);
        err = lb_srvpg_do(s, c, SQL_KEY_PUT, &a, "keeping a sealed key");
    }
    if (!err && j->current > 0)
        err = set_current(s, c, j->team, j->current);
    return err;
}

static lb_err pg_keys_put(lb_srvstore *base, const char *team, const lb_srv_sealed *keys,
                          size_t n, int64_t current)
{
    keys_job j = { team, keys, n, current };
    return lb_srvpg_txn((lb_srvpg *)base, "BEGIN", keys_run, &j, 1, "keeping sealed keys");
}

static lb_err pg_keys_get(lb_srvstore *base, const char *device, lb_srv_key_fn fn, void *ctx)
{
    lb_srvpg *s = (lb_srvpg *)base;
    lb_srvpg_conn *c = lb_srvpg_get(s);
    lb_srvpg_args a = { 0 };
    PGresult *r = NULL;
    const unsigned char *sealed;
    size_t len = 0;
    lb_err err;
    int i;
    if (!c)
        return LB_ERR_BUSY;
    lb_srvpg_text(&a, device);
    err = lb_srvpg_run(s, c, SQL_KEYS_GET, &a, &r, "reading sealed keys");
    for (i = 0; !err && i < PQntuples(r); i++) {
        sealed = lb_srvpg_col_blob(r, i, 1, &len);
        if (fn(ctx, lb_srvpg_col_int(r, i, 0), sealed, len) != 0)
            err = LB_ERR_NOMEM;
    }
    PQclear(r);
    lb_srvpg_put(s, c);
    return err;
}

/* ---- opening and closing ------------------------------------------------- */

static void pg_close(lb_srvstore *base)
{
    lb_srvpg *s = (lb_srvpg *)base;
    int i;
    if (!s)
        return;
    for (i = 0; i < s->nconns; i++)
        PQfinish(s->conns[i].pg);
    free(s->conns);
    if (s->conninfo) {
        sodium_memzero(s->conninfo, strlen(s->conninfo));   /* may hold a password */
        free(s->conninfo);
    }
    pthread_mutex_destroy(&s->mu);
    lb_srvpool_destroy(&s->pool);
    free(s);
}

static void pg_errmsg(lb_srvstore *base, char *buf, size_t len)
{
    lb_srvpg *s = (lb_srvpg *)base;
    pthread_mutex_lock(&s->mu);
    snprintf(buf, len, "%s", s->errmsg);
    pthread_mutex_unlock(&s->mu);
}

static const lb_srvstore_ops PG_OPS = {
    pg_close, pg_errmsg, pg_epoch, pg_epoch_set, pg_high_water, pg_team_create, pg_invite,
    pg_enrol, pg_auth, pg_devices, pg_revoke, lb_srvpg_push, lb_srvpg_followed,
    lb_srvpg_caseload_elsewhere, lb_srvpg_pull, pg_key_current, pg_keys_put, pg_keys_get,
    pg_pending, pg_count_envelopes
};

/* Migrate through the first connection, then check the epoch on it. */
static lb_err first_connection(lb_srvpg *s)
{
    lb_srvpg_conn *c = lb_srvpg_get(s);
    lb_err err;
    if (!c)
        return LB_ERR_BUSY;
    err = migrate(s, c);
    if (!err) {
        s->check = epoch_check;
        c->checking = 1;
        err = epoch_check(s, c);
        c->checking = 0;
    }
    lb_srvpg_put(s, c);
    return err;
}

lb_err lb_srvstore_pg_open(const char *conninfo, int pool, lb_srvstore_log log, void *log_ctx,
                           lb_srvstore **out, char *msg, size_t msglen)
{
    lb_srvpg *s;
    lb_err err;
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(msg, msglen, "libsodium could not be initialised");
        return LB_ERR_CRYPTO;
    }
    if (pool <= 0)
        pool = DEFAULT_POOL;
    if (pool > MAX_POOL)
        pool = MAX_POOL;
    if (!(s = calloc(1, sizeof *s)) || !(s->conns = calloc((size_t)pool, sizeof *s->conns)) ||
        !(s->conninfo = strdup(conninfo))) {
        if (s)
            free(s->conns);
        free(s);
        snprintf(msg, msglen, "out of memory");
        return LB_ERR_NOMEM;
    }
    s->base.ops = &PG_OPS;
    s->nconns = pool;
    s->log = log, s->log_ctx = log_ctx;
    pthread_mutex_init(&s->mu, NULL);
    lb_srvpool_init(&s->pool, &s->mu);
    if ((err = first_connection(s)) != LB_OK) {
        snprintf(msg, msglen, "%s", s->errmsg[0] ? s->errmsg : lb_strerror(err));
        pg_close(&s->base);
        return err;
    }
    *out = &s->base;
    return LB_OK;
}
