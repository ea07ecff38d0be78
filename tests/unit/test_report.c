/* test_report.c - the HTML report page from figures made by hand (no
 * store): one mark per datum in each chart, text escaped, nothing that
 * could fetch anything, no person ids, sections that say when they have
 * nothing to show. */
#include "lb_test.h"
#include "lb_report.h"

#define PID_A "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
#define PID_B "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"

static lb_review_month months[3] = {{"2026-01", 2, 5}, {"2026-02", 1, 0}, {"2026-03", 0, 4}};
static lb_review_wait waits[4] = {
    {PID_A, "r1", "2026-01-05", "2026-01-09", 4},
    {PID_B, "r2", "2026-01-20", "2026-02-25", 36},
    {PID_A, "r3", "2026-02-01", "", 58},
    {PID_B, "r4", "2026-03-30", "", 1}};
static lb_review_swemwbs_pair swem[3] = {
    {PID_A, "2026-01-05", "2026-03-01", 20, 24, 19.25, 23.21},
    {PID_B, "2026-01-06", "2026-03-02", 18, 18, 17.43, 17.43},
    {"c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2", "2026-01-07", "2026-03-03", 25, 21, 24.11, 20.73}};
static lb_review_ons4_pair ons4[2] = {
    {PID_A, "2026-01-05", "2026-03-01", {4, 5, 6, 7}, {6, 5, 7, 3}},
    {PID_B, "2026-01-06", "2026-03-02", {8, 8, 8, 2}, {7, 8, 9, 5}}};

static void fill(lb_review_figures *f)
{
    memset(f, 0, sizeof *f);
    f->people = 2;
    f->referrals = 3;
    f->contacts = 9;
    f->contact_minutes = 450;
    f->categories.set = LB_CODES_CATEGORY;
    f->categories.n[0] = 3;     /* occupation */
    f->categories.n[5] = 7;     /* signposting */
    f->goal_status.set = LB_CODES_GOAL_STATUS;
    f->goal_status.n[1] = 2;    /* achieved */
    f->goal_status.n[0] = 1;
    f->goals_set = 3;
    f->months = months;
    f->n_months = 3;
    f->waits = waits;
    f->n_waits = 4;
    f->waited_n = 2;
    f->waited_mean = 20;
    f->waited_median = 20;
    f->waiting_people = 2;
    f->swemwbs = swem;
    f->n_swemwbs = 3;
    f->ons4 = ons4;
    f->n_ons4 = 2;
}

static void review(lb_review *r, lb_review_figures *caseloads)
{
    memset(r, 0, sizeof *r);
    strcpy(r->from, "2026-01-01");
    strcpy(r->to, "2026-03-31");
    strcpy(r->as_of, "2026-03-31");
    strcpy(r->first_month, "2026-01");
    strcpy(r->last_month, "2026-03");
    fill(&r->all);
    fill(&caseloads[0]);
    fill(&caseloads[1]);
    strcpy(caseloads[0].caseload, "north");
    strcpy(caseloads[1].caseload, "south");
    r->caseloads = caseloads;
    r->n_caseloads = 2;
}

/* Marks inside the <svg> whose id is id; -1 when there is no such chart. */
static int marks(const char *page, const char *id)
{
    char key[64];
    const char *p, *end;
    int n = 0;
    snprintf(key, sizeof key, "id=\"%s\"", id);
    if (!(p = strstr(page, key)))
        return -1;
    end = strstr(p, "</svg>");
    assert_non_null(end);
    while ((p = strstr(p, "class=\"mark\"")) && p < end) {
        n++;
        p++;
    }
    return n;
}

static char *render(const lb_review *r, const lb_report_opts *o, lb_markup *m)
{
    lb_markup_init(m, 16 << 20);
    assert_int_equal(lb_report_html(r, o, m), LB_OK);
    assert_non_null(m->buf.data);
    return m->buf.data;
}

static void test_report_marks_per_chart(void **state)
{
    lb_review r;
    lb_review_figures cl[2];
    lb_report_opts o = {"2026-04-02", "0.1.0", NULL};
    lb_markup m;
    char *page;
    (void)state;
    review(&r, cl);
    page = render(&r, &o, &m);
    assert_int_equal(marks(page, "chart-months"), 6);
    assert_int_equal(marks(page, "chart-categories"), 6);
    assert_int_equal(marks(page, "chart-waits"), 2 * LB_REPORT_WAIT_RANGES);
    assert_int_equal(marks(page, "chart-goals"), 5);
    assert_int_equal(marks(page, "chart-swemwbs"), 3);
    assert_int_equal(marks(page, "chart-ons4"), 8);
    assert_false(lb_report_empty(&r));
    lb_markup_free(&m);
}

static void test_report_is_self_contained_and_anonymous(void **state)
{
    static const char *const banned[] = {"<script", "<img", "<link", "<iframe", "<object",
                                         "src=", "@import", "https:", PID_A, PID_B,
                                         "c2c2c2c2", "r1\"", NULL};
    lb_review r;
    lb_review_figures cl[2];
    lb_report_opts o = {"2026-04-02", "0.1.0", NULL};
    lb_markup m;
    char *page, *p;
    (void)state;
    review(&r, cl);
    page = render(&r, &o, &m);
    for (size_t i = 0; banned[i]; i++)
        if (strstr(page, banned[i]))
            fail_msg("the page holds '%s'", banned[i]);
    /* The one URL: the SVG namespace, which is a name, not a request. */
    for (p = page; (p = strstr(p, "http:")) != NULL; p++)
        assert_memory_equal(p, "http://www.w3.org/2000/svg\"", 27);
    for (p = page; (p = strstr(p, "url(")) != NULL; p++)
        assert_int_equal(p[4], '#');
    assert_non_null(strstr(page, "Content-Security-Policy\" content=\"default-src 'none'"));
    assert_non_null(strstr(page, "<h1>"));
    lb_markup_free(&m);
}

static void test_report_escapes_caseload_names(void **state)
{
    static const char *const names[] = {"Priya <b>Shah</b> & \"Co\"", NULL};
    lb_review r;
    lb_review_figures cl[2];
    lb_report_opts o = {"2026-04-02", "0.1.0", names};
    lb_markup m;
    char *page;
    (void)state;
    review(&r, cl);
    page = render(&r, &o, &m);
    assert_non_null(strstr(page, "Priya &lt;b&gt;Shah&lt;/b&gt; &amp; &quot;Co&quot;"));
    assert_null(strstr(page, "<b>Shah"));
    assert_non_null(strstr(page, ">south<"));   /* no name given: the id */
    lb_markup_free(&m);
}

static void test_report_empty_sections_say_so(void **state)
{
    lb_review r;
    lb_review_figures cl[2];
    lb_report_opts o = {NULL, NULL, NULL};
    lb_markup m;
    char *page;
    (void)state;
    review(&r, cl);
    memset(&r.all, 0, sizeof r.all);
    r.all.categories.set = LB_CODES_CATEGORY;
    r.all.goal_status.set = LB_CODES_GOAL_STATUS;
    r.n_caseloads = 0;
    assert_true(lb_report_empty(&r));
    page = render(&r, &o, &m);
    assert_null(strstr(page, "<svg"));
    assert_non_null(strstr(page, "No referrals or contacts in this period."));
    assert_non_null(strstr(page, "No one has a baseline and a later SWEMWBS"));
    lb_markup_free(&m);
}

static void test_report_runs_out_of_room(void **state)
{
    lb_review r;
    lb_review_figures cl[2];
    lb_report_opts o = {NULL, NULL, NULL};
    lb_markup m;
    (void)state;
    review(&r, cl);
    lb_markup_init(&m, 4096);
    assert_int_equal(lb_report_html(&r, &o, &m), LB_ERR_NOMEM);
    lb_markup_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_marks_per_chart),
        cmocka_unit_test(test_report_is_self_contained_and_anonymous),
        cmocka_unit_test(test_report_escapes_caseload_names),
        cmocka_unit_test(test_report_empty_sections_say_so),
        cmocka_unit_test(test_report_runs_out_of_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
