/* lb_store.h - the device store: one directory holding one SQLite database.
 *
 * A store is created unlocked, opened locked, and unlocked with its
 * passphrase.  Everything sensitive in it is ciphertext (see lb_crypto.h);
 * the database runs in WAL mode with temporary tables in memory, so no
 * plaintext reaches the directory.  Schema migrations from schema/device
 * are applied on create and open.
 *
 * A store handle is not thread-safe; use one per thread.  Library code never
 * prints: after a failure, lb_store_errmsg() says what happened and, where
 * it can, what to do.
 */
#ifndef LB_STORE_H
#define LB_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "lb_err.h"
#include "lb_crypto.h"

typedef struct lb_store lb_store;

/* Who records in this store.  Every field may be NULL for its default:
 * author $USER or "linkbook", role "link-worker", caseload "local". */
typedef struct lb_identity {
    const char *author;
    const char *role;
    const char *caseload;
} lb_identity;

/* Name of the database file inside a store directory. */
#define LB_STORE_FILE "store.db"

/* Create a store in dir (created with mode 0700 if missing; it must not
 * already hold a store: LB_ERR_EXISTS).  kdf may be NULL for the default
 * (Argon2id INTERACTIVE).  On success *out is open and unlocked.
 *
 * As with sqlite3_open, *out receives a handle even on failure (except
 * LB_ERR_NOMEM and LB_ERR_CRYPTO, where it is NULL), locked, so that
 * lb_store_errmsg() can say why; the caller closes it in every case. */
lb_err lb_store_create(const char *dir, const char *pass, size_t passlen,
                       const lb_identity *who, const lb_kdf_params *kdf,
                       lb_store **out);

/* Make dir and its missing parents, mode 0700 for what it makes (stores
 * and server data are private); 0, or -1 with errno set. */
int lb_store_make_dir(const char *dir);

/* Open an existing store, locked.  LB_ERR_NOTFOUND if dir holds none,
 * LB_ERR_CORRUPT if the file is not a healthy linkbook store.  Like
 * lb_store_create, *out is set even on failure: read the message, close. */
lb_err lb_store_open(const char *dir, lb_store **out);

/* Whether dir holds a store that lb_store_create must not replace: 1 for
 * a finished store, a damaged one, or one that cannot be read; 0 when there
 * is none, or only what a create killed half-way left (create takes it). */
int lb_store_exists(const char *dir);

/* Derive the key from pass and unwrap the data key.  LB_ERR_PASSPHRASE
 * leaves the store locked and unchanged. */
lb_err lb_store_unlock(lb_store *s, const char *pass, size_t passlen);

/* Wipe every key from memory; the store stays open and must be unlocked
 * again before records can be read or written.  NULL is a no-op. */
void lb_store_lock(lb_store *s);
int lb_store_is_unlocked(const lb_store *s);

/* Lock and close; NULL is a no-op.  A handle retained n times closes at
 * the (n+1)th call: until then a call only drops one reference. */
void lb_store_close(lb_store *s);

/* Take another reference to s, for a front end that keeps one unlocked
 * store across commands which each close what they were given. */
void lb_store_retain(lb_store *s);

/* Change the passphrase: the data key is rewrapped, records are untouched.
 * kdf may be NULL to keep the current cost with a fresh salt. */
lb_err lb_store_passwd(lb_store *s, const char *oldpass, size_t oldlen,
                       const char *newpass, size_t newlen, const lb_kdf_params *kdf);

/* The detail of the last failure (never NULL, "" when none).  Valid until
 * the next call on s. */
const char *lb_store_errmsg(const lb_store *s);

/* Group several writes into one transaction (batching).  Writes outside an
 * explicit transaction commit one by one. */
lb_err lb_store_begin(lb_store *s);
lb_err lb_store_commit(lb_store *s);
void lb_store_rollback(lb_store *s);

/* This store's identity: the device id (32 hex) and who records here. */
const char *lb_store_device(const lb_store *s);
const char *lb_store_author(const lb_store *s);
const char *lb_store_role(const lb_store *s);
const char *lb_store_caseload(const lb_store *s);
const char *lb_store_dir(const lb_store *s);

/* Argon2id parameters in force (for display and benchmarks). */
void lb_store_kdf(const lb_store *s, lb_kdf_params *out);

/* Replace the wall clock (milliseconds since the epoch) used for HLC stamps
 * and for "today"; NULL restores the system clock.  For tests and replays. */
void lb_store_set_clock(lb_store *s, uint64_t (*now_ms)(void *ctx), void *ctx);
uint64_t lb_store_now_ms(const lb_store *s);

/* Today's date (YYYY-MM-DD, UTC) by the store's clock. */
void lb_store_today(const lb_store *s, char out[11]);

/* Check the whole store: SQLite integrity, then every change and record
 * decrypts and authenticates.  LB_ERR_TAMPERED / LB_ERR_CORRUPT name the
 * first bad row in lb_store_errmsg(). */
lb_err lb_store_check(lb_store *s);

#endif
