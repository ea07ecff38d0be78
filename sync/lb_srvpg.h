/* lb_srvpg.h - private to the PostgreSQL backend of lb_srvstore: the pool
 * of libpq connections, prepared statements, transactions with retries,
 * and the helpers shared by lb_srvstore_pg.c (opening, migrations, epoch,
 * accounts, keys) and lb_srvpg_sync.c (push, pull).  Not for the server.
 *
 * A connection is used by one thread at a time: lb_srvpg_get() waits for a
 * free one (connecting it first if it has none, or lost it), lb_srvpg_put()
 * hands it back.  Statements are prepared on each connection the first
 * time they run on it (cached by the address of their SQL text) and run
 * with binary results: read columns with lb_srvpg_int / lb_srvpg_str /
 * lb_srvpg_blob.
 *
 * Failures map to lb_err at this boundary:
 *   LB_ERR_BUSY  the database is unreachable (connection refused or lost,
 *                server shutting down), or a transaction lost a race
 *                (deadlock, serialization failure, a concurrent insert of
 *                the same key): try again;
 *   LB_ERR_IO    the database is out of space or resources;
 *   LB_ERR_INTERNAL  anything else (a bug, or a schema that is not ours).
 */
#ifndef LB_SRVPG_H
#define LB_SRVPG_H

#include <pthread.h>
#include <libpq-fe.h>
#include "lb_schema.h"
#include "lb_srvpool.h"
#include "lb_srvstore.h"

/* The PostgreSQL migrations (schema/server_pg/), embedded at build time. */
extern const lb_migration lb_schema_server_pg[];

#define LB_SRVPG_STMTS 64
#define LB_SRVPG_ARGS 12
#define LB_SRVPG_TRIES 8          /* a transaction that loses races is retried */

typedef struct lb_srvpg_conn {
    PGconn *pg;                   /* NULL until connected, or after it broke */
    const char *stmts[LB_SRVPG_STMTS];  /* SQL prepared as "s<index>" */
    double checked;               /* monotonic seconds of the last epoch check */
    int used;                     /* a command succeeded since lb_srvpg_get */
    int failed;                   /* how the last command failed (lb_srvpg.c) */
    int checking;                 /* inside the epoch check: no reconnecting */
} lb_srvpg_conn;

typedef struct lb_srvpg {
    lb_srvstore base;
    char *conninfo;
    pthread_mutex_t mu;           /* guards the pool's flags, errmsg, epoch */
    lb_srvpool pool;              /* which of conns are taken */
    lb_srvpg_conn *conns;
    int nconns;
    char errmsg[256];
    char epoch[LB_SRV_ID_LEN + 1];
    lb_srvstore_log log;
    void *log_ctx;
    /* Run on every new connection, and every few seconds on a pooled one,
     * once the store is open (the epoch check); NULL before. */
    lb_err (*check)(struct lb_srvpg *s, lb_srvpg_conn *c);
} lb_srvpg;

/* The parameters of one statement: text (NULL is SQL NULL), integers
 * (sent as text) or bytes (sent binary). */
typedef struct lb_srvpg_args {
    int n;
    const char *v[LB_SRVPG_ARGS];
    int len[LB_SRVPG_ARGS];
    int fmt[LB_SRVPG_ARGS];
    char num[LB_SRVPG_ARGS][24];
} lb_srvpg_args;

void lb_srvpg_text(lb_srvpg_args *a, const char *v);
void lb_srvpg_int(lb_srvpg_args *a, int64_t v);
void lb_srvpg_bytes(lb_srvpg_args *a, const void *p, size_t len);

/* A connection (NULL when the database cannot be reached: the reason is
 * in errmsg) and its return. */
lb_srvpg_conn *lb_srvpg_get(lb_srvpg *s);
void lb_srvpg_put(lb_srvpg *s, lb_srvpg_conn *c);

/* Run sql (a string constant) with args (NULL: none) as a prepared
 * statement.  *res receives the result on success (PQclear it), NULL on
 * failure; what names the step for errmsg.  A connection found broken
 * before anything succeeded on it is connected again and the statement
 * run once more. */
lb_err lb_srvpg_run(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const lb_srvpg_args *args,
                    PGresult **res, const char *what);

/* The same, for a statement whose rows are not read. */
lb_err lb_srvpg_do(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const lb_srvpg_args *args,
                   const char *what);

/* A plain command without parameters (BEGIN, COMMIT, ...). */
lb_err lb_srvpg_cmd(lb_srvpg *s, lb_srvpg_conn *c, const char *sql, const char *what);

/* A transaction: BEGIN, fn, COMMIT; rolled back when anything fails, and
 * run again (from BEGIN, on a fresh connection if it broke before the
 * COMMIT was sent) while it fails with a race or a connection lost early,
 * up to LB_SRVPG_TRIES times.  fn must be safe to run again: it writes
 * only to the database and to its ctx, which it resets itself.  When
 * idempotent is set, a connection lost during COMMIT is retried too (the
 * work can be redone without harm). */
typedef lb_err (*lb_srvpg_txn_fn)(lb_srvpg *s, lb_srvpg_conn *c, void *ctx);
lb_err lb_srvpg_txn(lb_srvpg *s, const char *begin, lb_srvpg_txn_fn fn, void *ctx,
                    int idempotent, const char *what);

/* Columns of a binary result: int2/int4/int8/bool as int64; text as a
 * NUL-terminated string ("" when NULL); bytea as a pointer and length. */
int64_t lb_srvpg_col_int(const PGresult *r, int row, int col);
const char *lb_srvpg_col_str(const PGresult *r, int row, int col);
const unsigned char *lb_srvpg_col_blob(const PGresult *r, int row, int col, size_t *len);
int lb_srvpg_col_null(const PGresult *r, int row, int col);

/* Record a failure that is not libpq's (what: detail). */
void lb_srvpg_msg(lb_srvpg *s, const char *what, const char *detail);

int64_t lb_srvpg_now_ms(void);

/* The sync half, in lb_srvpg_sync.c. */
lb_err lb_srvpg_push(lb_srvstore *s, const lb_srv_who *who, const char *limit,
                     const lb_envelope *envs, size_t n, const lb_srv_push_sink *sink);
lb_err lb_srvpg_followed(lb_srvstore *s, const lb_srv_who *who, lb_srv_caseload_fn fn,
                         void *ctx);
lb_err lb_srvpg_caseload_elsewhere(lb_srvstore *s, const char *team, const char *caseload,
                                   int *yes);
lb_err lb_srvpg_pull(lb_srvstore *s, const char *team, const char *skip_from,
                     lb_srv_cursor *cursors, size_t n, size_t max_bytes, size_t max_count,
                     lb_srv_envelope_fn fn, void *ctx, int *more);

#endif
