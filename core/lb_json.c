/* lb_json.c - a fast JSON reader building jansson values (see lb_json.h).
 *
 * A recursive descent over the buffer.  Strings are checked and copied in
 * runs: plain ASCII up to the closing quote becomes a json_t in one copy;
 * escapes and multi-byte UTF-8 go through a scratch buffer.  Every value is
 * made with jansson's *_nocheck constructors, after the checks here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lb_json.h"

typedef struct reader {
    const unsigned char *p, *end, *start;
    int no_dups;
    lb_json_member *top;    /* where the top object's members are noted */
    size_t ntop, maxtop;
    int check;              /* a number is checked, not made (json_null()) */
    lb_err err;             /* LB_ERR_INVALID or LB_ERR_NOMEM once failed */
    char *scratch;          /* decoded string or key */
    size_t cap;
} reader;

static json_t *value(reader *r, int depth);

static json_t *fail(reader *r, lb_err err)
{
    if (!r->err)
        r->err = err;
    return NULL;
}

static void skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/* Past the run of plain string bytes at p (printable ASCII but '"' and
 * '\\'): eight at a time while none of the eight is special. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t w, q, b;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        /* high bit of a byte set when it is < 0x20, >= 0x80, '"' or '\\' */
        if ((((w - ones * 0x20) & ~w) | w | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
            break;
        p += 8;
    }
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* Room for n more bytes in the scratch buffer after len. */
static int room(reader *r, size_t len, size_t n)
{
    char *s;
    size_t cap = r->cap ? r->cap : 256;
    if (len + n + 1 <= r->cap)
        return 0;
    while (cap < len + n + 1)
        cap *= 2;
    if (!(s = realloc(r->scratch, cap)))
        return -1;
    r->scratch = s;
    r->cap = cap;
    return 0;
}

/* The length of the UTF-8 sequence at p (at most left bytes), 0 if it is
 * not a valid one (overlong, surrogate, beyond U+10FFFF, cut). */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    unsigned lo = 0x80, hi = 0xbf;
    if (n == 0 || n > left)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static int hex4(const unsigned char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                             : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
        if (d == 16)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* A \uXXXX escape (p after the 'u') as a code point; *used bytes read. */
static long unicode_escape(const unsigned char *p, const unsigned char *end, size_t *used)
{
    unsigned hi, lo;
    if (end - p < 4 || hex4(p, &hi) != 0 || hi == 0 || (hi >= 0xdc00 && hi <= 0xdfff))
        return -1;
    *used = 4;
    if (hi < 0xd800 || hi > 0xdbff)
        return (long)hi;
    if (end - p < 10 || p[4] != '\\' || p[5] != 'u' || hex4(p + 6, &lo) != 0 ||
        lo < 0xdc00 || lo > 0xdfff)
        return -1;
    *used = 10;
    return 0x10000L + ((long)(hi - 0xd800) << 10) + (long)(lo - 0xdc00);
}

static size_t put_utf8(char *out, long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One escape at r->p (after the backslash) appended to the scratch. */
static int escape(reader *r, size_t *len)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k;
    size_t used = 0;
    long cp;
    if (r->p >= r->end || room(r, *len, 4) != 0)
        return r->p >= r->end ? -1 : -2;
    if (*r->p != 'u') {
        if (!*r->p || !(k = strchr(from, *r->p)))
            return -1;
        r->scratch[(*len)++] = to[k - from];
        r->p++;
        return 0;
    }
    if ((cp = unicode_escape(r->p + 1, r->end, &used)) < 0)
        return -1;
    *len += put_utf8(r->scratch + *len, cp);
    r->p += 1 + used;
    return 0;
}

/* A string at r->p (after the opening quote) decoded into the scratch
 * buffer (NUL-terminated); its length, or -1 (r->err set). */
static long string_text(reader *r)
{
    size_t len = 0, run, n;
    int rc;
    for (;;) {
        const unsigned char *s = r->p;
        r->p = plain_run(r->p, r->end);
        run = (size_t)(r->p - s);
        if (room(r, len, run) != 0)
            return fail(r, LB_ERR_NOMEM), -1;
        memcpy(r->scratch + len, s, run);
        len += run;
        if (r->p >= r->end || *r->p < 0x20)
            return fail(r, LB_ERR_INVALID), -1;
        if (*r->p == '"') {
            r->p++;
            r->scratch[len] = '\0';
            return (long)len;
        }
        if (*r->p == '\\') {
            r->p++;
            if ((rc = escape(r, &len)) != 0)
                return fail(r, rc == -2 ? LB_ERR_NOMEM : LB_ERR_INVALID), -1;
            continue;
        }
        if ((n = utf8_len(r->p, (size_t)(r->end - r->p))) == 0)
            return fail(r, LB_ERR_INVALID), -1;
        if (room(r, len, n) != 0)
            return fail(r, LB_ERR_NOMEM), -1;
        memcpy(r->scratch + len, r->p, n);
        len += n;
        r->p += n;
    }
}

static json_t *string(reader *r)
{
    const unsigned char *s = plain_run(r->p, r->end);
    long len;
    json_t *v;
    /* The common case: plain ASCII up to the quote, made in one copy. */
    if (s < r->end && *s == '"') {
        v = json_stringn_nocheck((const char *)r->p, (size_t)(s - r->p));
        r->p = s + 1;
        return v ? v : fail(r, LB_ERR_NOMEM);
    }
    if ((len = string_text(r)) < 0)
        return NULL;
    v = json_stringn_nocheck(r->scratch, (size_t)len);
    return v ? v : fail(r, LB_ERR_NOMEM);
}

/* An integer, or a real handed to jansson. */
static json_t *number(reader *r)
{
    const unsigned char *s = r->p, *digits;
    int real = 0, neg = 0;
    json_int_t v = 0;
    json_t *j;
    if (r->p < r->end && *r->p == '-')
        neg = 1, r->p++;
    digits = r->p;
    if (r->p < r->end && *r->p == '0')
        r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    if (r->p == digits)
        return fail(r, LB_ERR_INVALID);
    if (r->p < r->end && *r->p == '.') {
        real = 1;
        if (++r->p >= r->end || *r->p < '0' || *r->p > '9')
            return fail(r, LB_ERR_INVALID);
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        real = 1;
        if (++r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return fail(r, LB_ERR_INVALID);
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (real) {
        j = json_loadb((const char *)s, (size_t)(r->p - s), JSON_DECODE_ANY, NULL);
        return json_is_real(j) ? j : (json_decref(j), fail(r, LB_ERR_INVALID));
    }
    for (; digits < r->p; digits++) {
        json_int_t d = *digits - '0';
        if (v > (INT64_MAX - d) / 10)
            return fail(r, LB_ERR_INVALID);   /* as jansson: too big an integer */
        v = v * 10 + d;
    }
    j = r->check ? json_null() : json_integer(neg ? -v : v);
    return j ? j : fail(r, LB_ERR_NOMEM);
}

static json_t *literal(reader *r, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, LB_ERR_INVALID);
    r->p += n;
    return v;
}

/* One "key": value member of o; 0, or -1 (r->err set). */
static int member(reader *r, json_t *o, int depth)
{
    const unsigned char *at = r->p;
    json_t *v;
    if (r->p >= r->end || *r->p != '"')
        return fail(r, LB_ERR_INVALID), -1;
    r->p++;
    if (string_text(r) < 0)
        return -1;
    if (depth == 1 && r->top && r->ntop++ < r->maxtop) {
        lb_json_member *m = &r->top[r->ntop - 1];
        m->key = (const char *)at + 1;
        m->keylen = (size_t)(r->p - at) - 2;
        m->at = (size_t)(at - r->start);
    }
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':')
        return fail(r, LB_ERR_INVALID), -1;
    r->p++;
    {
        /* value() may reuse the scratch buffer: keep the key apart. */
        char small[64], *key = strlen(r->scratch) < sizeof small ? small : strdup(r->scratch);
        if (!key)
            return fail(r, LB_ERR_NOMEM), -1;
        if (key == small)
            memcpy(small, r->scratch, strlen(r->scratch) + 1);
        size_t had = json_object_size(o);
        v = value(r, depth + 1);
        if (v && json_object_set_new_nocheck(o, key, v) != 0)
            fail(r, LB_ERR_NOMEM);
        else if (v && r->no_dups && json_object_size(o) == had)
            fail(r, LB_ERR_INVALID);    /* the key was there: it replaced a value */
        if (key != small)
            free(key);
    }
    return r->err ? -1 : 0;
}

/* After an object's member: 0 when a ',' leads to the next, 1 when '}'
 * ends the object (both taken), -1 (failed) for anything else. */
static int member_end(reader *r)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        skip_ws(r);
        return 0;
    }
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 1;
    }
    fail(r, LB_ERR_INVALID);
    return -1;
}

static json_t *object(reader *r, int depth)
{
    json_t *o = json_object();
    int rc;
    if (!o)
        return fail(r, LB_ERR_NOMEM);
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return o;
    }
    for (;;) {
        if (member(r, o, depth) != 0 || (rc = member_end(r)) < 0)
            break;
        if (rc > 0)
            return o;
    }
    json_decref(o);
    return NULL;
}

static json_t *array(reader *r, int depth)
{
    json_t *a = json_array(), *v;
    if (!a)
        return fail(r, LB_ERR_NOMEM);
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return a;
    }
    for (;;) {
        if (!(v = value(r, depth + 1)))
            break;
        if (json_array_append_new(a, v) != 0) {
            fail(r, LB_ERR_NOMEM);
            break;
        }
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return a;
        }
        fail(r, LB_ERR_INVALID);
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *value(reader *r, int depth)
{
    skip_ws(r);
    if (r->p >= r->end || depth > LB_JSON_DEPTH)
        return fail(r, LB_ERR_INVALID);
    switch (*r->p) {
    case '{':
        r->p++;
        return object(r, depth);
    case '[':
        r->p++;
        return array(r, depth);
    case '"':
        r->p++;
        return string(r);
    case 't':
        return literal(r, "true", json_true());
    case 'f':
        return literal(r, "false", json_false());
    case 'n':
        return literal(r, "null", json_null());
    default:
        return number(r);
    }
}

static lb_err parse(reader *r, const char *text, size_t len, json_t **out)
{
    json_t *v;
    r->p = r->start = (const unsigned char *)text;
    r->end = r->p + len;
    v = text ? value(r, 1) : NULL;
    skip_ws(r);
    if (v && r->p != r->end)
        r->err = LB_ERR_INVALID;
    free(r->scratch);
    if (!v || r->err) {
        json_decref(v);
        return r->err ? r->err : LB_ERR_INVALID;
    }
    *out = v;
    return LB_OK;
}

lb_err lb_json_parse(const char *text, size_t len, int no_dups, json_t **out)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.no_dups = no_dups;
    return parse(&r, text, len, out);
}

lb_err lb_json_parse_members(const char *text, size_t len, int no_dups, json_t **out,
                             lb_json_member *members, size_t max, size_t *count)
{
    reader r;
    lb_err err;
    memset(&r, 0, sizeof r);
    r.no_dups = no_dups;
    r.top = members;
    r.maxtop = max;
    err = parse(&r, text, len, out);
    *count = r.ntop;
    return err;
}

/* ---- one object, its members told apart without building it --------------------------------- */

/* Check the value at r->p: strings, numbers and literals without making
 * them (objects and arrays are made and let go); 0, or -1 (r->err set). */
static int check_value(reader *r, int depth)
{
    json_t *v;
    if (r->p < r->end && *r->p == '"') {
        const unsigned char *s = plain_run(r->p + 1, r->end);
        if (s < r->end && *s == '"') {
            r->p = s + 1;
            return 0;
        }
        r->p++;
        return string_text(r) < 0 ? -1 : 0;
    }
    r->check = 1;
    v = value(r, depth);
    r->check = 0;
    json_decref(v);
    return v ? 0 : -1;
}

static int wanted(const lb_json_member *m, const char *const *build, size_t nbuild)
{
    for (size_t i = 0; i < nbuild; i++)
        if (strlen(build[i]) == m->keylen && memcmp(build[i], m->key, m->keylen) == 0)
            return 1;
    return 0;
}

/* The key at r->p (its opening quote) into all[n]; 1 when it cannot be
 * told apart from the others as written (an escape in it), -1 on error. */
static int shallow_key(reader *r, lb_json_member *all, size_t n)
{
    const unsigned char *at = r->p;
    lb_json_member *m = &all[n];
    size_t i;
    if (r->p >= r->end || *r->p != '"')
        return fail(r, LB_ERR_INVALID), -1;
    r->p++;
    if (string_text(r) < 0)
        return -1;
    m->key = (const char *)at + 1;
    m->keylen = (size_t)(r->p - at) - 2;
    m->at = (size_t)(at - r->start);
    if (memchr(m->key, '\\', m->keylen))
        return 1;
    for (i = 0; i < n; i++)
        if (all[i].keylen == m->keylen && memcmp(all[i].key, m->key, m->keylen) == 0)
            return fail(r, LB_ERR_INVALID), -1;   /* a repeated key */
    return 0;
}

/* The members of the object at r->p (after its '{'); *count as for
 * lb_json_parse_shallow.  0, or -1 (r->err set). */
static int shallow_members(reader *r, const char *const *build, size_t nbuild,
                           lb_json_member *m, size_t max, size_t *count)
{
    size_t n = 0;
    int rc;
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        if (n == max) {
            *count = max + 1;
            return 0;
        }
        if ((rc = shallow_key(r, m, n)) != 0) {
            *count = rc > 0 ? max + 1 : n;
            return rc > 0 ? 0 : -1;
        }
        skip_ws(r);
        if (r->p >= r->end || *r->p != ':')
            return fail(r, LB_ERR_INVALID), -1;
        r->p++;
        skip_ws(r);
        m[n].val = (const char *)r->p;
        *count = ++n;
        if (wanted(&m[n - 1], build, nbuild) ? !(m[n - 1].v = value(r, 2)) : check_value(r, 2) != 0)
            return -1;
        m[n - 1].vallen = (size_t)((const char *)r->p - m[n - 1].val);
        if ((rc = member_end(r)) != 0)
            return rc > 0 ? 0 : -1;
    }
}

lb_err lb_json_parse_shallow(const char *text, size_t len, const char *const *build,
                             size_t nbuild, lb_json_member *m, size_t max, size_t *count)
{
    reader r;
    size_t i;
    int rc = -1;
    memset(&r, 0, sizeof r);
    r.p = r.start = (const unsigned char *)text;
    r.end = r.p + len;
    r.no_dups = 1;
    *count = 0;
    memset(m, 0, max * sizeof *m);
    skip_ws(&r);
    if (text && r.p < r.end && *r.p == '{') {
        r.p++;
        rc = shallow_members(&r, build, nbuild, m, max, count);
    }
    skip_ws(&r);
    if (rc == 0 && *count <= max && r.p != r.end)
        rc = -1;
    free(r.scratch);
    if (rc == 0 && *count <= max)
        return LB_OK;
    for (i = 0; i < max; i++) {
        json_decref(m[i].v);
        m[i].v = NULL;
    }
    return rc == 0 ? LB_OK : r.err == LB_ERR_NOMEM ? LB_ERR_NOMEM : LB_ERR_INVALID;
}
