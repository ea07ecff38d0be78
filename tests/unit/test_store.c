/* test_store.c - the device store: passphrases, rewrapping, locking and
 * wiping keys, damaged files, a process killed mid-write, and no plaintext
 * in any file of the store directory. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "lb_test.h"

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void test_store_wrong_passphrase_changes_nothing(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1];
    lb_store *s = lb_test_store(dir);
    long changes;
    (void)state;
    lb_test_person(s, "Dora", "Pass", p);
    lb_store_close(s);
    changes = lb_test_sql_int(path, "SELECT count(*) FROM changes");
    lb_test_ok(s, lb_store_open(path, &s));
    assert_int_equal(lb_store_unlock(s, "wrong", 5), LB_ERR_PASSPHRASE);
    assert_non_null(strstr(lb_store_errmsg(s), "wrong passphrase"));
    assert_false(lb_store_is_unlocked(s));
    assert_int_equal(lb_note_add(s, p, "should not be written", NULL), LB_ERR_LOCKED);
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    lb_store_close(s);
    assert_int_equal(lb_test_sql_int(path, "SELECT count(*) FROM changes"), changes);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* A retained handle survives the close of each holder but the last. */
static void test_store_retain_closes_at_the_last_close(void **state)
{
    char *dir = lb_test_tmpdir(), p[LB_ID_HEX + 1], q[LB_ID_HEX + 1];
    lb_store *s = lb_test_store(dir);
    (void)state;
    lb_store_retain(s);
    lb_store_retain(s);
    lb_test_person(s, "Ida", "Held", p);
    lb_store_close(s);
    assert_true(lb_store_is_unlocked(s));
    lb_store_close(s);
    lb_test_person(s, "Jon", "Held", q); /* still open and unlocked */
    assert_true(lb_store_is_unlocked(s));
    lb_store_close(s); /* the last: locks and frees (ASan checks) */
    lb_store_close(NULL);
    lb_test_rmdir(dir);
    free(dir);
}

static void test_store_passwd_rewraps_without_reencrypting(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1];
    lb_store *s = lb_test_store(dir);
    (void)state;
    lb_test_person(s, "Eve", "Rewrap", p);
    lb_store_close(s);
    lb_test_sql(path, "CREATE TABLE snapshot AS SELECT id, change, body FROM records "
                      "UNION ALL SELECT id, seq, body FROM changes");
    lb_test_ok(s, lb_store_open(path, &s));
    assert_int_equal(lb_store_passwd(s, "not it", 6, "new pass", 8, NULL), LB_ERR_PASSPHRASE);
    lb_test_ok(s, lb_store_passwd(s, LB_TEST_PASS, strlen(LB_TEST_PASS), "new pass", 8, NULL));
    lb_store_close(s);
    /* Every sealed record and change is byte for byte what it was. */
    assert_int_equal(lb_test_sql_int(path, "SELECT count(*) FROM (SELECT id, change, body FROM "
                                           "records UNION ALL SELECT id, seq, body FROM changes) "
                                           "r JOIN snapshot s ON r.id = s.id AND r.change IS "
                                           "s.change AND r.body IS s.body"),
                     lb_test_sql_int(path, "SELECT count(*) FROM snapshot"));
    assert_true(lb_test_sql_int(path, "SELECT count(*) FROM snapshot") >= 4);
    lb_test_ok(s, lb_store_open(path, &s));
    assert_int_equal(lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)), LB_ERR_PASSPHRASE);
    lb_test_ok(s, lb_store_unlock(s, "new pass", 8));
    lb_test_ok(s, lb_store_check(s));
    lb_store_close(s);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

static void test_store_refuses_weak_kdf_and_second_create(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store");
    lb_store *s = NULL;
    lb_kdf_params weak;
    (void)state;
    lb_kdf_params_default(&weak);
    weak.opslimit = 1;
    assert_int_equal(lb_store_create(path, "x", 1, NULL, &weak, &s), LB_ERR_INVALID);
    lb_store_close(s);
    s = lb_test_store(dir);
    lb_store_close(s);
    assert_int_equal(lb_store_create(path, "other", 5, NULL, NULL, &s), LB_ERR_EXISTS);
    lb_store_close(s);
    lb_test_ok(s, lb_store_open(path, &s));
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    lb_store_close(s);
    assert_int_equal(lb_store_open("/nonexistent/linkbook/store", &s), LB_ERR_NOTFOUND);
    assert_non_null(strstr(lb_store_errmsg(s), "linkbook init"));
    lb_store_close(s);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* ---- keys leave memory on lock ------------------------------------------------ */

/* The store's keys, unwrapped here the way lb_store does, kept only masked
 * (key XOR mask) so that the test itself never holds them in clear. */
typedef struct masked_keys {
    unsigned char masked[3 * LB_KEY_LEN];
    unsigned char mask[3 * LB_KEY_LEN];
} masked_keys;

static void unwrap_masked(const char *path, masked_keys *mk)
{
    char sql_salt[] = "SELECT value FROM meta WHERE key = 'kdf'", ad[128], *kdf_text, *store_id;
    char sql_path[1024];
    sqlite3 *db;
    sqlite3_stmt *st;
    lb_kdf_params p;
    lb_keyring *kr;
    unsigned char kek[LB_KEY_LEN], wrapped[LB_KEY_LEN + LB_SEAL_OVERHEAD];
    const unsigned char *bytes;
    size_t len, i, saltlen;
    json_t *j;
    snprintf(sql_path, sizeof sql_path, "%s/%s", path, LB_STORE_FILE);
    assert_int_equal(sqlite3_open(sql_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql_salt, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    kdf_text = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT value FROM meta WHERE key = "
                                        "'store_id'), (SELECT value FROM meta WHERE key = "
                                        "'wrapped_key')", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    store_id = strdup((const char *)sqlite3_column_text(st, 0));
    assert_int_equal(sqlite3_column_bytes(st, 1), sizeof wrapped);
    memcpy(wrapped, sqlite3_column_blob(st, 1), sizeof wrapped);
    sqlite3_finalize(st);
    sqlite3_close(db);
    j = json_loads(kdf_text, 0, NULL);
    p.opslimit = (uint64_t)json_integer_value(json_object_get(j, "opslimit"));
    p.memlimit = (size_t)json_integer_value(json_object_get(j, "memlimit"));
    assert_int_equal(sodium_hex2bin(p.salt, LB_SALT_LEN, json_string_value(json_object_get(j, "salt")),
                                    2 * LB_SALT_LEN, NULL, &saltlen, NULL), 0);
    json_decref(j);
    lb_test_ok(NULL, lb_kdf_derive(&p, LB_TEST_PASS, strlen(LB_TEST_PASS), kek));
    snprintf(ad, sizeof ad, "linkbook data key|%s", store_id);
    lb_test_ok(NULL, lb_keyring_unwrap(kek, wrapped, sizeof wrapped, (unsigned char *)ad,
                                       strlen(ad), &kr));
    sodium_memzero(kek, sizeof kek);
    bytes = lb_keyring_bytes(kr, &len);
    assert_int_equal(len, sizeof mk->masked);
    randombytes_buf(mk->mask, sizeof mk->mask);
    for (i = 0; i < len; i++)
        mk->masked[i] = bytes[i] ^ mk->mask[i];
    lb_keyring_free(kr);
    free(kdf_text);
    free(store_id);
}

static int window_is_key(const unsigned char *w, const masked_keys *mk, size_t k)
{
    size_t i;
    for (i = 0; i < LB_KEY_LEN; i++)
        if ((unsigned char)(w[i] ^ mk->mask[k * LB_KEY_LEN + i]) != mk->masked[k * LB_KEY_LEN + i])
            return 0;
    return 1;
}

static int chunk_holds_key(const unsigned char *buf, size_t n, const masked_keys *mk)
{
    size_t i, k;
    for (i = 0; i + LB_KEY_LEN <= n; i++)
        for (k = 0; k < 3; k++)
            if (buf[i] == (unsigned char)(mk->masked[k * LB_KEY_LEN] ^ mk->mask[k * LB_KEY_LEN]) &&
                window_is_key(buf + i, mk, k))
                return 1;
    return 0;
}

/* Does any readable mapping of this process hold one of the keys? */
static int memory_holds_key(const masked_keys *mk)
{
    enum { CHUNK = 1 << 20 };
    FILE *maps = fopen("/proc/self/maps", "r");
    int mem = open("/proc/self/mem", O_RDONLY), found = 0;
    unsigned char *buf = malloc(CHUNK + LB_KEY_LEN);
    char line[512];
    assert_non_null(maps);
    assert_true(mem >= 0);
    assert_non_null(buf);
    while (!found && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi, at;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            hi - lo > (256UL << 20) || strstr(line, "[v"))
            continue;
        for (at = lo; !found && at < hi; at += CHUNK) {
            size_t want = hi - at < CHUNK + LB_KEY_LEN ? hi - at : CHUNK + LB_KEY_LEN;
            ssize_t got = pread(mem, buf, want, (off_t)at);
            if (got > 0)
                found = chunk_holds_key(buf, (size_t)got, mk);
        }
    }
    sodium_memzero(buf, CHUNK + LB_KEY_LEN); /* it may hold a key it found */
    free(buf);
    close(mem);
    fclose(maps);
    return found;
}

static void test_store_lock_wipes_keys_from_memory(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1];
    lb_store *s = lb_test_store(dir);
    masked_keys mk;
    lb_record *r = NULL;
    (void)state;
    lb_test_person(s, "Fay", "Wipe", p);
    lb_store_close(s);
    unwrap_masked(path, &mk);
    lb_test_ok(s, lb_store_open(path, &s));
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    assert_true(memory_holds_key(&mk));      /* the scan does find live keys */
    lb_store_lock(s);
    assert_false(memory_holds_key(&mk));
    assert_int_equal(lb_record_get(s, p, &r), LB_ERR_LOCKED);
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    lb_test_ok(s, lb_record_get(s, p, &r));
    lb_record_free(r);
    lb_store_close(s);
    assert_false(memory_holds_key(&mk));
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* ---- damaged files, killed writers, plaintext ------------------------------- */

/* Overwrite len bytes at offset of the database file with a pattern. */
static void scribble(const char *path, long offset, size_t len)
{
    char *file = join(path, LB_STORE_FILE);
    unsigned char junk[4096];
    int fd = open(file, O_WRONLY);
    assert_true(fd >= 0 && len <= sizeof junk);
    memset(junk, 0xA5, len);
    assert_int_equal(pwrite(fd, junk, len, offset), (ssize_t)len);
    close(fd);
    free(file);
}

static void test_store_damaged_file_is_reported(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1];
    lb_store *s = lb_test_store(dir);
    int i;
    lb_err err;
    (void)state;
    for (i = 0; i < 40; i++)
        lb_test_person(s, "Gil", "Damage", p);
    lb_store_close(s);
    lb_test_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    /* Pages in the middle: the check names the damage; nothing crashes. */
    scribble(path, 4096 * 3 + 100, 3000);
    lb_test_ok(s, lb_store_open(path, &s));
    err = lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS));
    if (!err)
        err = lb_store_check(s);
    assert_true(err == LB_ERR_CORRUPT || err == LB_ERR_TAMPERED);
    assert_true(strstr(lb_store_errmsg(s), "damaged") || strstr(lb_store_errmsg(s), "integrity"));
    lb_store_close(s);
    /* The header: not a database any more. */
    scribble(path, 0, 100);
    assert_int_equal(lb_store_open(path, &s), LB_ERR_CORRUPT);
    assert_non_null(strstr(lb_store_errmsg(s), "damaged"));
    lb_store_close(s);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* Child: record contacts with notes and follow-ups until killed; one byte
 * to fd once the first is committed. */
static void write_forever(const char *path, const char *person, int fd)
{
    lb_store *s = NULL;
    lb_contact_fields cf = {"phone", "20", "mental-health", "Rang to check in; sleeping better",
                            NULL, "2026-12-01", NULL};
    if (lb_store_open(path, &s) || lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)))
        _exit(2);
    if (lb_contact_add(s, person, &cf, NULL) != LB_OK || write(fd, "w", 1) != 1)
        _exit(3);
    for (;;)
        if (lb_contact_add(s, person, &cf, NULL) != LB_OK)
            _exit(3);
}

static int count_kind(const lb_record *r, void *ctx)
{
    (void)r;
    (*(long *)ctx)++;
    return 0;
}

static long count(lb_store *s, const char *kind)
{
    long n = 0;
    lb_test_ok(s, lb_record_each(s, kind, NULL, count_kind, &n));
    return n;
}

static void test_store_survives_kill_mid_write(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1], *a, *b;
    lb_store *s = lb_test_store(dir);
    int round, status;
    (void)state;
    lb_test_person(s, "Hal", "Killed", p);
    lb_store_close(s);
    for (round = 0; round < 5; round++) {
        /* Killed some milliseconds after its first commit, whatever the
         * machine's load made the unlock cost. */
        struct timespec ts = {0, (5 + 40 * round) * 1000000L};
        int fds[2];
        char c;
        pid_t pid;
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            write_forever(path, p, fds[1]);
        }
        close(fds[1]);
        assert_int_equal(read(fds[0], &c, 1), 1);
        close(fds[0]);
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
    }
    lb_test_ok(s, lb_store_open(path, &s));
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    lb_test_ok(s, lb_store_check(s));
    assert_true(count(s, "contact") > 0);
    /* Each contact wrote its note and task in the same transaction. */
    assert_int_equal(count(s, "contact"), count(s, "note"));
    assert_int_equal(count(s, "contact"), count(s, "task"));
    a = lb_test_dump(s);
    lb_test_ok(s, lb_change_rebuild(s));
    b = lb_test_dump(s);
    assert_string_equal(a, b);
    free(a);
    free(b);
    lb_store_close(s);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* Does any file directly in dir contain needle? */
static int dir_holds(const char *dir, const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -rqaF -- '%s' '%s'", needle, dir);
    return system(cmd) == 0;
}

static void test_store_no_plaintext_on_disk(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1], g[LB_ID_HEX + 1];
    const char *secrets[] = {"Zephyrine", "Quillfeather", "9434765919", "SW1A 9ZZ", "07700900461",
                             "Wexcombe Lane allotment", "Grow tomatoes again",
                             "panic attacks at the bus stop", "felt heard for once", NULL};
    lb_person_fields pf;
    lb_contact_fields cf = {"home", "60", "psychosocial", "panic attacks at the bus stop",
                            NULL, NULL, NULL};
    lb_store *s = lb_test_store(dir);
    int i;
    (void)state;
    memset(&pf, 0, sizeof pf);
    pf.given = "Zephyrine";
    pf.family = "Quillfeather";
    pf.nhs = "9434765919";
    pf.postcode = "SW1A 9ZZ";
    pf.phone = "07700900461";
    lb_test_ok(s, lb_person_add(s, &pf, p));
    lb_test_ok(s, lb_note_add(s, p, "Wexcombe Lane allotment", NULL));
    lb_test_ok(s, lb_goal_add(s, p, "Grow tomatoes again", NULL, NULL, g));
    lb_test_ok(s, lb_contact_add(s, p, &cf, NULL));
    lb_test_ok(s, lb_story_add(s, p, "felt heard for once", NULL, 0, NULL));
    lb_test_ok(s, lb_measure_add(s, p, "ons4", "3,4,2,9", NULL, NULL));
    /* While open (WAL not yet checkpointed) and after close. */
    for (i = 0; secrets[i]; i++)
        assert_false(dir_holds(path, secrets[i]));
    assert_false(dir_holds(path, "\"satisfaction\":3"));
    lb_store_close(s);
    for (i = 0; secrets[i]; i++)
        assert_false(dir_holds(path, secrets[i]));
    /* The grep itself works: a file holding a secret is found. */
    lb_test_sql(path, "CREATE TABLE probe(x); INSERT INTO probe VALUES ('Zephyrine')");
    assert_true(dir_holds(path, "Zephyrine"));
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* A store written before records were kept in insertion order (schema 5:
 * one b-tree keyed by id) is upgraded on open with every record as it was,
 * and records as before afterwards. */
static const char records_by_id[] =
    "BEGIN;"
    "CREATE TABLE records_old (id TEXT PRIMARY KEY, kind TEXT NOT NULL, person TEXT NOT NULL,"
    " created INTEGER NOT NULL, change INTEGER, body BLOB,"
    " CHECK ((change IS NULL) <> (body IS NULL))) WITHOUT ROWID;"
    "INSERT INTO records_old SELECT id, kind, person, created, change, body FROM records;"
    "DROP TABLE records;"
    "ALTER TABLE records_old RENAME TO records;"
    "CREATE INDEX records_person ON records(person, created);"
    "DROP INDEX nhs_index_person;"   /* 007's, not yet in schema 5 */
    "PRAGMA user_version = 5;"
    "COMMIT;";

static void test_store_upgrades_records_to_insertion_order(void **state)
{
    char *dir = lb_test_tmpdir(), *path = join(dir, "store"), p[LB_ID_HEX + 1];
    char g[LB_ID_HEX + 1], *before, *after;
    lb_contact_fields cf = {"home", "40", "psychosocial", NULL, "Talked about the allotment.",
                            NULL, NULL};
    lb_store *s = lb_test_store(dir);
    lb_record *r = NULL;
    (void)state;
    lb_test_person(s, "Edna", "Upgrade", p);
    lb_test_ok(s, lb_contact_add(s, p, &cf, NULL)); /* the person: a merged, sealed state */
    lb_test_ok(s, lb_goal_add(s, p, "Walk to the shop", "physical activity", NULL, g));
    before = lb_test_dump(s);
    lb_store_close(s);
    lb_test_sql(path, records_by_id);
    assert_int_equal(lb_test_sql_int(path, "PRAGMA user_version"), 5);
    lb_test_ok(s, lb_store_open(path, &s));
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    after = lb_test_dump(s);
    assert_string_equal(before, after);
    lb_test_ok(s, lb_store_check(s));
    lb_test_ok(s, lb_contact_add(s, p, &cf, NULL));
    lb_test_ok(s, lb_goal_status(s, g, "achieved")); /* merges into a record made before */
    lb_test_ok(s, lb_record_get(s, g, &r));
    assert_string_equal(json_string_value(json_object_get(r->fields, "status")), "achieved");
    lb_record_free(r);
    lb_store_close(s);
    assert_true(lb_test_sql_int(path, "PRAGMA user_version") >= 6);
    assert_int_equal(lb_test_sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
                                           "name = 'records' AND sql LIKE '%WITHOUT ROWID%'"), 0);
    free(before);
    free(after);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_upgrades_records_to_insertion_order),
        cmocka_unit_test(test_store_wrong_passphrase_changes_nothing),
        cmocka_unit_test(test_store_retain_closes_at_the_last_close),
        cmocka_unit_test(test_store_passwd_rewraps_without_reencrypting),
        cmocka_unit_test(test_store_refuses_weak_kdf_and_second_create),
        cmocka_unit_test(test_store_lock_wipes_keys_from_memory),
        cmocka_unit_test(test_store_damaged_file_is_reported),
        cmocka_unit_test(test_store_survives_kill_mid_write),
        cmocka_unit_test(test_store_no_plaintext_on_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
