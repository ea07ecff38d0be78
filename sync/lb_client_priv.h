/* lb_client_priv.h - what the parts of the client (lb_client.c, the HTTP
 * handle, and lb_client_sync.c, the operations) share; not installed. */
#ifndef LB_CLIENT_PRIV_H
#define LB_CLIENT_PRIV_H

#include "lb_client.h"

#if defined(__GNUC__) || defined(__clang__)
#define LB_CLIENT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LB_CLIENT_PRINTF(a, b)
#endif

/* Set the handle's message (printf-style) and return rc. */
lb_client_rc lb_client_fail(lb_client *c, lb_client_rc rc, const char *fmt, ...)
    LB_CLIENT_PRINTF(3, 4);

/* A store call failed with err: keep err and the store's message; returns
 * LB_CLIENT_STORE (LB_CLIENT_NOMEM for LB_ERR_NOMEM). */
lb_client_rc lb_client_store_fail(lb_client *c, const lb_store *s, lb_err err,
                                  const char *what);

/* 1 if the handle was made with opts.insecure. */
int lb_client_insecure(const lb_client *c);

/* Clear the message of an earlier failure. */
void lb_client_clear(lb_client *c);

#endif
