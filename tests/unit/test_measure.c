/* test_measure.c - unit tests of lb_measure: scoring outcome instruments
 * defined as data (schema/device/002_instruments.sql) through a real store.
 *
 * One store is created for the whole group (Argon2id at INTERACTIVE cost
 * takes tens of milliseconds) in a fresh directory under /tmp, removed at
 * the end.  Expected values come from DOMAIN.md, not from the schema file.
 */
#include "lb_test.h"

/* SWEMWBS raw 7..35 to metric, in hundredths, as DOMAIN.md lists it. */
static const long SWEMWBS_METRIC[29] = {
    700, 951, 1125, 1240, 1333, 1408, 1475, 1532, 1584, 1636,
    1688, 1743, 1798, 1859, 1925, 1998, 2073, 2154, 2235, 2321,
    2411, 2503, 2602, 2703, 2813, 2931, 3070, 3255, 3500};

static const char *const SWEMWBS_ITEMS[] = {
    "optimistic", "useful", "relaxed", "problems", "clearly", "close", "mind"};
static const char *const ONS4_ITEMS[] = {"satisfaction", "worthwhile", "happy", "anxious"};

struct fixture {
    char *dir;
    lb_store *s;
};

static int setup(void **state)
{
    static struct fixture f;
    f.dir = lb_test_tmpdir();
    f.s = lb_test_store(f.dir);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lb_store_close(f->s);
    lb_test_rmdir(f->dir);
    free(f->dir);
    return 0;
}

/* Score and return {answers, scores}; fail the test on error. */
static void score_ok(lb_store *s, const char *instrument, const char *answers,
                     json_t **ans, json_t **scores)
{
    lb_err err = lb_measure_score(s, instrument, answers, ans, scores);
    if (err != LB_OK)
        fail_msg("lb_measure_score(%s, \"%s\"): %s: %s", instrument, answers,
                 lb_strerror(err), lb_store_errmsg(s));
    assert_non_null(*ans);
    assert_non_null(*scores);
}

/* The answers object holds each item in order with its value. */
static void assert_answers(json_t *ans, const char *const *ids, const long *vals, size_t n)
{
    const char *key;
    json_t *v;
    size_t i = 0;
    assert_int_equal(json_object_size(ans), n);
    json_object_foreach(ans, key, v) {
        assert_true(i < n);
        assert_string_equal(key, ids[i]);
        assert_true(json_is_integer(v));
        assert_int_equal(json_integer_value(v), vals[i]);
        i++;
    }
}

/* Score SWEMWBS answers and check raw and metric (hundredths). */
static void swemwbs_is(lb_store *s, const char *answers, long raw, long metric100)
{
    json_t *ans = NULL, *scores = NULL, *m;
    score_ok(s, "swemwbs", answers, &ans, &scores);
    assert_int_equal(json_object_size(scores), 2);
    assert_true(json_is_integer(json_object_get(scores, "raw")));
    assert_int_equal(json_integer_value(json_object_get(scores, "raw")), raw);
    m = json_object_get(scores, "metric");
    assert_true(json_is_number(m));
    if ((long)(json_number_value(m) * 100.0 + 0.5) != metric100)
        fail_msg("swemwbs \"%s\": raw %ld gave metric %.2f, expected %ld.%02ld", answers, raw,
                 json_number_value(m), metric100 / 100, metric100 % 100);
    json_decref(ans);
    json_decref(scores);
}

static void test_measure_swemwbs_all_threes(void **state)
{
    struct fixture *f = *state;
    json_t *ans = NULL, *scores = NULL;
    static const long threes[7] = {3, 3, 3, 3, 3, 3, 3};
    score_ok(f->s, "swemwbs", "3,3,3,3,3,3,3", &ans, &scores);
    assert_answers(ans, SWEMWBS_ITEMS, threes, 7);
    json_decref(ans);
    json_decref(scores);
    /* raw 21 is the 15th entry of the table (raw 7 is the first) */
    swemwbs_is(f->s, "3,3,3,3,3,3,3", 21, 1925);
}

static void test_measure_swemwbs_all_ones(void **state)
{
    struct fixture *f = *state;
    swemwbs_is(f->s, "1,1,1,1,1,1,1", 7, 700);
}

static void test_measure_swemwbs_all_fives(void **state)
{
    struct fixture *f = *state;
    swemwbs_is(f->s, "5,5,5,5,5,5,5", 35, 3500);
}

static void test_measure_swemwbs_mixed(void **state)
{
    struct fixture *f = *state;
    json_t *ans = NULL, *scores = NULL;
    static const long vals[7] = {1, 2, 3, 4, 5, 1, 2};
    score_ok(f->s, "swemwbs", "1,2,3,4,5,1,2", &ans, &scores);
    assert_answers(ans, SWEMWBS_ITEMS, vals, 7);
    json_decref(ans);
    json_decref(scores);
    swemwbs_is(f->s, "1,2,3,4,5,1,2", 18, 1743);
}

static void test_measure_swemwbs_every_raw_total(void **state)
{
    struct fixture *f = *state;
    long raw;
    for (raw = 7; raw <= 35; raw++) {
        long item[7], left = raw - 7;
        char answers[160]; /* room for any long, to keep -Wformat-truncation quiet */
        size_t i;
        for (i = 0; i < 7; i++) {
            long add = left > 4 ? 4 : left;
            item[i] = 1 + add;
            left -= add;
        }
        snprintf(answers, sizeof answers, "%ld,%ld,%ld,%ld,%ld,%ld,%ld", item[0], item[1],
                 item[2], item[3], item[4], item[5], item[6]);
        swemwbs_is(f->s, answers, raw, SWEMWBS_METRIC[raw - 7]);
    }
}

/* The value and band of one ONS4 item. */
static void ons4_item_is(json_t *scores, const char *id, long value, const char *band)
{
    json_t *one = json_object_get(scores, id);
    if (!one)
        fail_msg("ons4 scores have no item '%s'", id);
    assert_int_equal(json_integer_value(json_object_get(one, "value")), value);
    assert_non_null(json_string_value(json_object_get(one, "band")));
    if (strcmp(json_string_value(json_object_get(one, "band")), band) != 0)
        fail_msg("ons4 %s = %ld: band '%s', expected '%s'", id, value,
                 json_string_value(json_object_get(one, "band")), band);
}

static void test_measure_ons4_items_never_summed(void **state)
{
    struct fixture *f = *state;
    json_t *ans = NULL, *scores = NULL;
    static const long vals[4] = {7, 8, 6, 3};
    const char *key;
    json_t *v;
    score_ok(f->s, "ons4", "7,8,6,3", &ans, &scores);
    assert_answers(ans, ONS4_ITEMS, vals, 4);
    assert_int_equal(json_object_size(scores), 4);
    ons4_item_is(scores, "satisfaction", 7, "high");
    ons4_item_is(scores, "worthwhile", 8, "high");
    ons4_item_is(scores, "happy", 6, "medium");
    ons4_item_is(scores, "anxious", 3, "low");
    /* never a total: every score is one item's object, nothing is 24 */
    json_object_foreach(scores, key, v) {
        assert_true(json_is_object(v));
        assert_true(json_integer_value(json_object_get(v, "value")) != 24);
    }
    assert_null(json_object_get(scores, "raw"));
    assert_null(json_object_get(scores, "total"));
    assert_null(json_object_get(scores, "sum"));
    json_decref(ans);
    json_decref(scores);
}

/* DOMAIN.md: satisfaction/worthwhile/happy 0-4 low, 5-6 medium, 7-8 high,
 * 9-10 very high; anxiety 0-1 very low, 2-3 low, 4-5 medium, 6-10 high. */
static void test_measure_ons4_every_band(void **state)
{
    struct fixture *f = *state;
    long v;
    for (v = 0; v <= 10; v++) {
        json_t *ans = NULL, *scores = NULL;
        char answers[160]; /* room for any long, to keep -Wformat-truncation quiet */
        const char *pos = v <= 4 ? "low" : v <= 6 ? "medium" : v <= 8 ? "high" : "very high";
        const char *anx = v <= 1 ? "very low" : v <= 3 ? "low" : v <= 5 ? "medium" : "high";
        snprintf(answers, sizeof answers, "%ld,%ld,%ld,%ld", v, v, v, v);
        score_ok(f->s, "ons4", answers, &ans, &scores);
        ons4_item_is(scores, "satisfaction", v, pos);
        ons4_item_is(scores, "worthwhile", v, pos);
        ons4_item_is(scores, "happy", v, pos);
        ons4_item_is(scores, "anxious", v, anx);
        json_decref(ans);
        json_decref(scores);
    }
}

/* lb_measure_score refuses with LB_ERR_INVALID, a message naming field,
 * and its out-parameters untouched. */
static void measure_refused(lb_store *s, const char *instrument, const char *answers,
                            const char *field)
{
    static json_t mark_a, mark_s;
    json_t *ans = &mark_a, *scores = &mark_s;
    lb_err err = lb_measure_score(s, instrument, answers, &ans, &scores);
    if (err == LB_OK) { /* wrongly scored: free what it gave before failing */
        json_decref(ans);
        json_decref(scores);
    }
    if (err != LB_ERR_INVALID)
        fail_msg("lb_measure_score(%s, \"%s\") gave %s, not LB_ERR_INVALID",
                 instrument ? instrument : "(null)", answers ? answers : "(null)",
                 lb_strerror(err));
    if (!strstr(lb_store_errmsg(s), field))
        fail_msg("lb_measure_score(%s, \"%s\"): message '%s' does not name '%s'",
                 instrument ? instrument : "(null)", answers ? answers : "(null)",
                 lb_store_errmsg(s), field);
    assert_ptr_equal(ans, &mark_a);
    assert_ptr_equal(scores, &mark_s);
}

static void test_measure_wrong_count_refused(void **state)
{
    struct fixture *f = *state;
    measure_refused(f->s, "ons4", "7,8,6", "answers");
    measure_refused(f->s, "ons4", "7,8,6,3,5", "answers");
    measure_refused(f->s, "ons4", "7", "answers");
    measure_refused(f->s, "swemwbs", "3,3,3,3,3,3", "answers");
    measure_refused(f->s, "swemwbs", "3,3,3,3,3,3,3,3", "answers");
}

static void test_measure_out_of_range_refused(void **state)
{
    struct fixture *f = *state;
    measure_refused(f->s, "ons4", "11,8,6,3", "answers");
    measure_refused(f->s, "ons4", "7,8,6,-1", "answers");
    measure_refused(f->s, "ons4", "7,8,100,3", "answers");
    measure_refused(f->s, "swemwbs", "6,3,3,3,3,3,3", "answers");
    measure_refused(f->s, "swemwbs", "3,3,3,3,3,3,0", "answers");
    measure_refused(f->s, "swemwbs", "3,3,3,-3,3,3,3", "answers");
}

static void test_measure_non_numeric_refused(void **state)
{
    struct fixture *f = *state;
    measure_refused(f->s, "ons4", "a,8,6,3", "answers");
    measure_refused(f->s, "ons4", "7,8,six,3", "answers");
    measure_refused(f->s, "ons4", "7.5,8,6,3", "answers");
    measure_refused(f->s, "ons4", "7,8,6,3x", "answers");
    measure_refused(f->s, "ons4", "7;8;6;3", "answers");
    measure_refused(f->s, "swemwbs", "3,3,3,3,3,3,99999999999999999999", "answers");
}

static void test_measure_empty_refused(void **state)
{
    struct fixture *f = *state;
    measure_refused(f->s, "ons4", "", "answers");
    measure_refused(f->s, "ons4", NULL, "answers");
    measure_refused(f->s, "ons4", ",,,", "answers");
    measure_refused(f->s, "ons4", "7,,6,3", "answers");
    measure_refused(f->s, "swemwbs", "", "answers");
}

/* An empty last item is an empty answer, as an empty middle one is (and
 * as lb_codes_check_list refuses "a,"). */
static void test_measure_trailing_comma_refused(void **state)
{
    struct fixture *f = *state;
    measure_refused(f->s, "ons4", "7,8,6,3,", "answers");
    measure_refused(f->s, "swemwbs", "3,3,3,3,3,3,3,", "answers");
}

static void test_measure_oversized_answers_refused(void **state)
{
    struct fixture *f = *state;
    char many[400], longitem[80];
    size_t i, used = 0;
    for (i = 0; i < 100; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "%s1", i ? "," : "");
    measure_refused(f->s, "swemwbs", many, "answers");
    memset(longitem, '1', sizeof longitem - 1);
    longitem[sizeof longitem - 1] = '\0';
    measure_refused(f->s, "ons4", longitem, "answers");
}

static void test_measure_unknown_instrument_refused(void **state)
{
    struct fixture *f = *state;
    measure_refused(f->s, "phq9", "1,2,3", "instrument");
    measure_refused(f->s, "ONS4", "7,8,6,3", "instrument");
    measure_refused(f->s, "", "7,8,6,3", "instrument");
    measure_refused(f->s, NULL, "7,8,6,3", "instrument");
    /* the message says which instruments there are */
    measure_refused(f->s, "phq9", "1,2,3", "ons4");
    measure_refused(f->s, "phq9", "1,2,3", "swemwbs");
}

static void test_measure_instruments_listed(void **state)
{
    struct fixture *f = *state;
    json_t *all = NULL;
    assert_int_equal(lb_measure_instruments(f->s, &all), LB_OK);
    assert_true(json_is_object(json_object_get(all, "ons4")));
    assert_true(json_is_object(json_object_get(all, "swemwbs")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(all, "ons4"),
                                                           "scoring")), "items");
    assert_string_equal(json_string_value(json_object_get(json_object_get(all, "swemwbs"),
                                                           "scoring")), "table");
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measure_swemwbs_all_threes),
        cmocka_unit_test(test_measure_swemwbs_all_ones),
        cmocka_unit_test(test_measure_swemwbs_all_fives),
        cmocka_unit_test(test_measure_swemwbs_mixed),
        cmocka_unit_test(test_measure_swemwbs_every_raw_total),
        cmocka_unit_test(test_measure_ons4_items_never_summed),
        cmocka_unit_test(test_measure_ons4_every_band),
        cmocka_unit_test(test_measure_wrong_count_refused),
        cmocka_unit_test(test_measure_out_of_range_refused),
        cmocka_unit_test(test_measure_non_numeric_refused),
        cmocka_unit_test(test_measure_empty_refused),
        cmocka_unit_test(test_measure_trailing_comma_refused),
        cmocka_unit_test(test_measure_oversized_answers_refused),
        cmocka_unit_test(test_measure_unknown_instrument_refused),
        cmocka_unit_test(test_measure_instruments_listed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
