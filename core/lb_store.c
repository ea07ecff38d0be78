/* lb_store.c - the device store: files, migrations, keys, transactions.
 * See lb_store.h for the contract.  Records and changes live in lb_change.c
 * and lb_record.c; this module owns the database handle and the keyring.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include "lb_store_priv.h"
#include "lb_schema.h"
#include "lb_change.h"
#include "lb_record.h"

#define WRAP_AD_PREFIX "linkbook data key|"
#define IDENTITY_AD "linkbook identity|"

lb_err lb_store_fail(lb_store *s, lb_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

lb_err lb_store_sqlfail(lb_store *s, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return lb_store_fail(s, LB_ERR_NOMEM, "out of memory while %s", what);
    case SQLITE_FULL:
        return lb_store_fail(s, LB_ERR_IO, "the disk is full while %s; nothing was written "
                             "(free some space and try again)", what);
    case SQLITE_IOERR: case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_PERM:
        return lb_store_fail(s, LB_ERR_IO, "cannot read or write the store file while %s (%s)",
                             what, sqlite3_errstr(rc));
    case SQLITE_BUSY: case SQLITE_LOCKED:
        return lb_store_fail(s, LB_ERR_BUSY, "the store is busy while %s (another linkbook "
                             "is writing; try again)", what);
    case SQLITE_CORRUPT: case SQLITE_NOTADB: case SQLITE_FORMAT:
        return lb_store_fail(s, LB_ERR_CORRUPT, "the store file %s/%s is damaged (%s while %s)",
                             s->dir, LB_STORE_FILE, sqlite3_errstr(rc), what);
    default:
        return lb_store_fail(s, LB_ERR_INTERNAL, "database error while %s: %s", what,
                             s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    }
}

sqlite3_stmt *lb_store_stmt(lb_store *s, const char *sql)
{
    int i, rc;
    for (i = 0; i < LB_STMT_CACHE && s->stmts[i].sql; i++) {
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            return s->stmts[i].st;
        }
    }
    if (i == LB_STMT_CACHE) {
        lb_store_fail(s, LB_ERR_INTERNAL, "statement cache is full");
        return NULL;
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i].st, NULL);
    if (rc != SQLITE_OK) {
        lb_store_sqlfail(s, rc, "preparing a query");
        return NULL;
    }
    s->stmts[i].sql = sql;
    return s->stmts[i].st;
}

static void stmts_finalize(lb_store *s)
{
    int i;
    for (i = 0; i < LB_STMT_CACHE && s->stmts[i].sql; i++) {
        sqlite3_finalize(s->stmts[i].st);
        s->stmts[i].sql = NULL;
        s->stmts[i].st = NULL;
    }
}

static lb_err exec_sql(lb_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LB_OK : lb_store_sqlfail(s, rc, what);
}

void lb_store_new_id(lb_store *s, char out[LB_ID_HEX + 1])
{
    long pid = (long)getpid();
    if (s->pool_pid != pid || s->pool_used + LB_ID_HEX / 2 > sizeof s->pool) {
        randombytes_buf(s->pool, sizeof s->pool);
        s->pool_used = 0;
        s->pool_pid = pid;
    }
    sodium_bin2hex(out, LB_ID_HEX + 1, s->pool + s->pool_used, LB_ID_HEX / 2);
    sodium_memzero(s->pool + s->pool_used, LB_ID_HEX / 2);
    s->pool_used += LB_ID_HEX / 2;
}

int lb_store_known_active(const lb_store *s, const char *pid)
{
    unsigned i;
    for (i = 0; i < LB_ACTIVE_CACHE; i++)
        if (s->active[i][0] && memcmp(s->active[i], pid, LB_ID_HEX) == 0)
            return 1;
    return 0;
}

void lb_store_note_active(lb_store *s, const char *pid)
{
    memcpy(s->active[s->active_next], pid, LB_ID_HEX + 1);
    s->active_next = (s->active_next + 1) % LB_ACTIVE_CACHE;
}

void lb_store_forget_active(lb_store *s)
{
    memset(s->active, 0, sizeof s->active);
}

lb_err lb_store_need_keys(lb_store *s)
{
    if (!s->keys)
        return lb_store_fail(s, LB_ERR_LOCKED, "the store is locked (unlock it first)");
    return LB_OK;
}

lb_err lb_store_write_begin(lb_store *s, int *own)
{
    lb_err err = lb_store_need_keys(s);
    *own = 0;
    if (err || !sqlite3_get_autocommit(s->db))
        return err; /* joins the transaction already open */
    err = exec_sql(s, "BEGIN IMMEDIATE", "starting a write");
    if (!err)
        *own = 1;
    return err;
}

lb_err lb_store_write_end(lb_store *s, int own, lb_err err)
{
    if (!own)
        return err;
    if (!err)
        err = exec_sql(s, "COMMIT", "committing a write");
    if (err) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        lb_store_forget_active(s); /* what it cached may be undone */
    }
    return err;
}

lb_err lb_store_begin(lb_store *s)
{
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    if (s->in_tx)
        return lb_store_fail(s, LB_ERR_INVALID, "a transaction is already open");
    err = exec_sql(s, "BEGIN IMMEDIATE", "starting a transaction");
    if (!err)
        s->in_tx = 1;
    return err;
}

lb_err lb_store_commit(lb_store *s)
{
    lb_err err;
    if (!s->in_tx)
        return lb_store_fail(s, LB_ERR_INVALID, "no transaction is open");
    err = exec_sql(s, "COMMIT", "committing");
    if (err) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        lb_store_forget_active(s);
    }
    s->in_tx = 0;
    return err;
}

void lb_store_rollback(lb_store *s)
{
    if (s && s->in_tx) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_tx = 0;
        lb_store_forget_active(s);
    }
}

/* ---- meta ---------------------------------------------------------------- */

static const char SQL_META_GET[] = "SELECT value FROM meta WHERE key = ?1";
static const char SQL_META_PUT[] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)";

lb_err lb_store_kv_get(lb_store *s, const char *get_sql, const char *key,
                       unsigned char **val, size_t *len, const char *of)
{
    char what[64];
    sqlite3_stmt *st = lb_store_stmt(s, get_sql);
    int rc, n;
    *val = NULL;
    *len = 0;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        n = sqlite3_column_bytes(st, 0);
        if ((*val = malloc((size_t)n + 1)) != NULL) {
            if (n)
                memcpy(*val, sqlite3_column_blob(st, 0), (size_t)n);
            (*val)[n] = '\0';
            *len = (size_t)n;
        }
    }
    sqlite3_reset(st);
    snprintf(what, sizeof what, "reading the %s", of);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, what);
    return rc == SQLITE_ROW && !*val ? LB_ERR_NOMEM : LB_OK;
}

lb_err lb_store_kv_put(lb_store *s, const char *put_sql, const char *key,
                       const void *val, size_t len, const char *of)
{
    char what[64];
    sqlite3_stmt *st = lb_store_stmt(s, put_sql);
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    snprintf(what, sizeof what, "saving the %s", of);
    return rc == SQLITE_DONE ? LB_OK : lb_store_sqlfail(s, rc, what);
}

/* Meta value key in a new NUL-terminated buffer; a missing one means the
 * store is damaged or unfinished. */
static lb_err meta_get(lb_store *s, const char *key, unsigned char **val, size_t *len)
{
    lb_err err = lb_store_kv_get(s, SQL_META_GET, key, val, len, "store settings");
    if (!err && !*val)
        return lb_store_fail(s, LB_ERR_CORRUPT, "the store %s has no '%s' setting: it is "
                             "damaged or was never finished (restore it from a backup)", s->dir, key);
    return err;
}

static lb_err meta_put(lb_store *s, const char *key, const void *val, size_t len)
{
    return lb_store_kv_put(s, SQL_META_PUT, key, val, len, "store settings");
}

static lb_err kdf_save(lb_store *s, const lb_kdf_params *p)
{
    char salt[2 * LB_SALT_LEN + 1], *text;
    json_t *j;
    lb_err err;
    sodium_bin2hex(salt, sizeof salt, p->salt, LB_SALT_LEN);
    j = json_pack("{s:s, s:I, s:I, s:s}", "alg", "argon2id13", "opslimit",
                  (json_int_t)p->opslimit, "memlimit", (json_int_t)p->memlimit, "salt", salt);
    text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text)
        return LB_ERR_NOMEM;
    err = meta_put(s, "kdf", text, strlen(text));
    free(text);
    return err;
}

static lb_err kdf_load(lb_store *s, lb_kdf_params *p)
{
    unsigned char *text;
    size_t len;
    json_int_t ops = 0, mem = 0;
    const char *alg = NULL, *salt = NULL;
    size_t saltlen = 0;
    json_t *j;
    lb_err err = meta_get(s, "kdf", &text, &len);
    if (err)
        return err;
    j = json_loadb((const char *)text, len, 0, NULL);
    free(text);
    if (!j || json_unpack(j, "{s:s, s:I, s:I, s:s}", "alg", &alg, "opslimit", &ops,
                          "memlimit", &mem, "salt", &salt) != 0 ||
        strcmp(alg, "argon2id13") != 0 || ops <= 0 || mem <= 0 ||
        sodium_hex2bin(p->salt, LB_SALT_LEN, salt, strlen(salt), NULL, &saltlen, NULL) != 0 ||
        saltlen != LB_SALT_LEN) {
        json_decref(j);
        return lb_store_fail(s, LB_ERR_CORRUPT, "the key settings of store %s are damaged "
                             "(restore it from a backup)", s->dir);
    }
    p->opslimit = (uint64_t)ops;
    p->memlimit = (size_t)mem;
    json_decref(j);
    return LB_OK;
}

/* ---- migrations ---------------------------------------------------------- */

static int user_version(lb_store *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int latest_version(void)
{
    const lb_migration *m;
    int v = 0;
    for (m = lb_schema_device; m->version; m++)
        v = m->version;
    return v;
}

/* Apply every migration newer than the file: each in its own transaction,
 * or all in the caller's when in_tx (a new store is made in one). */
static lb_err migrate(lb_store *s, int in_tx)
{
    const lb_migration *m;
    char pragma[64];
    int cur = user_version(s);
    lb_err err = LB_OK;
    if (cur < 0)
        return lb_store_sqlfail(s, sqlite3_errcode(s->db), "reading the schema version");
    if (cur > latest_version())
        return lb_store_fail(s, LB_ERR_VERSION, "store %s has schema version %d; this linkbook "
                             "knows up to %d (upgrade linkbook)", s->dir, cur, latest_version());
    for (m = lb_schema_device; m->version && !err; m++) {
        if (m->version <= cur)
            continue;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
        if (!in_tx)
            err = exec_sql(s, "BEGIN IMMEDIATE", "upgrading the store");
        if (!err)
            err = exec_sql(s, m->sql, m->name);
        if (!err)
            err = exec_sql(s, pragma, "upgrading the store");
        if (!err && !in_tx)
            err = exec_sql(s, "COMMIT", "upgrading the store");
        if (err && !in_tx)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return err;
}

/* ---- files --------------------------------------------------------------- */

int lb_store_make_dir(const char *dir)
{
    char *p, *copy = strdup(dir);
    int rc = 0;
    if (!copy)
        return -1;
    for (p = copy + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    if (rc == 0 && mkdir(copy, 0700) != 0 && errno != EEXIST)
        rc = -1;
    free(copy);
    return rc;
}

static char *db_path(const char *dir)
{
    size_t n = strlen(dir) + sizeof LB_STORE_FILE + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", dir, LB_STORE_FILE);
    return path;
}

static uint64_t system_now_ms(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static lb_err store_alloc(const char *dir, lb_store **out)
{
    lb_store *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return LB_ERR_NOMEM;
    }
    s->now_ms = system_now_ms;
    *out = s;
    return LB_OK;
}

/* Open the database file of s (creating it if create) and set it up. */
static lb_err db_open(lb_store *s, int create)
{
    char *path = db_path(s->dir);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc;
    lb_err err;
    if (!path)
        return LB_ERR_NOMEM;
    rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    free(path);
    if (rc != SQLITE_OK)
        return lb_store_sqlfail(s, rc, "opening the store file");
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    /* WAL for crash safety; FULL so a committed record survives power loss;
     * temporary tables and sorts in memory so nothing spills to temp files.
     * No memory map: every page read goes through the 16 MiB page cache, so
     * a process's memory stays bounded whatever the store's size (a mapped
     * store counted in full against it once a query had scanned it). */
    err = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                      "PRAGMA temp_store=MEMORY; PRAGMA trusted_schema=OFF; "
                      "PRAGMA cache_size=-16384; PRAGMA mmap_size=0",
                   "opening the store");
    return err;
}

static const char SQL_FINISHED[] = "SELECT 1 FROM meta WHERE key = 'wrapped_key'";

/* Does the (migrated) store hold its wrapped key, the last thing made? */
static lb_err store_finished(lb_store *s, int *yes)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_FINISHED);
    int rc;
    if (!st)
        return lb_store_sqlfail(s, sqlite3_errcode(s->db), "reading the store");
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, "reading the store settings");
    *yes = rc == SQLITE_ROW;
    return LB_OK;
}

static lb_err meta_get_id(lb_store *s, const char *key, char out[LB_ID_HEX + 1])
{
    unsigned char *v;
    size_t len;
    lb_err err = meta_get(s, key, &v, &len);
    if (err)
        return err;
    if (len != LB_ID_HEX) {
        free(v);
        return lb_store_fail(s, LB_ERR_CORRUPT, "store %s: setting '%s' is damaged", s->dir, key);
    }
    memcpy(out, v, LB_ID_HEX + 1);
    free(v);
    return LB_OK;
}

/* ---- keys and identity ------------------------------------------------------ */

static size_t ad_text(const lb_store *s, const char *prefix, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s%s", prefix, s->store_id);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static lb_err identity_save(lb_store *s)
{
    char ad[96], *text;
    unsigned char *sealed;
    size_t adlen = ad_text(s, IDENTITY_AD, ad, sizeof ad), len;
    json_t *j = json_pack("{s:s, s:s, s:s}", "author", s->author, "role", s->role,
                          "caseload", s->caseload);
    lb_err err;
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return LB_ERR_NOMEM;
    len = strlen(text);
    sealed = malloc(len + LB_SEAL_OVERHEAD);
    err = sealed ? lb_seal(s->keys, (unsigned char *)text, len, (unsigned char *)ad, adlen, sealed)
                 : LB_ERR_NOMEM;
    if (!err)
        err = meta_put(s, "identity", sealed, len + LB_SEAL_OVERHEAD);
    free(sealed);
    free(text);
    return err;
}

static lb_err identity_set(lb_store *s, const char *author, const char *role, const char *caseload)
{
    char *a = strdup(author), *r = strdup(role), *c = strdup(caseload);
    if (!a || !r || !c) {
        free(a); free(r); free(c);
        return LB_ERR_NOMEM;
    }
    free(s->author); free(s->role); free(s->caseload);
    s->author = a; s->role = r; s->caseload = c;
    return LB_OK;
}

static lb_err identity_load(lb_store *s)
{
    char ad[96];
    size_t adlen = ad_text(s, IDENTITY_AD, ad, sizeof ad), len;
    unsigned char *sealed, *plain = NULL;
    const char *a, *r, *c;
    json_t *j = NULL;
    lb_err err = meta_get(s, "identity", &sealed, &len);
    if (err)
        return err;
    if (len < LB_SEAL_OVERHEAD || !(plain = malloc(len - LB_SEAL_OVERHEAD + 1)))
        err = len < LB_SEAL_OVERHEAD ? LB_ERR_TAMPERED : LB_ERR_NOMEM;
    if (!err)
        err = lb_open(s->keys, sealed, len, (unsigned char *)ad, adlen, plain);
    if (!err) {
        j = json_loadb((char *)plain, len - LB_SEAL_OVERHEAD, 0, NULL);
        sodium_memzero(plain, len - LB_SEAL_OVERHEAD);
        if (!j || json_unpack(j, "{s:s, s:s, s:s}", "author", &a, "role", &r, "caseload", &c))
            err = LB_ERR_CORRUPT;
        else
            err = identity_set(s, a, r, c);
    }
    if (err == LB_ERR_TAMPERED || err == LB_ERR_CORRUPT)
        lb_store_fail(s, err, "the identity setting of store %s failed its integrity check "
                      "(restore the store from a backup)", s->dir);
    json_decref(j);
    free(plain);
    free(sealed);
    return err;
}

lb_err lb_store_set_identity(lb_store *s, const lb_identity *who)
{
    char *a = s->author, *r = s->role, *c = s->caseload;
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (err)
        return err;
    s->author = s->role = s->caseload = NULL;
    err = identity_set(s, who->author, who->role, who->caseload);
    if (!err)
        err = identity_save(s);
    err = lb_store_write_end(s, own, err);
    if (err) {
        free(s->author); free(s->role); free(s->caseload);
        s->author = a; s->role = r; s->caseload = c;
        return err;
    }
    free(a); free(r); free(c);
    return LB_OK;
}

/* Wrap s->keys under a key derived from pass with p, and save both. */
static lb_err keys_save(lb_store *s, const lb_kdf_params *p, const char *pass, size_t passlen)
{
    unsigned char kek[LB_KEY_LEN], wrapped[LB_KEY_LEN + LB_SEAL_OVERHEAD];
    char ad[96];
    size_t adlen = ad_text(s, WRAP_AD_PREFIX, ad, sizeof ad);
    lb_err err = lb_kdf_derive(p, pass, passlen, kek);
    if (err == LB_ERR_INVALID)
        lb_store_fail(s, err, "key derivation limits below Argon2id INTERACTIVE are refused");
    if (!err)
        err = lb_keyring_wrap(s->keys, kek, (unsigned char *)ad, adlen, wrapped);
    sodium_memzero(kek, sizeof kek);
    if (!err)
        err = kdf_save(s, p);
    if (!err)
        err = meta_put(s, "wrapped_key", wrapped, sizeof wrapped);
    return err;
}

/* Derive from pass and unwrap the data key into *out. */
static lb_err keys_unwrap(lb_store *s, const char *pass, size_t passlen, lb_keyring **out)
{
    unsigned char kek[LB_KEY_LEN], *wrapped = NULL;
    char ad[96];
    size_t adlen = ad_text(s, WRAP_AD_PREFIX, ad, sizeof ad), len;
    lb_kdf_params p;
    lb_err err = kdf_load(s, &p);
    if (!err)
        err = meta_get(s, "wrapped_key", &wrapped, &len);
    if (!err)
        err = lb_kdf_derive(&p, pass, passlen, kek);
    if (!err)
        err = lb_keyring_unwrap(kek, wrapped, len, (unsigned char *)ad, adlen, out);
    sodium_memzero(kek, sizeof kek);
    free(wrapped);
    if (err == LB_ERR_PASSPHRASE)
        lb_store_fail(s, err, "wrong passphrase for store %s", s->dir);
    else if (err == LB_ERR_CORRUPT)
        lb_store_fail(s, err, "the wrapped key of store %s is damaged (restore it from a backup)",
                      s->dir);
    return err;
}

/* ---- public ---------------------------------------------------------------- */

static const char SQL_MAX_HLC[] = "SELECT max(hlc) FROM changes";

static lb_err hlc_load(lb_store *s)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_MAX_HLC);
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return lb_store_sqlfail(s, rc, "reading the change log");
    s->hlc.last = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LB_OK;
}

static lb_err create_file(lb_store *s)
{
    char *path = db_path(s->dir);
    int fd;
    if (!path)
        return LB_ERR_NOMEM;
    if (lb_store_make_dir(s->dir) != 0) {
        free(path);
        return lb_store_fail(s, LB_ERR_IO, "cannot create the folder %s (%s)", s->dir, strerror(errno));
    }
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    free(path);
    if (fd < 0)
        return lb_store_fail(s, LB_ERR_IO, "cannot create a store in %s (%s)", s->dir, strerror(errno));
    close(fd);
    return LB_OK;
}

static lb_err create_keys(lb_store *s, const char *pass, size_t passlen,
                          const lb_identity *who, const lb_kdf_params *kdf)
{
    lb_kdf_params p;
    const char *user = getenv("USER");
    lb_err err;
    if (kdf)
        p = *kdf;
    else
        lb_kdf_params_default(&p);
    lb_id_new(s->store_id);
    lb_id_new(s->device);
    err = identity_set(s, who && who->author ? who->author : user && *user ? user : "linkbook",
                       who && who->role ? who->role : "link-worker",
                       who && who->caseload ? who->caseload : "local");
    if (!err)
        err = lb_keyring_generate(&s->keys);
    if (!err)
        err = meta_put(s, "store_id", s->store_id, LB_ID_HEX);
    if (!err)
        err = meta_put(s, "device", s->device, LB_ID_HEX);
    if (!err)
        err = keys_save(s, &p, pass, passlen);
    if (!err)
        err = identity_save(s);
    return err;
}

/* Schema, keys and identity in one transaction: a create killed half-way
 * leaves no half-store, only an empty file that init takes again. */
static lb_err create_all(lb_store *s, const char *pass, size_t passlen,
                         const lb_identity *who, const lb_kdf_params *kdf)
{
    int finished = 0;
    lb_err err = exec_sql(s, "BEGIN IMMEDIATE", "creating the store");
    if (err)
        return err;
    err = migrate(s, 1);
    if (!err)
        err = store_finished(s, &finished);
    if (!err && finished)
        err = lb_store_fail(s, LB_ERR_EXISTS, "%s already holds a linkbook store (nothing was "
                            "changed)", s->dir);
    if (!err)
        err = create_keys(s, pass, passlen, who, kdf);
    return lb_store_write_end(s, 1, err);
}

lb_err lb_store_create(const char *dir, const char *pass, size_t passlen,
                       const lb_identity *who, const lb_kdf_params *kdf, lb_store **out)
{
    lb_store *s;
    lb_err err = lb_crypto_init();
    *out = NULL;
    if (!err)
        err = store_alloc(dir, &s);
    if (err)
        return err;
    err = create_file(s);
    if (!err)
        err = db_open(s, 1);
    if (!err)
        err = create_all(s, pass, passlen, who, kdf);
    if (err)
        lb_store_lock(s);
    *out = s; /* even on failure, so that lb_store_errmsg() can say why */
    return err;
}

static lb_err unfinished(lb_store *s)
{
    return lb_store_fail(s, LB_ERR_NOTFOUND, "the store at %s was never finished (create it "
                         "again with 'linkbook init')", s->dir);
}

lb_err lb_store_open(const char *dir, lb_store **out)
{
    lb_store *s;
    struct stat sb;
    char *path;
    int finished = 0;
    lb_err err = lb_crypto_init();
    *out = NULL;
    if (!err)
        err = store_alloc(dir, &s);
    if (err)
        return err;
    *out = s;
    path = db_path(dir);
    if (!path)
        return LB_ERR_NOMEM;
    if (stat(path, &sb) != 0)
        err = lb_store_fail(s, LB_ERR_NOTFOUND, "no store at %s (create one with 'linkbook init')", dir);
    else if (sb.st_size == 0)
        err = unfinished(s);
    free(path);
    if (!err)
        err = db_open(s, 0);
    if (!err && user_version(s) == 0)
        err = unfinished(s);
    if (!err)
        err = migrate(s, 0);
    if (!err)
        err = store_finished(s, &finished);
    if (!err && !finished)
        err = unfinished(s);
    if (!err)
        err = meta_get_id(s, "store_id", s->store_id);
    if (!err)
        err = meta_get_id(s, "device", s->device);
    return err;
}

int lb_store_exists(const char *dir)
{
    lb_store *s = NULL;
    lb_err err = lb_store_open(dir, &s);
    lb_store_close(s);
    return err != LB_ERR_NOTFOUND;
}

lb_err lb_store_unlock(lb_store *s, const char *pass, size_t passlen)
{
    lb_keyring *kr = NULL;
    lb_err err;
    if (!s->db)
        return lb_store_fail(s, LB_ERR_INVALID, "the store is not open");
    if (s->keys)
        return LB_OK;
    err = keys_unwrap(s, pass, passlen, &kr);
    if (err)
        return err;
    s->keys = kr;
    err = identity_load(s);
    if (!err)
        err = hlc_load(s);
    if (err)
        lb_store_lock(s);
    return err;
}

void lb_store_lock(lb_store *s)
{
    if (!s)
        return;
    lb_store_rollback(s);
    lb_keyring_free(s->keys);
    s->keys = NULL;
}

int lb_store_is_unlocked(const lb_store *s)
{
    return s && s->keys;
}

void lb_store_retain(lb_store *s)
{
    if (s)
        s->refs++;
}

void lb_store_close(lb_store *s)
{
    if (!s)
        return;
    if (s->refs > 0) {
        s->refs--;
        return;
    }
    lb_store_lock(s);
    stmts_finalize(s);
    if (s->db)
        sqlite3_close(s->db);
    free(s->author);
    free(s->role);
    free(s->caseload);
    free(s->dir);
    free(s);
}

lb_err lb_store_passwd(lb_store *s, const char *oldpass, size_t oldlen,
                       const char *newpass, size_t newlen, const lb_kdf_params *kdf)
{
    lb_keyring *kr = NULL;
    lb_kdf_params p;
    lb_err err = keys_unwrap(s, oldpass, oldlen, &kr);
    int own, was_locked;
    if (err)
        return err;
    if (kdf) {
        p = *kdf;
    } else {
        err = kdf_load(s, &p);
        randombytes_buf(p.salt, sizeof p.salt);
    }
    was_locked = !s->keys;
    if (was_locked) {
        s->keys = kr;
        kr = NULL;
    }
    if (!err)
        err = lb_store_write_begin(s, &own);
    if (!err)
        err = lb_store_write_end(s, own, keys_save(s, &p, newpass, newlen));
    if (was_locked)
        lb_store_lock(s);
    lb_keyring_free(kr);
    return err;
}

const char *lb_store_errmsg(const lb_store *s) { return s ? s->errmsg : "out of memory"; }
const char *lb_store_device(const lb_store *s) { return s->device; }
const char *lb_store_author(const lb_store *s) { return s->author ? s->author : ""; }
const char *lb_store_role(const lb_store *s) { return s->role ? s->role : ""; }
const char *lb_store_caseload(const lb_store *s) { return s->caseload ? s->caseload : ""; }
const char *lb_store_dir(const lb_store *s) { return s->dir; }

void lb_store_kdf(const lb_store *s, lb_kdf_params *out)
{
    memset(out, 0, sizeof *out);
    kdf_load((lb_store *)s, out);
}

void lb_store_set_clock(lb_store *s, uint64_t (*now_ms)(void *ctx), void *ctx)
{
    s->now_ms = now_ms ? now_ms : system_now_ms;
    s->now_ctx = now_ms ? ctx : NULL;
}

uint64_t lb_store_now_ms(const lb_store *s)
{
    return s->now_ms(s->now_ctx);
}

void lb_store_today(const lb_store *s, char out[11])
{
    time_t secs = (time_t)(lb_store_now_ms(s) / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || !strftime(out, 11, "%Y-%m-%d", &tm))
        memcpy(out, "1970-01-01", 11);
}

static int check_change(const lb_change *c, void *ctx)
{
    (void)c;
    (void)ctx;
    return 0;
}

static int check_record(const lb_record *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}

lb_err lb_store_check(lb_store *s)
{
    sqlite3_stmt *st;
    int rc;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return lb_store_sqlfail(s, rc, "checking the store");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
        err = lb_store_fail(s, LB_ERR_CORRUPT, "the store file %s/%s is damaged (SQLite "
                            "integrity check failed; restore it from a backup)", s->dir, LB_STORE_FILE);
    else if (rc != SQLITE_ROW)
        err = lb_store_sqlfail(s, rc, "checking the store");
    sqlite3_finalize(st);
    /* Decrypting everything proves every ciphertext authentic. */
    if (!err)
        err = lb_change_each(s, check_change, NULL);
    if (!err)
        err = lb_record_each(s, NULL, NULL, check_record, NULL);
    return err;
}
