/* bench_team.c - a supervisor's first sync of a whole team: 10 caseloads,
 * 50,000 changes in all, pulled by a new supervisor device.
 *
 * Once: a fresh linkbookd on 127.0.0.1 behind bench_proxy; supervisor B;
 * --workers link workers (default 10, one caseload each), each enrolled,
 * given 20 people and 100 goals and then visits (a contact and its
 * 600-character note, 2 changes each) up to its share of --changes
 * (default 50,000), and pushed.  Then --runs times: B invites a new
 * supervisor device, which enrols (B's next sync seals the team key to it),
 * and the real command `linkbook sync` runs its first sync in a process of
 * its own: wall seconds (including its start and Argon2id unlock), changes
 * pulled per second, HTTP requests and bytes down and up (counted on the
 * socket by the proxy), and its peak RSS.
 *
 * usage: bench_team --linkbook PATH --linkbookd PATH --proxy PATH
 *        [--workers W] [--changes N] [--runs R] [--tmp DIR] [--json FILE]
 */
#define _DEFAULT_SOURCE /* wait4, mkdtemp */
#define BENCH_NAME "bench_team"
#include "bench_lb.h"

#define MAX_WORKERS 50

/* Worker i: enrolled, people and goals, visits up to share changes, pushed. */
static size_t fill_caseload(blb_server *sv, blb_device *sup, int i, size_t share)
{
    blb_device w = {0};
    blb_caseload cl;
    lb_client_report rep;
    char code[256], name[32];
    size_t base = BLB_PEOPLE + BLB_GOALS;
    snprintf(name, sizeof name, "worker-%d", i);
    blb_invite(sup, "link-worker", name, code, sizeof code);
    blb_enrol(&w, name, sv->url, code);
    blb_sync(sup, "sealing the key to a worker", NULL, NULL);
    blb_sync(&w, "a worker's first sync", NULL, NULL);
    blb_people_and_goals(w.s, &cl);
    if (share > base)
        blb_record_visits(w.s, &cl, (unsigned)(i * 1000000), (unsigned)((share - base) / 2));
    blb_sync(&w, "a worker's push", &rep, NULL);
    blb_device_free(&w);
    return rep.pushed;
}

/* What the last `linkbook sync` said it pulled. */
static size_t report_pulled(void)
{
    json_t *doc = blb_cli_sync_report();
    size_t n = (size_t)json_integer_value(json_object_get(doc, "pulled"));
    json_decref(doc);
    return n;
}

int main(int argc, char **argv)
{
    blb_opts op = {.tmp = "/tmp"};
    int workers = 10, runs = 3, rc;
    long changes = 50000;
    size_t total = 0;
    double secs[BLB_MAX_RUNS], rate[BLB_MAX_RUNS], req[BLB_MAX_RUNS], down[BLB_MAX_RUNS],
           up[BLB_MAX_RUNS], peak[BLB_MAX_RUNS], pulled[BLB_MAX_RUNS];
    blb_server sv;
    blb_device b = {0};
    for (int i = 1; i + 1 < argc && strncmp(argv[1], "--child", 7) != 0; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (blb_opt(&op, o, v))
            continue;
        if (strcmp(o, "--workers") == 0)
            workers = (int)bench_arg_long(BENCH_NAME, o, v, 1, MAX_WORKERS);
        else if (strcmp(o, "--changes") == 0)
            changes = bench_arg_long(BENCH_NAME, o, v, 1000, 5000000);
        else if (strcmp(o, "--runs") == 0)
            runs = (int)bench_arg_long(BENCH_NAME, o, v, 1, BLB_MAX_RUNS);
        else if (strcmp(o, "--proxy") == 0)
            blb_proxy_path = v;
        else {
            fprintf(stderr, "usage: bench_team --linkbook PATH --linkbookd PATH --proxy PATH "
                            "[--workers W] [--changes N] [--runs R] [--tmp DIR] "
                            "[--json FILE]\n");
            return 2;
        }
    }
    if ((rc = blb_init(argc, argv, op.tmp)) >= 0)
        return rc;
    if (!op.cli || !blb_srv_path || !blb_proxy_path)
        bench_die("--linkbook, --linkbookd and --proxy are needed", NULL);
    fprintf(stderr, "bench_team in %s: %d caseloads, %ld changes, %d runs\n", blb_work, workers,
            changes, runs);
    blb_server_start(&sv, "team");
    blb_enrol(&b, "supervisor", sv.url, sv.code);
    blb_sync(&b, "the supervisor's first sync", NULL, NULL);
    for (int i = 0; i < workers; i++)
        total += fill_caseload(&sv, &b, i, (size_t)(changes / workers));
    fprintf(stderr, "team: %zu changes on the server in %d caseloads\n", total, workers);
    for (int r = 0; r < runs; r++) {
        blb_device s = {0};
        char code[256], name[32];
        blb_wire w0, w;
        snprintf(name, sizeof name, "new-supervisor-%d", r);
        blb_invite(&b, "supervisor", name, code, sizeof code);
        blb_enrol(&s, name, sv.url, code);
        blb_sync(&b, "sealing the key to the new supervisor", NULL, NULL);
        blb_device_free(&s);
        w0 = blb_wire_now(&sv);
        peak[r] = blb_cli_sync_peak(op.cli, s.dir, &secs[r], NULL);
        w = blb_wire_since(&sv, w0);
        pulled[r] = (double)report_pulled();
        rate[r] = pulled[r] / secs[r];
        req[r] = w.requests;
        down[r] = w.down / 1e6;
        up[r] = w.up / 1e3;
        fprintf(stderr, "team: run %d: pulled %.0f changes in %.2f s, %.0f requests, %.1f MB "
                "down, peak %.1f MB\n", r + 1, pulled[r], secs[r], req[r], down[r], peak[r]);
    }
    blb_add("team first sync: changes pulled", "changes", pulled, runs, 0, 0);
    blb_add("team first sync: time (whole command)", "s", secs, runs, 0, 0);
    blb_add("team first sync: throughput", "changes/s", rate, runs, 0, 0);
    blb_add("team first sync: HTTP requests", "requests", req, runs, 0, 0);
    blb_add("team first sync: bytes down", "MB", down, runs, 0, 0);
    blb_add("team first sync: bytes up", "KB", up, runs, 0, 0);
    blb_add("team first sync: peak RSS of `linkbook sync`", "MB", peak, runs, 0, 0);
    blb_print_table("a supervisor's first sync of the team (medians, min-max)");
    if (op.json)
        blb_write_json(op.json, json_pack("{s:i, s:I, s:I, s:i}", "caseloads", workers,
                                       "changes_asked", (json_int_t)changes, "changes_stored",
                                       (json_int_t)total, "runs", runs));
    blb_device_free(&b);
    blb_server_stop(&sv);
    bench_cleanup();
    curl_global_cleanup();
    return 0;
}
