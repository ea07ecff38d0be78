/* test_model.c - recording and reading the link worker's record: bad input
 * writes nothing, id prefixes, NHS lookups, amendments beside originals,
 * follow-ups, and reads that are audited. */
#include "lb_test.h"

typedef struct fixture {
    char *dir;
    lb_store *s;
    char person[LB_ID_HEX + 1];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    lb_person_fields pf;
    assert_non_null(f);
    f->dir = lb_test_tmpdir();
    f->s = lb_test_store(f->dir);
    memset(&pf, 0, sizeof pf);
    pf.given = "Iris";
    pf.family = "Model";
    pf.nhs = "943 476 5919";
    pf.dob = "1950-06-01";
    lb_test_ok(f->s, lb_person_add(f->s, &pf, f->person));
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

static long changes(fixture *f)
{
    char path[512];
    snprintf(path, sizeof path, "%s/store", f->dir);
    return lb_test_sql_int(path, "SELECT count(*) FROM changes");
}

/* Expect LB_ERR_INVALID naming field, and no change written. */
#define expect_invalid(f, field, expr) do { \
        long before_ = changes(f); \
        assert_int_equal((expr), LB_ERR_INVALID); \
        if (!strstr(lb_store_errmsg((f)->s), field)) \
            fail_msg("message '%s' does not name '%s'", lb_store_errmsg((f)->s), field); \
        assert_int_equal(changes(f), before_); \
    } while (0)

static void test_model_bad_input_writes_nothing(void **state)
{
    fixture *f = *state;
    lb_store *s = f->s;
    lb_person_fields pf;
    lb_contact_fields cf = {"home", "30", "psychosocial", "a note that must not be kept",
                            NULL, "2026-02-30", NULL};
    lb_referral_fields rf = {"gp", "isolation,flying", NULL};
    char g[LB_ID_HEX + 1];
    memset(&pf, 0, sizeof pf);
    pf.given = "Jo";
    pf.family = "Bad";
    pf.nhs = "9434765918";
    expect_invalid(f, "nhs", lb_person_add(s, &pf, NULL));
    pf.nhs = NULL;
    pf.dob = "1960-13-01";
    expect_invalid(f, "dob", lb_person_add(s, &pf, NULL));
    pf.dob = NULL;
    pf.given = "   ";
    expect_invalid(f, "given", lb_person_add(s, &pf, NULL));
    /* A contact whose follow-up date is impossible keeps neither its note. */
    expect_invalid(f, "follow-up", lb_contact_add(s, f->person, &cf, NULL));
    cf.follow_up = NULL;
    cf.categories = "psychosocial,astrology";
    expect_invalid(f, "category", lb_contact_add(s, f->person, &cf, NULL));
    cf.categories = "psychosocial";
    cf.mode = "carrier-pigeon";
    expect_invalid(f, "mode", lb_contact_add(s, f->person, &cf, NULL));
    cf.mode = "home";
    cf.minutes = "0";
    expect_invalid(f, "minutes", lb_contact_add(s, f->person, &cf, NULL));
    expect_invalid(f, "reason", lb_referral_add(s, f->person, &rf, NULL));
    lb_test_ok(s, lb_goal_add(s, f->person, "Cook a meal for friends", NULL, NULL, g));
    expect_invalid(f, "score", lb_goal_review(s, g, "11", NULL, NULL));
    expect_invalid(f, "score", lb_goal_review(s, g, "-1", NULL, NULL));
    expect_invalid(f, "score", lb_goal_review(s, g, "7x", NULL, NULL));
    expect_invalid(f, "status", lb_goal_status(s, g, "finished"));
    expect_invalid(f, "answers", lb_measure_add(s, f->person, "ons4", "1,2,3", NULL, NULL));
    expect_invalid(f, "answers", lb_measure_add(s, f->person, "swemwbs", "1,2,3,4,5,6,1", NULL, NULL));
    expect_invalid(f, "instrument", lb_measure_add(s, f->person, "phq9", "1", NULL, NULL));
    expect_invalid(f, "when", lb_measure_add(s, f->person, "ons4", "1,2,3,4", "later", NULL));
}

static void test_model_duplicate_nhs_refused_and_found(void **state)
{
    fixture *f = *state;
    lb_person_fields pf;
    char id[LB_ID_HEX + 1];
    memset(&pf, 0, sizeof pf);
    pf.given = "Other";
    pf.family = "Person";
    pf.nhs = "9434765919";
    expect_invalid(f, "nhs", lb_person_add(f->s, &pf, NULL));
    lb_test_ok(f->s, lb_person_resolve(f->s, "943-476-5919", id));
    assert_string_equal(id, f->person);
}

/* Inject a goal with a chosen id, as a change from another device would. */
static void goal_with_id(lb_store *s, const char *id, const char *person)
{
    lb_change c;
    memset(&c, 0, sizeof c);
    lb_id_new(c.id);
    snprintf(c.kind, sizeof c.kind, "goal");
    snprintf(c.record, sizeof c.record, "%s", id);
    snprintf(c.person, sizeof c.person, "%s", person);
    snprintf(c.caseload, sizeof c.caseload, "local");
    memset(c.device, 'e', LB_ID_HEX);
    c.hlc = 1;
    c.schema = LB_CHANGE_SCHEMA;
    c.author = "elsewhere";
    c.fields = json_pack("{s:s, s:s, s:s}", "text", "injected", "status", "active", "date", "2026-01-01");
    lb_test_ok(s, lb_change_apply(s, &c));
    json_decref(c.fields);
}

static void test_model_id_prefixes(void **state)
{
    fixture *f = *state;
    char id[LB_ID_HEX + 1];
    goal_with_id(f->s, "abcd0000000000000000000000000001", f->person);
    goal_with_id(f->s, "abcd0000000000000000000000000002", f->person);
    assert_int_equal(lb_record_resolve(f->s, "abcd", "goal", id), LB_ERR_AMBIGUOUS);
    assert_int_equal(lb_goal_status(f->s, "abcd0000", "achieved"), LB_ERR_AMBIGUOUS);
    assert_int_equal(lb_record_resolve(f->s, "abcd00000000000000000000000000012", "goal", id),
                     LB_ERR_INVALID); /* longer than an id */
    lb_test_ok(f->s, lb_record_resolve(f->s, "abcd0000000000000000000000000002", "goal", id));
    lb_test_ok(f->s, lb_goal_status(f->s, "ABCD0000000000000000000000000001", "achieved"));
    assert_int_equal(lb_record_resolve(f->s, "abc", NULL, id), LB_ERR_INVALID);
    assert_int_equal(lb_record_resolve(f->s, "abcz", NULL, id), LB_ERR_INVALID);
    assert_int_equal(lb_record_resolve(f->s, "ffffffff", NULL, id), LB_ERR_NOTFOUND);
    /* A person prefix does not resolve to a goal. */
    assert_int_equal(lb_goal_status(f->s, f->person, "achieved"), LB_ERR_NOTFOUND);
}

static json_t *entry_of_kind(json_t *timeline, const char *kind, size_t nth)
{
    size_t i;
    json_t *e;
    json_array_foreach(timeline, i, e)
        if (strcmp(json_string_value(json_object_get(e, "kind")), kind) == 0 && nth-- == 0)
            return e;
    return NULL;
}

static void test_model_amendment_beside_original(void **state)
{
    fixture *f = *state;
    char n[LB_ID_HEX + 1], a1[LB_ID_HEX + 1], a2[LB_ID_HEX + 1];
    json_t *j = NULL, *note, *amends;
    lb_test_ok(f->s, lb_note_add(f->s, f->person, "Lives with her son", n));
    lb_test_ok(f->s, lb_note_amend(f->s, n, "Lives with her son and his partner", a1));
    lb_test_ok(f->s, lb_note_amend(f->s, a1, "Lives alone since October", a2));
    lb_test_ok(f->s, lb_person_show(f->s, f->person, &j));
    note = entry_of_kind(json_object_get(j, "timeline"), "note", 0);
    assert_non_null(note);
    assert_null(entry_of_kind(json_object_get(j, "timeline"), "note", 1));
    assert_string_equal(json_string_value(json_object_get(note, "text")), "Lives with her son");
    amends = json_object_get(note, "amendments");
    assert_int_equal(json_array_size(amends), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(amends, 0), "text")),
                        "Lives with her son and his partner");
    assert_string_equal(json_string_value(json_object_get(json_array_get(amends, 1), "amends")), n);
    json_decref(j);
}

static void test_model_follow_ups_and_overdue(void **state)
{
    fixture *f = *state;
    lb_contact_fields late = {"phone", "15", "signposting", NULL, "Citizens Advice",
                              "2026-01-10", "2026-01-03"};
    lb_contact_fields soon = {"video", "25", "health-coaching", NULL, NULL, "2199-01-01", NULL};
    json_t *j = NULL, *t;
    char c[LB_ID_HEX + 1];
    lb_test_ok(f->s, lb_contact_add(f->s, f->person, &late, c));
    lb_test_ok(f->s, lb_contact_add(f->s, f->person, &soon, NULL));
    lb_test_ok(f->s, lb_task_list(f->s, 0, &j));
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 2);
    json_decref(j);
    lb_test_ok(f->s, lb_task_list(f->s, 1, &j));
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1);
    t = json_array_get(json_object_get(j, "tasks"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "due")), "2026-01-10");
    assert_string_equal(json_string_value(json_object_get(t, "family")), "Model");
    assert_true(json_integer_value(json_object_get(t, "overdue_days")) > 0);
    lb_test_ok(f->s, lb_task_done(f->s, json_string_value(json_object_get(t, "id"))));
    json_decref(j);
    lb_test_ok(f->s, lb_task_list(f->s, 1, &j));
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
}

static void test_model_discharge_closes_follow_ups(void **state)
{
    fixture *f = *state;
    lb_contact_fields cf = {"home", "40", "psychosocial", NULL, NULL, "2026-01-10", "2026-01-03"};
    json_t *j = NULL;
    lb_test_ok(f->s, lb_contact_add(f->s, f->person, &cf, NULL));
    lb_test_ok(f->s, lb_task_list(f->s, 0, &j));
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1);
    json_decref(j);
    /* A follow-up before the contact itself is refused. */
    cf.follow_up = "2026-01-02";
    expect_invalid(f, "follow-up", lb_contact_add(f->s, f->person, &cf, NULL));
    lb_test_ok(f->s, lb_discharge(f->s, f->person, "moved to another area", NULL));
    lb_test_ok(f->s, lb_task_list(f->s, 0, &j));
    assert_int_equal(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
}

static void test_model_person_status_and_list(void **state)
{
    fixture *f = *state;
    lb_contact_fields cf = {"home", "45", "occupation", NULL, NULL, NULL, NULL};
    json_t *j = NULL;
    char other[LB_ID_HEX + 1];
    lb_test_person(f->s, "Abe", "Aardvark", other);
    lb_test_ok(f->s, lb_person_list(f->s, "referred", &j));
    assert_int_equal(json_array_size(json_object_get(j, "people")), 2);
    /* Sorted by family name. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(
                            json_object_get(j, "people"), 0), "family")), "Aardvark");
    json_decref(j);
    lb_test_ok(f->s, lb_contact_add(f->s, f->person, &cf, NULL));
    lb_test_ok(f->s, lb_person_list(f->s, "active", &j));
    assert_int_equal(json_array_size(json_object_get(j, "people")), 1);
    json_decref(j);
    lb_test_ok(f->s, lb_discharge(f->s, f->person, "moved away", NULL));
    lb_test_ok(f->s, lb_person_list(f->s, "discharged", &j));
    assert_int_equal(json_array_size(json_object_get(j, "people")), 1);
    json_decref(j);
    expect_invalid(f, "status", lb_person_list(f->s, "asleep", &j));
}

static int count_views(json_t *events)
{
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(events, i, e)
        n += strcmp(json_string_value(json_object_get(e, "action")), "view") == 0;
    return n;
}

static void test_model_reads_are_audited(void **state)
{
    fixture *f = *state;
    json_t *j = NULL, *a = NULL;
    lb_test_ok(f->s, lb_audit_list(f->s, f->person, &a));
    assert_int_equal(count_views(json_object_get(a, "events")), 0);
    json_decref(a);
    lb_test_ok(f->s, lb_person_show(f->s, f->person, &j));
    json_decref(j);
    lb_test_ok(f->s, lb_person_show(f->s, "9434765919", &j));
    json_decref(j);
    lb_test_ok(f->s, lb_audit_list(f->s, f->person, &a));
    assert_int_equal(count_views(json_object_get(a, "events")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(a, "events"), 0), "action")), "create");
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_model_bad_input_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_duplicate_nhs_refused_and_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_id_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_amendment_beside_original, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_follow_ups_and_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_discharge_closes_follow_ups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_person_status_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_reads_are_audited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
