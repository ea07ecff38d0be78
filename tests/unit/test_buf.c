/* test_buf.c - the growable buffer: its cap, and its JSON writer, which
 * must give text that parses back to the same value. */
#include "lb_test.h"
#include "lb_buf.h"

static void test_buf_cap_is_hard(void **state)
{
    lb_buf b;
    (void)state;
    lb_buf_init(&b, 10);
    assert_int_equal(lb_buf_adds(&b, "0123456789"), 0);
    assert_int_equal(lb_buf_adds(&b, "x"), -1);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    lb_buf_wipe(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void round_trip(const json_t *v)
{
    lb_buf b;
    json_t *back;
    json_error_t e;
    lb_buf_init(&b, 1 << 20);
    assert_int_equal(lb_buf_add_json(&b, v), 0);
    back = json_loadb(b.data, b.len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
    if (!back)
        fail_msg("text '%s' does not parse: %s", b.data, e.text);
    assert_true(json_equal((json_t *)v, back));
    json_decref(back);
    lb_buf_wipe(&b);
}

static void test_buf_json_round_trips(void **state)
{
    json_t *v = json_pack("{s:s, s:s, s:I, s:I, s:f, s:b, s:n, s:[s, i, {s:[]}], s:{}}",
                          "plain", "a 600-byte note would be here",
                          "escapes", "quote \" backslash \\ tab \t newline \n bell \a del \x7f",
                          "int", (json_int_t)-9007199254740993LL, "zero", (json_int_t)0,
                          "real", 20.73, "flag", 1, "none", "list", "x", 7, "deep",
                          "empty");
    (void)state;
    assert_non_null(v);
    json_object_set_new(v, "utf8", json_string("Zo\xc3\xab, \xe2\x80\x9cquoted\xe2\x80\x9d, \xf0\x9f\x8c\xb1"));
    json_object_set_new(v, "nul", json_stringn("a\0b", 3));
    json_object_set_new(v, "key \"with\" quotes", json_true());
    round_trip(v);
    json_decref(v);
}

/* Strings are scanned eight bytes at a time: a character to escape at
 * any offset of a string of any length must still be escaped. */
static void test_buf_json_escapes_at_every_offset(void **state)
{
    static const char special[] = {'"', '\\', '\n', '\x01', '\x1f', '\t', '\0'};
    char text[40];
    (void)state;
    for (size_t len = 0; len <= sizeof text; len++) {
        json_t *v;
        memset(text, 'b', sizeof text);
        v = json_stringn_nocheck(text, len); /* nothing to escape */
        assert_non_null(v);
        round_trip(v);
        json_decref(v);
    }
    for (size_t len = 1; len <= sizeof text; len++)
        for (size_t k = 0; k < sizeof special; k++)
            for (size_t at = 0; at < len; at++) {
                json_t *v;
                memset(text, 'a', len);
                if (len >= 12 && at != 9 && at != 10)
                    memcpy(text + 9, "\xc3\xa9", 2); /* a two-byte character, copied as is */
                text[at] = special[k];
                v = json_stringn_nocheck(text, len);
                assert_non_null(v);
                round_trip(v);
                json_decref(v);
            }
}

static void test_buf_json_depth_is_bounded(void **state)
{
    json_t *v = json_array(), *cur = v;
    lb_buf b;
    int i;
    (void)state;
    for (i = 0; i < 100; i++) {
        json_t *inner = json_array();
        json_array_append_new(cur, inner);
        cur = inner;
    }
    lb_buf_init(&b, 1 << 20);
    assert_int_equal(lb_buf_adds(&b, "kept"), 0);
    assert_int_equal(lb_buf_add_json(&b, v), -1);
    assert_string_equal(b.data, "kept");   /* a failed write leaves nothing */
    lb_buf_wipe(&b);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap_is_hard),
        cmocka_unit_test(test_buf_json_round_trips),
        cmocka_unit_test(test_buf_json_depth_is_bounded),
        cmocka_unit_test(test_buf_json_escapes_at_every_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
