/* test_codes.c - unit tests of lb_codes: coded values and checks of free
 * input (NHS number, dates, whole numbers, code sets, free text).
 *
 * Pure functions: no store, no files.  Every refusal is checked for its
 * code (LB_ERR_INVALID), for a message that names the field, and for
 * out-parameters left untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "lb_codes.h"

#define MSG 512

/* Assert that msg names the field. */
static void assert_names(const char *msg, const char *field)
{
    if (!strstr(msg, field))
        fail_msg("message '%s' does not name the field '%s'", msg, field);
}

/* ---- NHS number ---------------------------------------------------------- */

/* Modulus 11 check digit of nine digits as DOMAIN.md gives it (11 -> 0;
 * 10 means no valid number has this prefix). */
static int nhs_check_digit(const char *nine)
{
    int sum = 0, i, check;
    for (i = 0; i < 9; i++)
        sum += (nine[i] - '0') * (10 - i);
    check = 11 - sum % 11;
    return check == 11 ? 0 : check;
}

static void nhs_refused(const char *text)
{
    char norm[11] = "untouched", msg[MSG] = "";
    if (lb_nhs_check("nhs", text, norm, msg, sizeof msg) != LB_ERR_INVALID)
        fail_msg("lb_nhs_check accepted '%s'", text ? text : "(null)");
    assert_string_equal(norm, "untouched");
    assert_names(msg, "nhs");
}

static void nhs_accepted(const char *text, const char *want)
{
    char norm[11] = "", msg[MSG] = "";
    if (lb_nhs_check("nhs", text, norm, msg, sizeof msg) != LB_OK)
        fail_msg("lb_nhs_check refused '%s': %s", text, msg);
    assert_string_equal(norm, want);
}

static void test_codes_nhs_valid(void **state)
{
    (void)state;
    assert_int_equal(nhs_check_digit("943476591"), 9);
    nhs_accepted("9434765919", "9434765919");
}

static void test_codes_nhs_spaces_and_dashes(void **state)
{
    (void)state;
    nhs_accepted("943 476 5919", "9434765919");
    nhs_accepted("943-476-5919", "9434765919");
    nhs_accepted("9 4 3 4 7 6 5 9 1 9", "9434765919");
}

static void test_codes_nhs_check_digit_eleven_is_zero(void **state)
{
    (void)state;
    /* sum mod 11 == 0 gives 11, written as check digit 0 */
    assert_int_equal(nhs_check_digit("400000002"), 0);
    nhs_accepted("4000000020", "4000000020");
    nhs_refused("4000000021");
}

static void test_codes_nhs_wrong_check_digit(void **state)
{
    char msg[MSG] = "";
    char norm[11] = "untouched";
    (void)state;
    assert_int_equal(lb_nhs_check("nhs", "9434765918", norm, msg, sizeof msg), LB_ERR_INVALID);
    assert_string_equal(norm, "untouched");
    assert_names(msg, "nhs");
    assert_non_null(strstr(msg, "check digit"));
    /* every other last digit is wrong too */
    nhs_refused("9434765910");
    nhs_refused("943 476 5911");
    nhs_refused("943-476-5917");
}

static void test_codes_nhs_check_ten_refused(void **state)
{
    char text[11];
    int d;
    (void)state;
    /* 1*10 + 2*9 + ... + 9*2 = 210, 210 mod 11 = 1, 11 - 1 = 10 */
    assert_int_equal(nhs_check_digit("123456789"), 10);
    assert_int_equal(nhs_check_digit("100000001"), 10);
    for (d = 0; d <= 9; d++) {
        memcpy(text, "123456789", 9);
        text[9] = (char)('0' + d);
        text[10] = '\0';
        nhs_refused(text);
        memcpy(text, "100000001", 9);
        nhs_refused(text);
    }
}

static void test_codes_nhs_wrong_length(void **state)
{
    (void)state;
    nhs_refused("943476591");    /* 9 digits */
    nhs_refused("94347659190");  /* 11 digits */
    nhs_refused("943 476 591");
    nhs_refused("943 476 59190");
    nhs_refused("");
    nhs_refused("   ");
    nhs_refused(NULL);
}

static void test_codes_nhs_letters_refused(void **state)
{
    (void)state;
    nhs_refused("94347659l9");
    nhs_refused("943476591O");
    nhs_refused("NHS9434765919");
    nhs_refused("9434765919a");
    nhs_refused("943.476.5919");
    nhs_refused("943/476/5919");
    nhs_refused("943\t476\t5919");
}

/* ---- dates --------------------------------------------------------------- */

static void date_ok(const char *text)
{
    char msg[MSG] = "";
    if (lb_date_check("date", text, msg, sizeof msg) != LB_OK)
        fail_msg("lb_date_check refused '%s': %s", text, msg);
}

static void date_refused(const char *text)
{
    char msg[MSG] = "";
    if (lb_date_check("date", text, msg, sizeof msg) != LB_ERR_INVALID)
        fail_msg("lb_date_check accepted '%s'", text ? text : "(null)");
    assert_names(msg, "date");
}

static void test_codes_date_leap_days(void **state)
{
    (void)state;
    date_ok("2024-02-29");
    date_ok("2000-02-29");  /* divisible by 400 */
    date_refused("2023-02-29");
    date_refused("1900-02-29"); /* divisible by 100, not 400 */
    date_refused("2100-02-29");
    date_refused("2024-02-30");
}

static void test_codes_date_impossible_refused(void **state)
{
    (void)state;
    date_ok("2026-04-30");
    date_ok("2026-12-31");
    date_ok("2026-01-31");
    date_refused("2026-13-01");
    date_refused("2026-00-10");
    date_refused("2026-04-31");
    date_refused("2026-06-31");
    date_refused("2026-01-00");
    date_refused("2026-01-32");
}

static void test_codes_date_range(void **state)
{
    (void)state;
    date_ok("1900-01-01");
    date_ok("2199-12-31");
    date_refused("1899-12-31");
    date_refused("2200-01-01");
    date_refused("0000-01-01");
}

static void test_codes_date_shape_refused(void **state)
{
    (void)state;
    date_refused("2026-1-01");
    date_refused("2026-01-1");
    date_refused("2026-01-01x");
    date_refused("2026-01-01 ");
    date_refused(" 2026-01-01");
    date_refused("2026/01/01");
    date_refused("20260101");
    date_refused("26-01-01");
    date_refused("");
    date_refused(NULL);
}

/* ---- whole numbers ------------------------------------------------------- */

static void int_refused(const char *text, long min, long max)
{
    char msg[MSG] = "";
    long out = 12345;
    if (lb_int_parse("count", text, min, max, &out, msg, sizeof msg) != LB_ERR_INVALID)
        fail_msg("lb_int_parse accepted '%s' in [%ld, %ld]", text ? text : "(null)", min, max);
    assert_int_equal(out, 12345);
    assert_names(msg, "count");
}

static long int_ok(const char *text, long min, long max)
{
    char msg[MSG] = "";
    long out = 12345;
    if (lb_int_parse("count", text, min, max, &out, msg, sizeof msg) != LB_OK)
        fail_msg("lb_int_parse refused '%s' in [%ld, %ld]: %s", text, min, max, msg);
    return out;
}

static void test_codes_int_bounds(void **state)
{
    (void)state;
    assert_int_equal(int_ok("0", 0, 10), 0);
    assert_int_equal(int_ok("10", 0, 10), 10);
    assert_int_equal(int_ok("7", 0, 10), 7);
    assert_int_equal(int_ok("-3", -5, 5), -3);
    assert_int_equal(int_ok("-5", -5, 5), -5);
    int_refused("11", 0, 10);
    int_refused("-1", 0, 10);
    int_refused("-6", -5, 5);
    int_refused("6", -5, 5);
}

static void test_codes_int_junk_refused(void **state)
{
    (void)state;
    int_refused("7x", 0, 10);
    int_refused("x7", 0, 10);
    int_refused("", 0, 10);
    int_refused(" 7", 0, 10);
    int_refused("7 ", 0, 10);
    int_refused("+7", 0, 10);
    int_refused("-", -5, 5);
    int_refused("7.0", 0, 10);
    int_refused("0x7", 0, 10);
    int_refused(NULL, 0, 10);
}

static void test_codes_int_overflow_refused(void **state)
{
    (void)state;
    int_refused("99999999999999999999", LONG_MIN, LONG_MAX);
    int_refused("-99999999999999999999", LONG_MIN, LONG_MAX);
    int_refused("99999999999999999999", 0, 10);
}

/* ---- code sets ----------------------------------------------------------- */

static void test_codes_check_accepts_every_code(void **state)
{
    int set;
    (void)state;
    for (set = 0; set < LB_CODES_COUNT; set++) {
        const char *const *c = lb_codes_list((lb_codeset)set);
        assert_non_null(c);
        assert_non_null(c[0]);
        for (; *c; c++) {
            char msg[MSG] = "";
            if (lb_codes_check((lb_codeset)set, "field", *c, msg, sizeof msg) != LB_OK)
                fail_msg("set %d refused its own code '%s': %s", set, *c, msg);
        }
    }
    assert_null(lb_codes_list(LB_CODES_COUNT));
}

static void test_codes_check_unknown_refused(void **state)
{
    int set;
    (void)state;
    for (set = 0; set < LB_CODES_COUNT; set++) {
        const char *const *c;
        const char *bad[] = {"no-such-code", "", "GP", "home ", NULL};
        size_t i;
        for (i = 0; bad[i]; i++) {
            char msg[MSG] = "";
            if (lb_codes_check((lb_codeset)set, "the-field", bad[i], msg, sizeof msg) !=
                LB_ERR_INVALID)
                fail_msg("set %d accepted '%s'", set, bad[i]);
            assert_names(msg, "the-field");
            /* the message lists every accepted code */
            for (c = lb_codes_list((lb_codeset)set); *c; c++)
                if (!strstr(msg, *c))
                    fail_msg("message '%s' does not list '%s'", msg, *c);
        }
        assert_int_equal(lb_codes_check((lb_codeset)set, "f", NULL, NULL, 0), LB_ERR_INVALID);
    }
}

static void test_codes_list_accepts_every_code(void **state)
{
    int set;
    (void)state;
    for (set = 0; set < LB_CODES_COUNT; set++) {
        const char *const *c;
        char csv[512] = "", msg[MSG] = "";
        size_t n = 0, used = 0, count = 999;
        for (c = lb_codes_list((lb_codeset)set); *c; c++, n++) {
            int w = snprintf(csv + used, sizeof csv - used, "%s%s", n ? "," : "", *c);
            assert_true(w > 0 && (size_t)w < sizeof csv - used);
            used += (size_t)w;
        }
        if (lb_codes_check_list((lb_codeset)set, "list", csv, &count, msg, sizeof msg) != LB_OK)
            fail_msg("set %d refused '%s': %s", set, csv, msg);
        assert_int_equal(count, n);
    }
}

static void test_codes_list_single_item(void **state)
{
    char msg[MSG] = "";
    size_t count = 999;
    (void)state;
    assert_int_equal(lb_codes_check_list(LB_CODES_SOURCE, "source", "gp", &count, msg,
                                         sizeof msg), LB_OK);
    assert_int_equal(count, 1);
    assert_int_equal(lb_codes_check_list(LB_CODES_CATEGORY, "categories",
                                         "signposting,health-coaching", &count, msg,
                                         sizeof msg), LB_OK);
    assert_int_equal(count, 2);
}

static void list_refused(lb_codeset set, const char *csv, int lists_codes)
{
    char msg[MSG] = "";
    size_t count = 999;
    const char *const *c;
    if (lb_codes_check_list(set, "reasons-field", csv, &count, msg, sizeof msg) != LB_ERR_INVALID)
        fail_msg("lb_codes_check_list accepted '%s'", csv ? csv : "(null)");
    assert_int_equal(count, 999);
    assert_names(msg, "reasons-field");
    for (c = lb_codes_list(set); lists_codes && *c; c++)
        if (!strstr(msg, *c))
            fail_msg("message '%s' for '%s' does not list '%s'", msg, csv ? csv : "", *c);
}

static void test_codes_list_unknown_refused(void **state)
{
    (void)state;
    list_refused(LB_CODES_REASON, "isolation,loneliness", 1);
    list_refused(LB_CODES_REASON, "nope", 1);
    list_refused(LB_CODES_REASON, "isolation, housing", 1); /* no spaces */
}

static void test_codes_list_duplicates_refused(void **state)
{
    char msg[MSG] = "";
    size_t count = 999;
    (void)state;
    list_refused(LB_CODES_REASON, "isolation,isolation", 0);
    list_refused(LB_CODES_REASON, "isolation,housing,isolation", 0);
    list_refused(LB_CODES_REASON, "housing,money,bereavement,money", 0);
    assert_int_equal(lb_codes_check_list(LB_CODES_REASON, "reasons", "money,housing,money",
                                         &count, msg, sizeof msg), LB_ERR_INVALID);
    assert_non_null(strstr(msg, "money"));
    /* a code that is a prefix of another is not a duplicate */
    assert_int_equal(lb_codes_check_list(LB_CODES_REASON, "reasons", "other,mental-health",
                                         &count, msg, sizeof msg), LB_OK);
    assert_int_equal(count, 2);
}

static void test_codes_list_empty_items_refused(void **state)
{
    (void)state;
    list_refused(LB_CODES_REASON, "", 1);
    list_refused(LB_CODES_REASON, NULL, 1);
    list_refused(LB_CODES_REASON, ",", 1);
    list_refused(LB_CODES_REASON, ",housing", 1);
    list_refused(LB_CODES_REASON, "housing,", 1);
    list_refused(LB_CODES_REASON, "housing,,money", 1);
}

/* ---- free text ----------------------------------------------------------- */

/* text as C escapes ("a\\x7fb") into buf, for failure messages. */
static const char *escaped(const char *text, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (; text && *text && used + 5 < len; text++) {
        unsigned char ch = (unsigned char)*text;
        int w = ch >= 0x20 && ch < 0x7f ? snprintf(buf + used, len - used, "%c", ch)
                                        : snprintf(buf + used, len - used, "\\x%02x", ch);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return text ? buf : "(null)";
}

/* 1 (and a printed line) if lb_text_check accepts text; every refusal
 * must name the field. */
static int text_wrongly_accepted(const char *text, size_t maxlen)
{
    char msg[MSG] = "", esc[128];
    if (lb_text_check("note", text, maxlen, msg, sizeof msg) != LB_ERR_INVALID) {
        print_error("lb_text_check accepted \"%s\"\n", escaped(text, esc, sizeof esc));
        return 1;
    }
    assert_names(msg, "note");
    return 0;
}

static void text_refused(const char *text, size_t maxlen)
{
    assert_int_equal(text_wrongly_accepted(text, maxlen), 0);
}

static void text_ok(const char *text, size_t maxlen)
{
    char msg[MSG] = "";
    if (lb_text_check("note", text, maxlen, msg, sizeof msg) != LB_OK)
        fail_msg("lb_text_check refused '%s': %s", text, msg);
}

static void test_codes_text_empty_refused(void **state)
{
    (void)state;
    text_refused("", 100);
    text_refused(" ", 100);
    text_refused("   \n\t  \n", 100);
    text_refused(NULL, 100);
    text_ok(" x ", 100);
}

static void test_codes_text_invalid_utf8_refused(void **state)
{
    (void)state;
    text_refused("\xff", 100);
    text_refused("caf\xe9", 100);         /* Latin-1, not UTF-8 */
    text_refused("a\x80" "b", 100);       /* lone continuation byte */
    text_refused("abc\xc3", 100);         /* truncated at the end */
    text_refused("\xe2\x82" "x", 100);    /* truncated three-byte sequence */
    text_refused("\xc0\xaf", 100);        /* overlong '/' */
    text_refused("\xc1\xbf", 100);        /* overlong */
    text_ok("caf\xc3\xa9", 100);          /* é */
    text_ok("\xe2\x82\xac 20", 100);      /* € */
    text_ok("\xf0\x9f\x98\x80", 100);     /* U+1F600 */
}

/* UTF-8 (RFC 3629) also excludes overlong forms of three and four bytes,
 * UTF-16 surrogates and code points above U+10FFFF. */
static void test_codes_text_overlong_and_surrogates_refused(void **state)
{
    int wrong = 0;
    (void)state;
    wrong += text_wrongly_accepted("\xe0\x80\xaf", 100);     /* overlong '/' in three bytes */
    wrong += text_wrongly_accepted("\xf0\x80\x80\xaf", 100); /* overlong '/' in four bytes */
    wrong += text_wrongly_accepted("\xed\xa0\x80", 100);     /* U+D800, a surrogate */
    wrong += text_wrongly_accepted("\xf4\x90\x80\x80", 100); /* U+110000 */
    wrong += text_wrongly_accepted("\xf5\x80\x80\x80", 100); /* lead byte never used */
    text_ok("\xed\x9f\xbf", 100);          /* U+D7FF */
    text_ok("\xf4\x8f\xbf\xbf", 100);      /* U+10FFFF */
    assert_int_equal(wrong, 0);
}

static void test_codes_text_control_refused(void **state)
{
    (void)state;
    text_refused("a\x01" "b", 100);
    text_refused("bell\a", 100);
    text_refused("a\rb", 100);
    text_refused("\x1b[31mred", 100);   /* terminal escape */
    text_refused("a\vb", 100);
    text_refused("a\fb", 100);
}

/* DEL and the C1 controls (U+0080..U+009F, e.g. U+009B, a one-character
 * terminal CSI) are control characters too. */
static void test_codes_text_del_and_c1_refused(void **state)
{
    int wrong = 0;
    (void)state;
    wrong += text_wrongly_accepted("a\x7f" "b", 100);
    wrong += text_wrongly_accepted("a\xc2\x9b" "31mred", 100); /* U+009B CSI */
    wrong += text_wrongly_accepted("a\xc2\x85" "b", 100);      /* U+0085 NEL */
    text_ok("a\xc2\xa0" "b", 100);       /* U+00A0 no-break space is fine */
    assert_int_equal(wrong, 0);
}

static void test_codes_text_newline_and_tab_accepted(void **state)
{
    (void)state;
    text_ok("first line\nsecond line", 100);
    text_ok("item\tvalue", 100);
    text_ok("ends with a newline\n", 100);
}

static void test_codes_text_maxlen(void **state)
{
    char msg[MSG] = "";
    (void)state;
    text_ok("abcde", 5);
    text_refused("abcdef", 5);
    /* bytes, not characters: é is two bytes */
    text_ok("\xc3\xa9", 2);
    text_refused("\xc3\xa9", 1);
    assert_int_equal(lb_text_check("note", "abcdef", 5, msg, sizeof msg), LB_ERR_INVALID);
    assert_non_null(strstr(msg, "5"));
}

/* Long text is checked eight bytes at a time: a bad byte at any offset,
 * and the one visible character among spaces, must be seen all the same. */
static void test_codes_text_checked_at_every_offset(void **state)
{
    static const char *const bad[] = {"\x01", "\x7f", "\x1b", "\xff", "\x80", "\xc2\x85",
                                      "\xed\xa0\x80", "\xc3"};
    char text[64];
    int wrong = 0;
    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        for (size_t at = 0; at + strlen(bad[b]) < 40; at++) {
            memset(text, 'a', 40);
            text[40] = '\0';
            memcpy(text + at, bad[b], strlen(bad[b]));
            wrong += text_wrongly_accepted(text, 100);
        }
    for (size_t at = 0; at < 40; at++) {
        memset(text, ' ', 40);
        text[40] = '\0';
        wrong += text_wrongly_accepted(text, 100);
        text[at] = 'x';
        text_ok(text, 100);
        text[at] = '\n';
        wrong += text_wrongly_accepted(text, 100);
        memcpy(text + at, "\xc3\xa9", at + 2 <= 40 ? 2 : 1);
        if (at + 2 <= 40)
            text_ok(text, 100);
    }
    assert_int_equal(wrong, 0);
}

static void test_codes_message_truncated_safely(void **state)
{
    char msg[8];
    (void)state;
    memset(msg, 'x', sizeof msg);
    assert_int_equal(lb_codes_check(LB_CODES_REASON, "reason", "zzz", msg, sizeof msg),
                     LB_ERR_INVALID);
    assert_int_equal(msg[sizeof msg - 1], '\0');
    assert_int_equal(strlen(msg), sizeof msg - 1);
    /* NULL message buffer is fine */
    assert_int_equal(lb_date_check("date", "2026-02-30", NULL, 0), LB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_nhs_valid),
        cmocka_unit_test(test_codes_nhs_spaces_and_dashes),
        cmocka_unit_test(test_codes_nhs_check_digit_eleven_is_zero),
        cmocka_unit_test(test_codes_nhs_wrong_check_digit),
        cmocka_unit_test(test_codes_nhs_check_ten_refused),
        cmocka_unit_test(test_codes_nhs_wrong_length),
        cmocka_unit_test(test_codes_nhs_letters_refused),
        cmocka_unit_test(test_codes_date_leap_days),
        cmocka_unit_test(test_codes_date_impossible_refused),
        cmocka_unit_test(test_codes_date_range),
        cmocka_unit_test(test_codes_date_shape_refused),
        cmocka_unit_test(test_codes_int_bounds),
        cmocka_unit_test(test_codes_int_junk_refused),
        cmocka_unit_test(test_codes_int_overflow_refused),
        cmocka_unit_test(test_codes_check_accepts_every_code),
        cmocka_unit_test(test_codes_check_unknown_refused),
        cmocka_unit_test(test_codes_list_accepts_every_code),
        cmocka_unit_test(test_codes_list_single_item),
        cmocka_unit_test(test_codes_list_unknown_refused),
        cmocka_unit_test(test_codes_list_duplicates_refused),
        cmocka_unit_test(test_codes_list_empty_items_refused),
        cmocka_unit_test(test_codes_text_empty_refused),
        cmocka_unit_test(test_codes_text_invalid_utf8_refused),
        cmocka_unit_test(test_codes_text_overlong_and_surrogates_refused),
        cmocka_unit_test(test_codes_text_control_refused),
        cmocka_unit_test(test_codes_text_del_and_c1_refused),
        cmocka_unit_test(test_codes_text_newline_and_tab_accepted),
        cmocka_unit_test(test_codes_text_maxlen),
        cmocka_unit_test(test_codes_text_checked_at_every_offset),
        cmocka_unit_test(test_codes_message_truncated_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
