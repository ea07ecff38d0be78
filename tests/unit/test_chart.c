/* test_chart.c - the markup writer and the SVG charts: text is escaped,
 * numbers are plain, each datum is one mark, specs that cannot be drawn
 * are refused, and a writer that runs out of room says so. */
#include "lb_test.h"
#include "lb_chart.h"
#include "lb_markup.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_chart_markup_escapes_text(void **state)
{
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 1 << 10);
    lb_markup_raw(&m, "<p title=\"");
    lb_markup_text(&m, "a\"b'c<d>&e");
    lb_markup_raw(&m, "\">");
    lb_markup_text(&m, "</p><script>alert(1)</script>");
    lb_markup_text(&m, NULL);
    assert_int_equal(lb_markup_status(&m), LB_OK);
    assert_string_equal(m.buf.data, "<p title=\"a&quot;b&#39;c&lt;d&gt;&amp;e\">"
                        "&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    lb_markup_free(&m);
}

static void test_chart_markup_numbers(void **state)
{
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 1 << 10);
    lb_markup_num(&m, 12.0, 2);
    lb_markup_raw(&m, " ");
    lb_markup_num(&m, 12.50, 2);
    lb_markup_raw(&m, " ");
    lb_markup_num(&m, -0.04, 1);
    lb_markup_raw(&m, " ");
    lb_markup_num(&m, 1.666, 2);
    assert_string_equal(m.buf.data, "12 12.5 0 1.67");
    lb_markup_free(&m);
}

static void test_chart_markup_failure_sticks(void **state)
{
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 8);
    lb_markup_raw(&m, "12345");
    lb_markup_text(&m, "<<");        /* the first entity does not fit */
    lb_markup_raw(&m, "6");          /* a no-op after the failure */
    assert_int_equal(lb_markup_status(&m), LB_ERR_NOMEM);
    assert_string_equal(m.buf.data, "12345");
    lb_markup_free(&m);
}

static const char *const months[] = {"2026-01", "2026-02", "2026-03"};
static const double referrals[] = {2, 0, 5};
static const double contacts[] = {7, 3, 0};

static void test_chart_bars_one_mark_per_datum(void **state)
{
    lb_chart_series s[] = {{"referrals", referrals}, {"contacts <all>", contacts}};
    lb_chart_bars c = {"per-month", "Referrals & contacts", "Three \"months\"", "month",
                       "count", months, 3, s, 2};
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 1 << 20);
    assert_int_equal(lb_chart_bars_svg(&m, &c), LB_OK);
    assert_int_equal(count(m.buf.data, "class=\"mark\""), 6);
    assert_int_equal(count(m.buf.data, "<svg "), 1);
    assert_non_null(strstr(m.buf.data, "role=\"img\""));
    assert_non_null(strstr(m.buf.data, "aria-labelledby=\"per-month-t per-month-d\""));
    assert_non_null(strstr(m.buf.data,
                           "<title id=\"per-month-t\">Referrals &amp; contacts</title>"));
    assert_non_null(strstr(m.buf.data,
                           "<desc id=\"per-month-d\">Three &quot;months&quot;</desc>"));
    assert_non_null(strstr(m.buf.data, "contacts &lt;all&gt;"));
    assert_null(strstr(m.buf.data, "<all>"));
    assert_int_equal(count(m.buf.data, "data-value=\"0\""), 2);   /* zeros are marks */
    lb_markup_free(&m);
}

static void test_chart_bars_refuses_what_it_cannot_draw(void **state)
{
    static const double negative[] = {1, -1, 0};
    lb_chart_series s[] = {{"n", referrals}};
    lb_chart_series bad[] = {{"n", negative}};
    lb_chart_bars c = {"ok", "t", "d", "x", "y", months, 3, s, 1};
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 1 << 20);
    c.id = "Bad Id\"";
    assert_int_equal(lb_chart_bars_svg(&m, &c), LB_ERR_INVALID);
    c.id = "ok";
    c.ncat = 0;
    assert_int_equal(lb_chart_bars_svg(&m, &c), LB_ERR_INVALID);
    c.ncat = 3;
    c.series = bad;
    assert_int_equal(lb_chart_bars_svg(&m, &c), LB_ERR_INVALID);
    c.series = s;
    c.nseries = 3;
    assert_int_equal(lb_chart_bars_svg(&m, &c), LB_ERR_INVALID);
    assert_null(m.buf.data);           /* nothing written for a refused spec */
    lb_markup_free(&m);
}

static void test_chart_pairs_one_mark_per_pair_and_panel(void **state)
{
    static const double before[] = {3, 5, 8, 6}, after[] = {6, 5, 4, 6};
    lb_chart_panel p[] = {{"life satisfaction", before, after, 0},
                          {"anxious", before, after, 1}};
    lb_chart_pairs c = {"ons4", "ONS4", "Four people", "baseline", "latest", 0, 10, 2,
                        4, p, 2};
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 1 << 20);
    assert_int_equal(lb_chart_pairs_svg(&m, &c), LB_OK);
    assert_int_equal(count(m.buf.data, "class=\"mark\""), 8);
    /* satisfaction: 1 better, 1 worse, 2 same; anxiety the other way round */
    assert_int_equal(count(m.buf.data, "data-direction=\"better\""), 2);
    assert_non_null(strstr(m.buf.data, "<title id=\"ons4-t\">ONS4</title>"));
    lb_markup_free(&m);
}

static void test_chart_pairs_refuses_scores_off_the_scale(void **state)
{
    static const double before[] = {3}, after[] = {11};
    lb_chart_panel p[] = {{"happy", before, after, 0}};
    lb_chart_pairs c = {"x", "t", "d", "b", "a", 0, 10, 2, 1, p, 1};
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 1 << 20);
    assert_int_equal(lb_chart_pairs_svg(&m, &c), LB_ERR_INVALID);
    c.max = 0;
    assert_int_equal(lb_chart_pairs_svg(&m, &c), LB_ERR_INVALID);
    lb_markup_free(&m);
}

static void test_chart_runs_out_of_room(void **state)
{
    lb_chart_series s[] = {{"referrals", referrals}};
    lb_chart_bars c = {"small", "t", "d", "x", "y", months, 3, s, 1};
    lb_markup m;
    (void)state;
    lb_markup_init(&m, 200);
    assert_int_equal(lb_chart_bars_svg(&m, &c), LB_ERR_NOMEM);
    lb_markup_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart_markup_escapes_text),
        cmocka_unit_test(test_chart_markup_numbers),
        cmocka_unit_test(test_chart_markup_failure_sticks),
        cmocka_unit_test(test_chart_bars_one_mark_per_datum),
        cmocka_unit_test(test_chart_bars_refuses_what_it_cannot_draw),
        cmocka_unit_test(test_chart_pairs_one_mark_per_pair_and_panel),
        cmocka_unit_test(test_chart_pairs_refuses_scores_off_the_scale),
        cmocka_unit_test(test_chart_runs_out_of_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
