/* lb_srvsql.h - private to the SQLite backend of lb_srvstore: the pool of
 * connections and the helpers shared by lb_srvstore_sqlite.c (opening,
 * accounts, keys) and lb_srvsql_sync.c (push, pull).  Not for the server.
 *
 * A connection is used by one thread at a time: lb_srvsql_get() waits for a
 * free one, lb_srvsql_put() resets its statements and hands it back.
 */
#ifndef LB_SRVSQL_H
#define LB_SRVSQL_H

#include <pthread.h>
#include <sqlite3.h>
#include "lb_srvpool.h"
#include "lb_srvstore.h"

#define LB_SRVSQL_FILE "linkbookd.db"
#define LB_SRVSQL_POOL 8
_Static_assert(LB_SRVSQL_POOL <= LB_SRVPOOL_MAX, "the pool holds up to LB_SRVPOOL_MAX");
#define LB_SRVSQL_STMTS 64

typedef struct lb_srvsql_conn {
    sqlite3 *db;
    struct { const char *sql; sqlite3_stmt *st; } stmts[LB_SRVSQL_STMTS];
    pthread_mutex_t *write_mu; /* the pool's writer lock (lb_srvsql.write_mu) */
    int writer;                /* holds it: between BEGIN IMMEDIATE and its end */
} lb_srvsql_conn;

typedef struct lb_srvsql {
    lb_srvstore base;
    pthread_mutex_t mu;       /* guards the pool's flags and errmsg */
    /* One writer at a time, queued here rather than in SQLite's busy
     * handler (which sleeps and polls, up to 100 ms a time): taken by
     * "BEGIN IMMEDIATE" through lb_srvsql_exec, given back when the
     * transaction ends (commit, rollback, or the connection's put). */
    pthread_mutex_t write_mu;
    lb_srvpool pool;          /* which of conns are taken */
    /* Group commit (lb_srvsql_push): pushes wait in this queue, and one of
     * them at a time stores a run of them in one transaction. */
    pthread_mutex_t push_mu;  /* guards push_queue, push_tail, committing */
    struct lb_srvsql_job *push_queue, *push_tail;
    int committing;
    lb_srvsql_conn conns[LB_SRVSQL_POOL];
    int nconns;
    char errmsg[256];
} lb_srvsql;

lb_srvsql_conn *lb_srvsql_get(lb_srvsql *s);
void lb_srvsql_put(lb_srvsql *s, lb_srvsql_conn *c);

/* The cached statement for sql (a string constant: cached by address),
 * reset and unbound; NULL on failure (see sqlite3_errcode). */
sqlite3_stmt *lb_srvsql_stmt(lb_srvsql_conn *c, const char *sql);

/* Record what failed and map the sqlite code to an lb_err. */
lb_err lb_srvsql_fail(lb_srvsql *s, lb_srvsql_conn *c, int rc, const char *what);

lb_err lb_srvsql_exec(lb_srvsql *s, lb_srvsql_conn *c, const char *sql, const char *what);
void lb_srvsql_rollback(lb_srvsql_conn *c);

/* Bind text (NULL binds NULL). */
int lb_srvsql_text(sqlite3_stmt *st, int i, const char *v);

int64_t lb_srvsql_now_ms(void);

/* The sync half, in lb_srvsql_sync.c. */
/* Pushes waiting in the group commit's queue (for tests). */
int lb_srvsql_queued(lb_srvsql *s);
lb_err lb_srvsql_push(lb_srvstore *s, const lb_srv_who *who, const char *limit,
                      const lb_envelope *envs, size_t n, const lb_srv_push_sink *sink);
lb_err lb_srvsql_followed(lb_srvstore *s, const lb_srv_who *who, lb_srv_caseload_fn fn,
                          void *ctx);
lb_err lb_srvsql_caseload_elsewhere(lb_srvstore *s, const char *team, const char *caseload,
                                    int *yes);
lb_err lb_srvsql_pull(lb_srvstore *s, const char *team, const char *skip_from,
                      lb_srv_cursor *cursors, size_t n, size_t max_bytes, size_t max_count,
                      lb_srv_envelope_fn fn, void *ctx, int *more);

#endif
