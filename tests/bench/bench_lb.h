/* bench_lb.h - what the sync benchmarks (bench_sync, bench_peer, bench_team,
 * bench_growth) share: a fresh linkbookd on 127.0.0.1 (its store in a data
 * directory or in PostgreSQL, optionally behind bench_proxy, which counts
 * raw socket bytes and HTTP requests), enrolled devices driven through the
 * library, the recorded data set (contacts with a 600-character note), a
 * freshly exec'd helper that measures a child's peak memory, the options
 * they have in common, and a table of figures that keeps every run's
 * value, prints medians with min-max, goals and how far each is met or
 * missed, and adds them to bench.json.
 *
 * Header-only, like bench_common.h: each benchmark is one program, and the
 * program defines BENCH_NAME (for messages and its JSON group) before
 * including this.  Every function dies with a message on failure
 * (bench_die); nothing here is a test.
 */
#ifndef BENCH_LB_H
#define BENCH_LB_H

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "linkbook.h"
#include "lb_sync.h"
#include "lb_proto.h"
#include "lb_client.h"
#include "bench_common.h"

extern char **environ;

#define BLB_PASS "correct horse battery staple"
#define BLB_PEOPLE 20
#define BLB_GOALS 100
#define BLB_BATCH 1000
#define BLB_MAX_RUNS 20
#define BLB_MAX_FIG 64
#define BLB_CHILD_SECS 600

static char blb_work[4096];       /* this run's temporary directory */
static char blb_self[4096];       /* this program, for its helper modes */
static const char *blb_srv_path;  /* linkbookd */
static const char *blb_proxy_path;/* bench_proxy, NULL: no counting proxy */
static const char *blb_pg_conninfo;/* linkbookd's store in PostgreSQL, NULL: a data dir */

/* ---- dying, children ------------------------------------------------------ */

typedef struct blb_server {
    char data[4200], url[64], direct[64], code[256], counters[4300];
    pid_t pid, proxy_pid;
    const volatile uint64_t *wire; /* the proxy's counters, NULL without one */
} blb_server;

static blb_server *blb_live[4];  /* killed by bench_cleanup */

static inline void blb_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static inline void bench_cleanup(void)
{
    char cmd[4200];
    for (int i = 0; i < 4; i++) {
        blb_server *sv = blb_live[i];
        if (sv && sv->pid > 0)
            kill(sv->pid, SIGKILL);
        if (sv && sv->proxy_pid > 0)
            kill(sv->proxy_pid, SIGKILL);
        blb_live[i] = NULL;
    }
    if (!blb_work[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", blb_work);
    if (system(cmd) != 0)
        fprintf(stderr, "%s: could not remove %s\n", BENCH_NAME, blb_work);
    blb_work[0] = '\0';
}

static inline void bench_die(const char *what, const char *detail)
{
    fprintf(stderr, "%s: %s: %s\n", BENCH_NAME, what, detail ? detail : "");
    bench_cleanup();
    exit(1);
}

static inline void blb_check(lb_err err, lb_store *s, const char *what)
{
    if (err != LB_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s (%s)", lb_strerror(err), s ? lb_store_errmsg(s) : "");
        bench_die(what, msg);
    }
}

static inline void blb_check_client(lb_client_rc rc, lb_client *c, const char *what)
{
    if (rc != LB_CLIENT_OK)
        bench_die(what, lb_client_errmsg(c)[0] ? lb_client_errmsg(c) : lb_client_strerror(rc));
}

/* Spawn argv with stdin on /dev/null, stdout to out_path (or /dev/null)
 * and stderr on /dev/null unless keep_stderr.  The pid, or -1. */
static inline pid_t blb_spawn_io(char *const argv[], const char *out_path, int keep_stderr)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!keep_stderr)
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

/* Spawn argv with stdin and stderr on /dev/null and stdout to out_path (or
 * /dev/null).  The pid, or -1. */
static inline pid_t blb_spawn(char *const argv[], const char *out_path)
{
    return blb_spawn_io(argv, out_path, 0);
}

/* Wait for pid at most secs seconds (then SIGKILL); its exit status or -1. */
static inline int blb_wait(pid_t pid, int secs)
{
    int st = 0;
    double end = now() + secs;
    if (pid <= 0)
        return -1;
    for (;;) {
        pid_t got = waitpid(pid, &st, WNOHANG);
        if (got == pid)
            break;
        if (got < 0 && errno != EINTR)
            return -1;
        if (now() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        blb_sleep_ms(5);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The port in a "listening on 127.0.0.1:PORT" line of file path, waited
 * for at most 15 s; 0 if none came. */
static inline int blb_wait_port(const char *path)
{
    char line[512];
    for (double end = now() + 15; now() < end; blb_sleep_ms(20)) {
        FILE *f = fopen(path, "r");
        int port = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "listening on 127.0.0.1:%d", &port) == 1)
                break;
        if (f)
            fclose(f);
        if (port > 0)
            return port;
    }
    return 0;
}

/* The last non-empty line of a file, into out; 0 if there is none. */
static inline int blb_last_line(const char *path, char *out, size_t cap)
{
    char line[512];
    FILE *f = fopen(path, "r");
    int found = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] && cap > 0) {
            size_t n = strnlen(line, cap - 1);
            memcpy(out, line, n);
            out[n] = '\0';
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* A field of /proc/PID/status in kB (0 if unknown); pid "self" works. */
static inline long blb_status_kb(const char *pid, const char *field)
{
    char path[64], line[256];
    size_t len = strlen(field);
    long kb = 0;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    if (!(f = fopen(path, "r")))
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* ---- the server, and the counting proxy in front of it ----------------------- */

static inline void blb_proxy_start(blb_server *sv, int port)
{
    char to[32], out[4300];
    char *argv[] = {(char *)blb_proxy_path, "--to", to, "--counters", sv->counters, NULL};
    int fd, pport;
    void *p;
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    snprintf(sv->counters, sizeof sv->counters, "%s.wire", sv->data);
    snprintf(out, sizeof out, "%s.proxy", sv->data);
    if ((sv->proxy_pid = blb_spawn(argv, out)) < 0 || !(pport = blb_wait_port(out)))
        bench_die("bench_proxy did not start", blb_proxy_path);
    if ((fd = open(sv->counters, O_RDONLY)) < 0 ||
        (p = mmap(NULL, 64, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED)
        bench_die("cannot map the proxy's counters", sv->counters);
    close(fd);
    sv->wire = p;
    snprintf(sv->url, sizeof sv->url, "http://127.0.0.1:%d", pport);
}

/* linkbookd's store options: --data DIR, or --postgres CONNINFO. */
static inline char *blb_store_opt(void)
{
    return blb_pg_conninfo ? "--postgres" : "--data";
}

static inline char *blb_store_val(blb_server *sv)
{
    return blb_pg_conninfo ? (char *)blb_pg_conninfo : sv->data;
}

/* linkbookd serve on 127.0.0.1:0 for sv's store (sv->data: its data
 * directory or, on PostgreSQL, a name for its files), its output to out;
 * with a proxy (blb_proxy_path), sv->url is the proxy's and sv->direct
 * linkbookd's.  Killed by bench_cleanup until blb_server_stop. */
static inline void blb_server_serve(blb_server *sv, const char *out)
{
    char *serve[] = {(char *)blb_srv_path, "serve", blb_store_opt(), blb_store_val(sv),
                     "--listen", "127.0.0.1:0", NULL};
    int port;
    for (int i = 0; i < 4; i++)
        if (!blb_live[i]) {
            blb_live[i] = sv;
            break;
        }
    if ((sv->pid = blb_spawn(serve, out)) < 0 || !(port = blb_wait_port(out)))
        bench_die("linkbookd did not say it listens within 15 s", out);
    snprintf(sv->direct, sizeof sv->direct, "http://127.0.0.1:%d", port);
    snprintf(sv->url, sizeof sv->url, "%s", sv->direct);
    if (blb_proxy_path)
        blb_proxy_start(sv, port);
}

/* linkbookd admin team-create (sv->code: the first supervisor's code),
 * then serve (blb_server_serve). */
static inline void blb_server_start(blb_server *sv, const char *name)
{
    char out[4300];
    char *create[] = {(char *)blb_srv_path, "admin", "team-create", "bench team",
                      blb_store_opt(), NULL, NULL};
    memset(sv, 0, sizeof *sv);
    snprintf(sv->data, sizeof sv->data, "%s/%s", blb_work, name);
    snprintf(out, sizeof out, "%s.out", sv->data);
    create[5] = blb_store_val(sv);
    if (blb_wait(blb_spawn(create, out), 60) != 0 ||
        !blb_last_line(out, sv->code, sizeof sv->code))
        bench_die("linkbookd admin team-create failed", sv->data);
    blb_server_serve(sv, out);
}

static inline void blb_server_stop(blb_server *sv)
{
    if (sv->proxy_pid > 0) {
        kill(sv->proxy_pid, SIGTERM);
        blb_wait(sv->proxy_pid, 10);
    }
    if (sv->pid > 0) {
        kill(sv->pid, SIGTERM);
        if (blb_wait(sv->pid, 20) != 0)
            fprintf(stderr, "%s: linkbookd did not stop cleanly\n", BENCH_NAME);
    }
    if (sv->wire)
        munmap((void *)sv->wire, 64);
    for (int i = 0; i < 4; i++)
        if (blb_live[i] == sv)
            blb_live[i] = NULL;
    sv->pid = sv->proxy_pid = 0;
    sv->wire = NULL;
}

/* What crossed the proxy's sockets: bytes up, down, requests, connections. */
typedef struct blb_wire {
    double up, down, requests, connections;
} blb_wire;

static inline blb_wire blb_wire_now(const blb_server *sv)
{
    blb_wire w = {0, 0, 0, 0};
    if (sv->wire) {
        w.up = (double)__atomic_load_n(&sv->wire[0], __ATOMIC_RELAXED);
        w.down = (double)__atomic_load_n(&sv->wire[1], __ATOMIC_RELAXED);
        w.requests = (double)__atomic_load_n(&sv->wire[2], __ATOMIC_RELAXED);
        w.connections = (double)__atomic_load_n(&sv->wire[3], __ATOMIC_RELAXED);
    }
    return w;
}

static inline blb_wire blb_wire_since(const blb_server *sv, blb_wire before)
{
    blb_wire w = blb_wire_now(sv);
    w.up -= before.up;
    w.down -= before.down;
    w.requests -= before.requests;
    w.connections -= before.connections;
    return w;
}

/* ---- devices ----------------------------------------------------------------------- */

typedef struct blb_device {
    char dir[4200];
    lb_store *s;
    lb_client *c;
} blb_device;

static inline lb_client *blb_client_for(const char *url)
{
    lb_client_opts o = {.url = url};
    lb_client *c = NULL;
    char msg[256] = "";
    if (lb_client_new(&o, &c, msg, sizeof msg) != LB_CLIENT_OK)
        bench_die("lb_client_new", msg);
    return c;
}

static inline void blb_device_open(blb_device *d)
{
    blb_check(lb_store_open(d->dir, &d->s), d->s, "opening a store");
    blb_check(lb_store_unlock(d->s, BLB_PASS, strlen(BLB_PASS)), d->s, "unlocking a store");
}

static inline void blb_device_close(blb_device *d)
{
    lb_store_close(d->s);
    d->s = NULL;
}

static inline void blb_device_free(blb_device *d)
{
    blb_device_close(d);
    lb_client_free(d->c);
    d->c = NULL;
}

/* A new store in work/name, enrolled with code on url. */
static inline void blb_enrol(blb_device *d, const char *name, const char *url, const char *code)
{
    json_t *resp = NULL;
    snprintf(d->dir, sizeof d->dir, "%s/%s", blb_work, name);
    blb_check(lb_store_create(d->dir, BLB_PASS, strlen(BLB_PASS), NULL, NULL, &d->s), d->s,
              "creating a store");
    d->c = blb_client_for(url);
    blb_check_client(lb_client_enrol(d->c, d->s, code, name, &resp), d->c, "enrolling");
    json_decref(resp);
}

/* One lb_client_sync; its report (may be NULL) and seconds (may be NULL). */
static inline void blb_sync(blb_device *d, const char *what, lb_client_report *rep, double *secs)
{
    lb_client_report r;
    double t0 = now();
    blb_check_client(lb_client_sync(d->c, d->s, NULL, NULL, rep ? rep : &r), d->c, what);
    if (secs)
        *secs = now() - t0;
}

/* A supervisor's invitation code for role. */
static inline void blb_invite(blb_device *sup, const char *role, const char *name, char *code,
                       size_t cap)
{
    json_t *body = json_pack("{s:s, s:s}", "role", role, "name", name), *resp = NULL;
    const char *v;
    blb_check_client(lb_client_use_store_token(sup->c, sup->s), sup->c, "reading a token");
    blb_check_client(lb_client_post(sup->c, "/v1/team/invite", body, LB_CLIENT_ONCE, NULL,
                                    &resp), sup->c, "inviting");
    if (!(v = json_string_value(json_object_get(resp, "code"))))
        bench_die("an invitation without a code", NULL);
    snprintf(code, cap, "%s", v);
    json_decref(body);
    json_decref(resp);
}

/* ---- the data set ------------------------------------------------------------------ */

typedef struct blb_caseload {
    char people[BLB_PEOPLE][LB_ID_HEX + 1];
    char goals[BLB_GOALS][LB_ID_HEX + 1];
} blb_caseload;

static inline void blb_people_and_goals(lb_store *s, blb_caseload *cl)
{
    static const char *const given[] = {"Margaret", "Arthur", "Nasreen", "Dennis", "Olu"};
    static const char *const family[] = {"Okafor", "Hughes", "Begum", "Walsh"};
    blb_check(lb_store_begin(s), s, "begin");
    for (unsigned i = 0; i < BLB_PEOPLE; i++) {
        lb_person_fields f = {0};
        f.given = given[i % 5];
        f.family = family[(i / 5) % 4];
        f.dob = "1948-03-12";
        f.postcode = "LS6 2AB";
        blb_check(lb_person_add(s, &f, cl->people[i]), s, "adding a person");
    }
    for (unsigned i = 0; i < BLB_GOALS; i++)
        blb_check(lb_goal_add(s, cl->people[i % BLB_PEOPLE], "Join the Tuesday walking group",
                              "physical activity", "2027-06-30", cl->goals[i]), s,
                  "adding a goal");
    blb_check(lb_store_commit(s), s, "commit");
}

/* n visits (contacts with a 600-character note: 2 changes each) from
 * number first on, 1,000 per transaction. */
static inline void blb_record_visits(lb_store *s, const blb_caseload *cl, unsigned first, unsigned n)
{
    char note[NOTE_LEN + 1];
    lb_contact_fields f = {0};
    f.mode = "home";
    f.minutes = "45";
    f.categories = "health-coaching,signposting";
    f.note = note;
    f.date = "2026-11-02";
    for (unsigned i = 0; i < n; i++) {
        if (i % BLB_BATCH == 0)
            blb_check(lb_store_begin(s), s, "begin");
        note_text(first + i, note);
        blb_check(lb_contact_add(s, cl->people[(first + i) % BLB_PEOPLE], &f, NULL), s,
                  "lb_contact_add");
        if (i % BLB_BATCH == BLB_BATCH - 1 || i == n - 1)
            blb_check(lb_store_commit(s), s, "commit");
    }
}

/* A team on a fresh server: supervisor b (makes the team key), worker a
 * (has the key), a's people and goals synced to b. */
static inline void blb_team_up(blb_server *sv, const char *tag, blb_device *a, blb_device *b,
                        blb_caseload *cl)
{
    char name[64], code[256];
    blb_server_start(sv, tag);
    snprintf(name, sizeof name, "%s-sup", tag);
    blb_enrol(b, name, sv->url, sv->code);
    blb_sync(b, "supervisor's first sync", NULL, NULL);
    blb_invite(b, "link-worker", "worker", code, sizeof code);
    snprintf(name, sizeof name, "%s-worker", tag);
    blb_enrol(a, name, sv->url, code);
    blb_sync(b, "supervisor seals the key", NULL, NULL);
    blb_sync(a, "worker's first sync", NULL, NULL);
    blb_people_and_goals(a->s, cl);
    blb_sync(a, "worker pushes people and goals", NULL, NULL);
    blb_sync(b, "supervisor pulls people and goals", NULL, NULL);
}

/* ---- peak memory of a command, in a freshly exec'd helper ------------------------ */

/* Linux carries the peak RSS of the address space a child was forked from
 * into its ru_maxrss across exec, so a command's peak is measured from a
 * helper exec'd fresh (this program in "--child-rss FILE CMD ARGS..."),
 * whose own address space is small: it forks and execs CMD, waits (wait4)
 * and writes "STATUS MAXRSS_KB ANON_KB" to FILE.  With sample_anon
 * ("--child-rss-anon") it also samples CMD's RssAnon (heap and stacks, not
 * the database pages SQLite maps) every 2 ms, for its approximate peak;
 * ANON_KB is 0 otherwise. */
static inline int blb_child_rss(char **argv, int sample_anon)
{
    struct rusage ru;
    char pidtext[32];
    long anon = 0;
    int st = 0, rc = -1;
    double end = now() + BLB_CHILD_SECS;
    FILE *f;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        execv(argv[1], argv + 1);
        _exit(127);
    }
    snprintf(pidtext, sizeof pidtext, "%ld", (long)pid);
    memset(&ru, 0, sizeof ru);
    for (;;) {
        long a = sample_anon ? blb_status_kb(pidtext, "RssAnon") : 0;
        pid_t got = wait4(pid, &st, sample_anon ? WNOHANG : 0, &ru);
        anon = a > anon ? a : anon;
        if (got == pid) {
            rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if ((got < 0 && errno != EINTR) || now() > end) {
            kill(pid, SIGKILL);
            wait4(pid, &st, 0, &ru);
            break;
        }
        if (sample_anon)
            blb_sleep_ms(2);
    }
    if (!(f = fopen(argv[0], "w")))
        return 1;
    fprintf(f, "%d %ld %ld\n", rc, ru.ru_maxrss, anon);
    return fclose(f) != 0;
}

/* Run this program in a helper mode (argv: blb_self, "--child-...", ...),
 * its stdout to out (may be NULL); the numbers it wrote to file: two into
 * *a and *b, a third into *c unless c is NULL. */
static inline void blb_run_helper(char *const argv[], const char *out, const char *file,
                                  long *a, long *b, long *c)
{
    FILE *f;
    int got;
    long dummy;
    if (blb_wait(blb_spawn(argv, out), BLB_CHILD_SECS + 10) != 0)
        bench_die("a measuring helper failed", argv[1]);
    if (!(f = fopen(file, "r")))
        bench_die("a measuring helper wrote nothing", file);
    got = fscanf(f, "%ld %ld %ld", a, b, c ? c : &dummy);
    fclose(f);
    if (got < 2 || (c && got != 3))
        bench_die("a measuring helper wrote nonsense", file);
}

/* `linkbook sync --json` on store dir under the memory helper: its peak
 * RSS in MB; its wall seconds (which include its start and Argon2id
 * unlock) in *secs and its sampled peak RssAnon in MB in *anon_mb, each
 * unless NULL.  Its report: blb_cli_sync_report(). */
static inline double blb_cli_sync_peak(const char *cli, const char *dir, double *secs,
                                       double *anon_mb)
{
    char out[4300], rss[4300];
    char *argv[] = {blb_self, anon_mb ? "--child-rss-anon" : "--child-rss", rss, (char *)cli,
                    "sync", "--json", NULL};
    long rc = -1, kb = 0, anon = 0;
    double t0 = now();
    snprintf(out, sizeof out, "%s/cli-sync.out", blb_work);
    snprintf(rss, sizeof rss, "%s/cli-sync.rss", blb_work);
    setenv("LINKBOOK_STORE", dir, 1);
    setenv("LINKBOOK_PASSPHRASE", BLB_PASS, 1);
    blb_run_helper(argv, out, rss, &rc, &kb, &anon);
    if (secs)
        *secs = now() - t0;
    if (anon_mb)
        *anon_mb = (double)anon / 1024.0;
    if (rc != 0)
        bench_die("`linkbook sync` failed under the memory helper", dir);
    return (double)kb / 1024.0;
}

/* The JSON report of the last blb_cli_sync_peak (a new reference), or NULL. */
static inline json_t *blb_cli_sync_report(void)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/cli-sync.out", blb_work);
    return json_load_file(path, 0, NULL);
}

/* Set up blb_self and the temporary directory; answers the helper mode.
 * Returns -1 to go on, or the exit status of a helper mode. */
static inline int blb_init(int argc, char **argv, const char *tmp)
{
    ssize_t len;
    if (argc >= 4 && strcmp(argv[1], "--child-rss") == 0)
        return blb_child_rss(argv + 2, 0);
    if (argc >= 4 && strcmp(argv[1], "--child-rss-anon") == 0)
        return blb_child_rss(argv + 2, 1);
    if ((len = readlink("/proc/self/exe", blb_self, sizeof blb_self - 1)) <= 0)
        bench_die("cannot find this program", "/proc/self/exe");
    blb_self[len] = '\0';
    if (lb_crypto_init() != LB_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        bench_die("cannot initialise libsodium or libcurl", NULL);
    signal(SIGPIPE, SIG_IGN);
    snprintf(blb_work, sizeof blb_work, "%s/linkbook-%s.XXXXXX", tmp, BENCH_NAME);
    if (!mkdtemp(blb_work)) {
        blb_work[0] = '\0';
        bench_die("cannot make a temporary directory under", tmp);
    }
    return -1;
}

/* ---- options ------------------------------------------------------------------------ */

/* The options the sync benchmarks share. */
typedef struct blb_opts {
    const char *tmp;   /* --tmp DIR: where the temporary directory goes */
    const char *json;  /* --json FILE: bench.json, NULL: none */
    const char *cli;   /* --linkbook PATH: the command */
} blb_opts;

/* Takes option o with value v if it is --tmp, --json, --linkbook or
 * --linkbookd (blb_srv_path): 1, else 0. */
static inline int blb_opt(blb_opts *op, const char *o, const char *v)
{
    if (strcmp(o, "--tmp") == 0)
        op->tmp = v;
    else if (strcmp(o, "--json") == 0)
        op->json = v;
    else if (strcmp(o, "--linkbook") == 0)
        op->cli = v;
    else if (strcmp(o, "--linkbookd") == 0)
        blb_srv_path = v;
    else
        return 0;
    return 1;
}

/* A comma-separated list of whole numbers from lo to hi (option opt), at
 * most cap of them into out; their count. */
static inline int blb_arg_list(const char *opt, const char *text, long *out, int cap, long lo,
                               long hi)
{
    char buf[256], *save = NULL;
    int n = 0;
    snprintf(buf, sizeof buf, "%s", text);
    for (char *t = strtok_r(buf, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save))
        out[n++] = bench_arg_long(BENCH_NAME, opt, t, lo, hi);
    return n;
}

/* ---- figures ------------------------------------------------------------------------ */

/* A goal: value at least (BLB_AT_LEAST) or at most (BLB_AT_MOST) target. */
enum { BLB_NO_GOAL = 0, BLB_AT_LEAST, BLB_AT_MOST };

typedef struct blb_fig {
    char name[112], unit[24], goal[48], note[96];
    double v[BLB_MAX_RUNS];
    int n;
    double med, lo, hi;
    int goal_kind;
    double target;
    int met;          /* 1, 0, -1 no goal */
} blb_fig;

static blb_fig blb_figs[BLB_MAX_FIG];
static int blb_nfig;

/* A figure from n values; goal_kind and target as above; goal text made. */
static inline blb_fig *blb_add(const char *name, const char *unit, const double *v, int n,
                        int goal_kind, double target)
{
    blb_fig *f;
    double tmp[BLB_MAX_RUNS];
    if (blb_nfig == BLB_MAX_FIG || n < 1 || n > BLB_MAX_RUNS)
        bench_die("too many figures or runs", name);
    f = &blb_figs[blb_nfig++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->unit, sizeof f->unit, "%s", unit);
    memcpy(f->v, v, (size_t)n * sizeof *v);
    memcpy(tmp, v, (size_t)n * sizeof *v);
    f->n = n;
    stats(tmp, n, &f->med, &f->lo, &f->hi);
    f->goal_kind = goal_kind;
    f->target = target;
    f->met = -1;
    if (goal_kind == BLB_AT_LEAST) {
        snprintf(f->goal, sizeof f->goal, ">= %g", target);
        f->met = f->med >= target;
    } else if (goal_kind == BLB_AT_MOST) {
        snprintf(f->goal, sizeof f->goal, "<= %g", target);
        f->met = f->med <= target;
    }
    return f;
}

/* How a median stands to its goal: "yes, 1.8x" / "NO, 0.45x" (the factor
 * by which the goal is beaten or missed; > 1 is better). */
static inline void blb_margin(const blb_fig *f, char *out, size_t cap)
{
    double k;
    if (f->goal_kind == BLB_NO_GOAL) {
        snprintf(out, cap, "-");
        return;
    }
    if (f->goal_kind == BLB_AT_LEAST)
        k = f->target > 0 ? f->med / f->target : 0;
    else
        k = f->med > 0 ? f->target / f->med : (f->target >= 0 ? 1e9 : 0);
    if (k >= 1e6)
        snprintf(out, cap, "%s", f->met ? "yes" : "NO");
    else
        snprintf(out, cap, "%s, %.2fx", f->met ? "yes" : "NO", k);
}

static inline void blb_num(char *buf, size_t len, double v)
{
    double a = v < 0 ? -v : v;
    if (a >= 100 || a == 0 || v == (double)(long long)v)
        snprintf(buf, len, "%.0f", v);
    else if (a >= 10)
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "%.3g", v);
}

static inline void blb_print_table(const char *title)
{
    char med[32], lo[32], hi[32], range[80], margin[48];
    printf("\n%s\n%-52s %10s  %-20s %-10s %-10s %s\n", title, "figure", "median", "min-max",
           "unit", "goal", "met?");
    for (int i = 0; i < blb_nfig; i++) {
        const blb_fig *f = &blb_figs[i];
        blb_num(med, sizeof med, f->med);
        blb_num(lo, sizeof lo, f->lo);
        blb_num(hi, sizeof hi, f->hi);
        snprintf(range, sizeof range, f->n > 1 ? "%s-%s" : "(1 run)", lo, hi);
        blb_margin(f, margin, sizeof margin);
        printf("%-52s %10s  %-20s %-10s %-10s %s%s%s\n", f->name, med, range, f->unit,
               f->goal[0] ? f->goal : "-", margin, f->note[0] ? "  " : "", f->note);
    }
    fflush(stdout);
}

static inline json_t *blb_fig_json(const blb_fig *f, const char *group)
{
    json_t *vals = json_array(), *e;
    for (int i = 0; i < f->n && vals; i++)
        json_array_append_new(vals, json_real(f->v[i]));
    e = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:s, s:o}", "group", group, "figure",
                  f->name, "unit", f->unit, "median", f->med, "min", f->lo, "max", f->hi,
                  "runs", f->n, "goal", f->goal, "values", vals ? vals : json_array());
    if (!e)
        return NULL;
    json_object_set_new(e, "met", f->met < 0 ? json_null() : json_boolean(f->met));
    if (f->goal_kind != BLB_NO_GOAL) {
        json_object_set_new(e, "goal_op", json_string(f->goal_kind == BLB_AT_LEAST ? ">="
                                                                                 : "<="));
        json_object_set_new(e, "goal_value", json_real(f->target));
    }
    if (f->note[0])
        json_object_set_new(e, "note", json_string(f->note));
    return e;
}

/* Append the entries (an array, taken over) to the "figures" list of the
 * JSON file path (made if missing), and set params (taken over; NULL: {})
 * under key. */
static inline void blb_json_merge(const char *path, json_t *entries, const char *key,
                                  json_t *params)
{
    json_t *root = json_load_file(path, 0, NULL), *arr;
    if (!json_is_object(root)) {
        json_decref(root);
        root = json_pack("{s:s, s:[]}", "linkbook", LINKBOOK_VERSION, "figures");
    }
    arr = json_object_get(root, "figures");
    if (!json_is_array(arr)) {
        json_object_set_new(root, "figures", json_array());
        arr = json_object_get(root, "figures");
    }
    json_array_extend(arr, entries);
    json_decref(entries);
    json_object_set_new(root, key, params ? params : json_object());
    if (json_dump_file(root, path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "%s: could not write %s\n", BENCH_NAME, path);
    else
        fprintf(stderr, "wrote %s\n", path);
    json_decref(root);
}

/* Add the figures (group BENCH_NAME) to the "figures" list of the JSON file
 * path (made if missing), and params under the key BENCH_NAME. */
static inline void blb_write_json(const char *path, json_t *params)
{
    json_t *entries = json_array();
    for (int i = 0; i < blb_nfig; i++)
        json_array_append_new(entries, blb_fig_json(&blb_figs[i], BENCH_NAME));
    blb_json_merge(path, entries, BENCH_NAME, params);
}

#endif
