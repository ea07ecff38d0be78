/* bench_growth.c - does a sync cost what changed, or what is stored?  The
 * same no-op sync and the same 100-edit round trip, timed when both
 * devices hold 1,000, 10,000 and 100,000 records.
 *
 * One fresh linkbookd on 127.0.0.1; supervisor B and worker A (people and
 * goals synced).  For each size in --sizes (ascending): A records visits
 * (a contact and its 600-character note: 2 records each) until it holds
 * that many records, pushes them, and B pulls them (not timed).  Then
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
 *        [--reps R] [--tmp DIR] [--json FILE]
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#define BENCH_NAME "bench_growth"
#include "bench_lb.h"

#define MAX_SIZES 6

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

static void measure_size(blb_device *a, blb_device *b, const blb_caseload *cl, long size,
                         int reps, int *round)
{
    double noop_ms[BLB_MAX_RUNS], noop_req[BLB_MAX_RUNS], edit_ms[BLB_MAX_RUNS],
           edit_req[BLB_MAX_RUNS];
    char name[112];
    for (int r = 0; r < reps; r++) {
        lb_client_report rn, ra, rb;
        double tn, ta, tb;
        blb_sync(b, "no-op sync", &rn, &tn);
        edit_goals(a->s, cl, (*round)++);
        blb_sync(a, "sync of 100 edits on A", &ra, &ta);
        blb_sync(b, "sync of 100 edits on B", &rb, &tb);
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
    int reps = 9, nsizes, rc, round = 0;
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
        else {
            fprintf(stderr, "usage: bench_growth --linkbookd PATH [--sizes A,B,C] [--reps R] "
                            "[--tmp DIR] [--json FILE]\n");
            return 2;
        }
    }
    nsizes = parse_sizes(sizes_text, sizes);
    if ((rc = blb_init(argc, argv, op.tmp)) >= 0)
        return rc;
    if (!blb_srv_path || nsizes < 2)
        bench_die("--linkbookd and at least two --sizes are needed", NULL);
    fprintf(stderr, "bench_growth in %s: sizes %s, %d reps each\n", blb_work, sizes_text, reps);
    blb_team_up(&sv, "growth", &a, &b, &cl);
    for (int i = 0; i < nsizes; i++) {
        grow_to(&a, &b, &cl, &visits, sizes[i]);
        measure_size(&a, &b, &cl, sizes[i], reps, &round);
    }
    slope(nsizes, 0, "no-op sync time", sizes[0], sizes[nsizes - 1]);
    slope(nsizes, 2, "100-edit round trip time", sizes[0], sizes[nsizes - 1]);
    blb_print_table("growth: the same syncs as the stores grow (medians of the reps, min-max)");
    if (op.json)
        blb_write_json(op.json, json_pack("{s:s, s:i}", "sizes", sizes_text, "reps", reps));
    blb_device_free(&a);
    blb_device_free(&b);
    blb_server_stop(&sv);
    bench_cleanup();
    curl_global_cleanup();
    return 0;
}
