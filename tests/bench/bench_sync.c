/* bench_sync.c - how fast linkbook syncs: the real client (lb_client_sync,
 * sync/lb_client.h) against the real server (linkbookd serve) on
 * 127.0.0.1, beside PouchDB's figures quoted from ../shared/bench/README.md
 * (quoted, not measured here).  Not a test: it measures, prints, and says
 * whether the sync goals hold.
 *
 * Each run starts a fresh linkbookd (admin team-create, serve on
 * 127.0.0.1:0), enrols a supervisor device B and a worker device A through
 * the library (lb_client_enrol), lets B make and seal the team key, and
 * gives A 20 people and 100 goals, synced to B.  Then:
 *   push       A records N contacts with a 600-byte note offline (lb_contact_add,
 *              batches of 1,000), then one lb_client_sync: changes/s,
 *              requests, bytes up per change, and bytes up per change over
 *              the sealed payload (nonce + ciphertext, measured from the
 *              same outbox before the push).  Goals >= 30,000/s, <= 1.25.
 *   pull       B, holding none of them, syncs: changes/s, requests, bytes
 *              down per change.  Goal >= 30,000/s.
 *   edits      100 goal status edits on A, sync A, sync B: requests and ms
 *              of each.  Goal: 2 requests in all.
 *   no-op      sync B again: requests (goal 1) and ms.
 * Runs: --runs (default 3), medians with min-max.
 *
 * Once (--mem-changes, default 100,000): A records that many changes and
 * pushes; then the real command `linkbook sync` pulls them all onto B as a
 * child process: its peak RSS (wait4 ru_maxrss; goal < 64 MB), which
 * includes the Argon2id unlock of the store (64 MiB by design); the same
 * command once more with nothing to pull (unlock + 1 request); and a second
 * supervisor device pulling the same changes in a process of ours whose
 * peak is reset after unlock (/proc/self/clear_refs), to show the pull
 * alone.  Each is measured in a freshly exec'd helper (see --child-rss).
 *
 * Once per count in --devices (default 200; a list such as 50,200,500
 * runs each in turn, each on a fresh linkbookd), for --secs (default 10): a load generator
 * of ours, one thread and one keep-alive connection per enrolled device
 * token, each pushing 10 envelopes (random 700-byte bodies) then pulling
 * its caseload, in a loop bounded in time and count: changes/s, p50/p99
 * request latency (goal at 500 devices: p99 < 250 ms) and linkbookd's peak
 * RSS (VmHWM).  The load generator shares the machine's cores with
 * linkbookd.  With --postgres CONNINFO the servers keep their store in that
 * PostgreSQL database instead of a data directory, and with --servers N
 * (1 to 4) N linkbookd processes serve it, device i talking to process
 * i mod N; --label names the load figures (default "load"); --runs 0 skips
 * the push/pull/edit runs (with --mem-changes 0: the load alone).
 *
 * usage: bench_sync --linkbook PATH --linkbookd PATH [--n N] [--runs R]
 *        [--mem-changes N] [--devices D] [--secs S] [--tmp DIR] [--json FILE]
 *        [--postgres CONNINFO] [--servers N] [--label TEXT]
 * --json adds the figures to FILE (a bench_local --json file: its
 * "figures" list grows, "sync" holds this run's parameters and the quoted
 * PouchDB reference); otherwise FILE is made.  Progress to stderr, the table
 * to stdout.  All traffic goes to 127.0.0.1.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

#define BATCH 1000
#define PEOPLE 20
#define GOALS 100
#define PASS "correct horse battery staple"
#define MAX_RUNS 20
#define MAX_FIG 40
#define MAX_DEVICES 1000
#define LOAD_BATCH 10
#define LOAD_BODY 700
#define LOAD_MAX_LOOPS 100000
#define LAT_MAX 20000   /* latencies kept per device */
#define CHILD_SECS 300  /* bound on any child process */

/* PouchDB 9 + pouchdb-server 4.2, N = 10,000, medians of 3, as quoted in
 * ../shared/bench/README.md (not measured in this run). */
#define REF_PUSH_DOCS_S 3072
#define REF_PULL_DOCS_S 3610
#define REF_PUSH_REQ 402
#define REF_PULL_REQ 503
#define REF_UP_B_PER_DOC (9257.0 * 1024 / 10000)
#define REF_DOWN_B_PER_DOC (5837.0 * 1024 / 10000)
#define REF_EDIT_PUSH_REQ 6
#define REF_EDIT_PULL_REQ 9
#define REF_NOOP_REQ 8
#define REF_CLIENT_MB 211

typedef struct fig {
    const char *name;
    const char *unit;
    double med, lo, hi;
    int n;              /* runs behind the figure */
    const char *goal;   /* text, "" when none */
    int met;            /* 1 yes, 0 no, -1 not a goal */
    double ref;         /* PouchDB, quoted; < 0 when none */
    const char *ref_note;
} fig;

static fig figs[MAX_FIG];
static int nfig;
static char work[4096];
static const char *cli_path, *srv_path;
static const char *pg_conninfo;            /* --postgres: the servers' store */
static int nservers = 1;                   /* --servers: processes for the load */
static const char *load_label = "load";    /* --label */
static char self_exe[4096]; /* this program, for its helper modes */

/* ---- small helpers -------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static fig *add_fig(const char *name, const char *unit, double *v, int n, const char *goal,
                    double ref, const char *ref_note)
{
    fig *f = &figs[nfig++];
    f->name = name;
    f->unit = unit;
    stats(v, n, &f->med, &f->lo, &f->hi);
    f->n = n;
    f->goal = goal;
    f->met = -1;
    f->ref = ref;
    f->ref_note = ref_note;
    return f;
}

static void cleanup(void);

static void die(const char *fmt_what, const char *detail)
{
    fprintf(stderr, "bench_sync: %s: %s\n", fmt_what, detail ? detail : "");
    cleanup();
    exit(1);
}

static void check(lb_err err, lb_store *s, const char *what)
{
    if (err != LB_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s (%s)", lb_strerror(err), s ? lb_store_errmsg(s) : "");
        die(what, msg);
    }
}

static void check_client(lb_client_rc rc, lb_client *c, const char *what)
{
    if (rc != LB_CLIENT_OK)
        die(what, lb_client_errmsg(c)[0] ? lb_client_errmsg(c) : lb_client_strerror(rc));
}

/* ---- note text (as bench_local) ------------------------------------------- */

/* ---- child processes -------------------------------------------------------- */

/* Spawn argv (this environment) with stdin and stderr on /dev/null and
 * stdout to out_path (or /dev/null).  Returns the pid, or -1. */
static pid_t spawn(char *const argv[], const char *out_path)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

/* Wait for pid at most secs seconds (then SIGKILL); exit status or -1;
 * *ru (may be NULL) receives the child's own resource use. */
static int wait_child(pid_t pid, int secs, struct rusage *ru)
{
    struct rusage r;
    int st = 0;
    double end = now() + secs;
    for (;;) {
        pid_t got = wait4(pid, &st, WNOHANG, &r);
        if (got == pid)
            break;
        if (got < 0 && errno != EINTR)
            return -1;
        if (now() > end) {
            kill(pid, SIGKILL);
            wait4(pid, &st, 0, &r);
            return -1;
        }
        sleep_ms(5);
    }
    if (ru)
        *ru = r;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The last non-empty line of a file, into out. */
static int last_line(const char *path, char *out, size_t cap)
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

/* ---- the server --------------------------------------------------------------- */

typedef struct server {
    char data[4200], url[64], code[256];
    pid_t pid;
} server;

/* The store options of linkbookd: --data DIR, or --postgres CONNINFO. */
static char *store_opt(void)
{
    return pg_conninfo ? "--postgres" : "--data";
}

static char *store_val(server *sv)
{
    return pg_conninfo ? (char *)pg_conninfo : sv->data;
}

/* Serve sv's store on 127.0.0.1:0 (sv->data names the output file). */
static void server_serve(server *sv, const char *out);

/* linkbookd admin team-create, then serve on 127.0.0.1:0; the URL from the
 * "listening on" line (waited for at most 15 s). */
static void server_start(server *sv, const char *name)
{
    char out[4300];
    char *create[] = {(char *)srv_path, "admin", "team-create", "bench team", store_opt(),
                      store_val(sv), NULL};
    snprintf(sv->data, sizeof sv->data, "%s/%s", work, name);
    snprintf(out, sizeof out, "%s.out", sv->data);
    if (wait_child(spawn(create, out), 60, NULL) != 0 ||
        !last_line(out, sv->code, sizeof sv->code))
        die("linkbookd admin team-create failed", sv->data);
    server_serve(sv, out);
}

static void server_serve(server *sv, const char *out)
{
    char line[512];
    char *serve[] = {(char *)srv_path, "serve", store_opt(), store_val(sv), "--listen",
                     "127.0.0.1:0", NULL};
    double end;
    if ((sv->pid = spawn(serve, out)) < 0)
        die("cannot start linkbookd serve", srv_path);
    for (end = now() + 15; now() < end; sleep_ms(20)) {
        FILE *f = fopen(out, "r");
        int port = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "listening on 127.0.0.1:%d", &port) == 1)
                break;
        if (f)
            fclose(f);
        if (port > 0) {
            snprintf(sv->url, sizeof sv->url, "http://127.0.0.1:%d", port);
            return;
        }
    }
    kill(sv->pid, SIGKILL);
    wait_child(sv->pid, 5, NULL);
    sv->pid = 0;
    die("linkbookd did not say it listens within 15 s", out);
}

static void server_stop(server *sv)
{
    if (sv->pid <= 0)
        return;
    kill(sv->pid, SIGTERM);
    if (wait_child(sv->pid, 20, NULL) != 0)
        fprintf(stderr, "bench_sync: linkbookd did not stop cleanly\n");
    sv->pid = 0;
}

static server *live_server; /* killed by cleanup() */

/* ---- devices -------------------------------------------------------------- */

typedef struct device {
    char dir[4200];
    lb_store *s;
    lb_client *c;
} device;

static lb_client *client_for(const char *url)
{
    lb_client_opts o = {.url = url};
    lb_client *c = NULL;
    char msg[256] = "";
    if (lb_client_new(&o, &c, msg, sizeof msg) != LB_CLIENT_OK)
        die("lb_client_new", msg);
    return c;
}

static void device_open(device *d)
{
    check(lb_store_open(d->dir, &d->s), d->s, "opening a store");
    check(lb_store_unlock(d->s, PASS, strlen(PASS)), d->s, "unlocking a store");
}

static void device_close(device *d)
{
    lb_store_close(d->s);
    d->s = NULL;
}

/* A new store in work/name, enrolled with code on url. */
static void device_enrol(device *d, const char *name, const char *url, const char *code)
{
    json_t *resp = NULL;
    snprintf(d->dir, sizeof d->dir, "%s/%s", work, name);
    check(lb_store_create(d->dir, PASS, strlen(PASS), NULL, NULL, &d->s), d->s,
          "creating a store");
    d->c = client_for(url);
    check_client(lb_client_enrol(d->c, d->s, code, name, &resp), d->c, "enrolling");
    json_decref(resp);
}

static void device_free(device *d)
{
    device_close(d);
    lb_client_free(d->c);
    d->c = NULL;
}

static void sync_dev(device *d, const char *what, lb_client_report *rep, double *secs)
{
    lb_client_report r;
    double t0 = now();
    check_client(lb_client_sync(d->c, d->s, NULL, NULL, rep ? rep : &r), d->c, what);
    if (secs)
        *secs = now() - t0;
}

/* A supervisor's invitation code for role (token of sup's store). */
static void invite(device *sup, const char *role, const char *name, char *code, size_t cap)
{
    json_t *body = json_pack("{s:s, s:s}", "role", role, "name", name), *resp = NULL;
    const char *v;
    check_client(lb_client_use_store_token(sup->c, sup->s), sup->c, "reading a token");
    check_client(lb_client_post(sup->c, "/v1/team/invite", body, LB_CLIENT_ONCE, NULL, &resp),
                 sup->c, "inviting");
    v = json_string_value(json_object_get(resp, "code"));
    if (!v)
        die("an invitation without a code", NULL);
    snprintf(code, cap, "%s", v);
    json_decref(body);
    json_decref(resp);
}

/* ---- recording ---------------------------------------------------------------- */

typedef struct caseload {
    char people[PEOPLE][LB_ID_HEX + 1];
    char goals[GOALS][LB_ID_HEX + 1];
} caseload;

static void add_people_and_goals(lb_store *s, caseload *cl)
{
    static const char *const given[] = {"Margaret", "Arthur", "Nasreen", "Dennis", "Olu"};
    static const char *const family[] = {"Okafor", "Hughes", "Begum", "Walsh"};
    check(lb_store_begin(s), s, "begin");
    for (unsigned i = 0; i < PEOPLE; i++) {
        lb_person_fields f = {0};
        f.given = given[i % 5];
        f.family = family[(i / 5) % 4];
        f.dob = "1948-03-12";
        f.postcode = "LS6 2AB";
        check(lb_person_add(s, &f, cl->people[i]), s, "adding a person");
    }
    for (unsigned i = 0; i < GOALS; i++)
        check(lb_goal_add(s, cl->people[i % PEOPLE], "Join the Tuesday walking group",
                          "physical activity", "2027-06-30", cl->goals[i]), s, "adding a goal");
    check(lb_store_commit(s), s, "commit");
}

/* n contacts with a 600-byte note, in batches of BATCH. */
static void record_contacts(lb_store *s, const caseload *cl, unsigned first, unsigned n)
{
    char note[NOTE_LEN + 1];
    lb_contact_fields f = {0};
    f.mode = "home";
    f.minutes = "45";
    f.categories = "health-coaching,signposting";
    f.note = note;
    f.date = "2026-11-02";
    for (unsigned i = 0; i < n; i++) {
        if (i % BATCH == 0)
            check(lb_store_begin(s), s, "begin");
        note_text(first + i, note);
        check(lb_contact_add(s, cl->people[i % PEOPLE], &f, NULL), s, "lb_contact_add");
        if (i % BATCH == BATCH - 1 || i == n - 1)
            check(lb_store_commit(s), s, "commit");
    }
}

/* Mean sealed payload (nonce + ciphertext, binary) of the outbox. */
static double payload_mean(lb_store *s, size_t *count)
{
    json_t *env = NULL, *e;
    size_t pending = 0, i, total = 0;
    check(lb_sync_outbox(s, (size_t)-1 / 2, (size_t)-1 / 2, &env, &pending), s,
          "reading the outbox");
    json_array_foreach(env, i, e) {
        unsigned char *bin = NULL;
        size_t len = 0;
        const char *b = json_string_value(json_object_get(e, "body"));
        if (b && lb_proto_unb64(b, &bin, &len) == LB_OK)
            total += len;
        free(bin);
    }
    *count = json_array_size(env);
    json_decref(env);
    return *count ? (double)total / (double)*count : 0;
}

/* ---- one run: push, pull, edits, no-op --------------------------------------- */

typedef struct run_out {
    double push_rate, push_req, up_per_change, up_ratio, up_per_contact;
    double pull_rate, pull_req, down_per_change;
    double edit_a_req, edit_b_req, edit_req, edit_a_ms, edit_b_ms;
    double noop_req, noop_ms;
    size_t changes, payload_n;
    double payload;
} run_out;

/* A team on a fresh server: supervisor B (holds the team key), worker A
 * (has the key), A's people and goals synced to B. */
static void team_up(server *sv, const char *tag, device *a, device *b, caseload *cl)
{
    char name[64], code[256];
    server_start(sv, tag);
    live_server = sv;
    snprintf(name, sizeof name, "%s-sup", tag);
    device_enrol(b, name, sv->url, sv->code);
    sync_dev(b, "supervisor's first sync", NULL, NULL);
    invite(b, "link-worker", "worker", code, sizeof code);
    snprintf(name, sizeof name, "%s-worker", tag);
    device_enrol(a, name, sv->url, code);
    sync_dev(b, "supervisor seals the key", NULL, NULL);
    sync_dev(a, "worker's first sync", NULL, NULL);
    add_people_and_goals(a->s, cl);
    sync_dev(a, "worker pushes people and goals", NULL, NULL);
    sync_dev(b, "supervisor pulls people and goals", NULL, NULL);
}

static void edits_and_noop(device *a, device *b, const caseload *cl, int run, run_out *o)
{
    lb_client_report ra, rb, rn;
    double ta, tb, tn;
    check(lb_store_begin(a->s), a->s, "begin");
    for (unsigned i = 0; i < GOALS; i++)
        check(lb_goal_status(a->s, cl->goals[i], run % 2 ? "partly" : "achieved"), a->s,
              "lb_goal_status");
    check(lb_store_commit(a->s), a->s, "commit");
    sync_dev(a, "sync of 100 edits on A", &ra, &ta);
    sync_dev(b, "sync of 100 edits on B", &rb, &tb);
    sync_dev(b, "no-op sync", &rn, &tn);
    if (ra.pushed != GOALS || rb.pulled != GOALS || rn.pulled || rn.pushed)
        fprintf(stderr, "bench_sync: warning: edits pushed %zu, pulled %zu; no-op moved %zu\n",
                ra.pushed, rb.pulled, rn.pulled + rn.pushed);
    o->edit_a_req = (double)ra.net.requests;
    o->edit_b_req = (double)rb.net.requests;
    o->edit_req = o->edit_a_req + o->edit_b_req;
    o->edit_a_ms = ta * 1e3;
    o->edit_b_ms = tb * 1e3;
    o->noop_req = (double)rn.net.requests;
    o->noop_ms = tn * 1e3;
}

/* CPU seconds (user + system) of this process, and of process pid. */
static double self_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double proc_cpu(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r")))
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after "pid (comm) ": state is field 3, utime 14, stime 15 */
    if (!(p = strrchr(buf, ')')) ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void one_run(int run, unsigned n, run_out *o)
{
    server sv = {0};
    device a = {0}, b = {0};
    caseload cl;
    lb_client_report rp, rl;
    double tp, tl, cpu[6];
    char tag[32];
    snprintf(tag, sizeof tag, "run%d", run);
    team_up(&sv, tag, &a, &b, &cl);
    record_contacts(a.s, &cl, 0, n);
    o->payload = payload_mean(a.s, &o->payload_n);
    cpu[0] = self_cpu(), cpu[1] = proc_cpu(sv.pid);
    sync_dev(&a, "push", &rp, &tp);
    cpu[2] = self_cpu(), cpu[3] = proc_cpu(sv.pid);
    sync_dev(&b, "pull", &rl, &tl);
    cpu[4] = self_cpu(), cpu[5] = proc_cpu(sv.pid);
    fprintf(stderr, "run %d: CPU seconds, client / linkbookd: push %.2f / %.2f in %.2f s, "
            "pull %.2f / %.2f in %.2f s\n", run + 1, cpu[2] - cpu[0], cpu[3] - cpu[1], tp,
            cpu[4] - cpu[2], cpu[5] - cpu[3], tl);
    if (rp.pushed != o->payload_n || rl.pulled != rp.pushed)
        fprintf(stderr, "bench_sync: warning: outbox %zu, pushed %zu, pulled %zu\n",
                o->payload_n, rp.pushed, rl.pulled);
    o->changes = rp.pushed;
    o->push_rate = (double)rp.pushed / tp;
    o->push_req = (double)rp.net.requests;
    o->up_per_change = (double)rp.net.bytes_up / (double)rp.pushed;
    o->up_per_contact = (double)rp.net.bytes_up / n;
    o->up_ratio = o->up_per_change / o->payload;
    o->pull_rate = (double)rl.pulled / tl;
    o->pull_req = (double)rl.net.requests;
    o->down_per_change = (double)rl.net.bytes_down / (double)rl.pulled;
    edits_and_noop(&a, &b, &cl, run, o);
    fprintf(stderr, "run %d: %zu changes (%u contacts), payload %.0f B; push %.0f/s in %.0f "
            "requests, %.0f B up each (x%.3f); pull %.0f/s in %.0f requests, %.0f B down "
            "each; edits %.0f + %.0f requests; no-op %.0f\n", run + 1, o->changes, n,
            o->payload, o->push_rate, o->push_req, o->up_per_change, o->up_ratio,
            o->pull_rate, o->pull_req, o->down_per_change, o->edit_a_req, o->edit_b_req,
            o->noop_req);
    device_free(&a);
    device_free(&b);
    server_stop(&sv);
    live_server = NULL;
}

#define COLLECT(field) do { for (int r_ = 0; r_ < runs; r_++) v[r_] = outs[r_].field; } while (0)

static void bench_runs(unsigned n, int runs)
{
    run_out outs[MAX_RUNS];
    double v[MAX_RUNS];
    fig *f;
    for (int r = 0; r < runs; r++)
        one_run(r, n, &outs[r]);
    COLLECT(push_rate);
    f = add_fig("push: A's outbox, one sync", "changes/s", v, runs, ">= 30,000/s",
                REF_PUSH_DOCS_S, "docs/s");
    f->met = f->med >= 30000;
    COLLECT(push_req);
    add_fig("push: HTTP requests", "requests", v, runs, "", REF_PUSH_REQ, "");
    COLLECT(up_per_change);
    add_fig("push: bytes up per change", "B", v, runs, "", -1, "");
    COLLECT(up_per_contact);
    add_fig("push: bytes up per contact (+ note)", "B", v, runs, "", REF_UP_B_PER_DOC,
            "B/doc");
    COLLECT(payload);
    add_fig("push: sealed payload per change", "B", v, runs, "", -1, "");
    COLLECT(up_ratio);
    f = add_fig("push: bytes up / sealed payload", "x", v, runs, "<= 1.25", -1, "");
    f->met = f->med <= 1.25;
    COLLECT(pull_rate);
    f = add_fig("pull: fresh supervisor B, one sync", "changes/s", v, runs, ">= 30,000/s",
                REF_PULL_DOCS_S, "docs/s");
    f->met = f->med >= 30000;
    COLLECT(pull_req);
    add_fig("pull: HTTP requests", "requests", v, runs, "", REF_PULL_REQ, "");
    COLLECT(down_per_change);
    add_fig("pull: bytes down per change", "B", v, runs, "", REF_DOWN_B_PER_DOC,
            "B/doc gzip");
    COLLECT(edit_a_req);
    add_fig("100 edits: sync on A, requests", "requests", v, runs, "", REF_EDIT_PUSH_REQ,
            "push");
    COLLECT(edit_b_req);
    add_fig("100 edits: sync on B, requests", "requests", v, runs, "", REF_EDIT_PULL_REQ,
            "pull");
    COLLECT(edit_req);
    f = add_fig("100 edits: A + B, requests", "requests", v, runs, "<= 2",
                REF_EDIT_PUSH_REQ + REF_EDIT_PULL_REQ, "");
    f->met = f->med <= 2;
    COLLECT(edit_a_ms);
    add_fig("100 edits: sync on A", "ms", v, runs, "", 40, "push");
    COLLECT(edit_b_ms);
    add_fig("100 edits: sync on B", "ms", v, runs, "", 37, "pull");
    COLLECT(noop_req);
    f = add_fig("no-op sync: requests", "requests", v, runs, "1", REF_NOOP_REQ, "push+pull");
    f->met = f->med <= 1;
    COLLECT(noop_ms);
    add_fig("no-op sync", "ms", v, runs, "", 14, "push+pull");
}

/* ---- memory: pulling many changes ---------------------------------------------- */

/* Peak memory has to be measured in a process whose address space never
 * held this benchmark's heap: Linux carries the peak RSS of the address
 * space a child was forked (or vforked) from into ru_maxrss across exec.
 * So this program runs itself (/proc/self/exe) in one of two helper modes,
 * each started fresh by exec:
 *   --child-rss FILE CMD ARGS...   fork + exec CMD (from the helper's small
 *                                  address space), wait4, write CMD's exit
 *                                  status and ru_maxrss in kB to FILE;
 *   --child-pull DIR FILE          open and unlock the store DIR (Argon2id),
 *                                  reset the peak (/proc/self/clear_refs 5),
 *                                  one lb_client_sync, write "pulled N",
 *                                  VmHWM and RssFile in kB to FILE. */

/* A field of /proc/PID/status in kB (0 if unknown). */
static long status_kb(const char *pid, const char *field)
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

/* --child-rss: also samples the child's RssAnon (heap and stacks, not the
 * database pages SQLite maps) every 2 ms, for its approximate peak. */
static int child_rss(char **argv)
{
    struct rusage ru;
    char pidtext[32];
    long anon = 0;
    int st = 0, rc = -1;
    double end = now() + CHILD_SECS;
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
        long a = status_kb(pidtext, "RssAnon");
        pid_t got = wait4(pid, &st, WNOHANG, &ru);
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
        sleep_ms(2);
    }
    if (!(f = fopen(argv[0], "w")))
        return 1;
    fprintf(f, "%d %ld %ld\n", rc, ru.ru_maxrss, anon);
    return fclose(f) != 0;
}

static int child_pull(const char *dir, const char *path)
{
    device d = {0};
    lb_sync_info info;
    lb_client_report rep;
    long kb = 0, file_kb = 0;
    FILE *f;
    snprintf(d.dir, sizeof d.dir, "%s", dir);
    if (lb_crypto_init() != LB_OK)
        return 1;
    device_open(&d);
    check(lb_sync_info_get(d.s, &info), d.s, "reading the enrolment");
    d.c = client_for(info.url);
    lb_sync_info_clear(&info);
    f = fopen("/proc/self/clear_refs", "w");
    if (f && fputs("5", f) >= 0 && fclose(f) == 0 &&
        lb_client_sync(d.c, d.s, NULL, NULL, &rep) == LB_CLIENT_OK)
        kb = status_kb("self", "VmHWM"), file_kb = status_kb("self", "RssFile");
    else if (f == NULL)
        kb = -1;
    device_free(&d);
    if (!(f = fopen(path, "w")))
        return 1;
    fprintf(f, "%zu %ld %ld\n", kb > 0 ? rep.pulled : 0, kb, file_kb);
    return fclose(f) != 0;
}

/* Run this program in a helper mode (argv from "--child-..."), its stdout
 * to out (may be NULL); the two numbers it writes to file. */
static void run_helper(char *const argv[], const char *out, const char *file, long *a, long *b,
                       long *c)
{
    FILE *f;
    int got;
    long dummy;
    if (wait_child(spawn(argv, out), CHILD_SECS + 10, NULL) != 0)
        die("a measuring helper failed", argv[1]);
    if (!(f = fopen(file, "r")))
        die("a measuring helper wrote nothing", file);
    got = fscanf(f, "%ld %ld %ld", a, b, c ? c : &dummy);
    fclose(f);
    if (got < 2 || (c && got != 3))
        die("a measuring helper wrote nonsense", file);
}

/* `linkbook sync --json` on store dir, under --child-rss: its peak RSS in
 * MB, its sampled peak RssAnon in *anon_mb; its report into report. */
static double cli_sync_peak(const char *dir, const char *what, char *report, size_t cap,
                            double *anon_mb)
{
    char out[4300], rss[4300];
    char *argv[] = {self_exe, "--child-rss", rss, (char *)cli_path, "sync", "--json", NULL};
    json_t *doc;
    long rc, kb, anon;
    snprintf(out, sizeof out, "%s/cli-sync.out", work);
    snprintf(rss, sizeof rss, "%s/cli-sync.rss", work);
    setenv("LINKBOOK_STORE", dir, 1);
    setenv("LINKBOOK_PASSPHRASE", PASS, 1);
    run_helper(argv, out, rss, &rc, &kb, &anon);
    *anon_mb = (double)anon / 1024.0;
    if (rc != 0)
        die("`linkbook sync` failed", what);
    report[0] = '\0';
    if ((doc = json_load_file(out, 0, NULL)) != NULL) {
        char *text = json_dumps(doc, JSON_COMPACT);
        snprintf(report, cap, "%s", text ? text : "");
        free(text);
        json_decref(doc);
    }
    return (double)kb / 1024.0;
}

/* A pull onto the store dir under --child-pull: the peak after unlock in
 * MB (0 if the kernel could not reset the peak). */
static double pull_alone_peak(const char *dir)
{
    char file[4300];
    char *argv[] = {self_exe, "--child-pull", (char *)dir, file, NULL};
    long pulled, kb, file_kb;
    snprintf(file, sizeof file, "%s/pull-alone.out", work);
    run_helper(argv, NULL, file, &pulled, &kb, &file_kb);
    fprintf(stderr, "memory: the pull alone: %ld changes, peak %.1f MB after unlock; at the "
            "end %.1f MB of it are file pages (libraries and other mapped files)\n", pulled,
            (double)kb / 1024.0, (double)file_kb / 1024.0);
    return kb > 0 ? (double)kb / 1024.0 : 0;
}

static void bench_memory(unsigned want)
{
    server sv = {0};
    device a = {0}, b = {0}, b2 = {0};
    caseload cl;
    char code[256], report[512];
    size_t pending = 0;
    unsigned recorded = 0;
    double full, noop, fork_mb, full_anon, noop_anon, v[1];
    static char name[80];
    fig *f;
    team_up(&sv, "mem", &a, &b, &cl);
    invite(&b, "supervisor", "second supervisor", code, sizeof code);
    device_enrol(&b2, "mem-sup2", sv.url, code);
    sync_dev(&b, "supervisor seals the key to the second", NULL, NULL);
    sync_dev(&b2, "second supervisor's first sync", NULL, NULL);
    for (unsigned k = 0; k < 1000 && pending < want; k++) {
        record_contacts(a.s, &cl, recorded, BATCH);
        recorded += BATCH;
        check(lb_sync_pending(a.s, &pending), a.s, "counting the outbox");
    }
    sync_dev(&a, "pushing for the memory run", NULL, NULL);
    fprintf(stderr, "memory: %zu changes (%u contacts) on the server\n", pending, recorded);
    device_close(&b);
    device_close(&b2);
    full = cli_sync_peak(b.dir, "pulling them all", report, sizeof report, &full_anon);
    fprintf(stderr, "memory: `linkbook sync` pulling: %s\n", report);
    noop = cli_sync_peak(b.dir, "a no-op", report, sizeof report, &noop_anon);
    fork_mb = pull_alone_peak(b2.dir);
    v[0] = full;
    snprintf(name, sizeof name, "memory: `linkbook sync` pulling %zuk, peak RSS",
             (pending + 500) / 1000);
    f = add_fig(name, "MB", v, 1, "< 64 MB",
                REF_CLIENT_MB, "");
    f->met = f->med < 64;
    v[0] = full_anon;
    add_fig("memory: same, anonymous (heap) peak, sampled", "MB", v, 1, "", -1, "");
    v[0] = noop;
    add_fig("memory: no-op sync (unlock + 1 request)", "MB", v, 1, "", -1, "");
    v[0] = noop_anon;
    add_fig("memory: no-op sync, anonymous peak, sampled", "MB", v, 1, "", -1, "");
    if (fork_mb > 0) {
        v[0] = fork_mb;
        f = add_fig("memory: the pull alone, peak after unlock", "MB", v, 1, "< 64 MB", -1, "");
        f->met = f->med < 64;
    }
    device_free(&a);
    device_free(&b);
    device_free(&b2);
    server_stop(&sv);
    live_server = NULL;
}

/* ---- server load -------------------------------------------------------------- */

typedef struct loaddev {
    char token[256], caseload[80], person[LB_PROTO_ID_LEN + 1];
    pthread_t th;
    const char *url;
    double deadline;
    pthread_barrier_t *start;
    double *lat;
    size_t nlat, pushed, pulled, requests, failed;
    int64_t cursor;
} loaddev;

typedef struct membuf {
    char *p;
    size_t len, cap;
} membuf;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    membuf *m = ctx;
    size_t len = size * n;
    if (m->len + len + 1 > m->cap) {
        size_t cap = (m->len + len + 1) * 2;
        char *p = cap > LB_PROTO_MAX_BODY * 2 ? NULL : realloc(m->p, cap);
        if (!p)
            return 0;
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    m->p[m->len] = '\0';
    return len;
}

static void random_id(char out[LB_PROTO_ID_LEN + 1])
{
    unsigned char raw[LB_PROTO_ID_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, LB_PROTO_ID_LEN + 1, raw, sizeof raw);
}

/* POST text (len bytes, Content-Type from hdrs) to url + path; 1 when a
 * 200 answer with the binary magic came (in m); latency kept. */
static int load_post(loaddev *d, CURL *h, const char *path, struct curl_slist *hdrs,
                     const char *text, size_t len, membuf *m)
{
    char url[256];
    long status = 0;
    double t0;
    CURLcode cc;
    int ok;
    snprintf(url, sizeof url, "%s%s", d->url, path);
    m->len = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    t0 = now();
    cc = curl_easy_perform(h);
    if (d->nlat < LAT_MAX)
        d->lat[d->nlat++] = (now() - t0) * 1e3;
    d->requests++;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    ok = cc == CURLE_OK && status == 200 && m->len >= LB_PROTO_MAGIC_LEN &&
         memcmp(m->p, LB_PROTO_MAGIC, LB_PROTO_MAGIC_LEN) == 0;
    if (!ok)
        d->failed++;
    return ok;
}

/* The frames of type type in a binary answer; its control document (new
 * reference) into *ctl when ctl is not NULL. */
static size_t load_frames(const membuf *m, int type, json_t **ctl)
{
    lb_proto_reader r;
    lb_proto_frame f;
    size_t n = 0;
    if (lb_proto_bin_open(&r, m->p, m->len, NULL, 0) != LB_OK)
        return 0;
    while (lb_proto_next(&r, &f, NULL, 0) == 1) {
        n += f.type == type;
        if (ctl && !*ctl && f.type == LB_PROTO_FRAME_JSON)
            lb_proto_json_view(&f, ctl, NULL, 0);
    }
    return n;
}

/* A push body of LOAD_BATCH envelopes with random bodies. */
static int load_push_body(loaddev *d, lb_buf *b)
{
    unsigned char bin[LOAD_BODY];
    lb_envelope e;
    b->len = 0;
    if (lb_proto_bin_start(b))
        return -1;
    for (int i = 0; i < LOAD_BATCH; i++) {
        memset(&e, 0, sizeof e);
        random_id(e.id);
        memcpy(e.person, d->person, sizeof e.person);
        e.key = 1;
        randombytes_buf(bin, sizeof bin);
        e.body = bin;
        e.body_len = sizeof bin;
        if (lb_proto_put_envelope(b, &e))
            return -1;
    }
    return 0;
}

static void load_pull(loaddev *d, CURL *h, struct curl_slist *hdrs, membuf *m)
{
    json_t *body = json_pack("{s:{s:I}}", "cursors", d->caseload, (json_int_t)d->cursor);
    json_t *ctl = NULL, *c;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (text && load_post(d, h, "/v1/pull", hdrs, text, strlen(text), m)) {
        d->pulled += load_frames(m, LB_PROTO_FRAME_ENVELOPE, &ctl);
        c = json_object_get(json_object_get(ctl, "cursors"), d->caseload);
        if (json_is_integer(c))
            d->cursor = json_integer_value(c);
    }
    free(text);
    json_decref(ctl);
    json_decref(body);
}

/* Headers: the token and a content type. */
static struct curl_slist *load_headers(const char *auth, const char *ctype)
{
    struct curl_slist *l = curl_slist_append(NULL, auth), *t;
    if (l && !(t = curl_slist_append(l, ctype))) {
        curl_slist_free_all(l);
        return NULL;
    }
    return l;
}

static void *load_thread(void *arg)
{
    loaddev *d = arg;
    char auth[300];
    membuf m = {0};
    lb_buf push;
    struct curl_slist *json_hdrs, *bin_hdrs;
    CURL *h = curl_easy_init();
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", d->token);
    json_hdrs = load_headers(auth, "Content-Type: application/json");
    bin_hdrs = load_headers(auth, "Content-Type: " LB_PROTO_BIN_TYPE);
    lb_buf_init(&push, LB_PROTO_MAX_BODY);
    if (h) {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    }
    pthread_barrier_wait(d->start);
    for (int i = 0; h && json_hdrs && bin_hdrs && i < LOAD_MAX_LOOPS && now() < d->deadline;
         i++) {
        if (load_push_body(d, &push) == 0 &&
            load_post(d, h, "/v1/push", bin_hdrs, push.data, push.len, &m))
            d->pushed += load_frames(&m, LB_PROTO_FRAME_ACK, NULL);
        if (now() < d->deadline)
            load_pull(d, h, json_hdrs, &m);
    }
    curl_slist_free_all(json_hdrs);
    curl_slist_free_all(bin_hdrs);
    lb_buf_wipe(&push);
    if (h)
        curl_easy_cleanup(h);
    free(m.p);
    return NULL;
}

/* Enrol n bare devices (random device keys) through invitations. */
static void load_enrol(device *sup, loaddev *devs, int n, const char *url)
{
    lb_client *anon = client_for(url);
    for (int i = 0; i < n; i++) {
        unsigned char pk[32];
        char code[256], name[32], *pk64;
        json_t *body, *resp = NULL;
        snprintf(name, sizeof name, "load-%d", i);
        invite(sup, "link-worker", name, code, sizeof code);
        randombytes_buf(pk, sizeof pk);
        pk64 = lb_proto_b64(pk, sizeof pk);
        body = json_pack("{s:s, s:s, s:s}", "code", code, "device_key", pk64 ? pk64 : "",
                         "device_name", name);
        check_client(lb_client_post(anon, "/v1/enrol", body, LB_CLIENT_ONCE, NULL, &resp),
                     anon, "enrolling a load device");
        snprintf(devs[i].token, sizeof devs[i].token, "%s",
                 json_string_value(json_object_get(resp, "token")));
        snprintf(devs[i].caseload, sizeof devs[i].caseload, "%s",
                 json_string_value(json_object_get(resp, "caseload")));
        random_id(devs[i].person);
        free(pk64);
        json_decref(body);
        json_decref(resp);
    }
    lb_client_free(anon);
}

/* A figure name for the load run of n devices (kept for the table). */
static const char *load_name(int n, const char *what)
{
    char buf[96];
    char *name;
    snprintf(buf, sizeof buf, "%s %d devices: %s", load_label, n, what);
    if (!(name = strdup(buf)))
        die("out of memory", NULL);
    return name;
}

static void load_report(loaddev *devs, int n, double secs, double server_mb)
{
    size_t total = 0, pushed = 0, pulled = 0, requests = 0, failed = 0, k = 0;
    double *all, v[1];
    fig *f;
    for (int i = 0; i < n; i++)
        total += devs[i].nlat;
    if (!(all = malloc((total ? total : 1) * sizeof *all)))
        die("out of memory", NULL);
    for (int i = 0; i < n; i++) {
        memcpy(all + k, devs[i].lat, devs[i].nlat * sizeof *all);
        k += devs[i].nlat;
        pushed += devs[i].pushed;
        pulled += devs[i].pulled;
        requests += devs[i].requests;
        failed += devs[i].failed;
    }
    qsort(all, total, sizeof *all, cmpd);
    fprintf(stderr, "%s: %d devices, %.1f s: %zu requests (%zu failed), %zu changes "
            "pushed, %zu pulled\n", load_label, n, secs, requests, failed, pushed, pulled);
    v[0] = (double)pushed / secs;
    add_fig(load_name(n, "changes pushed (committed)"), "changes/s", v, 1, "", -1, "");
    v[0] = (double)pulled / secs;
    add_fig(load_name(n, "changes pulled"), "changes/s", v, 1, "", -1, "");
    v[0] = (double)requests / secs;
    add_fig(load_name(n, "requests"), "requests/s", v, 1, "", -1, "");
    v[0] = total ? all[total / 2] : 0;
    add_fig(load_name(n, "request latency p50"), "ms", v, 1, "", -1, "");
    v[0] = total ? all[(size_t)((double)total * 0.99)] : 0;
    f = add_fig(load_name(n, "request latency p99"), "ms", v, 1, n >= 500 ? "< 250 ms" : "",
                -1, "");
    if (n >= 500)
        f->met = f->med < 250;
    v[0] = (double)failed;
    f = add_fig(load_name(n, "failed requests"), "requests", v, 1, "0", -1, "");
    f->met = failed == 0;
    v[0] = server_mb;
    add_fig(load_name(n, "linkbookd peak RSS (VmHWM)"), "MB", v, 1, "", -1, "");
    free(all);
}

static void bench_load(int n, int secs)
{
    server sv = {0}, more[3];
    device a = {0}, b = {0};
    caseload cl;
    pthread_barrier_t start;
    loaddev *devs = calloc((size_t)n, sizeof *devs);
    double t0;
    int started = 0;
    char tag[32], pid[32];
    if (!devs)
        die("out of memory", NULL);
    snprintf(tag, sizeof tag, "load%d", n);
    team_up(&sv, tag, &a, &b, &cl);
    load_enrol(&b, devs, n, sv.url);
    memset(more, 0, sizeof more);
    for (int k = 0; k + 1 < nservers; k++) {   /* more processes on the same database */
        char out[4300];
        snprintf(more[k].data, sizeof more[k].data, "%s/load-%d", work, k + 2);
        snprintf(out, sizeof out, "%s/load-%d.out", work, k + 2);
        server_serve(&more[k], out);
    }
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        devs[i].url = i % nservers ? more[i % nservers - 1].url : sv.url;
        devs[i].start = &start;
        if (!(devs[i].lat = malloc(LAT_MAX * sizeof *devs[i].lat)))
            die("out of memory", NULL);
    }
    t0 = now();
    for (int i = 0; i < n; i++) {
        devs[i].deadline = t0 + 5 + secs; /* threads start within 5 s */
        if (pthread_create(&devs[i].th, NULL, load_thread, &devs[i]) != 0)
            die("pthread_create", strerror(errno));
        started++;
    }
    pthread_barrier_wait(&start);
    t0 = now();
    for (int i = 0; i < n; i++)
        devs[i].deadline = t0 + secs;
    for (int i = 0; i < started; i++)
        pthread_join(devs[i].th, NULL);
    snprintf(pid, sizeof pid, "%ld", (long)sv.pid);
    load_report(devs, n, now() - t0, (double)status_kb(pid, "VmHWM") / 1024.0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < n; i++)
        free(devs[i].lat);
    free(devs);
    device_free(&a);
    device_free(&b);
    for (int k = 0; k + 1 < nservers; k++)
        server_stop(&more[k]);
    server_stop(&sv);
    live_server = NULL;
}

/* ---- output ------------------------------------------------------------------ */

static const char *met_text(int met)
{
    return met < 0 ? "-" : met ? "yes" : "NO";
}

static void print_num(char *buf, size_t len, double v, const char *unit)
{
    if (strcmp(unit, "x") == 0)
        snprintf(buf, len, "%.3f", v);
    else if (strcmp(unit, "ms") == 0 || strcmp(unit, "MB") == 0)
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "%.0f", v);
}

static void print_table(void)
{
    char med[32], lo[32], hi[32], range[80], ref[64];
    printf("\n%-46s %12s  %-22s %-12s %-14s %-5s %s\n", "figure", "median", "min-max", "unit",
           "goal", "met?", "PouchDB (quoted, not measured)");
    for (int i = 0; i < nfig; i++) {
        fig *f = &figs[i];
        print_num(med, sizeof med, f->med, f->unit);
        print_num(lo, sizeof lo, f->lo, f->unit);
        print_num(hi, sizeof hi, f->hi, f->unit);
        snprintf(range, sizeof range, "%s-%s", lo, hi);
        if (f->n == 1)
            snprintf(range, sizeof range, "(1 run)");
        ref[0] = '-';
        ref[1] = '\0';
        if (f->ref >= 0) {
            print_num(ref, sizeof ref, f->ref, f->unit);
            if (f->ref_note[0])
                snprintf(ref + strlen(ref), sizeof ref - strlen(ref), " %s", f->ref_note);
        }
        printf("%-46s %12s  %-22s %-12s %-14s %-5s %s\n", f->name, med, range, f->unit,
               f->goal[0] ? f->goal : "-", met_text(f->met), ref);
    }
}

static json_t *fig_json(const fig *f)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:s}", "group", "sync",
                          "figure", f->name, "unit", f->unit, "median", f->med, "min", f->lo,
                          "max", f->hi, "runs", f->n, "goal", f->goal);
    if (!e)
        return NULL;
    json_object_set_new(e, "met", f->met < 0 ? json_null() : json_boolean(f->met));
    if (f->ref >= 0)
        json_object_set_new(e, "pouchdb_quoted", json_pack("{s:f, s:s}", "value", f->ref,
                                                           "unit_note", f->ref_note));
    return e;
}

static void write_json(const char *path, unsigned n, int runs, unsigned mem, int devices,
                       int secs)
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
    for (int i = 0; i < nfig; i++)
        json_array_append_new(arr, fig_json(&figs[i]));
    json_object_set_new(root, "sync", json_pack(
        "{s:i, s:i, s:i, s:i, s:i, s:s, s:s}", "contacts", (int)n, "runs", runs,
        "mem_changes", (int)mem, "load_devices", devices, "load_secs", secs, "curl",
        curl_version_info(CURLVERSION_NOW)->version, "pouchdb_reference",
        "quoted from ../shared/bench/README.md (PouchDB 9, pouchdb-server 4.2, N=10000, "
        "medians of 3 on a 2-core machine of this kind), not measured in this run"));
    if (json_dump_file(root, path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "bench_sync: could not write %s\n", path);
    else
        fprintf(stderr, "wrote %s\n", path);
    json_decref(root);
}

/* ---- main ------------------------------------------------------------------- */

/* --devices: one count or a list ("50,200,500"), each run in turn. */
static int device_list(const char *text, int *out, int cap)
{
    char buf[128], *save = NULL;
    int n = 0;
    snprintf(buf, sizeof buf, "%s", text);
    for (char *t = strtok_r(buf, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save))
        out[n++] = (int)bench_arg_long("bench_sync", "--devices", t, 0, MAX_DEVICES);
    return n;
}

static void cleanup(void)
{
    char cmd[4200];
    if (live_server && live_server->pid > 0) {
        kill(live_server->pid, SIGKILL);
        wait_child(live_server->pid, 5, NULL);
        live_server->pid = 0;
    }
    if (!work[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_sync: could not remove %s\n", work);
    work[0] = '\0';
}

int main(int argc, char **argv)
{
    const char *tmp = "/tmp", *json = NULL;
    unsigned n = 10000, mem = 100000;
    int runs = 3, devices = 200, secs = 10, ndev = 0, devlist[8];
    if (argc >= 4 && strcmp(argv[1], "--child-rss") == 0)
        return child_rss(argv + 2);
    if (argc == 4 && strcmp(argv[1], "--child-pull") == 0)
        return child_pull(argv[2], argv[3]);
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: bench_sync --linkbook PATH --linkbookd PATH [--n N] "
                            "[--runs R] [--mem-changes N] [--devices D] [--secs S] "
                            "[--tmp DIR] [--json FILE] [--postgres CONNINFO] [--servers N] "
                            "[--label TEXT]\n");
            return 2;
        }
        if (strcmp(o, "--n") == 0)
            n = (unsigned)bench_arg_long("bench_sync", o, v, 1, 1000000);
        else if (strcmp(o, "--runs") == 0)
            runs = (int)bench_arg_long("bench_sync", o, v, 0, MAX_RUNS);
        else if (strcmp(o, "--mem-changes") == 0)
            mem = (unsigned)bench_arg_long("bench_sync", o, v, 0, 1000000);
        else if (strcmp(o, "--devices") == 0)
            ndev = device_list(v, devlist, 8);
        else if (strcmp(o, "--secs") == 0)
            secs = (int)bench_arg_long("bench_sync", o, v, 1, 120);
        else if (strcmp(o, "--tmp") == 0)
            tmp = v;
        else if (strcmp(o, "--postgres") == 0)
            pg_conninfo = v;
        else if (strcmp(o, "--servers") == 0)
            nservers = (int)bench_arg_long("bench_sync", o, v, 1, 4);
        else if (strcmp(o, "--label") == 0)
            load_label = v;
        else if (strcmp(o, "--json") == 0)
            json = v;
        else if (strcmp(o, "--linkbook") == 0)
            cli_path = v;
        else if (strcmp(o, "--linkbookd") == 0)
            srv_path = v;
        else {
            fprintf(stderr, "bench_sync: unknown option %s\n", o);
            return 2;
        }
    }
    if (ndev == 0)
        devlist[ndev++] = devices;
    devices = devlist[ndev - 1];
    if (!cli_path || !srv_path || access(cli_path, X_OK) || access(srv_path, X_OK)) {
        fprintf(stderr, "bench_sync: --linkbook and --linkbookd must name the built "
                        "commands\n");
        return 2;
    }
    ssize_t len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (len <= 0) {
        fprintf(stderr, "bench_sync: cannot find this program (/proc/self/exe)\n");
        return 1;
    }
    self_exe[len] = '\0';
    if (lb_crypto_init() != LB_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    snprintf(work, sizeof work, "%s/linkbook-bench-sync.XXXXXX", tmp);
    if (!mkdtemp(work)) {
        fprintf(stderr, "bench_sync: cannot make a directory under %s\n", tmp);
        return 1;
    }
    fprintf(stderr, "sync bench in %s; %u contacts, %d runs; memory %u changes; load %d "
            "devices for %d s; libcurl %s\n", work, n, runs, mem, devices, secs,
            curl_version_info(CURLVERSION_NOW)->version);
    if (runs > 0)
        bench_runs(n, runs);
    if (mem > 0)
        bench_memory(mem);
    for (int i = 0; i < ndev; i++)
        if (devlist[i] > 0)
            bench_load(devlist[i], secs);
    printf("\nsync on 127.0.0.1 (real client and linkbookd; %u contacts with 600-byte notes; "
           "medians of %d run%s unless \"1 run\")\n", n, runs, runs == 1 ? "" : "s");
    print_table();
    if (json)
        write_json(json, n, runs, mem, devices, secs);
    cleanup();
    curl_global_cleanup();
    return 0;
}
