/* bench_local.c - how fast the link worker's local record is: recording,
 * unlocking and showing, against its goals.  Not a test: it measures and prints, and says whether the
 * goals hold.
 *
 *   unlock       lb_store_open + lb_store_unlock (Argon2id, the store's
 *                recorded cost), median of 5.  Deliberate cost, shown apart.
 *   local write  N contacts, each with a 600-byte note, through
 *                lb_contact_add in batches of 1,000 (lb_store_begin/commit),
 *                5 runs on fresh stores; beside each run, plain SQLite writes
 *                the same bytes unencrypted with the same durability and
 *                cache (WAL, synchronous=FULL, 16 MiB page cache, same
 *                batches): a contact row and a note row per contact,
 *                primary key and person index on each.
 *                Goals: >= 20,000 contacts/s; ours/plain >= 1/3.
 *   show         lb_person_show of a person with 500 timeline entries
 *                after unlock, median of 20 (goal < 50 ms); then the real
 *                command `linkbook show` (whole process, which includes its
 *                own Argon2id unlock), paired with the same command for a
 *                person who does not exist (start, open, unlock, exit 4):
 *                the difference is the show itself, in wall-clock time and
 *                (steadier on a busy machine) in the child's CPU time.
 *
 * usage: bench_local [--n N] [--runs R] [--tmp DIR] [--cli PATH] [--json FILE]
 * Stores live in a fresh directory under --tmp (default /tmp), removed at
 * the end.  Progress goes to stderr, the table to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "linkbook.h"
#include "bench_common.h"

extern char **environ;

#define BATCH 1000
#define UNLOCK_REPS 5
#define SHOW_REPS 20
#define CLI_REPS 21
#define PEOPLE 4
#define PASS "correct horse battery staple"
#define MAX_RUNS 50
#define MAX_FIG 16

typedef struct fig {
    const char *name;
    const char *unit;
    double med, lo, hi;
    const char *goal;   /* text, "" when none */
    int met;            /* 1 yes, 0 no, -1 not a goal */
} fig;

static fig figs[MAX_FIG];
static int nfig;
static char work[4096];

/* ---- small helpers -------------------------------------------------------- */

static fig *add_fig(const char *name, const char *unit, double *v, int n, const char *goal)
{
    fig *f = &figs[nfig++];
    f->name = name;
    f->unit = unit;
    stats(v, n, &f->med, &f->lo, &f->hi);
    f->goal = goal;
    f->met = -1;
    return f;
}

static void cleanup(void)
{
    char cmd[4200];
    if (!work[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", work);
}

static void die(const char *what, lb_store *s, lb_err err)
{
    fprintf(stderr, "bench: %s: %s (%s)\n", what, lb_strerror(err), s ? lb_store_errmsg(s) : "");
    cleanup();
    exit(1);
}

static void die_sql(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench: sqlite %s: %s\n", what, sqlite3_errmsg(db));
    cleanup();
    exit(1);
}

static void check(lb_err err, lb_store *s, const char *what)
{
    if (err != LB_OK)
        die(what, s, err);
}

/* ---- realistic note text -------------------------------------------------- */

/* A date n days after 2023-01-01, as YYYY-MM-DD (n < 3 * 365). */
static void date_of(unsigned n, char out[11])
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 2023, m = 0, d;
    char buf[32];
    n %= 3 * 365;
    for (;;) {
        int ylen = (y % 4 == 0) ? 366 : 365;
        if (n < (unsigned)ylen)
            break;
        n -= (unsigned)ylen;
        y++;
    }
    for (;;) {
        int ml = mdays[m] + (m == 1 && y % 4 == 0);
        if (n < (unsigned)ml)
            break;
        n -= (unsigned)ml;
        m++;
    }
    d = (int)n + 1;
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y % 10000, m + 1, d);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

/* ---- stores ----------------------------------------------------------------- */

static lb_store *fresh_store(const char *name)
{
    char dir[4200];
    lb_store *s = NULL;
    lb_identity who = {"bench", "link-worker", "bench"};
    lb_err err;
    snprintf(dir, sizeof dir, "%s/%s", work, name);
    err = lb_store_create(dir, PASS, strlen(PASS), &who, NULL, &s);
    if (err)
        die("creating a store", s, err);
    return s;
}

static void add_person(lb_store *s, unsigned i, char id[LB_ID_HEX + 1])
{
    static const char *const given[] = {"Margaret", "Arthur", "Nasreen", "Dennis", "Olu", "Iris"};
    static const char *const family[] = {"Okafor", "Hughes", "Begum", "Walsh", "Adeyemi", "Kaur"};
    lb_person_fields f = {0};
    f.given = given[i % 6];
    f.family = family[(i / 6) % 6];
    f.dob = "1948-03-12";
    f.postcode = "LS6 2AB";
    check(lb_person_add(s, &f, id), s, "adding a person");
}

/* ---- unlock ------------------------------------------------------------------ */

static void bench_unlock(void)
{
    double v[UNLOCK_REPS];
    char dir[4200];
    lb_kdf_params kdf;
    lb_store *s = fresh_store("unlock");
    lb_store_kdf(s, &kdf);
    lb_store_close(s);
    snprintf(dir, sizeof dir, "%s/unlock", work);
    for (int r = 0; r < UNLOCK_REPS; r++) {
        double t0 = now();
        lb_err err = lb_store_open(dir, &s);
        if (!err)
            err = lb_store_unlock(s, PASS, strlen(PASS));
        v[r] = (now() - t0) * 1e3;
        if (err)
            die("unlocking", s, err);
        lb_store_close(s);
    }
    fprintf(stderr, "unlock: Argon2id opslimit %llu, memlimit %zu MiB\n",
            (unsigned long long)kdf.opslimit, kdf.memlimit >> 20);
    add_fig("unlock: open + Argon2id unlock (deliberate)", "ms", v, UNLOCK_REPS, "");
}

/* ---- local write: linkbook ---------------------------------------------------- */

static double bench_ours(int run, int n)
{
    char name[32], people[PEOPLE][LB_ID_HEX + 1], note[NOTE_LEN + 1], date[11];
    lb_store *s;
    lb_contact_fields f = {0};
    double t0, t;
    snprintf(name, sizeof name, "write-%d", run);
    s = fresh_store(name);
    for (unsigned p = 0; p < PEOPLE; p++)
        add_person(s, p, people[p]);
    f.mode = "home";
    f.minutes = "45";
    f.categories = "health-coaching,signposting";
    f.note = note;
    f.date = date;
    t0 = now();
    for (int i = 0; i < n; i++) {
        if (i % BATCH == 0)
            check(lb_store_begin(s), s, "begin");
        note_text((unsigned)i, note);
        date_of((unsigned)i / 32, date);
        check(lb_contact_add(s, people[i % PEOPLE], &f, NULL), s, "lb_contact_add");
        if (i % BATCH == BATCH - 1 || i == n - 1)
            check(lb_store_commit(s), s, "commit");
    }
    t = now() - t0;
    lb_store_close(s);
    return n / t;
}

/* ---- local write: plain SQLite ------------------------------------------------ */

static void exec_sql(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die_sql(db, sql);
}

static void hex_id(char out[LB_ID_HEX + 1])
{
    unsigned char raw[LB_ID_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, LB_ID_HEX + 1, raw, sizeof raw);
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die_sql(db, "insert");
    sqlite3_reset(st);
}

/* The store's own settings (core/lb_store.c): WAL, synchronous=FULL and a
 * 16 MiB page cache, so that neither side spills pages the other keeps. */
static const char plain_ddl[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
    "PRAGMA cache_size=-16384;"
    "CREATE TABLE contacts (id TEXT PRIMARY KEY, person TEXT NOT NULL, date TEXT NOT NULL,"
    " minutes INTEGER NOT NULL, mode TEXT NOT NULL, role TEXT NOT NULL,"
    " categories TEXT NOT NULL);"
    "CREATE INDEX contacts_person ON contacts(person, date);"
    "CREATE TABLE notes (id TEXT PRIMARY KEY, person TEXT NOT NULL, contact TEXT,"
    " date TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX notes_person ON notes(person, date);";

static double bench_plain(int run, int n)
{
    char path[4200], people[PEOPLE][LB_ID_HEX + 1], cid[LB_ID_HEX + 1], nid[LB_ID_HEX + 1];
    char note[NOTE_LEN + 1], date[11];
    sqlite3 *db;
    sqlite3_stmt *c, *nt;
    double t0, t;
    snprintf(path, sizeof path, "%s/plain-%d.db", work, run);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die_sql(db, "open");
    exec_sql(db, plain_ddl);
    if (sqlite3_prepare_v2(db, "INSERT INTO contacts VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
                           &c, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO notes VALUES(?1, ?2, ?3, ?4, ?5)", -1, &nt,
                           NULL) != SQLITE_OK)
        die_sql(db, "prepare");
    for (int p = 0; p < PEOPLE; p++)
        hex_id(people[p]);
    t0 = now();
    for (int i = 0; i < n; i++) {
        if (i % BATCH == 0)
            exec_sql(db, "BEGIN IMMEDIATE");
        note_text((unsigned)i, note);
        date_of((unsigned)i / 32, date);
        hex_id(cid);
        hex_id(nid);
        sqlite3_bind_text(c, 1, cid, LB_ID_HEX, SQLITE_STATIC);
        sqlite3_bind_text(c, 2, people[i % PEOPLE], LB_ID_HEX, SQLITE_STATIC);
        sqlite3_bind_text(c, 3, date, 10, SQLITE_STATIC);
        sqlite3_bind_int(c, 4, 45);
        sqlite3_bind_text(c, 5, "home", -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 6, "link-worker", -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 7, "health-coaching,signposting", -1, SQLITE_STATIC);
        step(db, c);
        sqlite3_bind_text(nt, 1, nid, LB_ID_HEX, SQLITE_STATIC);
        sqlite3_bind_text(nt, 2, people[i % PEOPLE], LB_ID_HEX, SQLITE_STATIC);
        sqlite3_bind_text(nt, 3, cid, LB_ID_HEX, SQLITE_STATIC);
        sqlite3_bind_text(nt, 4, date, 10, SQLITE_STATIC);
        sqlite3_bind_text(nt, 5, note, NOTE_LEN, SQLITE_STATIC);
        step(db, nt);
        if (i % BATCH == BATCH - 1 || i == n - 1)
            exec_sql(db, "COMMIT");
    }
    t = now() - t0;
    sqlite3_finalize(c);
    sqlite3_finalize(nt);
    sqlite3_close(db);
    return n / t;
}

static void bench_write(int n, int runs)
{
    double ours[MAX_RUNS], plain[MAX_RUNS], ratio[MAX_RUNS];
    static char goal_rate[64];
    fig *f;
    for (int r = 0; r < runs; r++) {
        /* Alternate which goes first so drift on a noisy machine is shared. */
        if (r % 2) {
            plain[r] = bench_plain(r, n);
            ours[r] = bench_ours(r, n);
        } else {
            ours[r] = bench_ours(r, n);
            plain[r] = bench_plain(r, n);
        }
        ratio[r] = ours[r] / plain[r];
        fprintf(stderr, "write run %d/%d: linkbook %.0f/s, plain SQLite %.0f/s, ratio %.3f\n",
                r + 1, runs, ours[r], plain[r], ratio[r]);
    }
    snprintf(goal_rate, sizeof goal_rate, ">= 20,000/s");
    f = add_fig("local write: lb_contact_add + 600 B note", "contacts/s", ours, runs, goal_rate);
    f->met = f->med >= 20000;
    add_fig("local write: plain SQLite, same bytes", "contacts/s", plain, runs, "");
    f = add_fig("local write: ratio ours/plain", "x", ratio, runs, ">= 0.333 (3x)");
    f->met = f->med >= 1.0 / 3.0;
}

/* ---- show ---------------------------------------------------------------------- */

typedef struct clock_ctx {
    uint64_t ms;
} clock_ctx;

static uint64_t fake_now(void *ctx)
{
    clock_ctx *c = ctx;
    return c->ms;
}

/* 124 contacts, 101 notes, 75 goals, 75 measures, in a fixed shuffled order. */
#define NKINDS 375
static char kinds[NKINDS];

static void shuffle_kinds(void)
{
    unsigned x = 7u, i = 0;
    for (; i < 124; i++)
        kinds[i] = 'c';
    for (; i < 225; i++)
        kinds[i] = 'n';
    for (; i < 300; i++)
        kinds[i] = 'g';
    for (; i < NKINDS; i++)
        kinds[i] = 'm';
    for (i = NKINDS - 1; i > 0; i--) {
        unsigned j;
        char t;
        x = x * 1103515245u + 12345u;
        j = (x >> 8) % (i + 1);
        t = kinds[i];
        kinds[i] = kinds[j];
        kinds[j] = t;
    }
}

/* The person with 500 timeline entries: 124 contacts with notes (248
 * entries), 101 notes, 75 goals, 75 measures, and the registration
 * (assignment) entry; recorded over two years.  Plus 40 other people with
 * 10 contacts each, so the store is a caseload rather than one record. */
static void build_show_store(lb_store *s, char pid[LB_ID_HEX + 1])
{
    char other[LB_ID_HEX + 1], note[NOTE_LEN + 1], date[11], ans[32];
    clock_ctx clk = {(uint64_t)1672531200000ull}; /* 2023-01-01 */
    lb_contact_fields f = {0};
    lb_store_set_clock(s, fake_now, &clk);
    check(lb_store_begin(s), s, "begin");
    add_person(s, 0, pid);
    f.mode = "home";
    f.minutes = "50";
    f.categories = "psychosocial,signposting";
    f.signposts = "Tuesday walking group,Citizens Advice";
    f.note = note;
    f.date = date;
    shuffle_kinds();
    for (unsigned i = 0; i < NKINDS; i++, clk.ms += 2 * 86400000ull) {
        date_of(i * 2, date);
        note_text(i + 100000, note);
        switch (kinds[i]) {
        case 'c':
            check(lb_contact_add(s, pid, &f, NULL), s, "contact");
            break;
        case 'g':
            check(lb_goal_add(s, pid, "Join the Tuesday walking group", "physical activity",
                              "2025-06-30", NULL), s, "goal");
            break;
        case 'm':
            snprintf(ans, sizeof ans, "%u,%u,%u,%u", i % 11, (i + 3) % 11, (i + 5) % 11, i % 7);
            check(lb_measure_add(s, pid, "ons4", ans, "review", NULL), s, "measure");
            break;
        default:
            check(lb_note_add(s, pid, note, NULL), s, "note");
        }
    }
    for (unsigned p = 1; p <= 40; p++) {
        add_person(s, p, other);
        for (unsigned i = 0; i < 10; i++) {
            date_of(p * 10 + i, date);
            note_text(p * 1000 + i, note);
            check(lb_contact_add(s, other, &f, NULL), s, "contact");
        }
    }
    check(lb_store_commit(s), s, "commit");
    lb_store_set_clock(s, NULL, NULL);
}

static double children_cpu_ms(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Run argv with stdout/stderr to /dev/null; exit status, or -1.  *cpu_ms
 * receives the CPU time (user + system) the child used. */
static int run_quiet(char *const argv[], double *cpu_ms)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = -1, rc;
    double cpu0 = children_cpu_ms();
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    *cpu_ms = children_cpu_ms() - cpu0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `linkbook show PERSON` against `linkbook show 0000ffff` (no such person:
 * the same process start, open and Argon2id unlock, then exit 4), run in
 * pairs so that the machine's noise falls on both; the difference is the
 * work of showing. */
static void bench_cli(const char *cli, const char *dir, const char *pid)
{
    double v[CLI_REPS], base[CLI_REPS], diff[CLI_REPS], cdiff[CLI_REPS], c1, c2;
    char *show[] = {(char *)cli, "show", (char *)pid, NULL};
    char *missing[] = {(char *)cli, "show", "0000ffff", NULL};
    fig *f;
    if (access(cli, X_OK) != 0) {
        fprintf(stderr, "bench: no command at %s: skipping 'linkbook show'\n", cli);
        return;
    }
    setenv("LINKBOOK_STORE", dir, 1);
    setenv("LINKBOOK_PASSPHRASE", PASS, 1);
    for (int r = 0; r < CLI_REPS; r++) {
        double t0 = now();
        int rc = run_quiet(show, &c1), rc2;
        double t1 = now();
        rc2 = run_quiet(missing, &c2);
        cdiff[r] = c1 - c2;
        base[r] = (now() - t1) * 1e3;
        v[r] = (t1 - t0) * 1e3;
        diff[r] = v[r] - base[r];
        if (rc != 0 || rc2 != 4) {
            fprintf(stderr, "bench: '%s show' exited %d (want 0), with no such person %d "
                            "(want 4)\n", cli, rc, rc2);
            cleanup();
            exit(1);
        }
    }
    add_fig("show: `linkbook show` whole command", "ms", v, CLI_REPS, "");
    add_fig("show: same command, no such person", "ms", base, CLI_REPS, "");
    f = add_fig("show: `linkbook show` minus the above", "ms", diff, CLI_REPS, "< 50 ms");
    f->met = f->med < 50;
    add_fig("show: the same difference in CPU time", "ms", cdiff, CLI_REPS, "");
}

static void bench_show(const char *cli)
{
    char pid[LB_ID_HEX + 1], dir[4200];
    double v[SHOW_REPS];
    size_t entries = 0;
    fig *f;
    lb_store *s = fresh_store("show");
    build_show_store(s, pid);
    for (int r = 0; r < SHOW_REPS; r++) {
        json_t *out = NULL;
        double t0 = now();
        check(lb_person_show(s, pid, &out), s, "lb_person_show");
        v[r] = (now() - t0) * 1e3;
        entries = json_array_size(json_object_get(out, "timeline"));
        json_decref(out);
    }
    fprintf(stderr, "show: timeline of %zu entries\n", entries);
    if (entries != 500)
        fprintf(stderr, "bench: warning: expected 500 timeline entries, got %zu\n", entries);
    f = add_fig("show: lb_person_show, 500 entries", "ms", v, SHOW_REPS, "< 50 ms");
    f->met = f->med < 50;
    lb_store_close(s);
    snprintf(dir, sizeof dir, "%s/show", work);
    if (cli)
        bench_cli(cli, dir, pid);
}

/* ---- output ---------------------------------------------------------------------- */

static const char *met_text(int met)
{
    return met < 0 ? "-" : met ? "yes" : "NO";
}

static void print_num(char *buf, size_t len, double v, const char *unit)
{
    if (strcmp(unit, "x") == 0)
        snprintf(buf, len, "%.3f", v);
    else if (strcmp(unit, "ms") == 0)
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "%.0f", v);
}

static void print_table(void)
{
    char med[32], lo[32], hi[32], range[80];
    printf("\n%-46s %12s  %-22s %-12s %-14s %s\n", "figure", "median", "min-max", "unit",
           "goal", "met?");
    for (int i = 0; i < nfig; i++) {
        fig *f = &figs[i];
        print_num(med, sizeof med, f->med, f->unit);
        print_num(lo, sizeof lo, f->lo, f->unit);
        print_num(hi, sizeof hi, f->hi, f->unit);
        snprintf(range, sizeof range, "%s-%s", lo, hi);
        printf("%-46s %12s  %-22s %-12s %-14s %s\n", f->name, med, range, f->unit,
               f->goal[0] ? f->goal : "-", met_text(f->met));
    }
}

static void write_json(const char *path, int n, int runs)
{
    json_t *root = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:[]}", "linkbook", LINKBOOK_VERSION,
                             "sqlite", sqlite3_libversion(), "libsodium",
                             sodium_version_string(), "n", n, "runs", runs, "batch", BATCH,
                             "figures");
    json_t *arr = json_object_get(root, "figures");
    for (int i = 0; i < nfig; i++) {
        fig *f = &figs[i];
        json_t *e = json_pack("{s:s, s:s, s:f, s:f, s:f, s:s}", "figure", f->name, "unit",
                              f->unit, "median", f->med, "min", f->lo, "max", f->hi, "goal",
                              f->goal);
        json_object_set_new(e, "met", f->met < 0 ? json_null() : json_boolean(f->met));
        json_array_append_new(arr, e);
    }
    if (json_dump_file(root, path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "bench: could not write %s\n", path);
    else
        fprintf(stderr, "wrote %s\n", path);
    json_decref(root);
}

int main(int argc, char **argv)
{
    const char *tmp = "/tmp", *cli = NULL, *json = NULL;
    int n = 20000, runs = 5;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: bench_local [--n N] [--runs R] [--tmp DIR] [--cli PATH] "
                            "[--json FILE]\n");
            return 2;
        }
        if (strcmp(o, "--n") == 0)
            n = (int)bench_arg_long("bench", o, v, 1, 10000000);
        else if (strcmp(o, "--runs") == 0)
            runs = (int)bench_arg_long("bench", o, v, 1, MAX_RUNS);
        else if (strcmp(o, "--tmp") == 0)
            tmp = v;
        else if (strcmp(o, "--cli") == 0)
            cli = v;
        else if (strcmp(o, "--json") == 0)
            json = v;
        else {
            fprintf(stderr, "bench: unknown option %s\n", o);
            return 2;
        }
        i++;
    }
    if (lb_crypto_init() != LB_OK)
        return 1;
    snprintf(work, sizeof work, "%s/linkbook-bench.XXXXXX", tmp);
    if (!mkdtemp(work)) {
        fprintf(stderr, "bench: cannot make a directory under %s\n", tmp);
        return 1;
    }
    fprintf(stderr, "stores in %s; SQLite %s, libsodium %s; N = %d, %d runs, batches of %d\n",
            work, sqlite3_libversion(), sodium_version_string(), n, runs, BATCH);
    bench_unlock();
    bench_write(n, runs);
    bench_show(cli);
    print_table();
    if (json)
        write_json(json, n, runs);
    cleanup();
    return 0;
}
