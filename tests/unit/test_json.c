/* test_json.c - unit tests of lb_json, the fast JSON reader: on valid
 * texts it builds what jansson builds (compared with json_equal), and
 * every text it refuses jansson refuses too (UTF-8 faults, cut input, bad
 * escapes, NUL, overflowing integers, trailing garbage, depth), and it
 * refuses repeated keys only when asked to.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_json.h"

static void same_as_whole(const char *text);

/* Parse text with both readers; they must agree. */
static void same_as_jansson(const char *text, size_t len)
{
    json_error_t e;
    json_t *ours = NULL, *theirs = json_loadb(text, len, JSON_DECODE_ANY, &e);
    lb_err err = lb_json_parse(text, len, 0, &ours);
    if (!theirs) {
        if (err == LB_OK)
            fail_msg("accepted what jansson refuses (%s): %.*s", e.text, (int)len, text);
        return;
    }
    if (err != LB_OK)
        fail_msg("refused what jansson accepts: %.*s", (int)len, text);
    if (!json_equal(ours, theirs))
        fail_msg("built another value than jansson for: %.*s", (int)len, text);
    json_decref(ours);
    json_decref(theirs);
}

static void test_json_valid_texts(void **state)
{
    static const char *const texts[] = {
        "{}", "[]", "{\"a\":1}", " {\"a\" : [1, 2, {\"b\": null}], \"c\": true } ",
        "{\"f\":{\"text\":\"a plain note, with commas, and 'quotes'\"},\"a\":\"Jo\"}",
        "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\u00e9t\\u00E9 \\u20ac\"",
        "\"\\ud83d\\ude00 surrogate pair\"", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "0", "-0", "42", "-17", "9223372036854775807", "-9223372036854775807",
        "1.5", "-0.25e3", "2E-2", "1e5", "false", "null", "[[[[[]]]]]",
        "{\"k\":\"\\u0041\\u0042\",\"k2\":[\"\",\"x\"]}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        same_as_jansson(texts[i], strlen(texts[i]));
}

static void test_json_refused_texts(void **state)
{
    static const char *const texts[] = {
        "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{a:1}",
        "\"open", "\"bad \\x escape\"", "\"\\u12\"", "\"\\u0000\"", "\"\\udc00 alone\"",
        "\"\\ud800 no pair\"", "\"ctrl \x01\"", "\"overlong \xc0\xaf\"",
        "\"surrogate \xed\xa0\x80\"", "\"beyond \xf4\x90\x80\x80\"", "\"cut \xe2\x82\"",
        "\"stray \x80\"", "01", "1.", ".5", "1e", "-", "+1", "9223372036854775808",
        "tru", "nul", "{} x", "[] []", "{\"a\":1} ,",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_t *v = NULL;
        if (lb_json_parse(texts[i], strlen(texts[i]), 0, &v) != LB_ERR_INVALID)
            fail_msg("accepted: %s", texts[i]);
        same_as_jansson(texts[i], strlen(texts[i]));
    }
}

static void test_json_not_nul_terminated(void **state)
{
    char text[] = "{\"a\":\"bc\"}XXXX";
    json_t *v = NULL;
    (void)state;
    assert_int_equal(lb_json_parse(text, 10, 0, &v), LB_OK);
    assert_string_equal(json_string_value(json_object_get(v, "a")), "bc");
    json_decref(v);
    assert_int_equal(lb_json_parse(text, 9, 0, &v), LB_ERR_INVALID);
    assert_int_equal(lb_json_parse(text, 7, 0, &v), LB_ERR_INVALID);
}

static void test_json_duplicates(void **state)
{
    const char *text = "{\"a\":1,\"b\":{\"c\":2},\"a\":3}";
    json_t *v = NULL;
    (void)state;
    assert_int_equal(lb_json_parse(text, strlen(text), 1, &v), LB_ERR_INVALID);
    assert_int_equal(lb_json_parse(text, strlen(text), 0, &v), LB_OK);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 3); /* as jansson: last */
    json_decref(v);
}

static void test_json_depth(void **state)
{
    char deep[2 * (LB_JSON_DEPTH + 2) + 1];
    json_t *v = NULL;
    size_t i, n;
    (void)state;
    for (n = LB_JSON_DEPTH; n <= LB_JSON_DEPTH + 1; n++) {
        for (i = 0; i < n; i++)
            deep[i] = '[', deep[n + i] = ']';
        deep[2 * n] = '\0';
        assert_int_equal(lb_json_parse(deep, 2 * n, 0, &v), n <= LB_JSON_DEPTH ? LB_OK
                                                                            : LB_ERR_INVALID);
        if (n <= LB_JSON_DEPTH)
            json_decref(v);
    }
}

/* A long note with escapes and multi-byte characters spread through it:
 * the scratch buffer grows and the values match jansson's. */
static void test_json_long_strings(void **state)
{
    size_t cap = 200000, n = 0;
    char *t = malloc(cap);
    (void)state;
    assert_non_null(t);
    n += (size_t)snprintf(t + n, cap - n, "{\"note\":\"");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(t + n, cap - n, "line %d \\\"q\\\" caf\xc3\xa9\\n", i);
    n += (size_t)snprintf(t + n, cap - n, "\",\"%s\":1}", "k\\u00e9y");
    same_as_jansson(t, n);
    free(t);
}

/* Strings are scanned eight bytes at a time: every kind of byte a string
 * may or may not hold, at every offset from the start and from the end of
 * an eight-byte word, in a value and in a key; the text cut short too. */
static void test_json_every_byte_at_every_offset(void **state)
{
    static const char *const odd[] = {
        "\"", "\\", "\\\"", "\\n", "\\u00e9", "\x01", "\x1f", " ", "\x7f", "\x80",
        "\xc3\xa9", "\xc3", "\xff", "!", "#", "[", "]", "\\\\", "\x5b", "\x5d", "~",
    };
    char text[128], body[64];
    size_t k, at, len, n;
    (void)state;
    for (k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        for (at = 0; at < 24; at++) {
            for (len = at; len < at + 12; len++) {
                memset(body, 'a', len);
                body[len] = '\0';
                memcpy(body + at, odd[k], strlen(odd[k]));
                if (at + strlen(odd[k]) > len)
                    body[at + strlen(odd[k])] = '\0';
                n = (size_t)snprintf(text, sizeof text, "{\"%s\":\"%s\"}", body, body);
                same_as_jansson(text, n);
                same_as_whole(text);
                same_as_jansson(text, n - 3);
                same_as_jansson(text + 4 + strlen(body), n - 4 - strlen(body) - 1);
            }
        }
    }
}

/* lb_json_parse_shallow agrees with lb_json_parse (repeated keys refused):
 * it accepts an object exactly when that does, notes every member with
 * its key and value as written, and makes the values asked for. */
static void same_as_whole(const char *text)
{
    static const char *const build[] = {"f", "p"};
    lb_json_member m[8];
    size_t n = 99, i, len = strlen(text);
    json_t *whole = NULL, *v = NULL;
    lb_err shallow = lb_json_parse_shallow(text, len, build, 2, m, 8, &n);
    lb_err full = lb_json_parse(text, len, 1, &whole);
    if (shallow == LB_OK && n > 8) {
        for (i = 0; i < 8; i++)
            assert_null(m[i].v);
        json_decref(whole);
        return;     /* to be read in full */
    }
    if (shallow != LB_OK) {
        if (full == LB_OK && json_is_object(whole))
            fail_msg("refused what lb_json_parse accepts: %s", text);
        json_decref(whole);
        return;
    }
    if (full != LB_OK || !json_is_object(whole) || json_object_size(whole) != n)
        fail_msg("accepted what lb_json_parse refuses: %s", text);
    for (i = 0; i < n; i++) {
        char key[64];
        json_t *want;
        assert_true(m[i].keylen < sizeof key);
        memcpy(key, m[i].key, m[i].keylen);
        key[m[i].keylen] = '\0';
        want = json_object_get(whole, key);
        assert_non_null(want);
        assert_int_equal(text[m[i].at], '"');
        assert_int_equal(lb_json_parse(m[i].val, m[i].vallen, 1, &v), LB_OK);
        assert_true(json_equal(v, want));
        json_decref(v);
        if (strcmp(key, "f") == 0 || strcmp(key, "p") == 0)
            assert_true(json_equal(m[i].v, want));
        else
            assert_null(m[i].v);
        json_decref(m[i].v);
    }
    json_decref(whole);
}

static void test_json_shallow_as_whole(void **state)
{
    static const char *const texts[] = {
        "{}", " { } ", "{\"a\":1}", " {\"a\" : \"x\" , \"f\" : {\"b\": [1, {\"c\": null}]} } ",
        "{\"kind\":\"note\",\"hlc\":65536,\"a\":\"Ann\",\"f\":{\"text\":\"caf\\u00e9\"},"
        "\"p\":{\"text\":\"\"}}",
        "{\"k\":\"caf\xc3\xa9 \\\"q\\\"\",\"n\":-0,\"r\":1.5e3,\"t\":true,\"z\":null,\"l\":[]}",
        "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}", "{\"\\u0061\":1}",
        "{\"f\":{\"a\":1,\"a\":2}}", "{\"x\":{\"a\":1,\"a\":2}}", "{\"x\":[{\"a\":1,\"a\":2}]}",
        "{\"k\":\"\\x\"}", "{\"k\":\"ctrl \x01\"}", "{\"k\":\"\xc3\"}", "{\"k\":1,}", "{\"k\" 1}",
        "{\"k\":1} x", "{\"k\":1}  ", "[1]", "\"s\"", "", " ", "{", "{\"k\":01}", "{\"k\":-}",
        "{\"k\":9223372036854775808}", "{\"k\":1e999}", "{\"k\":tru}", "{\"f\":}", "{\"f\":[1,]}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":{},\"g\":7,\"h\":8}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":{},\"g\":7,\"h\":8,\"i\":9}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":{},\"g\":7,\"h\":8,\"a\":9}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        same_as_whole(texts[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_valid_texts),
        cmocka_unit_test(test_json_refused_texts),
        cmocka_unit_test(test_json_not_nul_terminated),
        cmocka_unit_test(test_json_duplicates),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_json_long_strings),
        cmocka_unit_test(test_json_every_byte_at_every_offset),
        cmocka_unit_test(test_json_shallow_as_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
