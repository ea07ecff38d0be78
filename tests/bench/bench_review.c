/* bench_review.c - how long a supervisor's `linkbook review` takes over a
 * big team, and how much memory it needs.
 *
 * Builds one store as a supervisor's device holds it after syncing a team
 * of W workers (caseloads w0..w{W-1}): P people spread over the caseloads,
 * each with a referral, C contacts in all (a third with a follow-up, a
 * tenth with a note), a goal each and ONS4 and SWEMWBS at baseline and
 * review for half of them; dates over two years.  Then it measures:
 *   - lb_review_compute in this process, after unlock (median of runs);
 *   - the command `linkbook review` and `review --json`: wall time, less
 *     the time of the same process start, open and unlock that ends at once
 *     (`linkbook review --from 2199-01-01`, refused once the store is
 *     unlocked: the period begins after today), and the command's peak
 *     resident memory;
 *   - the command `linkbook report --html FILE` the same way (less
 *     `report --html FILE --from 2199-01-01`), and the size of the page.
 * Goals: under 2 s after unlock, under 128 MB.
 *
 *   bench_review [--workers W] [--people P] [--contacts C] [--runs R]
 *                [--tmp DIR] [--cli PATH] [--json FILE]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "linkbook.h"
#include "bench_common.h"

#define PASS "bench review passphrase"
#define GOAL_S 2.0
#define GOAL_MB 128.0

extern char **environ;

static char work[4096];

static void die(const char *what, lb_store *s, lb_err err)
{
    fprintf(stderr, "bench_review: %s: %s (%s)\n", what, lb_strerror(err),
            s ? lb_store_errmsg(s) : "");
    exit(1);
}

static void check(lb_err err, lb_store *s, const char *what)
{
    if (err != LB_OK)
        die(what, s, err);
}

/* A date d days after 2024-01-01 (d < 900), YYYY-MM-DD. */
static void day_text(unsigned d, char out[11])
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 2024, m = 0;
    for (;;) {
        unsigned ylen = y % 4 == 0 ? 366 : 365;
        if (d < ylen)
            break;
        d -= ylen;
        y++;
    }
    for (;;) {
        unsigned ml = (unsigned)(mdays[m] + (m == 1 && y % 4 == 0));
        if (d < ml)
            break;
        d -= ml;
        m++;
    }
    snprintf(out, 11, "%04d-%02d-%02u", y % 10000, (m + 1) % 100, (d + 1) % 100);
}

static const char *const CATS[] = {"occupation", "health-coaching", "psychosocial",
                                   "mental-health", "cognitive", "signposting"};
static const char *const MODES[] = {"home", "community", "surgery", "phone", "video"};

static void add_person(lb_store *s, unsigned i, unsigned workers, char id[LB_ID_HEX + 1])
{
    char caseload[16], dob[11], date[11];
    lb_person_fields f = {0};
    lb_referral_fields r = {"gp", "isolation,money", date};
    snprintf(caseload, sizeof caseload, "w%u", i % workers);
    snprintf(dob, sizeof dob, "19%02u-0%u-1%u", 30 + i % 70, 1 + i % 9, i % 10);
    f.given = "Margaret";
    f.family = "Okafor";
    f.dob = dob;
    f.caseload = caseload;
    check(lb_person_add(s, &f, id), s, "adding a person");
    day_text(i % 700, date);
    check(lb_referral_add(s, id, &r, NULL), s, "adding a referral");
    check(lb_goal_add(s, id, "Join the Tuesday walking group", "activity", NULL, NULL), s,
          "adding a goal");
    if (i % 2 == 0) {
        check(lb_measure_add(s, id, "ons4", "4,5,3,7", "baseline", NULL), s, "adding ONS4");
        check(lb_measure_add(s, id, "ons4", "6,6,5,4", "review", NULL), s, "adding ONS4");
        check(lb_measure_add(s, id, "swemwbs", "2,3,3,2,3,3,2", "baseline", NULL), s, "SWEMWBS");
        check(lb_measure_add(s, id, "swemwbs", "3,3,4,3,3,4,3", "review", NULL), s, "SWEMWBS");
    }
}

static void add_contact(lb_store *s, const char *pid, unsigned j, unsigned first_day)
{
    char date[11], follow[11], cats[64];
    lb_contact_fields c = {0};
    unsigned d = first_day + 7 + j % 150;
    day_text(d, date);
    day_text(d + 14, follow);
    snprintf(cats, sizeof cats, "%s,%s", CATS[j % 6], CATS[(j + 1) % 6]);
    c.mode = MODES[j % 5];
    c.minutes = "45";
    c.categories = cats;
    c.date = date;
    c.follow_up = j % 3 == 0 ? follow : NULL;
    c.note = j % 10 == 0 ? bench_phrases[j % 6] : NULL;
    check(lb_contact_add(s, pid, &c, NULL), s, "adding a contact");
}

/* The supervisor's store: people first, then contacts spread over them. */
static void build(const char *dir, unsigned workers, unsigned people, unsigned contacts)
{
    lb_identity who = {"Sam Okoro", "supervisor", "supervisor"};
    lb_store *s = NULL;
    char (*ids)[LB_ID_HEX + 1] = calloc(people, sizeof *ids);
    lb_err err = ids ? lb_store_create(dir, PASS, strlen(PASS), &who, NULL, &s) : LB_ERR_NOMEM;
    unsigned i;
    double t0 = now();
    check(err, s, "creating the store");
    check(lb_store_begin(s), s, "begin");
    for (i = 0; i < people; i++)
        add_person(s, i, workers, ids[i]);
    for (i = 0; i < contacts; i++) {
        add_contact(s, ids[i % people], i / people, (i % people) % 700);
        if (i % 5000 == 4999) {
            check(lb_store_commit(s), s, "commit");
            check(lb_store_begin(s), s, "begin");
        }
    }
    check(lb_store_commit(s), s, "commit");
    lb_store_close(s);
    free(ids);
    fprintf(stderr, "bench_review: built %u people, %u contacts in %u caseloads in %.1f s\n",
            people, contacts, workers, now() - t0);
}

static double compute_once(const char *dir)
{
    lb_store *s = NULL;
    lb_review *r = NULL;
    lb_review_query q = {NULL, NULL, NULL, "review", 1};
    double t0;
    check(lb_store_open(dir, &s), s, "opening the store");
    check(lb_store_unlock(s, PASS, strlen(PASS)), s, "unlocking");
    t0 = now();
    check(lb_review_compute(s, &q, &r), s, "computing the review");
    t0 = now() - t0;
    if (r->all.contacts == 0)
        die("the review counted no contacts", s, LB_ERR_INTERNAL);
    lb_review_free(r);
    lb_store_close(s);
    return t0;
}

static double last_cpu;   /* CPU seconds (user + system) of the last run_cli */

/* Run argv quietly; its wall time and peak memory (MB). */
static int run_cli(char *const argv[], double *secs, double *mb)
{
    posix_spawn_file_actions_t fa;
    struct rusage ru;
    pid_t pid;
    int st = -1;
    double t0 = now();
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        return -1;
    posix_spawn_file_actions_destroy(&fa);
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    *secs = now() - t0;
    *mb = (double)ru.ru_maxrss / 1024.0;
    last_cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct result {
    double compute, cli, cli_json, mb, cpu;
} result;

static double median_of(double *v, int n)
{
    double med, lo, hi;
    stats(v, n, &med, &lo, &hi);
    return med;
}

static void bench_cli(const char *cli, const char *dir, int runs, result *res)
{
    char *review[] = {(char *)cli, "review", NULL};
    char *json[] = {(char *)cli, "review", "--json", NULL};
    char *base[] = {(char *)cli, "review", "--from", "2199-01-01", NULL};
    double a[16], b[16], c[16], cpu[16], mb, mb_json, mb_base, peak = 0;
    int r;
    setenv("LINKBOOK_STORE", dir, 1);
    setenv("LINKBOOK_PASSPHRASE", PASS, 1);
    for (r = 0; r < runs && r < 16; r++) {
        int ok = run_cli(review, &a[r], &mb) == 0;
        cpu[r] = last_cpu;
        ok = ok && run_cli(json, &b[r], &mb_json) == 0 && run_cli(base, &c[r], &mb_base) == 2;
        if (!ok) {
            fprintf(stderr, "bench_review: 'linkbook review' did not run as expected\n");
            exit(1);
        }
        peak = mb > peak ? mb : peak;
        peak = mb_json > peak ? mb_json : peak;
        a[r] -= c[r];
        b[r] -= c[r];
    }
    res->cli = median_of(a, r);
    res->cli_json = median_of(b, r);
    res->cpu = median_of(cpu, r);
    res->mb = peak;
}

static void cleanup(void)
{
    char cmd[4200];
    if (!work[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_review: could not remove %s\n", work);
}

static void print_row(const char *name, double v, const char *unit, const char *goal, int met)
{
    printf("%-46s %12.3f  %-12s %-14s %s\n", name, v, unit, goal, met ? "yes" : "NO");
}

static void report(const result *r, unsigned workers, unsigned people, unsigned contacts,
                   const char *json_path)
{
    json_t *doc;
    printf("\nreview: %u workers, %u people, %u contacts\n", workers, people, contacts);
    printf("%-46s %12s  %-12s %-14s %s\n", "figure", "median", "unit", "goal", "met?");
    print_row("review figures (lb_review_compute)", r->compute, "s", "< 2 s", r->compute < GOAL_S);
    print_row("linkbook review, less start+unlock", r->cli, "s", "< 2 s", r->cli < GOAL_S);
    print_row("linkbook review --json, less start+unlock", r->cli_json, "s", "< 2 s",
              r->cli_json < GOAL_S);
    print_row("linkbook review, peak memory", r->mb, "MB", "< 128 MB", r->mb < GOAL_MB);
    printf("%-46s %12.3f  %-12s %-14s %s\n", "linkbook review, CPU (with unlock)", r->cpu, "s",
           "-", "-");
    if (!json_path)
        return;
    doc = json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f}", "linkbook",
                    LINKBOOK_VERSION, "workers", workers, "people", people, "contacts", contacts,
                    "compute_s", r->compute, "cli_s", r->cli, "cli_json_s", r->cli_json,
                    "peak_mb", r->mb, "cli_cpu_s", r->cpu);
    if (!doc || json_dump_file(doc, json_path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "bench_review: could not write %s\n", json_path);
    json_decref(doc);
}

/* `linkbook report --html`: wall time less start and unlock, peak memory,
 * the page's size; printed under the review figures and added to the JSON. */
typedef struct html_result {
    double secs, mb, kib, cpu;
} html_result;

static void bench_html(const char *cli, int runs, html_result *h)
{
    char page[4300];
    char *html[] = {(char *)cli, "report", "--html", page, NULL};
    char *base[] = {(char *)cli, "report", "--html", page, "--from", "2199-01-01", NULL};
    double a[16], b[16], cpu[16], mb, mb_base;
    struct stat st;
    int r;
    snprintf(page, sizeof page, "%s/report.html", work);
    for (r = 0; r < runs && r < 16; r++) {
        int ok = run_cli(html, &a[r], &mb) == 0;
        cpu[r] = last_cpu;
        if (!ok || run_cli(base, &b[r], &mb_base) != 2) {
            fprintf(stderr, "bench_review: 'linkbook report --html' did not run as expected\n");
            exit(1);
        }
        h->mb = mb > h->mb ? mb : h->mb;
        a[r] -= b[r];
    }
    h->secs = median_of(a, r);
    h->cpu = median_of(cpu, r);
    h->kib = stat(page, &st) == 0 ? (double)st.st_size / 1024.0 : 0;
}

static void report_html(const html_result *h, const char *json_path)
{
    json_t *doc;
    print_row("linkbook report --html, less start+unlock", h->secs, "s", "< 2 s",
              h->secs < GOAL_S);
    print_row("linkbook report --html, peak memory", h->mb, "MB", "< 128 MB", h->mb < GOAL_MB);
    printf("%-46s %12.3f  %-12s %-14s %s\n", "linkbook report --html, CPU (with unlock)", h->cpu,
           "s", "-", "-");
    printf("%-46s %12.0f  %-12s %-14s %s\n", "linkbook report --html, size of the page", h->kib,
           "KiB", "-", "-");
    if (!json_path || !(doc = json_load_file(json_path, 0, NULL)))
        return;
    json_object_set_new(doc, "html_s", json_real(h->secs));
    json_object_set_new(doc, "html_peak_mb", json_real(h->mb));
    json_object_set_new(doc, "html_kib", json_real(h->kib));
    json_object_set_new(doc, "html_cpu_s", json_real(h->cpu));
    if (json_dump_file(doc, json_path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "bench_review: could not write %s\n", json_path);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    const char *tmp = "/tmp", *cli = NULL, *json_path = NULL, *prog = "bench_review";
    unsigned workers = 10, people = 3000, contacts = 60000;
    int runs = 5, i;
    double v[16];
    char dir[4200];
    result res = {0, 0, 0, 0, 0};
    html_result html = {0, 0, 0, 0};
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--workers") == 0)
            workers = (unsigned)bench_arg_long(prog, argv[i], argv[i + 1], 1, 1000);
        else if (strcmp(argv[i], "--people") == 0)
            people = (unsigned)bench_arg_long(prog, argv[i], argv[i + 1], 1, 1000000);
        else if (strcmp(argv[i], "--contacts") == 0)
            contacts = (unsigned)bench_arg_long(prog, argv[i], argv[i + 1], 0, 10000000);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = (int)bench_arg_long(prog, argv[i], argv[i + 1], 1, 16);
        else if (strcmp(argv[i], "--tmp") == 0)
            tmp = argv[i + 1];
        else if (strcmp(argv[i], "--cli") == 0)
            cli = argv[i + 1];
        else if (strcmp(argv[i], "--json") == 0)
            json_path = argv[i + 1];
        else
            break;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (i < argc) {
        fprintf(stderr, "usage: %s [--workers W] [--people P] [--contacts C] [--runs R] "
                "[--tmp DIR] [--cli PATH] [--json FILE]\n", prog);
        return 2;
    }
    snprintf(work, sizeof work, "%s/lb-bench-review.XXXXXX", tmp);
    if (!mkdtemp(work)) {
        perror("bench_review: mkdtemp");
        return 1;
    }
    if (!getenv("BENCH_KEEP"))
        atexit(cleanup);
    else
        fprintf(stderr, "bench_review: keeping %s\n", work);
    snprintf(dir, sizeof dir, "%s/store", work);
    build(dir, workers, people, contacts);
    for (i = 0; i < runs; i++)
        v[i] = compute_once(dir);
    res.compute = median_of(v, runs);
    if (cli && access(cli, X_OK) == 0) {
        bench_cli(cli, dir, runs, &res);
        bench_html(cli, runs, &html);
    } else {
        fprintf(stderr, "bench_review: no command given (--cli): only the library is timed\n");
    }
    report(&res, workers, people, contacts, json_path);
    if (cli && access(cli, X_OK) == 0)
        report_html(&html, json_path);
    return 0;
}
