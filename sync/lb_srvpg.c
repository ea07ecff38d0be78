/* lb_srvpg.c - the plumbing of linkbookd's PostgreSQL backend (see
 * lb_srvpg.h): connections and their pool, prepared statements, binary
 * results, the mapping of failures to lb_err, and transactions that are
 * run again when they lose a race or find their connection gone.
 *
 * Nothing here logs or keeps record content: error details are libpq's
 * messages (which name statements and constraints, never parameter values:
 * statements are prepared, so values are never part of the SQL text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "lb_srvpg.h"

#define CONNECT_TIMEOUT_S "5"
#define CHECK_EVERY_S 10.0        /* a pooled connection re-checks the epoch */

enum { FAIL_NONE, FAIL_LOST, FAIL_RACE, FAIL_OTHER };

int64_t lb_srvpg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- parameters and columns ---------------------------------------------- */

void lb_srvpg_text(lb_srvpg_args *a, const char *v)
{
    a->v[a->n] = v;
    a->len[a->n] = 0;
    a->fmt[a->n++] = 0;
}

void lb_srvpg_int(lb_srvpg_args *a, int64_t v)
{
    snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)v);
    lb_srvpg_text(a, a->num[a->n]);
}

void lb_srvpg_bytes(lb_srvpg_args *a, const void *p, size_t len)
{
    a->v[a->n] = p ? (const char *)p : "";
    a->len[a->n] = (int)len;
    a->fmt[a->n++] = 1;
}

int64_t lb_srvpg_col_int(const PGresult *r, int row, int col)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col), i;
    uint64_t v = 0;
    if (PQgetisnull(r, row, col) || len < 1 || len > 8)
        return 0;
    for (i = 0; i < len; i++)
        v = (v << 8) | p[i];
    if (len < 8 && len > 1 && (p[0] & 0x80))   /* sign-extend int2, int4 */
        v |= ~(uint64_t)0 << (8 * len);
    return (int64_t)v;
}

const char *lb_srvpg_col_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

const unsigned char *lb_srvpg_col_blob(const PGresult *r, int row, int col, size_t *len)
{
    *len = (size_t)PQgetlength(r, row, col);
    return (const unsigned char *)PQgetvalue(r, row, col);
}

int lb_srvpg_col_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

/* ---- failures ------------------------------------------------------------ */

void lb_srvpg_msg(lb_srvpg *s, const char *what, const char *detail)
{
    char clean[200];
    size_t i;
    snprintf(clean, sizeof clean, "%s", detail);
    for (i = 0; clean[i]; i++)
        if (clean[i] == '\n' || clean[i] == '\r' || clean[i] == '\t')
            clean[i] = ' ';
    while (i > 0 && clean[i - 1] == ' ')
        clean[--i] = '\0';
    pthread_mutex_lock(&s->mu);
    snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", what, clean);
    pthread_mutex_unlock(&s->mu);
}

static void drop(lb_srvpg_conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    memset(c->stmts, 0, sizeof c->stmts);
}

/* Classify a failed command (r may be NULL), record it, and drop the
 * connection if it is gone. */
static lb_err fail(lb_srvpg *s, lb_srvpg_conn *c, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *detail = r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
                       : c->pg ? PQerrorMessage(c->pg) : "no connection";
    int lost = !c->pg || PQstatus(c->pg) != CONNECTION_OK ||
               (state && (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3)));
    if (lost) {
        char line[240];
        snprintf(line, sizeof line, "the database is unreachable (%s)", detail);
        lb_srvpg_msg(s, what, line);
        drop(c);
        c->failed = FAIL_LOST;
        return LB_ERR_BUSY;
    }
    lb_srvpg_msg(s, what, detail);
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
                  !strcmp(state, "23505"))) {
        c->failed = FAIL_RACE;
        return LB_ERR_BUSY;
    }
    c->failed = FAIL_OTHER;
    if (state && (!strncmp(state, "53", 2) || !strcmp(state, "54000")))
        return LB_ERR_IO;
    return LB_ERR_INTERNAL;
}

/* ---- connections --------------------------------------------------------- */

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connect c; the epoch is checked on every new connection once the store
 * is open (s->check). */
static lb_err conn_open(lb_srvpg *s, lb_srvpg_conn *c)
{
    /* Later keywords win: the operator's conninfo (dbname, expanded)
     * overrides the defaults before it. */
    const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
    const char *vals[] = { CONNECT_TIMEOUT_S, "linkbookd", s->conninfo, NULL };
    lb_err err;
    drop(c);
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (!c->pg)
        return lb_srvpg_msg(s, "connecting to the database", "out of memory"), LB_ERR_NOMEM;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        err = fail(s, c, NULL, "connecting to the database");
        return err;
    }
    PQsetNoticeProcessor(c->pg, quiet_notice, NULL);
    c->checked = mono_s();
    if (s->check) {
        c->checking = 1;
        err = s->check(s, c);
        c->checking = 0;
        if (err) {
            drop(c);
            return err;
        }
    }
    return LB_OK;
}

lb_srvpg_conn *lb_srvpg_get(lb_srvpg *s)
{
    lb_srvpg_conn *c = &s->conns[lb_srvpool_take(&s->pool, s->nconns)];
    c->used = 0;
    c->failed = FAIL_NONE;
    if (c->pg && s->check && mono_s() - c->checked > CHECK_EVERY_S) {
        c->checked = mono_s();
        c->checking = 1;
        if (s->check(s, c) != LB_OK)
            drop(c);
        c->checking = 0;
    }
    if (!c->pg && conn_open(s, c) != LB_OK) {
        lb_srvpg_put(s, c);
        return NULL;
    }
    return c;
}

void lb_srvpg_put(lb_srvpg *s, lb_srvpg_conn *c)
{
    if (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            drop(c);
        PQclear(r);
    }
    lb_srvpool_give(&s->pool, (int)(c - s->conns));
}

/* ---- statements ---------------------------------------------------------- */

/* The prepared name of sql on c, preparing it first; NULL with *r the
 * failed result (or NULL) when it cannot be. */
static const char *prepared(lb_srvpg_conn *c, const char *sql, char name[16], PGresult **r)
{
    int i;
    *r = NULL;
    for (i = 0; i < LB_SRVPG_STMTS && c->stmts[i]; i++)
        if (c->stmts[i] == sql)
            break;
    if (i == LB_SRVPG_STMTS)
        return NULL;   /* a bug: raise LB_SRVPG_STMTS */
    snprintf(name, 16, "s%d", i);
    if (c->stmts[i])
        return name;
    *r = PQprepare(c->pg, name, sql, 0, NULL);
    if (PQresultStatus(*r) != PGRES_COMMAND_OK)
        return NULL;
    PQclear(*r);
    *r = NULL;
    c->stmts[i] = sql;
    return name;
}

static int result_ok(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

/* One try of a statement (args NULL and simple set: PQexec). */
static PGresult *run_once(lb_srvpg_conn *c, const char *sql, const lb_srvpg_args *a, int simple)
{
    char name[16];
    PGresult *r = NULL;
    if (simple)
        return PQexec(c->pg, sql);
    if (!prepared(c, sql, name, &r))
        return r;
    return PQexecPrepared(c->pg, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                          a ? a->fmt : NULL, 1);
}

static lb_err run(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const lb_srvpg_args *args,
                  int simple, PGresult **res, const char *what)
{
    PGresult *r;
    lb_err err;
    int attempt;
    for (attempt = 0; attempt < 2; attempt++) {
        if (!c->pg && c->checking)
            return LB_ERR_BUSY;
        if (!c->pg && (err = conn_open(s, c)) != LB_OK)
            return err;
        r = run_once(c, sql, args, simple);
        if (result_ok(r)) {
            c->used = 1;
            c->failed = FAIL_NONE;
            if (res)
                *res = r;
            else
                PQclear(r);
            return LB_OK;
        }
        err = fail(s, c, r, what);
        PQclear(r);
        /* A pooled connection that went stale (the database restarted)
         * gets one fresh try, unless something already ran on it. */
        if (c->failed != FAIL_LOST || c->used || c->checking)
            break;
    }
    return err;
}

lb_err lb_srvpg_run(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const lb_srvpg_args *args,
                    PGresult **res, const char *what)
{
    *res = NULL;
    return run(s, c, sql, args, 0, res, what);
}

lb_err lb_srvpg_do(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const lb_srvpg_args *args,
                   const char *what)
{
    return run(s, c, sql, args, 0, NULL, what);
}

lb_err lb_srvpg_cmd(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const char *what)
{
    return run(s, c, sql, NULL, 1, NULL, what);
}

/* ---- transactions -------------------------------------------------------- */

static void rollback(lb_srvpg_conn *c)
{
    PGresult *r;
    if (!c->pg || PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return;
    r = PQexec(c->pg, "ROLLBACK");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        drop(c);
    PQclear(r);
}

/* A short random pause before trying a lost race again. */
static void backoff(int attempt)
{
    struct timespec ts = { 0, 0 };
    long ms = 1 + (long)randombytes_uniform(2u << (attempt < 6 ? attempt : 6));
    ts.tv_nsec = ms * 1000000L;
    nanosleep(&ts, NULL);
}

lb_err lb_srvpg_txn(lb_srvpg *s, const char *begin, lb_srvpg_txn_fn fn, void *ctx,
                    int idempotent, const char *what)
{
    lb_srvpg_conn *c = lb_srvpg_get(s);
    lb_err err = LB_ERR_BUSY;
    int attempt, committing = 0;
    if (!c)
        return LB_ERR_BUSY;
    for (attempt = 0; attempt < LB_SRVPG_TRIES; attempt++) {
        committing = 0;
        c->used = 0;
        err = lb_srvpg_cmd(s, c, begin, what);
        if (!err)
            err = fn(s, c, ctx);
        if (!err) {
            committing = 1;
            err = lb_srvpg_cmd(s, c, "COMMIT", what);
        }
        if (!err)
            break;
        rollback(c);
        if (!(c->failed == FAIL_RACE ||
              (c->failed == FAIL_LOST && (!committing || idempotent) && attempt == 0)))
            break;
        if (c->failed == FAIL_RACE)
            backoff(attempt);
    }
    lb_srvpg_put(s, c);
    return err;
}
