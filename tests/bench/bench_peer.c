/* bench_peer.c - linkbook beside PouchDB, measured in the same run and
 * counted the same way: both go through bench_proxy (raw socket bytes,
 * headers and all, and HTTP requests), on the same data set (visits: a
 * contact with its 600-character note from note_text()).  Runs alternate,
 * linkbook then PouchDB, so both sides of a ratio share the machine's
 * noise; each ratio is taken per run, then its median.
 *
 * linkbook's side, per run: a fresh linkbookd behind the proxy; supervisor
 * B and worker A enrolled (B makes the team key; A's 20 people and 100
 * goals synced), and a second supervisor C enrolled for the memory phase.
 *   push    A records N visits offline (2 changes each), then one sync;
 *   pull    B, holding none of them, syncs once;
 *   edits   A amends the notes of 100 visits (a new 600-character text
 *           each); sync on A, then on B: the round trip of 100 edits;
 *   no-op   B syncs again with nothing new;
 *   memory  the real command `linkbook sync` pulls all N visits onto C in
 *           a process of its own: its peak RSS (which includes the
 *           Argon2id unlock every command pays).
 * PouchDB's side: tests/bench/pouch/bench.js (the same phases, PouchDB 9
 * and pouchdb-server 4.2 installed by tests/bench/pouch/install.sh).
 *
 * usage: bench_peer --linkbook PATH --linkbookd PATH --proxy PATH [--n N]
 *        [--runs R] [--tmp DIR] [--json FILE]
 *        [--node PATH --pouch-js FILE --node-modules DIR | --pouch-skip WHY]
 * Progress to stderr, the side-by-side table to stdout; --json adds every
 * figure (each run's values) to FILE.  All traffic stays on 127.0.0.1.
 */
#define _DEFAULT_SOURCE /* wait4, mkdtemp */
#define BENCH_NAME "bench_peer"
#include "bench_lb.h"

#define EDITS 100

enum { PUSH_RATE, PULL_RATE, UP_VISIT, DOWN_VISIT, PUSH_REQ, PULL_REQ, EDIT_REQ, EDIT_MS,
       EDIT_BYTES, NOOP_REQ, NOOP_MS, NOOP_BYTES, PEAK_MB, NMEASURE };

typedef struct measure {
    const char *name, *unit;
    int ratio_goal;     /* BLB_AT_LEAST/AT_MOST on linkbook / PouchDB, or none */
    double ratio_target;
    int own_goal;       /* a goal on linkbook's own figure */
    double own_target;
} measure;

static const measure measures[NMEASURE] = {
    [PUSH_RATE] = {"push N visits: throughput", "visits/s", BLB_AT_LEAST, 10, 0, 0},
    [PULL_RATE] = {"pull N visits, fresh device: throughput", "visits/s", BLB_AT_LEAST, 10, 0, 0},
    [UP_VISIT] = {"push: bytes up per visit", "B", BLB_AT_MOST, 0.8, 0, 0},
    [DOWN_VISIT] = {"pull: bytes down per visit", "B", BLB_AT_MOST, 1, 0, 0},
    [PUSH_REQ] = {"push: HTTP requests", "requests", 0, 0, 0, 0},
    [PULL_REQ] = {"pull: HTTP requests", "requests", 0, 0, 0, 0},
    [EDIT_REQ] = {"100 edits round trip: requests", "requests", 0, 0, BLB_AT_MOST, 2},
    [EDIT_MS] = {"100 edits round trip: time", "ms", 0, 0, 0, 0},
    [EDIT_BYTES] = {"100 edits round trip: bytes up + down", "B", 0, 0, 0, 0},
    [NOOP_REQ] = {"no-op sync: requests", "requests", 0, 0, BLB_AT_MOST, 1},
    [NOOP_MS] = {"no-op sync: time", "ms", 0, 0, 0, 0},
    [NOOP_BYTES] = {"no-op sync: bytes up + down", "B", 0, 0, 0, 0},
    [PEAK_MB] = {"client peak memory pulling N visits", "MB", BLB_AT_MOST, 0.25, 0, 0},
};

static double lb_v[NMEASURE][BLB_MAX_RUNS], pd_v[NMEASURE][BLB_MAX_RUNS];
static const char *cli_path, *node_path, *pouch_js, *node_modules;
static char pouch_skip[4400];
static char pouch_versions[128];

/* ---- linkbook's side ------------------------------------------------------------- */

typedef struct note_ids {
    char id[EDITS][LB_ID_HEX + 1];
    int n;
} note_ids;

static int take_note(const lb_record *r, void *ctx)
{
    note_ids *ids = ctx;
    snprintf(ids->id[ids->n++], LB_ID_HEX + 1, "%s", r->id);
    return ids->n == EDITS;
}

static void amend_notes(lb_store *s, unsigned n)
{
    note_ids ids = {.n = 0};
    char text[NOTE_LEN + 1];
    blb_check(lb_record_each(s, "note", NULL, take_note, &ids), s, "listing notes");
    if (ids.n != EDITS)
        bench_die("fewer notes than edits", NULL);
    blb_check(lb_store_begin(s), s, "begin");
    for (int k = 0; k < EDITS; k++) {
        note_text(n + (unsigned)k, text);
        blb_check(lb_note_amend(s, ids.id[k], text, NULL), s, "lb_note_amend");
    }
    blb_check(lb_store_commit(s), s, "commit");
}

/* One sync of d, counted by the proxy: seconds, and what crossed. */
static double counted_sync(blb_server *sv, blb_device *d, const char *what, blb_wire *w,
                           lb_client_report *rep)
{
    blb_wire w0 = blb_wire_now(sv);
    double secs;
    blb_sync(d, what, rep, &secs);
    *w = blb_wire_since(sv, w0);
    return secs;
}

static void linkbook_run(int run, unsigned n)
{
    blb_server sv;
    blb_device a = {0}, b = {0}, c = {0};
    blb_caseload cl;
    blb_wire w, w2;
    lb_client_report r1, r2;
    char code[256], tag[32], name[48];
    double t1, t2;
    snprintf(tag, sizeof tag, "run%d", run);
    blb_team_up(&sv, tag, &a, &b, &cl);
    blb_invite(&b, "supervisor", "second supervisor", code, sizeof code);
    snprintf(name, sizeof name, "%s-sup2", tag);
    blb_enrol(&c, name, sv.url, code);
    blb_sync(&b, "sealing the key to the second supervisor", NULL, NULL);
    blb_device_free(&c);
    blb_record_visits(a.s, &cl, 0, n);

    t1 = counted_sync(&sv, &a, "push", &w, &r1);
    lb_v[PUSH_RATE][run] = n / t1;
    lb_v[PUSH_REQ][run] = w.requests;
    lb_v[UP_VISIT][run] = w.up / n;
    t2 = counted_sync(&sv, &b, "pull", &w2, &r2);
    lb_v[PULL_RATE][run] = n / t2;
    lb_v[PULL_REQ][run] = w2.requests;
    lb_v[DOWN_VISIT][run] = w2.down / n;
    fprintf(stderr, "linkbook: run %d: push %u visits (%zu changes) in %.3f s, %.0f requests, "
            "%.0f B up; pull %zu changes in %.3f s, %.0f requests, %.0f B down\n", run + 1,
            n, r1.pushed, t1, w.requests, w.up, r2.pulled, t2, w2.requests, w2.down);

    amend_notes(a.s, n);
    t1 = counted_sync(&sv, &a, "sync of 100 edits on A", &w, &r1);
    t2 = counted_sync(&sv, &b, "sync of 100 edits on B", &w2, &r2);
    if (r1.pushed != EDITS || r2.pulled != EDITS)
        fprintf(stderr, "bench_peer: warning: edits pushed %zu, pulled %zu\n", r1.pushed,
                r2.pulled);
    lb_v[EDIT_REQ][run] = w.requests + w2.requests;
    lb_v[EDIT_MS][run] = (t1 + t2) * 1e3;
    lb_v[EDIT_BYTES][run] = w.up + w.down + w2.up + w2.down;
    t1 = counted_sync(&sv, &b, "no-op sync", &w, &r1);
    lb_v[NOOP_REQ][run] = w.requests;
    lb_v[NOOP_MS][run] = t1 * 1e3;
    lb_v[NOOP_BYTES][run] = w.up + w.down;

    lb_v[PEAK_MB][run] = blb_cli_sync_peak(cli_path, c.dir, &t1, NULL);
    fprintf(stderr, "linkbook: run %d: edits %.0f requests, %.1f ms; no-op %.0f requests, "
            "%.1f ms; `linkbook sync` pulling all: %.1f MB peak, %.2f s\n", run + 1,
            lb_v[EDIT_REQ][run], lb_v[EDIT_MS][run], lb_v[NOOP_REQ][run],
            lb_v[NOOP_MS][run], lb_v[PEAK_MB][run], t1);
    blb_device_free(&a);
    blb_device_free(&b);
    blb_server_stop(&sv);
}

/* ---- PouchDB's side ------------------------------------------------------------------ */

static double phase_num(json_t *root, const char *phase, const char *key)
{
    return json_number_value(json_object_get(
        json_object_get(json_object_get(root, "phases"), phase), key));
}

/* One run of tests/bench/pouch/bench.js; 0, or -1 with pouch_skip set. */
static int pouch_run(int run, unsigned n, const char *proxy)
{
    char work[4200], out[4300], ntext[16];
    char *argv[] = {(char *)node_path, (char *)pouch_js, "--proxy", (char *)proxy, "--work",
                    work, "--n", ntext, NULL};
    json_t *root;
    snprintf(work, sizeof work, "%s/pouch%d", blb_work, run);
    snprintf(out, sizeof out, "%s.json", work);
    snprintf(ntext, sizeof ntext, "%u", n);
    setenv("NODE_PATH", node_modules, 1);
    if (blb_wait(blb_spawn_io(argv, out, 1), BLB_CHILD_SECS) != 0 ||
        !(root = json_load_file(out, 0, NULL))) {
        snprintf(pouch_skip, sizeof pouch_skip, "skipped: the PouchDB run failed (%s)", out);
        return -1;
    }
    pd_v[PUSH_RATE][run] = phase_num(root, "push", "docs") / phase_num(root, "push", "secs");
    pd_v[PULL_RATE][run] = phase_num(root, "pull", "docs") / phase_num(root, "pull", "secs");
    pd_v[UP_VISIT][run] = phase_num(root, "push", "bytes_up") / n;
    pd_v[DOWN_VISIT][run] = phase_num(root, "pull", "bytes_down") / n;
    pd_v[PUSH_REQ][run] = phase_num(root, "push", "requests");
    pd_v[PULL_REQ][run] = phase_num(root, "pull", "requests");
    pd_v[EDIT_REQ][run] = phase_num(root, "edits_push", "requests") +
                          phase_num(root, "edits_pull", "requests");
    pd_v[EDIT_MS][run] = (phase_num(root, "edits_push", "secs") +
                          phase_num(root, "edits_pull", "secs")) * 1e3;
    pd_v[EDIT_BYTES][run] = phase_num(root, "edits_push", "bytes_up") +
                            phase_num(root, "edits_push", "bytes_down") +
                            phase_num(root, "edits_pull", "bytes_up") +
                            phase_num(root, "edits_pull", "bytes_down");
    pd_v[NOOP_REQ][run] = phase_num(root, "noop", "requests");
    pd_v[NOOP_MS][run] = phase_num(root, "noop", "secs") * 1e3;
    pd_v[NOOP_BYTES][run] = phase_num(root, "noop", "bytes_up") +
                            phase_num(root, "noop", "bytes_down");
    pd_v[PEAK_MB][run] = json_number_value(json_object_get(root, "client_pull_peak_mb"));
    snprintf(pouch_versions, sizeof pouch_versions, "PouchDB %s, pouchdb-server %s, node %s",
             json_string_value(json_object_get(root, "pouchdb")),
             json_string_value(json_object_get(root, "pouchdb_server")),
             json_string_value(json_object_get(root, "node")));
    fprintf(stderr, "pouchdb: run %d: push %.0f docs/s, %.0f requests; pull %.0f docs/s, %.0f "
            "requests; edits %.0f requests; no-op %.0f requests; client pull peak %.1f MB\n",
            run + 1, pd_v[PUSH_RATE][run], pd_v[PUSH_REQ][run], pd_v[PULL_RATE][run],
            pd_v[PULL_REQ][run], pd_v[EDIT_REQ][run], pd_v[NOOP_REQ][run], pd_v[PEAK_MB][run]);
    json_decref(root);
    return 0;
}

/* ---- figures and the table ------------------------------------------------------------- */

static void add_figures(int runs, int have_pouch)
{
    for (int m = 0; m < NMEASURE; m++) {
        const measure *ms = &measures[m];
        char name[112];
        double ratio[BLB_MAX_RUNS];
        snprintf(name, sizeof name, "%s: linkbook", ms->name);
        blb_add(name, ms->unit, lb_v[m], runs, ms->own_goal, ms->own_target);
        if (!have_pouch)
            continue;
        snprintf(name, sizeof name, "%s: PouchDB", ms->name);
        blb_add(name, ms->unit, pd_v[m], runs, 0, 0);
        for (int r = 0; r < runs; r++)
            ratio[r] = pd_v[m][r] > 0 ? lb_v[m][r] / pd_v[m][r] : 0;
        snprintf(name, sizeof name, "%s: linkbook / PouchDB", ms->name);
        blb_add(name, "x", ratio, runs, ms->ratio_goal, ms->ratio_target);
    }
}

static void cell(char *out, size_t cap, const blb_fig *f)
{
    char med[32], lo[32], hi[32];
    blb_num(med, sizeof med, f->med);
    blb_num(lo, sizeof lo, f->lo);
    blb_num(hi, sizeof hi, f->hi);
    snprintf(out, cap, "%s (%s-%s)", med, lo, hi);
}

static void print_side_by_side(unsigned n, int runs, int have_pouch)
{
    int per = have_pouch ? 3 : 1;
    printf("\nlinkbook beside PouchDB on 127.0.0.1, same run, same visits (N = %u), bytes and "
           "requests counted by the same proxy; medians of %d run%s (min-max)\n", n, runs,
           runs == 1 ? "" : "s");
    if (have_pouch)
        printf("PouchDB side: %s, keep-alive connections\n", pouch_versions);
    else
        printf("PouchDB side %s\n", pouch_skip);
    printf("%-40s %-10s %-24s %-24s %-22s %-8s %s\n", "figure", "unit", "linkbook", "PouchDB",
           "linkbook/PouchDB", "goal", "met?");
    for (int m = 0; m < NMEASURE; m++) {
        const blb_fig *lb = &blb_figs[m * per], *goal = lb;
        char c1[100], c2[100] = "-", c3[100] = "-", margin[48];
        cell(c1, sizeof c1, lb);
        if (have_pouch) {
            cell(c2, sizeof c2, &blb_figs[m * per + 1]);
            cell(c3, sizeof c3, &blb_figs[m * per + 2]);
            if (measures[m].ratio_goal)
                goal = &blb_figs[m * per + 2];
        }
        blb_margin(goal, margin, sizeof margin);
        printf("%-40s %-10s %-24s %-24s %-22s %-8s %s\n", measures[m].name, measures[m].unit, c1,
               c2, c3, goal->goal[0] ? goal->goal : "-", margin);
    }
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_peer --linkbook PATH --linkbookd PATH --proxy PATH [--n N] "
                    "[--runs R] [--tmp DIR] [--json FILE] [--node PATH --pouch-js FILE "
                    "--node-modules DIR | --pouch-skip WHY]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    blb_opts op = {.tmp = "/tmp"};
    unsigned n = 10000;
    int runs = 3, have_pouch, rc;
    for (int i = 1; i + 1 < argc && strncmp(argv[1], "--child", 7) != 0; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (blb_opt(&op, o, v))
            continue;
        if (strcmp(o, "--n") == 0)
            n = (unsigned)bench_arg_long(BENCH_NAME, o, v, EDITS + 1, 1000000);
        else if (strcmp(o, "--runs") == 0)
            runs = (int)bench_arg_long(BENCH_NAME, o, v, 1, BLB_MAX_RUNS);
        else if (strcmp(o, "--proxy") == 0)
            blb_proxy_path = v;
        else if (strcmp(o, "--node") == 0)
            node_path = v;
        else if (strcmp(o, "--pouch-js") == 0)
            pouch_js = v;
        else if (strcmp(o, "--node-modules") == 0)
            node_modules = v;
        else if (strcmp(o, "--pouch-skip") == 0)
            snprintf(pouch_skip, sizeof pouch_skip, "skipped: %s", v);
        else
            usage();
    }
    if ((rc = blb_init(argc, argv, op.tmp)) >= 0)
        return rc;
    cli_path = op.cli;
    if (!cli_path || !blb_srv_path || !blb_proxy_path)
        usage();
    if (!pouch_skip[0] && (!node_path || !pouch_js || !node_modules))
        snprintf(pouch_skip, sizeof pouch_skip, "skipped: no node or PouchDB install given");
    fprintf(stderr, "bench_peer in %s: %u visits, %d runs; PouchDB %s\n", blb_work, n, runs,
            pouch_skip[0] ? pouch_skip : "alongside");
    for (int r = 0; r < runs; r++) {
        linkbook_run(r, n);
        if (!pouch_skip[0])
            pouch_run(r, n, blb_proxy_path);
    }
    have_pouch = !pouch_skip[0];
    add_figures(runs, have_pouch);
    print_side_by_side(n, runs, have_pouch);
    if (op.json)
        blb_write_json(op.json, json_pack("{s:i, s:i, s:s, s:s}", "visits", (int)n, "runs", runs,
                                       "pouchdb", have_pouch ? pouch_versions : pouch_skip,
                                       "counting", "bench_proxy: raw socket bytes, requests"));
    bench_cleanup();
    curl_global_cleanup();
    return 0;
}
