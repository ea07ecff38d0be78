/* lb_test.h - helpers shared by the unit tests that need a real store:
 * a temporary directory, a store in it, a canonical dump of its records,
 * and raw access to the database file for tampering.
 * Header-only (static functions) so that each test binary stays one file.
 */
#ifndef LB_TEST_H
#define LB_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "linkbook.h"

#define LB_TEST_PASS "correct horse battery staple"

/* A new empty directory under /tmp; the caller frees the path. */
static inline char *lb_test_tmpdir(void)
{
    char *dir = strdup("/tmp/linkbook-test.XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

/* Remove path and everything under it (links are not followed). */
static inline int lb_test_rmtree(const char *path)
{
    struct stat st;
    struct dirent *e;
    DIR *d;
    int rc = 0;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    if (!(d = opendir(path)))
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *child;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!(child = malloc(n))) {
            rc = -1;
            break;
        }
        snprintf(child, n, "%s/%s", path, e->d_name);
        rc |= lb_test_rmtree(child);
        free(child);
    }
    closedir(d);
    return rmdir(path) != 0 ? -1 : rc;
}

/* Remove a directory tree made by lb_test_tmpdir, asserting success. */
static inline void lb_test_rmdir(const char *dir)
{
    assert_int_equal(lb_test_rmtree(dir), 0);
}

/* A new unlocked store in dir/store, asserting success. */
static inline lb_store *lb_test_store(const char *dir)
{
    char path[1024];
    lb_store *s = NULL;
    lb_err err;
    snprintf(path, sizeof path, "%s/store", dir);
    err = lb_store_create(path, LB_TEST_PASS, strlen(LB_TEST_PASS), NULL, NULL, &s);
    if (err)
        fail_msg("create: %s: %s", lb_strerror(err), lb_store_errmsg(s));
    return s;
}

/* Fail the test with the store's message unless err is LB_OK. */
#define lb_test_ok(s, expr) do { \
        lb_err lb_test_err_ = (expr); \
        if (lb_test_err_ != LB_OK) \
            fail_msg("%s: %s: %s", #expr, lb_strerror(lb_test_err_), lb_store_errmsg(s)); \
    } while (0)

static inline int lb_test_dump_one(const lb_record *r, void *ctx)
{
    json_t *all = ctx, *e = json_pack("{s:s, s:s, s:I, s:s, s:O}", "kind", r->kind, "person",
                                     r->person, "created", (json_int_t)r->created, "author",
                                     r->author, "fields", r->fields);
    json_object_set_new(all, r->id, e);
    return 0;
}

/* Every materialised record as canonical JSON text (sorted keys); free it. */
static inline char *lb_test_dump(lb_store *s)
{
    json_t *all = json_object();
    char *text;
    lb_test_ok(s, lb_record_each(s, NULL, NULL, lb_test_dump_one, all));
    text = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(all);
    assert_non_null(text);
    return text;
}

/* Run SQL on the store's database file behind the library's back. */
static inline void lb_test_sql(const char *store_dir, const char *sql)
{
    char path[1024];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/%s", store_dir, LB_STORE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* One integer from a query on the store's database file. */
static inline long lb_test_sql_int(const char *store_dir, const char *sql)
{
    char path[1024];
    sqlite3 *db;
    sqlite3_stmt *st;
    long v = -1;
    snprintf(path, sizeof path, "%s/%s", store_dir, LB_STORE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Flip one bit of the blob column col of the first row of table matching
 * where, at byte offset, behind the library's back. */
static inline void lb_test_flip(const char *store_dir, const char *table, const char *col,
                                const char *where, int offset)
{
    char path[1024], sql[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    unsigned char *blob;
    int len;
    snprintf(path, sizeof path, "%s/%s", store_dir, LB_STORE_FILE);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT rowid, %s FROM %s WHERE %s LIMIT 1", col, table, where);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    len = sqlite3_column_bytes(st, 1);
    assert_true(offset < len);
    blob = malloc((size_t)len);
    assert_non_null(blob);
    memcpy(blob, sqlite3_column_blob(st, 1), (size_t)len);
    blob[offset] ^= 1;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE rowid = %lld", table, col,
             (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, len, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(blob);
}

/* Register a person with the given names; the id goes to id. */
static inline void lb_test_person(lb_store *s, const char *given, const char *family,
                           char id[LB_ID_HEX + 1])
{
    lb_person_fields f;
    memset(&f, 0, sizeof f);
    f.given = given;
    f.family = family;
    lb_test_ok(s, lb_person_add(s, &f, id));
}

#endif
