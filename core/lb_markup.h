/* lb_markup.h - writing HTML and SVG text into a bounded buffer.
 *
 * A writer collects markup in an lb_buf and remembers the first failure
 * (memory or the buffer's cap), so that a page can be written as a run of
 * calls and checked once at the end with lb_markup_status.  After a
 * failure every call is a no-op.
 *
 * Text that comes from data (codes, labels, dates) goes through
 * lb_markup_text, which escapes & < > " and ' so that it is safe both as
 * element content and inside a quoted attribute.  lb_markup_raw and
 * lb_markup_fmt write markup the caller composed; their arguments must
 * never carry data other than numbers.
 *
 * Numbers are written with the C locale's decimal point (the core never
 * calls setlocale).  Not a parser, not a validator.
 */
#ifndef LB_MARKUP_H
#define LB_MARKUP_H

#include <stddef.h>
#include "lb_buf.h"
#include "lb_err.h"

#if defined(__GNUC__) || defined(__clang__)
#define LB_MARKUP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LB_MARKUP_PRINTF(a, b)
#endif

typedef struct lb_markup {
    lb_buf buf;     /* the markup so far; the caller takes buf.data at the end */
    int failed;     /* set by the first append that did not fit */
} lb_markup;

/* An empty writer whose markup may grow to max bytes. */
void lb_markup_init(lb_markup *m, size_t max);

/* Free the markup (NULL-safe); the writer is empty again. */
void lb_markup_free(lb_markup *m);

/* Markup the caller wrote, as is. */
void lb_markup_raw(lb_markup *m, const char *s);

/* Data as text: escaped for element content and quoted attributes.  NULL
 * writes nothing. */
void lb_markup_text(lb_markup *m, const char *s);

/* printf-style markup; for numbers and the caller's own markup only. */
void lb_markup_fmt(lb_markup *m, const char *fmt, ...) LB_MARKUP_PRINTF(2, 3);

/* A number with at most `decimals` decimals and no trailing zeros
 * ("12", "12.5", "-0.4"); used for coordinates and figures alike. */
void lb_markup_num(lb_markup *m, double v, int decimals);

/* LB_OK, or LB_ERR_NOMEM when an append failed (memory or the cap). */
lb_err lb_markup_status(const lb_markup *m);

#endif
