/* test_review.c - the figures of review (lb_review), the commissioner's
 * dataset (lb_dataset) and the team roster (lb_team): waits and wellbeing
 * pairs worked out by hand, each caseload apart, a period, bad periods
 * refused, the audit event, small counts suppressed, and the roster's
 * names sealed and found by name or user id. */
#include "lb_test.h"

typedef struct fixture {
    char *dir;
    lb_store *s;
    uint64_t now;      /* the store's clock, ms */
    char a[LB_ID_HEX + 1], b[LB_ID_HEX + 1];
} fixture;

/* 2026-03-31 10:00 UTC and other days, in ms. */
#define DAY_MS 86400000ull
#define MAR31 (1774951200000ull)

static uint64_t clock_of(void *ctx)
{
    return ((fixture *)ctx)->now;
}

static void person(fixture *f, const char *given, const char *caseload, const char *dob,
                   char id[LB_ID_HEX + 1])
{
    lb_person_fields pf;
    memset(&pf, 0, sizeof pf);
    pf.given = given;
    pf.family = "Review";
    pf.caseload = caseload;
    pf.dob = dob;
    lb_test_ok(f->s, lb_person_add(f->s, &pf, id));
}

static void contact(fixture *f, const char *pid, const char *date, const char *mode,
                    const char *cats, const char *follow_up)
{
    lb_contact_fields c;
    memset(&c, 0, sizeof c);
    c.mode = mode;
    c.minutes = "30";
    c.categories = cats;
    c.date = date;
    c.follow_up = follow_up;
    lb_test_ok(f->s, lb_contact_add(f->s, pid, &c, NULL));
}

/* a (caseload "north", 70 today): referred 03-01, seen 03-11 (10 days),
 * follow-up due 03-21 (10 days overdue on 03-31); ONS4 3,4,5,6 -> 6,6,6,2 and
 * SWEMWBS raw 14 -> 21 (15.32 -> 19.25).  b (caseload "south", no date of
 * birth): referred 03-20, not seen: waiting 11 days. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lb_referral_fields r = {"gp", "isolation", "2026-03-01"};
    assert_non_null(f);
    f->dir = lb_test_tmpdir();
    f->s = lb_test_store(f->dir);
    f->now = MAR31 - 20 * DAY_MS;
    lb_store_set_clock(f->s, clock_of, f);
    person(f, "Aya", "north", "1956-03-31", f->a);
    person(f, "Ben", "south", NULL, f->b);
    lb_test_ok(f->s, lb_referral_add(f->s, f->a, &r, NULL));
    contact(f, f->a, "2026-03-11", "home", "psychosocial,signposting", "2026-03-21");
    lb_test_ok(f->s, lb_measure_add(f->s, f->a, "ons4", "3,4,5,6", "baseline", NULL));
    lb_test_ok(f->s, lb_measure_add(f->s, f->a, "swemwbs", "2,2,2,2,2,2,2", "baseline", NULL));
    f->now = MAR31 - 2 * DAY_MS;
    lb_test_ok(f->s, lb_measure_add(f->s, f->a, "ons4", "6,6,6,2", "review", NULL));
    lb_test_ok(f->s, lb_measure_add(f->s, f->a, "swemwbs", "3,3,3,3,3,3,3", "review", NULL));
    r.date = "2026-03-20";
    r.reasons = "housing,money";
    lb_test_ok(f->s, lb_referral_add(f->s, f->b, &r, NULL));
    f->now = MAR31;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lb_store_close(f->s);
    lb_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const lb_review_figures *caseload(const lb_review *r, const char *id)
{
    size_t i;
    for (i = 0; i < r->n_caseloads; i++)
        if (strcmp(r->caseloads[i].caseload, id) == 0)
            return &r->caseloads[i];
    fail_msg("no caseload %s", id);
    return NULL;
}

static void test_review_figures_by_hand(void **state)
{
    fixture *f = *state;
    lb_review *r = NULL;
    const lb_review_figures *all, *north, *south;
    lb_test_ok(f->s, lb_review_compute(f->s, NULL, &r));
    all = &r->all;
    assert_string_equal(r->as_of, "2026-03-31");
    assert_int_equal(all->people, 2);
    assert_int_equal(all->status.n[0], 1);               /* referred: b */
    assert_int_equal(all->status.n[1], 1);               /* active: a */
    assert_int_equal(all->age[LB_REVIEW_AGE_65_74], 1);  /* a is 70 today */
    assert_int_equal(all->age[LB_REVIEW_AGE_UNKNOWN], 1);
    assert_int_equal(all->referrals, 2);
    assert_int_equal(all->referrals_this_month, 2);
    assert_int_equal(all->contacts, 1);
    assert_int_equal(all->categories.n[2], 1);           /* psychosocial */
    assert_int_equal(all->categories.n[5], 1);           /* signposting */
    assert_int_equal(all->n_waits, 2);
    assert_string_equal(all->waits[0].first_contact, "2026-03-11");
    assert_int_equal(all->waits[0].days, 10);
    assert_string_equal(all->waits[1].first_contact, "");
    assert_int_equal(all->waits[1].days, 11);
    assert_int_equal(all->waiting_people, 1);
    assert_int_equal(all->n_overdue, 1);
    assert_int_equal(all->overdue[0].days, 10);
    assert_int_equal(all->n_ons4, 1);
    assert_int_equal(all->ons4[0].before[3], 6);
    assert_int_equal(all->ons4[0].after[3], 2);
    assert_true(all->ons4_mean_change[0] == 3.0 && all->ons4_mean_change[3] == -4.0);
    assert_int_equal(all->n_swemwbs, 1);
    assert_true(all->swemwbs_mean_change > 3.929 && all->swemwbs_mean_change < 3.931);
    assert_int_equal(all->n_months, 1);
    assert_string_equal(all->months[0].month, "2026-03");
    assert_int_equal(r->n_caseloads, 2);
    north = caseload(r, "north");
    south = caseload(r, "south");
    assert_int_equal(north->people, 1);
    assert_int_equal(north->contacts, 1);
    assert_int_equal(north->waiting_people, 0);
    assert_int_equal(south->people, 1);
    assert_int_equal(south->waiting_people, 1);
    assert_int_equal(south->reasons.n[2] + south->reasons.n[3], 2); /* housing, money */
    lb_review_free(r);
}

static void test_review_one_caseload_and_a_period(void **state)
{
    fixture *f = *state;
    lb_review *r = NULL;
    lb_review_query q = {"south", NULL, NULL, NULL, 0};
    lb_test_ok(f->s, lb_review_compute(f->s, &q, &r));
    assert_int_equal(r->all.people, 1);
    assert_int_equal(r->n_caseloads, 1);
    assert_int_equal(r->all.n_overdue, 0);
    lb_review_free(r);
    q.caseload = "nobody-here";
    lb_test_ok(f->s, lb_review_compute(f->s, &q, &r));
    assert_int_equal(r->all.people, 0);
    assert_int_equal(r->n_caseloads, 0);
    lb_review_free(r);
    /* As of 03-15: b's referral is after the period, a's follow-up not due. */
    q.caseload = NULL;
    q.from = "2026-03-01";
    q.to = "2026-03-15";
    lb_test_ok(f->s, lb_review_compute(f->s, &q, &r));
    assert_string_equal(r->as_of, "2026-03-15");
    assert_int_equal(r->all.referrals, 1);
    assert_int_equal(r->all.n_waits, 1);
    assert_int_equal(r->all.n_overdue, 0);
    assert_int_equal(r->all.n_ons4, 0);   /* its review is dated 03-29 */
    lb_review_free(r);
}

static void test_review_bad_periods_refused(void **state)
{
    fixture *f = *state;
    lb_review *r = NULL;
    lb_review_query q = {NULL, "2026-03-10", "2026-03-01", NULL, 0};
    assert_int_equal(lb_review_compute(f->s, &q, &r), LB_ERR_INVALID);
    assert_non_null(strstr(lb_store_errmsg(f->s), "before it begins"));
    q.to = NULL;
    q.from = "2026-04-01";
    assert_int_equal(lb_review_compute(f->s, &q, &r), LB_ERR_INVALID);
    assert_non_null(strstr(lb_store_errmsg(f->s), "after today"));
    q.from = "2026-02-30";
    assert_int_equal(lb_review_compute(f->s, &q, &r), LB_ERR_INVALID);
    q.from = "";
    assert_int_equal(lb_review_compute(f->s, &q, &r), LB_ERR_INVALID);
    assert_null(r);
}

static long sql_int(fixture *f, const char *sql)
{
    char path[512];
    snprintf(path, sizeof path, "%.500s/store", f->dir);
    return lb_test_sql_int(path, sql);
}

static long audits(fixture *f)
{
    return sql_int(f, "SELECT count(*) FROM changes WHERE kind = 'audit'");
}

static void test_review_is_audited_once(void **state)
{
    fixture *f = *state;
    lb_review *r = NULL;
    lb_review_query q = {NULL, NULL, NULL, "export", 1};
    long before = audits(f);
    lb_test_ok(f->s, lb_review_compute(f->s, &q, &r));
    assert_int_equal(audits(f), before);      /* deferred */
    lb_test_ok(f->s, lb_review_audit(f->s, &q, r));
    assert_int_equal(audits(f), before + 1);
    lb_review_free(r);
    q.defer_audit = 0;
    lb_test_ok(f->s, lb_review_compute(f->s, &q, &r));
    assert_int_equal(audits(f), before + 2);
    lb_review_free(r);
}

static void test_dataset_suppresses_small_counts(void **state)
{
    fixture *f = *state;
    lb_review *r = NULL;
    lb_dataset d;
    const char *demo, *support;
    lb_test_ok(f->s, lb_review_compute(f->s, NULL, &r));
    r->all.people = 12;     /* carers 1 of 12: "yes" suppressed, then "no" (11) too */
    r->all.carers = 1;
    r->all.contacts = 7;    /* home 7, others 0: nothing to hide */
    memset(r->all.modes.n, 0, sizeof r->all.modes.n);
    r->all.modes.n[0] = 7;
    lb_test_ok(f->s, lb_dataset_csv(r, &r->all, "2026-03-31", &d));
    demo = d.files[0].data;
    support = d.files[2].data;
    assert_string_equal(d.names[0], "demographics.csv");
    assert_non_null(strstr(demo, "group,measure,category,value\r\n"));
    assert_non_null(strstr(demo, "\r\npeople,total,,12\r\n"));
    assert_non_null(strstr(demo, "\r\npeople,carer,yes,*\r\npeople,carer,no,*\r\n"));
    assert_non_null(strstr(demo, "\r\npeople,status,on-hold,0\r\n"));
    assert_non_null(strstr(demo, "dataset,suppression,,"));
    assert_non_null(strstr(support, "\r\ncontacts,mode,home,7\r\n"));
    assert_non_null(strstr(support, "\r\ncontacts,mode,phone,0\r\n"));
    assert_null(strstr(support, "Aya"));
    lb_dataset_clear(&d);
    lb_review_free(r);
}

static void test_team_roster_sealed_and_found(void **state)
{
    fixture *f = *state;
    lb_team_roster *r = NULL;
    const lb_team_device *d = NULL;
    json_t *list = json_pack(
        "[{s:s, s:s, s:s, s:s, s:s, s:I, s:b}, {s:s, s:s, s:s, s:s, s:s, s:I, s:b},"
        " {s:s, s:s, s:s, s:s, s:s, s:I, s:b}]",
        "device", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "user", "11111111111111111111111111111111",
        "name", "Priya Shah", "device_name", "laptop", "role", "link-worker",
        "last_seen", (json_int_t)1774951200000, "revoked", 0,
        "device", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "user", "22222222222222222222222222222222",
        "name", "Priyanka Rao", "device_name", "phone", "role", "health-coach",
        "last_seen", (json_int_t)0, "revoked", 0,
        "device", "cccccccccccccccccccccccccccccccc", "user", "11111111111111111111111111111111",
        "name", "Priya Shah", "device_name", "phone", "role", "link-worker",
        "last_seen", (json_int_t)5, "revoked", 1);
    json_t *bad = json_pack("[{s:s}]", "device", "not-an-id");
    lb_test_ok(f->s, lb_team_roster_save(f->s, list, 42));
    assert_int_equal(lb_team_roster_save(f->s, bad, 43), LB_ERR_INVALID);
    lb_test_ok(f->s, lb_team_roster_get(f->s, &r));
    assert_int_equal(r->n, 3);                        /* the bad list changed nothing */
    assert_int_equal(r->fetched_ms, 42);
    assert_string_equal(r->devices[0].name, "Priya Shah");
    assert_string_equal(r->devices[2].name, "Priyanka Rao");
    assert_string_equal(r->devices[0].caseload, "11111111111111111111111111111111");
    assert_int_equal(sql_int(f, "SELECT count(*) FROM team_roster WHERE "
                                "instr(names, 'Priya') > 0"), 0);
    lb_test_ok(f->s, lb_team_find_worker(f->s, r, "priya shah", &d));
    assert_string_equal(d->user, "11111111111111111111111111111111");
    lb_test_ok(f->s, lb_team_find_worker(f->s, r, "2222", &d));
    assert_string_equal(d->name, "Priyanka Rao");
    lb_test_ok(f->s, lb_team_find_worker(f->s, r, "Priyanka", &d));
    assert_int_equal(lb_team_find_worker(f->s, r, "Priy", &d), LB_ERR_AMBIGUOUS);
    assert_int_equal(lb_team_find_worker(f->s, r, "Sam", &d), LB_ERR_NOTFOUND);
    lb_team_roster_free(r);
    json_decref(list);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_review_figures_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_one_caseload_and_a_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_bad_periods_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_is_audited_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_suppresses_small_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_roster_sealed_and_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
