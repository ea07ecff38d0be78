/* lb_buf.c - growable byte buffer with a hard cap (see lb_buf.h). */
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

int lb_buf_add(lb_buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return -1;
    if (b->len + n + 1 > b->cap && grow(b, b->len + n + 1) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int lb_buf_adds(lb_buf *b, const char *s)
{
    return lb_buf_add(b, s, strlen(s));
}

static int dump_cb(const char *p, size_t n, void *ctx)
{
    return lb_buf_add(ctx, p, n);
}

int lb_buf_add_json(lb_buf *b, const json_t *v, size_t flags)
{
    size_t len = b->len;
    if (json_dump_callback(v, dump_cb, b, flags | JSON_ENCODE_ANY) != 0) {
        b->len = len; /* drop a partial dump */
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
