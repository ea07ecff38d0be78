/* lb_codes.c - coded values and checks of free input (see lb_codes.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_codes.h"

static const char *const categories[] = {
    "occupation", "health-coaching", "psychosocial", "mental-health", "cognitive",
    "signposting", NULL};
static const char *const modes[] = {"home", "community", "surgery", "phone", "video", NULL};
static const char *const sources[] = {
    "gp", "nurse", "self", "social-care", "voluntary", "hospital", "other", NULL};
static const char *const reasons[] = {
    "isolation", "mental-health", "housing", "money", "long-term-condition",
    "carer-support", "physical-activity", "bereavement", "other", NULL};
static const char *const roles[] = {
    "link-worker", "health-coach", "occupational-therapist", "care-coordinator",
    "supervisor", NULL};
static const char *const goal_statuses[] = {
    "active", "achieved", "partly", "not-achieved", "withdrawn", NULL};
static const char *const whens[] = {"baseline", "review", "discharge", NULL};
static const char *const person_statuses[] = {
    "referred", "active", "on-hold", "discharged", NULL};

static const char *const consents[] = {"record", "share-team", "share-gp", NULL};

static const char *const *const sets[LB_CODES_COUNT] = {
    categories, modes, sources, reasons, roles, goal_statuses, whens, person_statuses,
    consents};

const char *const *lb_codes_list(lb_codeset set)
{
    return (unsigned)set < LB_CODES_COUNT ? sets[set] : NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static lb_err invalid(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    if (msg && msglen) {
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return LB_ERR_INVALID;
}

/* "a, b, c" listing of a set into buf. */
static const char *accepted(lb_codeset set, char *buf, size_t len)
{
    const char *const *c = lb_codes_list(set);
    size_t used = 0;
    buf[0] = '\0';
    for (; c && *c; c++) {
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *c);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

static int in_set(lb_codeset set, const char *value, size_t len)
{
    const char *const *c;
    for (c = lb_codes_list(set); c && *c; c++)
        if (strlen(*c) == len && memcmp(*c, value, len) == 0)
            return 1;
    return 0;
}

lb_err lb_codes_check(lb_codeset set, const char *field, const char *value,
                      char *msg, size_t msglen)
{
    char list[256];
    if (value && in_set(set, value, strlen(value)))
        return LB_OK;
    return invalid(msg, msglen, "%s: '%.40s' is not accepted (one of: %s)", field,
                   value ? value : "", accepted(set, list, sizeof list));
}

lb_err lb_codes_check_list(lb_codeset set, const char *field, const char *csv,
                           size_t *count, char *msg, size_t msglen)
{
    char list[256];
    const char *p = csv, *q;
    size_t n = 0;
    if (!csv || !*csv)
        return invalid(msg, msglen, "%s: at least one is needed (from: %s)", field,
                       accepted(set, list, sizeof list));
    for (; ; p = q + 1) {
        const char *r;
        q = strchr(p, ',');
        if (!q)
            q = p + strlen(p);
        if (!in_set(set, p, (size_t)(q - p)))
            return invalid(msg, msglen, "%s: '%.*s' is not accepted (comma-separated, from: %s)",
                           field, (int)((q - p) > 40 ? 40 : (q - p)), p,
                           accepted(set, list, sizeof list));
        for (r = csv; r < p; r += strcspn(r, ",") + 1)
            if ((size_t)strcspn(r, ",") == (size_t)(q - p) && memcmp(r, p, (size_t)(q - p)) == 0)
                return invalid(msg, msglen, "%s: '%.*s' is given twice", field,
                               (int)(q - p), p);
        n++;
        if (!*q)
            break;
    }
    *count = n;
    return LB_OK;
}

lb_err lb_nhs_check(const char *field, const char *text, char norm[11],
                    char *msg, size_t msglen)
{
    char d[11];
    size_t n = 0, i;
    int sum = 0, check;
    for (i = 0; text && text[i]; i++) {
        if (isdigit((unsigned char)text[i]) && n < 10)
            d[n++] = text[i];
        else if (!(text[i] == ' ' || text[i] == '-') || isdigit((unsigned char)text[i]))
            return invalid(msg, msglen, "%s: an NHS number is 10 digits (e.g. 943 476 5919)", field);
    }
    if (n != 10)
        return invalid(msg, msglen, "%s: an NHS number is 10 digits (e.g. 943 476 5919)", field);
    for (i = 0; i < 9; i++)
        sum += (d[i] - '0') * (int)(10 - i);
    check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    if (check == 10 || check != d[9] - '0')
        return invalid(msg, msglen, "%s: not a valid NHS number (its check digit is wrong; "
                       "check it against the person's records)", field);
    memcpy(norm, d, 10);
    norm[10] = '\0';
    return LB_OK;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

lb_err lb_date_check(const char *field, const char *text, char *msg, size_t msglen)
{
    int y, m, d, i;
    const char *shape = "dddd-dd-dd";
    for (i = 0; text && shape[i]; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)text[i]) : text[i] != '-')
            break;
    if (!text || shape[i] || text[i])
        return invalid(msg, msglen, "%s: '%.20s' is not a date (YYYY-MM-DD)", field,
                       text ? text : "");
    y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + text[3] - '0';
    m = (text[5] - '0') * 10 + text[6] - '0';
    d = (text[8] - '0') * 10 + text[9] - '0';
    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return invalid(msg, msglen, "%s: %s is not a real date (YYYY-MM-DD, 1900 to 2199)",
                       field, text);
    return LB_OK;
}

long lb_date_days(const char *d)
{
    long y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + d[3] - '0';
    long m = (d[5] - '0') * 10 + d[6] - '0', day = (d[8] - '0') * 10 + d[9] - '0';
    long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

lb_err lb_int_parse(const char *field, const char *text, long min, long max,
                    long *out, char *msg, size_t msglen)
{
    char *end;
    long v;
    if (!text || !*text || isspace((unsigned char)*text) || *text == '+')
        return invalid(msg, msglen, "%s: a whole number from %ld to %ld is needed", field, min, max);
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return invalid(msg, msglen, "%s: '%.20s' is not a whole number from %ld to %ld",
                       field, text, min, max);
    *out = v;
    return LB_OK;
}

/* Length of the valid UTF-8 sequence at p, and its code point in *cp;
 * 0 if invalid (truncated, overlong, surrogate, above U+10FFFF). */
static size_t utf8_decode(const unsigned char *p, unsigned long *cp)
{
    static const unsigned long min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n, i;
    unsigned long v;
    if (*p < 0x80) {
        *cp = *p;
        return 1;
    }
    n = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
    if (!n)
        return 0;
    v = *p & (0x7F >> n);
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min_of[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* C0 and C1 controls and DEL, except newline and tab. */
static int is_control(unsigned long cp)
{
    return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
}

#define BYTES_1 UINT64_C(0x0101010101010101)
#define BYTES_80 UINT64_C(0x8080808080808080)
#define BYTES_20 UINT64_C(0x2020202020202020)
#define BYTES_7F UINT64_C(0x7F7F7F7F7F7F7F7F)

/* Are all 8 bytes of w printable ASCII (0x20-0x7E)?  (A byte below 0x20
 * or 0x7F turns up as a borrow into its top bit.) */
static int ascii_printable8(uint64_t w)
{
    uint64_t x = w ^ BYTES_7F;
    return ((w | ((w - BYTES_20) & ~w) | ((x - BYTES_1) & ~x)) & BYTES_80) == 0;
}

lb_err lb_text_check(const char *field, const char *text, size_t maxlen,
                     char *msg, size_t msglen)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t len = text ? strlen(text) : 0, visible = 0;
    if (len > maxlen)
        return invalid(msg, msglen, "%s: too long (%zu bytes; at most %zu)", field, len, maxlen);
    while (p && *p) {
        unsigned long cp;
        size_t n;
        uint64_t w;
        /* Plain printable ASCII, eight bytes at a time: notes are mostly that. */
        if ((size_t)(p - (const unsigned char *)text) + 8 <= len) {
            memcpy(&w, p, 8);
            if (ascii_printable8(w)) {
                visible += w != BYTES_20;
                p += 8;
                continue;
            }
        }
        n = utf8_decode(p, &cp);
        if (!n)
            return invalid(msg, msglen, "%s: not valid UTF-8 text", field);
        if (is_control(cp))
            return invalid(msg, msglen, "%s: control characters are not accepted", field);
        if (!(cp == ' ' || cp == '\n' || cp == '\t'))
            visible++;
        p += n;
    }
    if (!visible)
        return invalid(msg, msglen, "%s: must not be empty", field);
    return LB_OK;
}
