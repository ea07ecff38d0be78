/* lb_markup.c - HTML and SVG text into a bounded buffer (see lb_markup.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lb_markup.h"

void lb_markup_init(lb_markup *m, size_t max)
{
    lb_buf_init(&m->buf, max);
    m->failed = 0;
}

void lb_markup_free(lb_markup *m)
{
    if (!m)
        return;
    lb_buf_wipe(&m->buf);
    m->failed = 0;
}

static void add(lb_markup *m, const char *p, size_t n)
{
    if (!m->failed && n && lb_buf_add(&m->buf, p, n) != 0)
        m->failed = 1;
}

void lb_markup_raw(lb_markup *m, const char *s)
{
    add(m, s, strlen(s));
}

/* The entity for a character that needs one, else NULL. */
static const char *entity(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

void lb_markup_text(lb_markup *m, const char *s)
{
    const char *run = s;
    if (!s)
        return;
    for (; *s; s++) {
        const char *e = entity(*s);
        if (!e)
            continue;
        add(m, run, (size_t)(s - run));
        add(m, e, strlen(e));
        run = s + 1;
    }
    add(m, run, (size_t)(s - run));
}

void lb_markup_fmt(lb_markup *m, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;
    if (m->failed)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof small) {
        /* Markup pieces are short by design: a longer one is a bug. */
        m->failed = 1;
        return;
    }
    add(m, small, (size_t)n);
}

void lb_markup_num(lb_markup *m, double v, int decimals)
{
    char s[64];
    int n;
    if (decimals < 0 || decimals > 6)
        decimals = 6;
    n = snprintf(s, sizeof s, "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= sizeof s) {
        m->failed = 1;
        return;
    }
    if (decimals > 0) {
        while (n > 0 && s[n - 1] == '0')
            s[--n] = '\0';
        if (n > 0 && s[n - 1] == '.')
            s[--n] = '\0';
    }
    if (strcmp(s, "-0") == 0)
        memmove(s, s + 1, 2);
    add(m, s, strlen(s));
}

lb_err lb_markup_status(const lb_markup *m)
{
    return m->failed ? LB_ERR_NOMEM : LB_OK;
}
