/* lb_buf.c - growable byte buffer with a hard cap (see lb_buf.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_buf.h"

void lb_buf_init(lb_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int add_json(lb_buf *b, const json_t *v, int depth);

static int grow(lb_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    if (!(p = malloc(cap)))
        return -1;
    /* Copy and wipe rather than realloc: the old block may hold plaintext. */
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int lb_buf_reserve(lb_buf *b, size_t n)
{
    if (n > b->max)
        return -1;
    return n + 1 > b->cap ? grow(b, n + 1) : 0;
}

/* n more bytes at the end, still NUL-terminated after them: where they
 * go, for the caller to fill; NULL when memory or the cap runs out. */
static char *extend(lb_buf *b, size_t n)
{
    char *at;
    if (n > b->max - b->len)
        return NULL;
    if (b->len + n + 1 > b->cap && grow(b, b->len + n + 1) != 0)
        return NULL;
    at = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return at;
}

int lb_buf_add(lb_buf *b, const void *p, size_t n)
{
    char *at = extend(b, n);
    if (!at)
        return -1;
    memcpy(at, p, n);
    return 0;
}

int lb_buf_adds(lb_buf *b, const char *s)
{
    return lb_buf_add(b, s, strlen(s));
}

#define BYTES_1 UINT64_C(0x0101010101010101)
#define BYTES_80 UINT64_C(0x8080808080808080)

/* Does w hold a byte that a JSON string must escape (below 0x20, '"' or
 * a backslash)?  Bytes from 0x80 up are never one. */
static int needs_escape8(uint64_t w)
{
    uint64_t q = w ^ (BYTES_1 * '"'), bs = w ^ (BYTES_1 * '\\');
    uint64_t below = (w - BYTES_1 * 0x20) & ~w;
    return ((below | ((q - BYTES_1) & ~q) | ((bs - BYTES_1) & ~bs)) & BYTES_80) != 0;
}

/* A JSON string: runs that need no escape are copied whole (jansson's own
 * dumper decodes every character, which dominated a change's cost), and
 * found eight bytes at a time. */
/* Is there nothing to escape in the n bytes at u? */
static int needs_no_escape(const unsigned char *u, size_t n)
{
    size_t i = 0;
    uint64_t w;
    if (n < 8) {
        for (; i < n; i++)
            if (u[i] < 0x20 || u[i] == '"' || u[i] == '\\')
                return 0;
        return 1;
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, u + i, 8);
        if (needs_escape8(w))
            return 0;
    }
    memcpy(&w, u + n - 8, 8); /* the last bytes, overlapping what was seen */
    return !needs_escape8(w);
}

static int add_json_string(lb_buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0, run = 0;
    char *at;
    if (needs_no_escape(u, n)) { /* the usual case: copied in one go */
        if (n > b->max || !(at = extend(b, n + 2)))
            return -1;
        at[0] = '"';
        memcpy(at + 1, p, n);
        at[n + 1] = '"';
        return 0;
    }
    if (lb_buf_add(b, "\"", 1))
        return -1;
    for (;;) {
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};
        uint64_t w;
        while (i + 8 <= n && (memcpy(&w, u + i, 8), !needs_escape8(w)))
            i += 8;
        while (i < n && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\')
            i++;
        if (lb_buf_add(b, p + run, i - run))
            return -1;
        if (i == n)
            break;
        if (u[i] == '"' || u[i] == '\\') {
            esc[1] = (char)u[i];
            if (lb_buf_add(b, esc, 2))
                return -1;
        } else {
            esc[4] = hex[u[i] >> 4];
            esc[5] = hex[u[i] & 15];
            if (lb_buf_add(b, esc, 6))
                return -1;
        }
        run = ++i;
    }
    return lb_buf_add(b, "\"", 1);
}

static int add_json_real(lb_buf *b, const json_t *v)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    int rc = text ? lb_buf_adds(b, text) : -1;
    free(text);
    return rc;
}

static int add_json_int(lb_buf *b, json_int_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, v);
    return n > 0 ? lb_buf_add(b, num, (size_t)n) : -1;
}

static int add_json_array(lb_buf *b, const json_t *v, int depth)
{
    size_t i;
    json_t *item;
    if (lb_buf_add(b, "[", 1))
        return -1;
    json_array_foreach(v, i, item)
        if ((i && lb_buf_add(b, ",", 1)) || add_json(b, item, depth + 1))
            return -1;
    return lb_buf_add(b, "]", 1);
}

static int add_json_object(lb_buf *b, const json_t *v, int depth)
{
    const char *key;
    json_t *item;
    int first = 1;
    if (lb_buf_add(b, "{", 1))
        return -1;
    json_object_foreach((json_t *)v, key, item) {
        if ((!first && lb_buf_add(b, ",", 1)) || add_json_string(b, key, strlen(key)) ||
            lb_buf_add(b, ":", 1) || add_json(b, item, depth + 1))
            return -1;
        first = 0;
    }
    return lb_buf_add(b, "}", 1);
}

static int add_json(lb_buf *b, const json_t *v, int depth)
{
    if (!v || depth > 64)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: return add_json_object(b, v, depth);
    case JSON_ARRAY: return add_json_array(b, v, depth);
    case JSON_STRING: return add_json_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return add_json_int(b, json_integer_value(v));
    case JSON_REAL: return add_json_real(b, v);
    case JSON_TRUE: return lb_buf_adds(b, "true");
    case JSON_FALSE: return lb_buf_adds(b, "false");
    case JSON_NULL: return lb_buf_adds(b, "null");
    }
    return -1;
}

int lb_buf_add_json(lb_buf *b, const json_t *v)
{
    size_t len = b->len;
    if (add_json(b, v, 0) != 0) {
        b->len = len; /* drop a partial text */
        if (b->data)
            b->data[len] = '\0';
        return -1;
    }
    return 0;
}

void lb_buf_wipe(lb_buf *b)
{
    if (!b)
        return;
    if (b->data) {
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    lb_buf_init(b, b->max);
}
