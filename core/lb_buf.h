/* lb_buf.h - a growable byte buffer with a hard cap.
 *
 * Used to build texts (JSON bodies, messages) without fixed sizes and
 * without unbounded growth: an append that would pass the cap fails and
 * leaves the buffer as it was.  The contents are kept NUL-terminated.
 * lb_buf_wipe zeroes before freeing, for buffers that held plaintext.
 */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stddef.h>
#include <jansson.h>

typedef struct lb_buf {
    char *data;     /* NUL-terminated contents, or NULL while empty */
    size_t len;
    size_t cap;
    size_t max;     /* the hard cap in bytes */
} lb_buf;

/* An empty buffer that may grow to max bytes. */
void lb_buf_init(lb_buf *b, size_t max);

/* Make room for n bytes in all (at most the cap) so that appends up to
 * there do not reallocate; 0, or -1 when memory or the cap runs out. */
int lb_buf_reserve(lb_buf *b, size_t n);

/* Append n bytes of p (or a C string); 0 on success, -1 when memory or the
 * cap runs out. */
int lb_buf_add(lb_buf *b, const void *p, size_t n);
int lb_buf_adds(lb_buf *b, const char *s);

/* Append the compact JSON text of v (keys in the object's own order; at
 * most 64 levels deep).  Strings are copied in runs: they are UTF-8
 * already, as jansson checks on creation. */
int lb_buf_add_json(lb_buf *b, const json_t *v);

/* Zero the contents and free them; the buffer is empty again.  NULL-safe. */
void lb_buf_wipe(lb_buf *b);

#endif
