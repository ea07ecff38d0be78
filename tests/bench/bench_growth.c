/* bench_growth.c - does a sync cost what changed, or what is stored?  The
 * same no-op sync and the same 100-edit round trip, timed when both
 * devices hold 1,000, 10,000 and 100,000 records.
 *
 * One fresh linkbookd on 127.0.0.1; supervisor B and worker A (people and
 * goals synced).  For each size in --sizes (ascending): A records visits
 * (a contact and its 600-character note: 2 records each) until it holds
 * that many records, pushes them, and B pulls them (not timed).  Both
 * stores are then closed and opened again, so that the write-ahead log the
 * growth left is checkpointed there and not in a measured sync, and
 * --warmup untimed rounds of the syncs below follow: every size is
 * measured from the same state (a fresh store handle, warm caches, the
 * goals already edited, so each edit is the same kind of merge).  Then
 * --reps times:
 *   no-op    B syncs with nothing new: milliseconds, requests;
 *   edits    100 goal status changes on A; sync A, then B: milliseconds
 *            and requests of the round trip.
 * Figures per size (median, min-max of the reps), and the slope: the
 * median at the largest size over the median at the smallest (goal: at
 * most 1.2, flat within 20%; a ratio of medians, steadier than per-rep
 * ratios on a busy machine).
 *
 * usage: bench_growth --linkbookd PATH [--sizes 1000,10000,100000]
 *        [--reps R] [--warmup W] [--tmp DIR] [--json FILE]
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#define BENCH_NAME "bench_growth"
#include "bench_lb.h"

#define MAX_SIZES 6

/* Built with -DBENCH_CALLGRIND (tests/bench/growth_instr.sh), each measured
 * sync is counted by callgrind alone (the program runs with instrumentation
 * off): one dump per sync, named "<sync> <size>", and the SQLite pages the
 * store read and wrote during it on stderr.  A GET /healthz before and
 * after it marks the server's share when linkbookd runs under callgrind
 * with a dump per request.  Counts that machine noise does not move, for
 * telling a real cost that grows with the store from a busy machine. */
#ifdef BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#include "lb_store_priv.h"

static int db_count(lb_store *s, int op)
{
    int cur = 0, hi = 0;
    sqlite3_db_status(s->db, op, &cur, &hi, 1);
    return cur;
}

static void server_mark(blb_device *d)
{
    json_t *resp = NULL;
    blb_check_client(lb_client_get(d->c, "/healthz", NULL, &resp), d->c, "GET /healthz");
    json_decref(resp);
}
#endif

/* One sync, its report and seconds; tag names a measured one ("1000"),
 * NULL in a warm-up. */
static void sync_step(blb_device *d, const char *what, lb_client_report *rep, double *secs,
                      const char *tag)
{
#ifdef BENCH_CALLGRIND
    char name[160];
    if (tag) {
        snprintf(name, sizeof name, "%s %s", what, tag);
        db_count(d->s, SQLITE_DBSTATUS_CACHE_MISS);
        db_count(d->s, SQLITE_DBSTATUS_CACHE_WRITE);
        server_mark(d);
        CALLGRIND_START_INSTRUMENTATION;
        CALLGRIND_ZERO_STATS;
    }
    blb_sync(d, what, rep, secs);
    if (tag) {
        CALLGRIND_DUMP_STATS_AT(name);
        CALLGRIND_STOP_INSTRUMENTATION;
        server_mark(d);
        fprintf(stderr, "pages: %s: read %d, written %d\n", name,
                db_count(d->s, SQLITE_DBSTATUS_CACHE_MISS),
                db_count(d->s, SQLITE_DBSTATUS_CACHE_WRITE));
    }
#else
    (void)tag;
    blb_sync(d, what, rep, secs);
#endif
}

static void edit_goals(lb_store *s, const blb_caseload *cl, int round)
{
    static const char *const status[] = {"achieved", "partly", "active"};
    blb_check(lb_store_begin(s), s, "begin");
    for (unsigned i = 0; i < BLB_GOALS; i++)
        blb_check(lb_goal_status(s, cl->goals[i], status[round % 3]), s, "lb_goal_status");
    blb_check(lb_store_commit(s), s, "commit");
}

/* Records in the store: the change log's length is what grows with it. */
static size_t records_held(unsigned visits)
{
    return (size_t)visits * 2 + BLB_PEOPLE + BLB_GOALS;
}

static void grow_to(blb_device *a, blb_device *b, const blb_caseload *cl, unsigned *visits,
                    long size)
{
    lb_client_report ra, rb;
    unsigned want = size > (long)records_held(0) ? (unsigned)((size - (long)records_held(0)) / 2)
                                                 : 0;
    if (want > *visits) {
        blb_record_visits(a->s, cl, *visits, want - *visits);
        *visits = want;
    }
    blb_sync(a, "pushing the new visits", &ra, NULL);
    blb_sync(b, "pulling the new visits", &rb, NULL);
    fprintf(stderr, "growth: %zu records on each device (pushed %zu, pulled %zu)\n",
            records_held(*visits), ra.pushed, rb.pulled);
}

/* One round: a no-op sync on B, 100 edits on A, synced by A then B;
 * reports and seconds of the three syncs (NULL: not wanted). */
static void round_trip(blb_device *a, blb_device *b, const blb_caseload *cl, int *round,
                       lb_client_report rep[3], double secs[3], const char *tag)
{
    lb_client_report r[3];
    double t[3];
    rep = rep ? rep : r;
    secs = secs ? secs : t;
    sync_step(b, "no-op sync", &rep[0], &secs[0], tag);
    edit_goals(a->s, cl, (*round)++);
    sync_step(a, "sync of 100 edits on A", &rep[1], &secs[1], tag);
    sync_step(b, "sync of 100 edits on B", &rep[2], &secs[2], tag);
}

/* Both stores closed and opened again (closing checkpoints the growth's
 * write-ahead log), then warmup untimed rounds. */
static void settle(blb_device *a, blb_device *b, const blb_caseload *cl, int warmup,
                   int *round)
{
    blb_device_close(a);
    blb_device_close(b);
    blb_device_open(a);
    blb_device_open(b);
    for (int i = 0; i < warmup; i++)
        round_trip(a, b, cl, round, NULL, NULL, NULL);
}

static void measure_size(blb_device *a, blb_device *b, const blb_caseload *cl, long size,
                         int reps, int *round)
{
    double noop_ms[BLB_MAX_RUNS], noop_req[BLB_MAX_RUNS], edit_ms[BLB_MAX_RUNS],
           edit_req[BLB_MAX_RUNS];
    char name[112], tag[32];
    snprintf(tag, sizeof tag, "%ld", size);
    for (int r = 0; r < reps; r++) {
        lb_client_report rep[3], rn, ra, rb;
        double t[3], tn, ta, tb;
        round_trip(a, b, cl, round, rep, t, tag);
        rn = rep[0], ra = rep[1], rb = rep[2], tn = t[0], ta = t[1], tb = t[2];
        if (rn.pulled || rn.pushed || ra.pushed != BLB_GOALS || rb.pulled != BLB_GOALS)
            fprintf(stderr, "bench_growth: warning: no-op moved %zu; edits pushed %zu, "
                    "pulled %zu\n", rn.pulled + rn.pushed, ra.pushed, rb.pulled);
        noop_ms[r] = tn * 1e3;
        noop_req[r] = (double)rn.net.requests;
        edit_ms[r] = (ta + tb) * 1e3;
        edit_req[r] = (double)(ra.net.requests + rb.net.requests);
    }
    snprintf(name, sizeof name, "growth %ld records: no-op sync", size);
    blb_add(name, "ms", noop_ms, reps, 0, 0);
    snprintf(name, sizeof name, "growth %ld records: no-op sync, requests", size);
    blb_add(name, "requests", noop_req, reps, BLB_AT_MOST, 1);
    snprintf(name, sizeof name, "growth %ld records: 100 edits round trip", size);
    blb_add(name, "ms", edit_ms, reps, 0, 0);
    snprintf(name, sizeof name, "growth %ld records: 100 edits, requests", size);
    blb_add(name, "requests", edit_req, reps, BLB_AT_MOST, 2);
}

/* The slope of figure `what` (offset within each size's 4 figures): the
 * largest size's median over the smallest's. */
static void slope(int nsizes, int offset, const char *what, long lo, long hi)
{
    const blb_fig *first = &blb_figs[offset], *last = &blb_figs[(nsizes - 1) * 4 + offset];
    double v = first->med > 0 ? last->med / first->med : 0;
    char name[112];
    snprintf(name, sizeof name, "growth slope: %s, %ld / %ld records", what, hi, lo);
    blb_add(name, "x", &v, 1, BLB_AT_MOST, 1.2);
}

static int parse_sizes(const char *text, long *sizes)
{
    int n = blb_arg_list("--sizes", text, sizes, MAX_SIZES, 200, 2000000);
    for (int i = 1; i < n; i++)
        if (sizes[i] <= sizes[i - 1]) {
            fprintf(stderr, "bench_growth: --sizes must ascend\n");
            exit(2);
        }
    return n;
}

int main(int argc, char **argv)
{
    const char *sizes_text = "1000,10000,100000";
    blb_opts op = {.tmp = "/tmp"};
    long sizes[MAX_SIZES];
    int reps = 9, warmup = 3, nsizes, rc, round = 0;
    unsigned visits = 0;
    blb_server sv;
    blb_device a = {0}, b = {0};
    blb_caseload cl;
    for (int i = 1; i + 1 < argc && strncmp(argv[1], "--child", 7) != 0; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (blb_opt(&op, o, v))
            continue;
        if (strcmp(o, "--sizes") == 0)
            sizes_text = v;
        else if (strcmp(o, "--reps") == 0)
            reps = (int)bench_arg_long(BENCH_NAME, o, v, 1, BLB_MAX_RUNS);
        else if (strcmp(o, "--warmup") == 0)
            warmup = (int)bench_arg_long(BENCH_NAME, o, v, 0, 100);
        else {
            fprintf(stderr, "usage: bench_growth --linkbookd PATH [--sizes A,B,C] [--reps R] "
                            "[--warmup W] [--tmp DIR] [--json FILE]\n");
            return 2;
        }
    }
    nsizes = parse_sizes(sizes_text, sizes);
    if ((rc = blb_init(argc, argv, op.tmp)) >= 0)
        return rc;
    if (!blb_srv_path || nsizes < 2)
        bench_die("--linkbookd and at least two --sizes are needed", NULL);
    fprintf(stderr, "bench_growth in %s: sizes %s, %d reps each after %d warm-up rounds\n",
            blb_work, sizes_text, reps, warmup);
    blb_team_up(&sv, "growth", &a, &b, &cl);
    for (int i = 0; i < nsizes; i++) {
        grow_to(&a, &b, &cl, &visits, sizes[i]);
        settle(&a, &b, &cl, warmup, &round);
        measure_size(&a, &b, &cl, sizes[i], reps, &round);
    }
    slope(nsizes, 0, "no-op sync time", sizes[0], sizes[nsizes - 1]);
    slope(nsizes, 2, "100-edit round trip time", sizes[0], sizes[nsizes - 1]);
    blb_print_table("growth: the same syncs as the stores grow (medians of the reps, min-max)");
    if (op.json)
        blb_write_json(op.json, json_pack("{s:s, s:i, s:i}", "sizes", sizes_text, "reps", reps,
                                             "warmup", warmup));
    blb_device_free(&a);
    blb_device_free(&b);
    blb_server_stop(&sv);
#ifdef BENCH_CALLGRIND
    if (getenv("GROWTH_KEEP")) {
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", blb_work, getenv("GROWTH_KEEP"));
        if (system(cmd) != 0)
            fprintf(stderr, "could not keep %s\n", blb_work);
    }
#endif
    bench_cleanup();
    curl_global_cleanup();
    return 0;
}
