/* lb_server.h - linkbookd's HTTP side on libmicrohttpd: the routes of
 * lb_proto.h over a lb_srvstore.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION with poll), so
 * a slow client holds only its own thread; a connection idle for
 * timeout_s seconds is closed.  Before a body is read the server checks
 * the route (404), the method (405), the token (401), the role (403), the
 * content type (415) and the announced size (413); bodies are buffered up
 * to LB_PROTO_MAX_BODY and never beyond.  Every error is an lb_proto_error
 * document.  One line per request goes to the log stream: time, method,
 * route, status, bytes sent, milliseconds, device id prefix; never a body.
 *
 * With opts.tls_cert and opts.tls_key it serves https only, through
 * libmicrohttpd's GnuTLS support (TLS 1.2 and 1.3); without them, plain
 * http.  libmicrohttpd's own error messages (a refused certificate, a
 * failed TLS handshake) go to the log stream too, one line each.
 *
 * The server does not own the store; stop it before closing the store.
 */
#ifndef LB_SERVER_H
#define LB_SERVER_H

#include <stdio.h>
#include "lb_err.h"
#include "lb_srvstore.h"
#include "lb_srvepoch.h"

typedef struct lb_server lb_server;

typedef struct lb_server_opts {
    const char *host;       /* numeric IPv4 or IPv6 address; NULL: 127.0.0.1 */
    unsigned port;          /* 0: any free port (see lb_server_port) */
    unsigned timeout_s;     /* idle connection timeout; 0: 10 s */
    FILE *log;              /* request log; NULL: stderr */
    const char *tls_cert;   /* PEM certificate chain, NUL-terminated; NULL: plain http */
    const char *tls_key;    /* its unencrypted PEM private key; both or neither.  Read
                               only during lb_server_start: wipe it once that returns */
    lb_srvepoch *epochs;    /* restore detection to keep up to date (NULL: none);
                               not owned */
} lb_server_opts;

/* 1 if this libmicrohttpd was built with TLS (GnuTLS), else 0. */
int lb_server_tls_supported(void);

/* Start serving store in background threads.  On failure *out is NULL
 * and msg says why: LB_ERR_IO, the address could not be bound or the
 * certificate and key were refused; LB_ERR_INVALID, a bad address, only
 * one of tls_cert and tls_key, or TLS asked of a libmicrohttpd without it. */
lb_err lb_server_start(lb_srvstore *store, const lb_server_opts *opts, lb_server **out,
                       char *msg, size_t msglen);

/* The port actually bound. */
unsigned lb_server_port(const lb_server *s);

/* Stop accepting, let requests in flight finish (up to grace_ms), close
 * every connection and free s.  NULL is a no-op. */
void lb_server_stop(lb_server *s, unsigned grace_ms);

#endif
