/* lb_store_priv.h - what the modules of the core share about a store.
 * Not installed and not for front ends: they use lb_store.h.
 */
#ifndef LB_STORE_PRIV_H
#define LB_STORE_PRIV_H

#include <sqlite3.h>
#include "lb_store.h"
#include "lb_hlc.h"

#define LB_STMT_CACHE 48
#define LB_ERRMSG_LEN 512
#define LB_ACTIVE_CACHE 32
#define LB_POOL_LEN 1024

struct lb_store {
    sqlite3 *db;
    lb_keyring *keys;           /* NULL while locked */
    char *dir;
    char store_id[LB_ID_HEX + 1];
    char device[LB_ID_HEX + 1];
    char *author, *role, *caseload;
    lb_hlc hlc;
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    int in_tx;                  /* an explicit lb_store_begin is open */
    unsigned refs;              /* lb_store_retain calls not yet closed */
    /* People recently seen past "referred", so that a contact need not
     * look them up or read them again; emptied whenever any person record
     * changes, records are cleared or a write is rolled back
     * (lb_store_forget_active). */
    char active[LB_ACTIVE_CACHE][LB_ID_HEX + 1];
    unsigned active_next;
    /* Random bytes for new ids, drawn from the system in blocks; refilled
     * in a forked child, which must not repeat its parent's ids. */
    unsigned char pool[LB_POOL_LEN];
    size_t pool_used;
    long pool_pid;
    struct { const char *sql; sqlite3_stmt *st; } stmts[LB_STMT_CACHE];
    char errmsg[LB_ERRMSG_LEN];
};

/* Set the store's message and return err.  fmt is printf-like. */
lb_err lb_store_fail(lb_store *s, lb_err err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Map an SQLite result code to an lb_err with a message saying what was
 * being done (never record content). */
lb_err lb_store_sqlfail(lb_store *s, int rc, const char *what);

/* A cached prepared statement for a static SQL string (compared by
 * address), reset and cleared of bindings.  NULL on failure (message set). */
sqlite3_stmt *lb_store_stmt(lb_store *s, const char *sql);

/* Run a write under the caller's explicit transaction or in one of its own:
 * lb_store_write_begin sets *own when it opened one; lb_store_write_end
 * commits it on LB_OK and rolls it back otherwise, returning err (or the
 * commit's failure). */
lb_err lb_store_write_begin(lb_store *s, int *own);
lb_err lb_store_write_end(lb_store *s, int own, lb_err err);

/* A key/value settings table of the store (meta, sync_meta): get_sql and
 * put_sql are that table's static SQL ("SELECT value ... WHERE key = ?1",
 * "INSERT OR REPLACE ... VALUES (?1, ?2)").  Get copies the value into a
 * new NUL-terminated buffer, *val NULL when key is absent; what is the
 * settings "of" goes into failure messages. */
lb_err lb_store_kv_get(lb_store *s, const char *get_sql, const char *key,
                       unsigned char **val, size_t *len, const char *of);
lb_err lb_store_kv_put(lb_store *s, const char *put_sql, const char *key,
                       const void *val, size_t len, const char *of);

/* lb_change.c: read the change in the current row of st, whose columns
 * from base on are those of the changes table in the order id, kind,
 * record, person, caseload, hlc, device, schema, body, seq; decrypted into
 * *c (release with lb_change_clear).  LB_ERR_TAMPERED naming it. */
struct lb_change;
lb_err lb_change_from_row(lb_store *s, sqlite3_stmt *st, int base, struct lb_change *c);

/* A new random id (as lb_id_new), from the store's pool of random bytes. */
void lb_store_new_id(lb_store *s, char out[LB_ID_HEX + 1]);

/* The cache of people known to be past "referred": is pid in it, remember
 * it, forget them all. */
int lb_store_known_active(const lb_store *s, const char *pid);
void lb_store_note_active(lb_store *s, const char *pid);
void lb_store_forget_active(lb_store *s);

/* LB_ERR_LOCKED with a message unless the store is unlocked. */
lb_err lb_store_need_keys(lb_store *s);

/* Replace who records in this store (every field required) and save it
 * sealed, in the caller's transaction or one of its own.  On failure the
 * identity in memory is unchanged; a caller whose own transaction rolls back
 * afterwards sets the old identity again. */
lb_err lb_store_set_identity(lb_store *s, const lb_identity *who);

#endif
