/* test_hlc.c - unit tests of lb_hlc, the hybrid logical clock: stamps
 * strictly increase whatever the wall clock does, absorb remote stamps, and
 * format as ISO-8601 UTC.  The wall clock is passed in, so no time passes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "lb_hlc.h"

/* 2026-11-25T09:30:00.123Z */
#define WALL UINT64_C(1795599000123)
#define STAMP(ms, counter) (((uint64_t)(ms) << 16) | (uint64_t)(counter))

static void test_hlc_tick_follows_wall_clock(void **state)
{
    lb_hlc c = {0};
    uint64_t t1, t2;
    (void)state;
    t1 = lb_hlc_tick(&c, WALL);
    assert_int_equal(lb_hlc_ms(t1), WALL);
    t2 = lb_hlc_tick(&c, WALL + 1);
    assert_true(t2 > t1);
    assert_int_equal(lb_hlc_ms(t2), WALL + 1);
}

static void test_hlc_tick_clock_stands_still(void **state)
{
    lb_hlc c = {0};
    uint64_t prev, t;
    int i;
    (void)state;
    prev = lb_hlc_tick(&c, WALL);
    for (i = 0; i < 1000; i++) {
        t = lb_hlc_tick(&c, WALL);
        if (t <= prev)
            fail_msg("tick %d: %llu not after %llu", i, (unsigned long long)t,
                     (unsigned long long)prev);
        assert_int_equal(lb_hlc_ms(t), WALL); /* the counter moves, not the time */
        prev = t;
    }
}

static void test_hlc_tick_clock_goes_backwards(void **state)
{
    static const uint64_t walls[] = {
        WALL, WALL - 1, WALL - 60000, WALL - 3600000, 1, 0, WALL - 1, WALL};
    lb_hlc c = {0};
    uint64_t prev = 0, t;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof walls / sizeof walls[0]; i++) {
        t = lb_hlc_tick(&c, walls[i]);
        if (i > 0 && t <= prev)
            fail_msg("wall %llu: stamp %llu not after %llu", (unsigned long long)walls[i],
                     (unsigned long long)t, (unsigned long long)prev);
        /* the physical part never goes back to the wall clock's past */
        assert_int_equal(lb_hlc_ms(t), WALL);
        prev = t;
    }
    /* once the wall clock passes the stamps again, it is taken */
    t = lb_hlc_tick(&c, WALL + 10);
    assert_true(t > prev);
    assert_int_equal(lb_hlc_ms(t), WALL + 10);
}

static void test_hlc_tick_70000_in_one_millisecond(void **state)
{
    lb_hlc c = {0};
    uint64_t first, prev, t;
    long i;
    (void)state;
    first = prev = lb_hlc_tick(&c, WALL);
    for (i = 1; i < 70000; i++) {
        t = lb_hlc_tick(&c, WALL);
        if (t <= prev)
            fail_msg("tick %ld: %llu not after %llu", i, (unsigned long long)t,
                     (unsigned long long)prev);
        prev = t;
    }
    assert_int_equal(prev - first, 69999);
    /* 65536 stamps fit in a millisecond; the rest borrow from the next */
    assert_int_equal(lb_hlc_ms(prev), WALL + 1);
    t = lb_hlc_tick(&c, WALL + 1);
    assert_true(t > prev);
    t = lb_hlc_tick(&c, WALL + 2);
    assert_true(t > prev);
    assert_int_equal(t, STAMP(WALL + 2, 0));
}

static void test_hlc_observe_remote_ahead(void **state)
{
    lb_hlc c = {0};
    const uint64_t remote = STAMP(WALL + 3600000, 17); /* an hour ahead */
    uint64_t t;
    (void)state;
    lb_hlc_tick(&c, WALL);
    lb_hlc_observe(&c, remote);
    t = lb_hlc_tick(&c, WALL);
    assert_true(t > remote);
    assert_int_equal(lb_hlc_ms(t), WALL + 3600000);
    t = lb_hlc_tick(&c, WALL + 5);
    assert_true(t > remote);
}

static void test_hlc_observe_remote_behind_changes_nothing(void **state)
{
    lb_hlc c = {0};
    uint64_t before, t;
    (void)state;
    before = lb_hlc_tick(&c, WALL);
    lb_hlc_observe(&c, STAMP(WALL - 1000, 5));
    lb_hlc_observe(&c, 0);
    t = lb_hlc_tick(&c, WALL);
    assert_int_equal(t, before + 1);
}

static void format_is(uint64_t stamp, const char *want)
{
    char out[LB_HLC_TEXT + 1];
    memset(out, 'Z', sizeof out);
    lb_hlc_format(stamp, out);
    assert_string_equal(out, want);
}

static void test_hlc_format_known_stamps(void **state)
{
    (void)state;
    format_is(STAMP(WALL, 0), "2026-11-25T09:30:00.123Z");
    /* the counter is not part of the time */
    format_is(STAMP(WALL, 65535), "2026-11-25T09:30:00.123Z");
    format_is(0, "1970-01-01T00:00:00.000Z");
    format_is(STAMP(UINT64_C(1709251199999), 3), "2024-02-29T23:59:59.999Z");
    format_is(STAMP(UINT64_C(7258118399000), 0), "2199-12-31T23:59:59.000Z");
    assert_int_equal(strlen("2026-11-25T09:30:00.123Z"), LB_HLC_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hlc_tick_follows_wall_clock),
        cmocka_unit_test(test_hlc_tick_clock_stands_still),
        cmocka_unit_test(test_hlc_tick_clock_goes_backwards),
        cmocka_unit_test(test_hlc_tick_70000_in_one_millisecond),
        cmocka_unit_test(test_hlc_observe_remote_ahead),
        cmocka_unit_test(test_hlc_observe_remote_behind_changes_nothing),
        cmocka_unit_test(test_hlc_format_known_stamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
