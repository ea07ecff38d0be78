/* lb_srvstore_sqlite.c - the SQLite backend of lb_srvstore: one file
 * DIR/linkbookd.db in WAL mode (synchronous=FULL, busy timeout), migrated
 * from schema/server/ like the device store, used through a small pool of
 * connections.  This file opens the store and keeps accounts and keys;
 * push and pull are in lb_srvsql_sync.c.
 *
 * Tokens and enrolment codes are kept only as BLAKE2b-256 hashes
 * (lb_srvcode.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>
#include "lb_srvcode.h"
#include "lb_srvsql.h"
#include "lb_store.h"
#include "lb_schema.h"

#define BUSY_MS 10000

/* ---- helpers ------------------------------------------------------------- */

int64_t lb_srvsql_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lb_srvsql_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static void set_msg(lb_srvsql *s, const char *what, const char *detail)
{
    pthread_mutex_lock(&s->mu);
    snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", what, detail);
    pthread_mutex_unlock(&s->mu);
}

lb_err lb_srvsql_fail(lb_srvsql *s, lb_srvsql_conn *c, int rc, const char *what)
{
    set_msg(s, what, c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    switch (rc & 0xff) {
    case SQLITE_NOMEM: return LB_ERR_NOMEM;
    case SQLITE_FULL: case SQLITE_IOERR: case SQLITE_READONLY:
    case SQLITE_CANTOPEN: case SQLITE_PERM: return LB_ERR_IO;
    case SQLITE_BUSY: case SQLITE_LOCKED: return LB_ERR_BUSY;
    case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_FORMAT: return LB_ERR_CORRUPT;
    default: return LB_ERR_INTERNAL;
    }
}

/* Give the writer lock back once c's transaction has ended. */
static void writer_done(lb_srvsql_conn *c)
{
    if (c->writer && sqlite3_get_autocommit(c->db)) {
        c->writer = 0;
        pthread_mutex_unlock(c->write_mu);
    }
}

lb_err lb_srvsql_exec(lb_srvsql *s, lb_srvsql_conn *c, const char *sql, const char *what)
{
    int rc;
    if (!c->writer && c->write_mu && strcmp(sql, "BEGIN IMMEDIATE") == 0) {
        pthread_mutex_lock(c->write_mu);
        c->writer = 1;
    }
    rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    writer_done(c);
    return rc == SQLITE_OK ? LB_OK : lb_srvsql_fail(s, c, rc, what);
}

void lb_srvsql_rollback(lb_srvsql_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    writer_done(c);
}

sqlite3_stmt *lb_srvsql_stmt(lb_srvsql_conn *c, const char *sql)
{
    int i;
    for (i = 0; i < LB_SRVSQL_STMTS && c->stmts[i].sql; i++) {
        if (c->stmts[i].sql == sql) {
            sqlite3_reset(c->stmts[i].st);
            sqlite3_clear_bindings(c->stmts[i].st);
            return c->stmts[i].st;
        }
    }
    if (i == LB_SRVSQL_STMTS)
        return NULL; /* a bug: raise LB_SRVSQL_STMTS */
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[i].st,
                           NULL) != SQLITE_OK)
        return NULL;
    c->stmts[i].sql = sql;
    return c->stmts[i].st;
}

lb_srvsql_conn *lb_srvsql_get(lb_srvsql *s)
{
    return &s->conns[lb_srvpool_take(&s->pool, s->nconns)];
}

void lb_srvsql_put(lb_srvsql *s, lb_srvsql_conn *c)
{
    int i;
    for (i = 0; i < LB_SRVSQL_STMTS && c->stmts[i].sql; i++)
        sqlite3_reset(c->stmts[i].st);
    lb_srvsql_rollback(c);
    lb_srvpool_give(&s->pool, (int)(c - s->conns));
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* ---- opening ------------------------------------------------------------- */

static lb_err conn_open(lb_srvsql *s, lb_srvsql_conn *c, const char *path)
{
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return lb_srvsql_fail(s, c, rc, "opening the server database");
    c->write_mu = &s->write_mu;
    sqlite3_busy_timeout(c->db, BUSY_MS);
    sqlite3_extended_result_codes(c->db, 1);
    /* A 4 MiB page cache a connection: the pool's caches fill up under
     * load, and 16 MiB each made linkbookd twice as large at 500 devices
     * for no speed. */
    return lb_srvsql_exec(s, c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                          "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF; "
                          "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-4096",
                          "setting up the server database");
}

static void conn_close(lb_srvsql_conn *c)
{
    int i;
    for (i = 0; i < LB_SRVSQL_STMTS && c->stmts[i].sql; i++)
        sqlite3_finalize(c->stmts[i].st);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Apply the migrations newer than the file, each in its own transaction;
 * the epoch is made with the first. */
static lb_err migrate(lb_srvsql *s, lb_srvsql_conn *c)
{
    const lb_migration *m;
    char sql[160], epoch[LB_SRV_ID_LEN + 1];
    int cur = user_version(c->db), latest = 0;
    lb_err err = LB_OK;
    for (m = lb_schema_server; m->version; m++)
        latest = m->version;
    if (cur < 0)
        return lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "reading the schema version");
    if (cur > latest) {
        set_msg(s, "opening the server database", "it was written by a newer linkbookd");
        return LB_ERR_VERSION;
    }
    for (m = lb_schema_server; m->version && !err; m++) {
        if (m->version <= cur)
            continue;
        err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "upgrading the server database");
        if (!err)
            err = lb_srvsql_exec(s, c, m->sql, m->name);
        lb_srvcode_id(epoch);
        snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO meta VALUES ('epoch', '%s'); "
                 "PRAGMA user_version = %d", epoch, m->version);
        if (!err)
            err = lb_srvsql_exec(s, c, sql, "upgrading the server database");
        if (!err)
            err = lb_srvsql_exec(s, c, "COMMIT", "upgrading the server database");
        if (err)
            lb_srvsql_rollback(c);
    }
    return err;
}

static void sql_close(lb_srvstore *base)
{
    lb_srvsql *s = (lb_srvsql *)base;
    int i;
    if (!s)
        return;
    for (i = 0; i < s->nconns; i++)
        conn_close(&s->conns[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->push_mu);
    lb_srvpool_destroy(&s->pool);
    free(s);
}

static void sql_errmsg(lb_srvstore *base, char *buf, size_t len)
{
    lb_srvsql *s = (lb_srvsql *)base;
    pthread_mutex_lock(&s->mu);
    snprintf(buf, len, "%s", s->errmsg);
    pthread_mutex_unlock(&s->mu);
}

static const lb_srvstore_ops SQL_OPS;

static lb_err open_pool(lb_srvsql *s, const char *dir)
{
    size_t n = strlen(dir) + sizeof LB_SRVSQL_FILE + 2;
    char *path = malloc(n);
    lb_err err = LB_OK;
    if (!path)
        return LB_ERR_NOMEM;
    snprintf(path, n, "%s/%s", dir, LB_SRVSQL_FILE);
    err = conn_open(s, &s->conns[0], path);
    s->nconns = 1;
    if (!err)
        err = migrate(s, &s->conns[0]);
    while (!err && s->nconns < LB_SRVSQL_POOL)
        err = conn_open(s, &s->conns[s->nconns++], path);
    free(path);
    return err;
}

lb_err lb_srvstore_sqlite_open(const char *dir, lb_srvstore **out, char *msg, size_t msglen)
{
    lb_srvsql *s;
    lb_err err;
    *out = NULL;
    if (sodium_init() < 0) {
        snprintf(msg, msglen, "libsodium could not be initialised");
        return LB_ERR_CRYPTO;
    }
    if (lb_store_make_dir(dir) != 0) {
        snprintf(msg, msglen, "cannot create the data directory %s (%s)", dir, strerror(errno));
        return LB_ERR_IO;
    }
    if (!(s = calloc(1, sizeof *s))) {
        snprintf(msg, msglen, "out of memory");
        return LB_ERR_NOMEM;
    }
    s->base.ops = &SQL_OPS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->push_mu, NULL);
    lb_srvpool_init(&s->pool, &s->mu);
    if ((err = open_pool(s, dir)) != LB_OK) {
        snprintf(msg, msglen, "%s", s->errmsg[0] ? s->errmsg : lb_strerror(err));
        sql_close(&s->base);
        return err;
    }
    *out = &s->base;
    return LB_OK;
}

static const char SQL_EPOCH[] = "SELECT value FROM meta WHERE key = 'epoch'";

static lb_err sql_epoch(lb_srvstore *base, char out[LB_SRV_ID_LEN + 1])
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_EPOCH);
    lb_err err = LB_OK;
    int rc = st ? sqlite3_step(st) : sqlite3_errcode(c->db);
    if (rc == SQLITE_ROW)
        copy_col(out, LB_SRV_ID_LEN + 1, st, 0);
    else
        err = rc == SQLITE_DONE ? LB_ERR_CORRUPT : lb_srvsql_fail(s, c, rc, "reading the epoch");
    lb_srvsql_put(s, c);
    return err;
}

/* ---- teams and users ----------------------------------------------------- */

static const char SQL_TEAM_NEW[] =
    "INSERT INTO teams (id, name, current_key, created) VALUES (?1, ?2, 0, ?3)";
static const char SQL_USER_NEW[] =
    "INSERT INTO users (id, team, name, role, created) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_CODE_NEW[] =
    "INSERT INTO enrol_codes (hash, user, created) VALUES (?1, ?2, ?3)";

static lb_err step_done(lb_srvsql *s, lb_srvsql_conn *c, sqlite3_stmt *st, const char *what)
{
    int rc = st ? sqlite3_step(st) : sqlite3_errcode(c->db);
    if (st)
        sqlite3_reset(st);
    return rc == SQLITE_DONE ? LB_OK : lb_srvsql_fail(s, c, rc, what);
}

static const char SQL_EPOCH_SET[] =
    "INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?1)";

static lb_err sql_epoch_set(lb_srvstore *base, const char *epoch)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c;
    sqlite3_stmt *st;
    lb_err err;
    if (!lb_proto_is_id(epoch))
        return LB_ERR_INVALID;
    c = lb_srvsql_get(s);
    if ((st = lb_srvsql_stmt(c, SQL_EPOCH_SET)) != NULL)
        lb_srvsql_text(st, 1, epoch);
    err = step_done(s, c, st, "saving a new epoch");
    lb_srvsql_put(s, c);
    return err;
}

static const char SQL_HIGH_WATER[] = "SELECT coalesce(max(n), 0) FROM envelopes";

static lb_err sql_high_water(lb_srvstore *base, int64_t *n)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_HIGH_WATER);
    lb_err err = LB_OK;
    int rc = st ? sqlite3_step(st) : sqlite3_errcode(c->db);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        err = lb_srvsql_fail(s, c, rc, "reading the highest envelope number");
    lb_srvsql_put(s, c);
    return err;
}

/* A user of team and its enrolment code, in the caller's transaction. */
static lb_err user_new(lb_srvsql *s, lb_srvsql_conn *c, const char *team, const char *role,
                       const char *name, char user[LB_SRV_ID_LEN + 1],
                       char code[LB_SRV_CODE_LEN + 1])
{
    unsigned char h[LB_SRVCODE_HASH_LEN];
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_USER_NEW);
    int64_t now = lb_srvsql_now_ms();
    lb_err err;
    lb_srvcode_id(user);
    lb_srvcode_make(code);
    if (st) {
        lb_srvsql_text(st, 1, user), lb_srvsql_text(st, 2, team);
        lb_srvsql_text(st, 3, name), lb_srvsql_text(st, 4, role);
        sqlite3_bind_int64(st, 5, now);
    }
    if ((err = step_done(s, c, st, "adding a user")) != LB_OK)
        return err;
    lb_srvcode_hash(code, h);
    if ((st = lb_srvsql_stmt(c, SQL_CODE_NEW)) != NULL) {
        sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_TRANSIENT);
        lb_srvsql_text(st, 2, user);
        sqlite3_bind_int64(st, 3, now);
    }
    return step_done(s, c, st, "adding an enrolment code");
}

static lb_err sql_team_create(lb_srvstore *base, const char *team_name, const char *user_name,
                              lb_srv_who *who, char code[LB_SRV_CODE_LEN + 1])
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    lb_srv_who w;
    char cd[LB_SRV_CODE_LEN + 1];
    sqlite3_stmt *st;
    lb_err err;
    memset(&w, 0, sizeof w);
    lb_srvcode_id(w.team);
    if ((err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "creating a team")) != LB_OK)
        goto out;
    if ((st = lb_srvsql_stmt(c, SQL_TEAM_NEW)) != NULL) {
        lb_srvsql_text(st, 1, w.team), lb_srvsql_text(st, 2, team_name);
        sqlite3_bind_int64(st, 3, lb_srvsql_now_ms());
    }
    if ((err = step_done(s, c, st, "creating a team")) != LB_OK)
        goto out;
    if ((err = user_new(s, c, w.team, LB_SRV_SUPERVISOR, user_name, w.user, cd)) != LB_OK)
        goto out;
    if ((err = lb_srvsql_exec(s, c, "COMMIT", "creating a team")) != LB_OK)
        goto out;
    snprintf(w.team_name, sizeof w.team_name, "%s", team_name);
    snprintf(w.name, sizeof w.name, "%s", user_name);
    snprintf(w.role, sizeof w.role, "%s", LB_SRV_SUPERVISOR);
    memcpy(w.caseload, w.user, sizeof w.user);
    w.supervisor = 1;
    *who = w;
    memcpy(code, cd, sizeof cd);
out:
    lb_srvsql_put(s, c);
    sodium_memzero(cd, sizeof cd);
    return err;
}

static lb_err sql_invite(lb_srvstore *base, const char *team, const char *role, const char *name,
                         char user[LB_SRV_ID_LEN + 1], char code[LB_SRV_CODE_LEN + 1])
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    char u[LB_SRV_ID_LEN + 1], cd[LB_SRV_CODE_LEN + 1];
    lb_err err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "inviting a user");
    if (!err)
        err = user_new(s, c, team, role, name, u, cd);
    if (!err)
        err = lb_srvsql_exec(s, c, "COMMIT", "inviting a user");
    if (!err) {
        memcpy(user, u, sizeof u);
        memcpy(code, cd, sizeof cd);
    }
    lb_srvsql_put(s, c);
    sodium_memzero(cd, sizeof cd);
    return err;
}

/* ---- devices ------------------------------------------------------------- */

#define WHO_SELECT "SELECT d.id, u.id, t.id, t.name, u.name, u.role, d.token_hash " \
    "FROM devices d JOIN users u ON u.id = d.user JOIN teams t ON t.id = u.team "
static const char SQL_WHO_TOKEN[] = WHO_SELECT "WHERE d.token_hash = ?1 AND d.revoked IS NULL";
static const char SQL_WHO_DEVICE[] = WHO_SELECT "WHERE d.id = ?1";
static const char SQL_SEEN[] =
    "UPDATE devices SET last_seen = ?2 WHERE id = ?1 AND last_seen < ?2 - 60000";
static const char SQL_CODE_USE[] =
    "UPDATE enrol_codes SET used = ?2 WHERE hash = ?1 AND used IS NULL RETURNING user";
static const char SQL_DEVICE_NEW[] =
    "INSERT INTO devices (id, user, token_hash, device_key, name, created, last_seen) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";

static void who_from_row(sqlite3_stmt *st, lb_srv_who *w)
{
    memset(w, 0, sizeof *w);
    copy_col(w->device, sizeof w->device, st, 0);
    copy_col(w->user, sizeof w->user, st, 1);
    copy_col(w->team, sizeof w->team, st, 2);
    copy_col(w->team_name, sizeof w->team_name, st, 3);
    copy_col(w->name, sizeof w->name, st, 4);
    copy_col(w->role, sizeof w->role, st, 5);
    memcpy(w->caseload, w->user, sizeof w->user);
    w->supervisor = strcmp(w->role, LB_SRV_SUPERVISOR) == 0;
}

static lb_err sql_auth(lb_srvstore *base, const char *token, lb_srv_who *who)
{
    lb_srvsql *s = (lb_srvsql *)base;
    unsigned char h[LB_SRVCODE_HASH_LEN];
    lb_srvsql_conn *c;
    sqlite3_stmt *st;
    lb_err err = LB_ERR_NOTFOUND;
    int rc;
    if (strlen(token) != LB_SRV_TOKEN_LEN)
        return LB_ERR_NOTFOUND;
    lb_srvcode_hash(token, h);
    c = lb_srvsql_get(s);
    if (!(st = lb_srvsql_stmt(c, SQL_WHO_TOKEN))) {
        err = lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "checking a token");
        goto out;
    }
    sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 6) == (int)sizeof h &&
        sodium_memcmp(sqlite3_column_blob(st, 6), h, sizeof h) == 0) {
        who_from_row(st, who);
        err = LB_OK;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = lb_srvsql_fail(s, c, rc, "checking a token");
    }
    sqlite3_reset(st);
    if (!err && (st = lb_srvsql_stmt(c, SQL_SEEN)) != NULL) {
        lb_srvsql_text(st, 1, who->device);
        sqlite3_bind_int64(st, 2, lb_srvsql_now_ms());
        sqlite3_step(st); /* last_seen is a courtesy: a busy database may skip it */
        sqlite3_reset(st);
    }
out:
    lb_srvsql_put(s, c);
    return err;
}

/* Consume a code: its user into user, or LB_ERR_NOTFOUND. */
static lb_err use_code(lb_srvsql *s, lb_srvsql_conn *c, const char *code,
                       char user[LB_SRV_ID_LEN + 1])
{
    unsigned char h[LB_SRVCODE_HASH_LEN];
    char norm[LB_SRV_CODE_LEN + 1];
    sqlite3_stmt *st;
    int rc;
    if (lb_srvcode_normalise(code, norm) != 0)
        return LB_ERR_NOTFOUND;
    lb_srvcode_hash(norm, h);
    sodium_memzero(norm, sizeof norm);
    if (!(st = lb_srvsql_stmt(c, SQL_CODE_USE)))
        return lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "using an enrolment code");
    sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, lb_srvsql_now_ms());
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_col(user, LB_SRV_ID_LEN + 1, st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return LB_OK;
    return rc == SQLITE_DONE ? LB_ERR_NOTFOUND : lb_srvsql_fail(s, c, rc, "using a code");
}

static lb_err device_new(lb_srvsql *s, lb_srvsql_conn *c, const char *user,
                         const unsigned char key[LB_SRV_DEVICE_KEY_LEN], const char *name,
                         char device[LB_SRV_ID_LEN + 1], char token[LB_SRV_TOKEN_LEN + 1])
{
    unsigned char h[LB_SRVCODE_HASH_LEN];
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_DEVICE_NEW);
    lb_srvcode_token(token);
    lb_srvcode_hash(token, h);
    lb_srvcode_id(device);
    if (st) {
        lb_srvsql_text(st, 1, device), lb_srvsql_text(st, 2, user);
        sqlite3_bind_blob(st, 3, h, sizeof h, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 4, key, LB_SRV_DEVICE_KEY_LEN, SQLITE_TRANSIENT);
        lb_srvsql_text(st, 5, name);
        sqlite3_bind_int64(st, 6, lb_srvsql_now_ms());
    }
    return step_done(s, c, st, "adding a device");
}

static lb_err who_by_device(lb_srvsql *s, lb_srvsql_conn *c, const char *device,
                            lb_srv_who *who)
{
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_WHO_DEVICE);
    int rc;
    if (!st)
        return lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "reading a device");
    lb_srvsql_text(st, 1, device);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        who_from_row(st, who);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return LB_OK;
    return rc == SQLITE_DONE ? LB_ERR_INTERNAL : lb_srvsql_fail(s, c, rc, "reading a device");
}

static lb_err sql_enrol(lb_srvstore *base, const char *code,
                        const unsigned char device_key[LB_SRV_DEVICE_KEY_LEN],
                        const char *device_name, char token[LB_SRV_TOKEN_LEN + 1],
                        lb_srv_who *who)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    char user[LB_SRV_ID_LEN + 1], device[LB_SRV_ID_LEN + 1], tok[LB_SRV_TOKEN_LEN + 1];
    lb_srv_who w;
    lb_err err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "enrolling a device");
    if (!err)
        err = use_code(s, c, code, user);
    if (!err)
        err = device_new(s, c, user, device_key, device_name, device, tok);
    if (!err)
        err = who_by_device(s, c, device, &w);
    if (!err)
        err = lb_srvsql_exec(s, c, "COMMIT", "enrolling a device");
    if (!err) {
        memcpy(token, tok, sizeof tok);
        *who = w;
    }
    sodium_memzero(tok, sizeof tok);
    lb_srvsql_put(s, c);
    return err;
}

#define DEVICE_SELECT "SELECT d.id, u.id, u.name, d.name, u.role, d.device_key, d.created, " \
    "d.last_seen, coalesce(d.revoked, 0) FROM devices d JOIN users u ON u.id = d.user "
static const char SQL_DEVICES[] = DEVICE_SELECT "WHERE u.team = ?1 ORDER BY d.created, d.id";
static const char SQL_PENDING[] = DEVICE_SELECT
    "WHERE u.team = ?1 AND d.revoked IS NULL AND NOT EXISTS (SELECT 1 FROM sealed_keys k "
    "WHERE k.device = d.id AND k.key_id = ?2) ORDER BY d.created, d.id";

static void device_from_row(sqlite3_stmt *st, lb_srv_device *d)
{
    memset(d, 0, sizeof *d);
    copy_col(d->device, sizeof d->device, st, 0);
    copy_col(d->user, sizeof d->user, st, 1);
    copy_col(d->name, sizeof d->name, st, 2);
    copy_col(d->device_name, sizeof d->device_name, st, 3);
    copy_col(d->role, sizeof d->role, st, 4);
    if (sqlite3_column_bytes(st, 5) == LB_SRV_DEVICE_KEY_LEN)
        memcpy(d->device_key, sqlite3_column_blob(st, 5), LB_SRV_DEVICE_KEY_LEN);
    d->created = sqlite3_column_int64(st, 6);
    d->last_seen = sqlite3_column_int64(st, 7);
    d->revoked = sqlite3_column_int64(st, 8);
}

/* Run a device listing (SQL_DEVICES or SQL_PENDING) through fn. */
static lb_err list_devices(lb_srvsql *s, const char *sql, const char *team, int64_t key,
                           lb_srv_device_fn fn, void *ctx)
{
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = lb_srvsql_stmt(c, sql);
    lb_srv_device d;
    lb_err err = LB_OK;
    int rc = SQLITE_DONE;
    if (st) {
        lb_srvsql_text(st, 1, team);
        if (sql == SQL_PENDING)
            sqlite3_bind_int64(st, 2, key);
    }
    while (st && !err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        device_from_row(st, &d);
        if (fn(ctx, &d) != 0)
            err = LB_ERR_NOMEM;
    }
    if (!err && (!st || rc != SQLITE_DONE))
        err = lb_srvsql_fail(s, c, st ? rc : sqlite3_errcode(c->db), "listing devices");
    lb_srvsql_put(s, c);
    return err;
}

static lb_err sql_devices(lb_srvstore *base, const char *team, lb_srv_device_fn fn, void *ctx)
{
    return list_devices((lb_srvsql *)base, SQL_DEVICES, team, 0, fn, ctx);
}

static lb_err sql_pending(lb_srvstore *base, const char *team, int64_t key,
                          lb_srv_device_fn fn, void *ctx)
{
    return list_devices((lb_srvsql *)base, SQL_PENDING, team, key, fn, ctx);
}

static const char SQL_DEVICE_OF_TEAM[] =
    "SELECT d.revoked FROM devices d JOIN users u ON u.id = d.user "
    "WHERE d.id = ?1 AND u.team = ?2";
static const char SQL_REVOKE[] = "UPDATE devices SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL";

/* LB_OK if device belongs to team, LB_ERR_NOTFOUND if not. */
static lb_err device_of_team(lb_srvsql *s, lb_srvsql_conn *c, const char *device,
                             const char *team)
{
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_DEVICE_OF_TEAM);
    int rc;
    if (!st)
        return lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "reading a device");
    lb_srvsql_text(st, 1, device), lb_srvsql_text(st, 2, team);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return LB_OK;
    return rc == SQLITE_DONE ? LB_ERR_NOTFOUND : lb_srvsql_fail(s, c, rc, "reading a device");
}

static lb_err sql_revoke(lb_srvstore *base, const char *team, const char *device)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = NULL;
    lb_err err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "revoking a device");
    if (!err)
        err = device_of_team(s, c, device, team);
    if (!err && (st = lb_srvsql_stmt(c, SQL_REVOKE)) != NULL) {
        lb_srvsql_text(st, 1, device);
        sqlite3_bind_int64(st, 2, lb_srvsql_now_ms());
    }
    if (!err)
        err = step_done(s, c, st, "revoking a device");
    if (!err)
        err = lb_srvsql_exec(s, c, "COMMIT", "revoking a device");
    lb_srvsql_put(s, c);
    return err;
}

/* ---- team keys ----------------------------------------------------------- */

static const char SQL_KEY_CURRENT[] = "SELECT current_key FROM teams WHERE id = ?1";
static const char SQL_KEY_PUT[] =
    "INSERT OR REPLACE INTO sealed_keys (device, key_id, sealed) VALUES (?1, ?2, ?3)";
static const char SQL_KEY_SET[] = "UPDATE teams SET current_key = ?2 WHERE id = ?1";
static const char SQL_KEYS_GET[] =
    "SELECT key_id, sealed FROM sealed_keys WHERE device = ?1 ORDER BY key_id";

static lb_err key_current(lb_srvsql *s, lb_srvsql_conn *c, const char *team, int64_t *key)
{
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_KEY_CURRENT);
    int rc;
    if (!st)
        return lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "reading the team key id");
    lb_srvsql_text(st, 1, team);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *key = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return LB_OK;
    return rc == SQLITE_DONE ? LB_ERR_NOTFOUND : lb_srvsql_fail(s, c, rc, "reading a team");
}

static lb_err sql_key_current(lb_srvstore *base, const char *team, int64_t *key)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    lb_err err = key_current(s, c, team, key);
    lb_srvsql_put(s, c);
    return err;
}

static lb_err key_put(lb_srvsql *s, lb_srvsql_conn *c, const char *team, const lb_srv_sealed *k)
{
    sqlite3_stmt *st;
    lb_err err = device_of_team(s, c, k->device, team);
    if (err)
        return err;
    if ((st = lb_srvsql_stmt(c, SQL_KEY_PUT)) != NULL) {
        lb_srvsql_text(st, 1, k->device);
        sqlite3_bind_int64(st, 2, k->key);
        sqlite3_bind_blob(st, 3, k->sealed, (int)k->sealed_len, SQLITE_TRANSIENT);
    }
    return step_done(s, c, st, "keeping a sealed key");
}

static lb_err set_current(lb_srvsql *s, lb_srvsql_conn *c, const char *team, int64_t current)
{
    sqlite3_stmt *st;
    int64_t now = 0;
    lb_err err = key_current(s, c, team, &now);
    if (err)
        return err;
    if (current < now) {
        set_msg(s, "setting the team key", "the key id would go back");
        return LB_ERR_INVALID;
    }
    if ((st = lb_srvsql_stmt(c, SQL_KEY_SET)) != NULL) {
        lb_srvsql_text(st, 1, team);
        sqlite3_bind_int64(st, 2, current);
    }
    return step_done(s, c, st, "setting the team key");
}

static lb_err sql_keys_put(lb_srvstore *base, const char *team, const lb_srv_sealed *keys,
                           size_t n, int64_t current)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    size_t i;
    lb_err err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "keeping sealed keys");
    for (i = 0; i < n && !err; i++)
        err = key_put(s, c, team, &keys[i]);
    if (!err && current > 0)
        err = set_current(s, c, team, current);
    if (!err)
        err = lb_srvsql_exec(s, c, "COMMIT", "keeping sealed keys");
    lb_srvsql_put(s, c);
    return err;
}

static lb_err sql_keys_get(lb_srvstore *base, const char *device, lb_srv_key_fn fn, void *ctx)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_KEYS_GET);
    lb_err err = LB_OK;
    int rc = SQLITE_DONE;
    if (st)
        lb_srvsql_text(st, 1, device);
    while (st && !err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
               (size_t)sqlite3_column_bytes(st, 1)) != 0)
            err = LB_ERR_NOMEM;
    }
    if (!err && (!st || rc != SQLITE_DONE))
        err = lb_srvsql_fail(s, c, st ? rc : sqlite3_errcode(c->db), "reading sealed keys");
    lb_srvsql_put(s, c);
    return err;
}

static lb_err sql_count_envelopes(lb_srvstore *base, int64_t *n)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = lb_srvsql_stmt(c, "SELECT count(*) FROM envelopes");
    lb_err err = LB_OK;
    int rc = st ? sqlite3_step(st) : sqlite3_errcode(c->db);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        err = lb_srvsql_fail(s, c, rc, "counting envelopes");
    lb_srvsql_put(s, c);
    return err;
}

static const lb_srvstore_ops SQL_OPS = {
    sql_close, sql_errmsg, sql_epoch, sql_epoch_set, sql_high_water, sql_team_create, sql_invite, sql_enrol, sql_auth,
    sql_devices, sql_revoke, lb_srvsql_push, lb_srvsql_followed,
    lb_srvsql_caseload_elsewhere, lb_srvsql_pull, sql_key_current, sql_keys_put,
    sql_keys_get, sql_pending, sql_count_envelopes
};
