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
 * alone.  Each is measured in a freshly exec'd helper (see the helper modes
 * below).
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
 * the push/pull/edit runs (with --mem-changes 0: the load alone).  With
 * --pace-ms MS each device syncs once every MS milliseconds instead of
 * back to back (the devices' first syncs spread evenly over one period),
 * and a push's latency counts from when it was due, so a server that falls
 * behind shows it.
 *
 * usage: bench_sync --linkbook PATH --linkbookd PATH [--n N] [--runs R]
 *        [--mem-changes N] [--devices D] [--secs S] [--tmp DIR] [--json FILE]
 *        [--postgres CONNINFO] [--servers N] [--label TEXT] [--pace-ms MS]
 * --json adds the figures to FILE (a bench_local --json file: its
 * "figures" list grows, "sync" holds this run's parameters and the quoted
 * PouchDB reference); otherwise FILE is made.  Progress to stderr, the table
 * to stdout.  All traffic goes to 127.0.0.1.
 *
 * The server, the enrolled devices, the data set, the memory helper and
 * the shared options come from bench_lb.h, as in the benchmarks beside it.
 */
#define _DEFAULT_SOURCE /* wait4, mkdtemp */
#define BENCH_NAME "bench_sync"
#include <pthread.h>
#include "bench_lb.h"

#define MAX_FIG 80
#define MAX_DEVICES 1000
#define MAX_DEVICE_COUNTS 8
#define LOAD_BATCH 10
#define LOAD_BODY 700
#define LOAD_MAX_LOOPS 100000
#define LAT_MAX 20000   /* latencies kept per device */

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
static const char *cli_path;
static int nservers = 1;                   /* --servers: processes for the load */
static const char *load_label = "load";    /* --label */
static int pace_ms;                        /* --pace-ms: 0, back to back */

/* ---- figures -------------------------------------------------------------- */

static fig *add_fig(const char *name, const char *unit, double *v, int n, const char *goal,
                    double ref, const char *ref_note)
{
    fig *f;
    if (nfig == MAX_FIG)
        bench_die("too many figures", name);
    f = &figs[nfig++];
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

/* Mean sealed payload (nonce + ciphertext, binary) of the outbox. */
static double payload_mean(lb_store *s, size_t *count)
{
    json_t *env = NULL, *e;
    size_t pending = 0, i, total = 0;
    blb_check(lb_sync_outbox(s, (size_t)-1 / 2, (size_t)-1 / 2, &env, &pending), s,
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

static void edits_and_noop(blb_device *a, blb_device *b, const blb_caseload *cl, int run,
                           run_out *o)
{
    lb_client_report ra, rb, rn;
    double ta, tb, tn;
    blb_check(lb_store_begin(a->s), a->s, "begin");
    for (unsigned i = 0; i < BLB_GOALS; i++)
        blb_check(lb_goal_status(a->s, cl->goals[i], run % 2 ? "partly" : "achieved"), a->s,
                  "lb_goal_status");
    blb_check(lb_store_commit(a->s), a->s, "commit");
    blb_sync(a, "sync of 100 edits on A", &ra, &ta);
    blb_sync(b, "sync of 100 edits on B", &rb, &tb);
    blb_sync(b, "no-op sync", &rn, &tn);
    if (ra.pushed != BLB_GOALS || rb.pulled != BLB_GOALS || rn.pulled || rn.pushed)
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
    blb_server sv = {0};
    blb_device a = {0}, b = {0};
    blb_caseload cl;
    lb_client_report rp, rl;
    double tp, tl, cpu[6];
    char tag[32];
    snprintf(tag, sizeof tag, "run%d", run);
    blb_team_up(&sv, tag, &a, &b, &cl);
    blb_record_visits(a.s, &cl, 0, n);
    o->payload = payload_mean(a.s, &o->payload_n);
    cpu[0] = self_cpu(), cpu[1] = proc_cpu(sv.pid);
    blb_sync(&a, "push", &rp, &tp);
    cpu[2] = self_cpu(), cpu[3] = proc_cpu(sv.pid);
    blb_sync(&b, "pull", &rl, &tl);
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
    blb_device_free(&a);
    blb_device_free(&b);
    blb_server_stop(&sv);
}

#define COLLECT(field) do { for (int r_ = 0; r_ < runs; r_++) v[r_] = outs[r_].field; } while (0)

static void bench_runs(unsigned n, int runs)
{
    run_out outs[BLB_MAX_RUNS];
    double v[BLB_MAX_RUNS];
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
 *   --child-rss-anon FILE CMD ARGS...  fork + exec CMD (from the helper's
 *                                  small address space), wait4, write CMD's
 *                                  exit status, ru_maxrss and its sampled
 *                                  peak RssAnon in kB to FILE (bench_lb.h);
 *   --child-pull DIR FILE          open and unlock the store DIR (Argon2id),
 *                                  reset the peak (/proc/self/clear_refs 5),
 *                                  one lb_client_sync, write "pulled N",
 *                                  VmHWM and RssFile in kB to FILE. */

static int child_pull(const char *dir, const char *path)
{
    blb_device d = {0};
    lb_sync_info info;
    lb_client_report rep;
    long kb = 0, file_kb = 0;
    FILE *f;
    snprintf(d.dir, sizeof d.dir, "%s", dir);
    if (lb_crypto_init() != LB_OK)
        return 1;
    blb_device_open(&d);
    blb_check(lb_sync_info_get(d.s, &info), d.s, "reading the enrolment");
    d.c = blb_client_for(info.url);
    lb_sync_info_clear(&info);
    f = fopen("/proc/self/clear_refs", "w");
    if (f && fputs("5", f) >= 0 && fclose(f) == 0 &&
        lb_client_sync(d.c, d.s, NULL, NULL, &rep) == LB_CLIENT_OK)
        kb = blb_status_kb("self", "VmHWM"), file_kb = blb_status_kb("self", "RssFile");
    else if (f == NULL)
        kb = -1;
    blb_device_free(&d);
    if (!(f = fopen(path, "w")))
        return 1;
    fprintf(f, "%zu %ld %ld\n", kb > 0 ? rep.pulled : 0, kb, file_kb);
    return fclose(f) != 0;
}

/* `linkbook sync --json` on store dir, under --child-rss-anon: its peak
 * RSS in MB, its sampled peak RssAnon in *anon_mb; its report into report. */
static double cli_sync_peak(const char *dir, char *report, size_t cap, double *anon_mb)
{
    json_t *doc;
    double mb = blb_cli_sync_peak(cli_path, dir, NULL, anon_mb);
    report[0] = '\0';
    if ((doc = blb_cli_sync_report()) != NULL) {
        char *text = json_dumps(doc, JSON_COMPACT);
        snprintf(report, cap, "%s", text ? text : "");
        free(text);
        json_decref(doc);
    }
    return mb;
}

/* A pull onto the store dir under --child-pull: the peak after unlock in
 * MB (0 if the kernel could not reset the peak). */
static double pull_alone_peak(const char *dir)
{
    char file[4300];
    char *argv[] = {blb_self, "--child-pull", (char *)dir, file, NULL};
    long pulled, kb, file_kb;
    snprintf(file, sizeof file, "%s/pull-alone.out", blb_work);
    blb_run_helper(argv, NULL, file, &pulled, &kb, &file_kb);
    fprintf(stderr, "memory: the pull alone: %ld changes, peak %.1f MB after unlock; at the "
            "end %.1f MB of it are file pages (libraries and other mapped files)\n", pulled,
            (double)kb / 1024.0, (double)file_kb / 1024.0);
    return kb > 0 ? (double)kb / 1024.0 : 0;
}

static void bench_memory(unsigned want)
{
    blb_server sv = {0};
    blb_device a = {0}, b = {0}, b2 = {0};
    blb_caseload cl;
    char code[256], report[512];
    size_t pending = 0;
    unsigned recorded = 0;
    double full, noop, fork_mb, full_anon, noop_anon, v[1];
    static char name[80];
    fig *f;
    blb_team_up(&sv, "mem", &a, &b, &cl);
    blb_invite(&b, "supervisor", "second supervisor", code, sizeof code);
    blb_enrol(&b2, "mem-sup2", sv.url, code);
    blb_sync(&b, "supervisor seals the key to the second", NULL, NULL);
    blb_sync(&b2, "second supervisor's first sync", NULL, NULL);
    for (unsigned k = 0; k < 1000 && pending < want; k++) {
        blb_record_visits(a.s, &cl, recorded, BLB_BATCH);
        recorded += BLB_BATCH;
        blb_check(lb_sync_pending(a.s, &pending), a.s, "counting the outbox");
    }
    blb_sync(&a, "pushing for the memory run", NULL, NULL);
    fprintf(stderr, "memory: %zu changes (%u contacts) on the server\n", pending, recorded);
    blb_device_close(&b);
    blb_device_close(&b2);
    full = cli_sync_peak(b.dir, report, sizeof report, &full_anon);
    fprintf(stderr, "memory: `linkbook sync` pulling: %s\n", report);
    noop = cli_sync_peak(b.dir, report, sizeof report, &noop_anon);
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
    blb_device_free(&a);
    blb_device_free(&b);
    blb_device_free(&b2);
    blb_server_stop(&sv);
}

/* ---- server load ------------------------------------------------------------------ */

typedef struct loaddev {
    char token[256], caseload[80], person[LB_PROTO_ID_LEN + 1];
    pthread_t th;
    const char *url;
    double deadline;
    double period, offset;     /* --pace-ms: a sync every period s, first at offset */
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
 * 200 answer with the binary magic came (in m); latency kept, counted from
 * t0 (when the request was due) or, when t0 is 0, from now. */
static int load_post(loaddev *d, CURL *h, const char *path, struct curl_slist *hdrs,
                     const char *text, size_t len, membuf *m, double t0)
{
    char url[256];
    long status = 0;
    CURLcode cc;
    int ok;
    snprintf(url, sizeof url, "%s%s", d->url, path);
    m->len = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    if (t0 <= 0)
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
    if (text && load_post(d, h, "/v1/pull", hdrs, text, strlen(text), m, 0)) {
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

/* Sleep until time t (the clock of now()); 0 if t is past the deadline. */
static int wait_until(double t, double deadline)
{
    struct timespec ts;
    if (t >= deadline)
        return 0;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    return 1;
}

static void *load_thread(void *arg)
{
    loaddev *d = arg;
    double due;
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
    due = now() + d->offset;
    for (int i = 0; h && json_hdrs && bin_hdrs && i < LOAD_MAX_LOOPS && now() < d->deadline;
         i++) {
        if (d->period > 0 && !wait_until(due, d->deadline))
            break;
        if (load_push_body(d, &push) == 0 &&
            load_post(d, h, "/v1/push", bin_hdrs, push.data, push.len, &m,
                      d->period > 0 ? due : 0))
            d->pushed += load_frames(&m, LB_PROTO_FRAME_ACK, NULL);
        due += d->period;
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
static void load_enrol(blb_device *sup, loaddev *devs, int n, const char *url)
{
    lb_client *anon = blb_client_for(url);
    for (int i = 0; i < n; i++) {
        unsigned char pk[32];
        char code[256], name[32], *pk64;
        json_t *body, *resp = NULL;
        snprintf(name, sizeof name, "load-%d", i);
        blb_invite(sup, "link-worker", name, code, sizeof code);
        randombytes_buf(pk, sizeof pk);
        pk64 = lb_proto_b64(pk, sizeof pk);
        body = json_pack("{s:s, s:s, s:s}", "code", code, "device_key", pk64 ? pk64 : "",
                         "device_name", name);
        blb_check_client(lb_client_post(anon, "/v1/enrol", body, LB_CLIENT_ONCE, NULL, &resp),
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
        bench_die("out of memory", NULL);
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
        bench_die("out of memory", NULL);
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

static void bench_load(int n, int secs, int pace)
{
    blb_server sv = {0}, more[3];
    blb_device a = {0}, b = {0};
    blb_caseload cl;
    pthread_barrier_t start;
    loaddev *devs = calloc((size_t)n, sizeof *devs);
    double t0;
    int started = 0;
    char tag[32], pid[32];
    if (!devs)
        bench_die("out of memory", NULL);
    snprintf(tag, sizeof tag, "load%d", n);
    blb_team_up(&sv, tag, &a, &b, &cl);
    load_enrol(&b, devs, n, sv.url);
    memset(more, 0, sizeof more);
    for (int k = 0; k + 1 < nservers; k++) {   /* more processes on the same database */
        char out[4300];
        snprintf(more[k].data, sizeof more[k].data, "%s/load-%d", blb_work, k + 2);
        snprintf(out, sizeof out, "%s/load-%d.out", blb_work, k + 2);
        blb_server_serve(&more[k], out);
    }
    pthread_barrier_init(&start, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        devs[i].url = i % nservers ? more[i % nservers - 1].url : sv.url;
        devs[i].start = &start;
        devs[i].period = pace / 1e3;
        devs[i].offset = devs[i].period * i / n;   /* spread over one period */
        if (!(devs[i].lat = malloc(LAT_MAX * sizeof *devs[i].lat)))
            bench_die("out of memory", NULL);
    }
    t0 = now();
    for (int i = 0; i < n; i++) {
        devs[i].deadline = t0 + 5 + secs; /* threads start within 5 s */
        if (pthread_create(&devs[i].th, NULL, load_thread, &devs[i]) != 0)
            bench_die("pthread_create", strerror(errno));
        started++;
    }
    pthread_barrier_wait(&start);
    t0 = now();
    for (int i = 0; i < n; i++)
        devs[i].deadline = t0 + secs;
    for (int i = 0; i < started; i++)
        pthread_join(devs[i].th, NULL);
    snprintf(pid, sizeof pid, "%ld", (long)sv.pid);
    load_report(devs, n, now() - t0, (double)blb_status_kb(pid, "VmHWM") / 1024.0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < n; i++)
        free(devs[i].lat);
    free(devs);
    blb_device_free(&a);
    blb_device_free(&b);
    for (int k = 0; k + 1 < nservers; k++)
        blb_server_stop(&more[k]);
    blb_server_stop(&sv);
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
    json_t *entries = json_array();
    for (int i = 0; i < nfig; i++)
        json_array_append_new(entries, fig_json(&figs[i]));
    /* The parameters under "sync", or under the label of a load of its own. */
    blb_json_merge(path, entries, strcmp(load_label, "load") ? load_label : "sync", json_pack(
        "{s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:s}", "contacts", (int)n, "runs", runs,
        "mem_changes", (int)mem, "load_devices", devices, "load_secs", secs, "pace_ms", pace_ms,
        "curl",
        curl_version_info(CURLVERSION_NOW)->version, "pouchdb_reference",
        "quoted from ../shared/bench/README.md (PouchDB 9, pouchdb-server 4.2, N=10000, "
        "medians of 3 on a 2-core machine of this kind), not measured in this run"));
}

/* ---- main ------------------------------------------------------------------- */

/* --devices: one count or a list ("50,200,500"), each run in turn. */
static int device_list(const char *text, int *out)
{
    long counts[MAX_DEVICE_COUNTS];
    int n = blb_arg_list("--devices", text, counts, MAX_DEVICE_COUNTS, 0, MAX_DEVICES);
    for (int i = 0; i < n; i++)
        out[i] = (int)counts[i];
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_sync --linkbook PATH --linkbookd PATH [--n N] [--runs R] "
                    "[--mem-changes N] [--devices D] [--secs S] [--tmp DIR] [--json FILE] "
                    "[--postgres CONNINFO] [--servers N] [--label TEXT] [--pace-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    blb_opts op = {.tmp = "/tmp"};
    unsigned n = 10000, mem = 100000;
    int runs = 3, devices = 200, secs = 10, ndev = 0, devlist[MAX_DEVICE_COUNTS], rc;
    if (argc == 4 && strcmp(argv[1], "--child-pull") == 0)
        return child_pull(argv[2], argv[3]);
    for (int i = 1; i < argc && strncmp(argv[1], "--child", 7) != 0; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (blb_opt(&op, o, v))
            continue;
        if (strcmp(o, "--n") == 0)
            n = (unsigned)bench_arg_long(BENCH_NAME, o, v, 1, 1000000);
        else if (strcmp(o, "--runs") == 0)
            runs = (int)bench_arg_long(BENCH_NAME, o, v, 0, BLB_MAX_RUNS);
        else if (strcmp(o, "--mem-changes") == 0)
            mem = (unsigned)bench_arg_long(BENCH_NAME, o, v, 0, 1000000);
        else if (strcmp(o, "--devices") == 0)
            ndev = device_list(v, devlist);
        else if (strcmp(o, "--secs") == 0)
            secs = (int)bench_arg_long(BENCH_NAME, o, v, 1, 120);
        else if (strcmp(o, "--postgres") == 0)
            blb_pg_conninfo = v;
        else if (strcmp(o, "--servers") == 0)
            nservers = (int)bench_arg_long(BENCH_NAME, o, v, 1, 4);
        else if (strcmp(o, "--label") == 0)
            load_label = v;
        else if (strcmp(o, "--pace-ms") == 0)
            pace_ms = (int)bench_arg_long(BENCH_NAME, o, v, 0, 60000);
        else {
            fprintf(stderr, "bench_sync: unknown option %s\n", o);
            return 2;
        }
    }
    if (ndev == 0)
        devlist[ndev++] = devices;
    devices = devlist[ndev - 1];
    if ((rc = blb_init(argc, argv, op.tmp)) >= 0)
        return rc;
    cli_path = op.cli;
    if (!cli_path || !blb_srv_path || access(cli_path, X_OK) || access(blb_srv_path, X_OK)) {
        fprintf(stderr, "bench_sync: --linkbook and --linkbookd must name the built "
                        "commands\n");
        bench_cleanup();
        return 2;
    }
    fprintf(stderr, "sync bench in %s; %u contacts, %d runs; memory %u changes; load %d "
            "devices for %d s; libcurl %s\n", blb_work, n, runs, mem, devices, secs,
            curl_version_info(CURLVERSION_NOW)->version);
    if (runs > 0)
        bench_runs(n, runs);
    if (mem > 0)
        bench_memory(mem);
    for (int i = 0; i < ndev; i++)
        if (devlist[i] > 0)
            bench_load(devlist[i], secs, pace_ms);
    printf("\nsync on 127.0.0.1 (real client and linkbookd; %u contacts with 600-byte notes; "
           "medians of %d run%s unless \"1 run\")\n", n, runs, runs == 1 ? "" : "s");
    print_table();
    if (op.json)
        write_json(op.json, n, runs, mem, devices, secs);
    bench_cleanup();
    curl_global_cleanup();
    return 0;
}
