/* lb_server.c - linkbookd's HTTP plumbing on libmicrohttpd (lb_server.h):
 * routing, the checks made before a body is read, bounded bodies, the
 * request log, /metrics, https through GnuTLS, and a graceful stop.  What
 * each route does is in lb_srvapi.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "lb_buf.h"
#include "lb_proto.h"
#include "lb_server.h"
#include "lb_srvapi.h"
#include "lb_srvmetrics.h"

#define DEFAULT_TIMEOUT_S 10
#define CONNECTION_LIMIT 4000u
#define DISCARD_MAX ((size_t)LB_PROTO_MAX_BODY * 2)  /* then the connection is cut */
#define BODY_DEADLINE_TIMEOUTS 12   /* a body trickled in slower than this many
                                       idle timeouts is cut (120 s by default) */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

enum { NO_BODY, JSON_BODY, BIN_BODY };

typedef struct route {
    const char *method, *path;
    int auth, supervisor, body;
    lb_srvapi_fn fn;
    lb_srvapi_bin_fn bin_fn;    /* for a BIN_BODY route */
} route;

static const route ROUTES[] = {
    { "POST", "/v1/enrol", 0, 0, JSON_BODY, lb_srvapi_enrol, NULL },
    { "POST", "/v1/push", 1, 0, BIN_BODY, NULL, lb_srvapi_push },
    { "POST", "/v1/pull", 1, 0, JSON_BODY, lb_srvapi_pull, NULL },
    { "GET", "/v1/keys", 1, 0, NO_BODY, lb_srvapi_keys_get, NULL },
    { "POST", "/v1/keys", 1, 1, JSON_BODY, lb_srvapi_keys_post, NULL },
    { "POST", "/v1/team/invite", 1, 1, JSON_BODY, lb_srvapi_invite, NULL },
    { "GET", "/v1/team/devices", 1, 1, NO_BODY, lb_srvapi_devices, NULL },
    { "POST", "/v1/team/revoke", 1, 1, JSON_BODY, lb_srvapi_revoke, NULL },
    { "GET", "/healthz", 0, 0, NO_BODY, lb_srvapi_healthz, NULL },
    { "GET", "/metrics", 0, 0, NO_BODY, NULL, NULL },
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* Metric labels: one per route above, then "other" (unknown routes). */
static const char *const ROUTE_NAMES[LB_SRVMETRICS_ROUTES] = {
    "enrol", "push", "pull", "keys_get", "keys_post", "invite", "devices", "revoke",
    "healthz", "metrics", "other"
};

struct lb_server {
    struct MHD_Daemon *d;
    lb_srvstore *store;
    lb_srvmetrics *metrics;
    lb_srvapi api;
    FILE *log;
    unsigned port;
    double body_deadline_s;
    pthread_mutex_t mu;     /* guards inflight, starting and start_err */
    long inflight;
    int starting;           /* 1 while MHD_start_daemon runs */
    char start_err[200];    /* libmicrohttpd's first message while starting */
};

/* One request, from its headers to its completion. */
typedef struct req {
    int route;              /* index into ROUTES, -1 when unknown */
    int status;             /* 0 until a response is queued */
    size_t sent;
    struct timespec start;
    char method[8];
    char path[72];          /* printable, truncated */
    char device[9];         /* device id prefix, "-" without token */
    lb_srv_who who;
    lb_buf body;
    int too_large;
    size_t discarded;
} req;

/* ---- log ----------------------------------------------------------------- */

static void stamp(char out[32])
{
    struct timespec ts;
    struct tm tm;
    char base[24];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    if (strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        base[0] = '\0';
    snprintf(out, 32, "%.19s.%03uZ", base, (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

static void api_log(void *ctx, const char *line)
{
    lb_server *s = ctx;
    char t[32];
    stamp(t);
    fprintf(s->log, "%s linkbookd: %s\n", t, line);
    fflush(s->log);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's own error messages: one printable line each in the log;
 * the first one while starting is kept to say why a start failed. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    lb_server *s = cls;
    char line[200], t[32];
    size_t i, n;
    vsnprintf(line, sizeof line, fmt, ap);
    for (i = 0; line[i]; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = ' ';
    for (n = i; n > 0 && line[n - 1] == ' '; n--)
        line[n - 1] = '\0';
    pthread_mutex_lock(&s->mu);
    if (s->starting && !s->start_err[0])
        memcpy(s->start_err, line, n + 1);
    pthread_mutex_unlock(&s->mu);
    stamp(t);
    fprintf(s->log, "%s linkbookd: libmicrohttpd: %s\n", t, line);
    fflush(s->log);
}

static double elapsed_s(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static const char *why_ended(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR: return "client-gone";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client-gone";
    default: return "error";
    }
}

/* One line per request: time method path status bytes ms device. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    lb_server *s = cls;
    req *q = *con_cls;
    char t[32], status[16];
    double secs;
    (void)conn;
    if (!q)
        return;
    secs = elapsed_s(&q->start);
    if (q->status && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        snprintf(status, sizeof status, "%d", q->status);
    else
        snprintf(status, sizeof status, "%d/%s", q->status, why_ended(toe));
    stamp(t);
    fprintf(s->log, "%s %s %s %s %zuB %.1fms %s\n", t, q->method, q->path, status, q->sent,
            secs * 1000.0, q->device);
    fflush(s->log);
    lb_srvmetrics_request(s->metrics, q->route < 0 ? LB_SRVMETRICS_ROUTES - 1 : q->route,
                          q->status, secs);
    lb_buf_wipe(&q->body);
    free(q);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    pthread_mutex_unlock(&s->mu);
}

/* ---- responses ----------------------------------------------------------- */

static enum MHD_Result send_text(struct MHD_Connection *conn, req *q, int status, char *text,
                                 size_t len, const char *ctype)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 401)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        q->status = status;
        q->sent = len;
    }
    return ret;
}

/* Send doc (consumed) with status. */
static enum MHD_Result send_json(struct MHD_Connection *conn, req *q, int status, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        static const char OOM[] = "{\"error\":\"the server ran out of memory (try again "
                                  "later)\",\"code\":\"unavailable\"}";
        if (!(text = strdup(OOM)))
            return MHD_NO;
        status = 503;
    }
    return send_text(conn, q, status, text, strlen(text), "application/json");
}

static enum MHD_Result send_error(struct MHD_Connection *conn, req *q, int status,
                                  const char *code, const char *message)
{
    return send_json(conn, q, status, lb_proto_error(code, message));
}

static enum MHD_Result send_metrics(lb_server *s, struct MHD_Connection *conn, req *q)
{
    int64_t stored = -1;
    size_t len = 0;
    char *text;
    if (s->store->ops->count_envelopes(s->store, &stored) != LB_OK)
        stored = -1;
    if (!(text = lb_srvmetrics_text(s->metrics, stored, &len)))
        return send_error(conn, q, 503, "unavailable", "out of memory (try again later)");
    return send_text(conn, q, 200, text, len, "text/plain; version=0.0.4; charset=utf-8");
}

/* ---- checks before the body ---------------------------------------------- */

/* The route for method and url: *index, or 404 (-1) / 405 (-2). */
static int find_route(const char *method, const char *url)
{
    size_t i;
    int path_known = 0;
    for (i = 0; i < NROUTES; i++) {
        if (strcmp(url, ROUTES[i].path) != 0)
            continue;
        path_known = 1;
        if (strcmp(method, ROUTES[i].method) == 0)
            return (int)i;
    }
    return path_known ? -2 : -1;
}

static void copy_printable(char *dst, size_t size, const char *src)
{
    size_t i;
    for (i = 0; src[i] && i + 1 < size; i++)
        dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

/* Whether the Content-Type header ct names type (parameters allowed). */
static int content_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (!ct || strncasecmp(ct, type, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Content-Length over the limit (0 if absent or within it). */
static int announced_too_large(struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    unsigned long long n;
    if (!cl)
        return 0;
    n = strtoull(cl, &end, 10);
    return end != cl && n > LB_PROTO_MAX_BODY;
}

#define UNREACHABLE 1503   /* authorise: 503, the database is unreachable or busy */

/* Token to device; 0, or an HTTP status (401, 403 or 503; UNREACHABLE) with q
 * unchanged. */
static int authorise(lb_server *s, struct MHD_Connection *conn, req *q, const route *r)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    lb_err err;
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 401;
    h += 7;
    while (*h == ' ')
        h++;
    err = s->store->ops->auth(s->store, h, &q->who);
    if (err == LB_ERR_NOTFOUND)
        return 401;
    if (err) {
        char detail[256], line[320];
        s->store->ops->errmsg(s->store, detail, sizeof detail);
        snprintf(line, sizeof line, "storage failed while checking a token: %s", detail);
        api_log(s, line);
        return err == LB_ERR_BUSY ? UNREACHABLE : 503;
    }
    memcpy(q->device, q->who.device, sizeof q->device - 1);
    q->device[sizeof q->device - 1] = '\0';
    if (r->supervisor && !q->who.supervisor) {
        api_log(s, "refused: a route for supervisors asked by a worker's device");
        return 403;
    }
    return 0;
}

/* The checks made on the headers; MHD_YES to read the body. */
static enum MHD_Result on_headers(lb_server *s, struct MHD_Connection *conn, req *q,
                                  const char *method)
{
    const route *r;
    const char *ct;
    int st;
    if (q->route == -1)
        return send_error(conn, q, 404, "not_found", "no such route (see lb_proto.h: /v1/push, "
                          "/v1/pull, ...)");
    if (q->route == -2) {
        q->route = -1;
        return send_error(conn, q, 405, "bad_method", "this route does not take that method");
    }
    r = &ROUTES[q->route];
    if (r->auth && (st = authorise(s, conn, q, r)) != 0) {
        if (st == 401)
            api_log(s, "refused: a missing, unknown or revoked device token");
        return st == 401 ? send_error(conn, q, 401, "bad_token", "the device token is missing, "
                                      "unknown or revoked (enrol this device again)")
             : st == 403 ? send_error(conn, q, 403, "forbidden", "only a supervisor may do this")
             : st == UNREACHABLE ? send_error(conn, q, 503, "unavailable", "the server's "
                                              "database is unreachable or busy; nothing was "
                                              "lost (try again shortly)")
             : send_error(conn, q, 503, "unavailable", "the server's storage failed (try again)");
    }
    (void)method;
    ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->body == JSON_BODY && !content_type_is(ct, "application/json"))
        return send_error(conn, q, 415, "bad_content_type", "send the body as "
                          "Content-Type: application/json");
    if (r->body == BIN_BODY && !content_type_is(ct, LB_PROTO_BIN_TYPE))
        return send_error(conn, q, 415, "bad_content_type", "send the body as "
                          "Content-Type: " LB_PROTO_BIN_TYPE " (protocol version 2, "
                          "see lb_proto.h)");
    if (announced_too_large(conn))
        return send_error(conn, q, 413, "too_large", "the request is larger than 8 MiB (send "
                          "smaller batches)");
    return MHD_YES;
}

/* ---- the body and the answer --------------------------------------------- */

static enum MHD_Result on_data(lb_server *s, req *q, const char *data, size_t *size)
{
    if (elapsed_s(&q->start) > s->body_deadline_s) {
        api_log(s, "cut: a request body arriving too slowly");
        return MHD_NO; /* a trickle that never goes idle long enough to time out */
    }
    if (!q->too_large && lb_buf_add(&q->body, data, *size) != 0) {
        q->too_large = 1;
        lb_buf_wipe(&q->body);
    }
    if (q->too_large && (q->discarded += *size) > DISCARD_MAX)
        return MHD_NO; /* a client that will not stop: cut it */
    *size = 0;
    return MHD_YES;
}

/* Send what a route answered (consumed). */
static enum MHD_Result send_res(struct MHD_Connection *conn, req *q, lb_srvapi_res *res)
{
    if (res->bin) {
        json_decref(res->doc);
        return send_text(conn, q, res->status, res->bin, res->bin_len, LB_PROTO_BIN_TYPE);
    }
    return send_json(conn, q, res->status, res->doc);
}

static enum MHD_Result on_complete(lb_server *s, struct MHD_Connection *conn, req *q)
{
    const route *r = &ROUTES[q->route];
    lb_srvapi_res res = { 500, NULL, NULL, 0 };
    json_t *doc = NULL;
    json_error_t jerr;
    if (q->too_large)
        return send_error(conn, q, 413, "too_large", "the request is larger than 8 MiB (send "
                          "smaller batches)");
    if (r->body == BIN_BODY) {
        r->bin_fn(&s->api, r->auth ? &q->who : NULL, (const unsigned char *)q->body.data,
                  q->body.len, &res);
        return send_res(conn, q, &res);
    }
    if (!r->fn)
        return send_metrics(s, conn, q);
    if (r->body) {
        doc = q->body.data ? json_loadb(q->body.data, q->body.len, JSON_REJECT_DUPLICATES, &jerr)
                           : NULL;
        if (!json_is_object(doc)) {
            json_decref(doc);
            return send_error(conn, q, 400, "bad_json", "the body is not a JSON object");
        }
    }
    r->fn(&s->api, r->auth ? &q->who : NULL, doc, &res);
    json_decref(doc);
    return send_res(conn, q, &res);
}

static req *req_new(lb_server *s, const char *method, const char *url)
{
    req *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &q->start);
    lb_buf_init(&q->body, LB_PROTO_MAX_BODY);
    copy_printable(q->method, sizeof q->method, method);
    copy_printable(q->path, sizeof q->path, url);
    memcpy(q->device, "-", 2);
    q->route = find_route(method, url);
    pthread_mutex_lock(&s->mu);
    s->inflight++;
    pthread_mutex_unlock(&s->mu);
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **con_cls)
{
    lb_server *s = cls;
    req *q = *con_cls;
    (void)version;
    if (!q) {
        if (!(q = req_new(s, method, url)))
            return MHD_NO;
        *con_cls = q;
        return on_headers(s, conn, q, method);
    }
    if (q->status) {            /* answered from the headers: drop the rest */
        *size = 0;
        return MHD_YES;
    }
    if (*size)
        return on_data(s, q, data, size);
    return on_complete(s, conn, q);
}

/* ---- start and stop ------------------------------------------------------ */

static lb_err bind_addr(const lb_server_opts *o, struct sockaddr_storage *ss, int *v6)
{
    const char *host = o->host ? o->host : "127.0.0.1";
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    *v6 = 0;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)o->port);
        return LB_OK;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)o->port);
        *v6 = 1;
        return LB_OK;
    }
    return LB_ERR_INVALID;
}

static struct MHD_Daemon *daemon_start(lb_server *s, const struct sockaddr_storage *ss, int v6,
                                       unsigned timeout, const lb_server_opts *o)
{
    /* Casts: libmicrohttpd takes the PEM texts as void * but only reads them. */
    struct MHD_OptionItem tls[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)o->tls_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)o->tls_key },
        { MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)TLS_PRIORITIES },
        { MHD_OPTION_END, 0, NULL },
    };
    int use_tls = o->tls_cert != NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0) |
                     (use_tls ? MHD_USE_TLS : 0);
    struct MHD_Daemon *d;
    pthread_mutex_lock(&s->mu);
    s->starting = 1;
    pthread_mutex_unlock(&s->mu);
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                         MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
                         MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                         MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
                         MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                         MHD_OPTION_ARRAY, use_tls ? tls : &tls[3],
                         MHD_OPTION_END);
    pthread_mutex_lock(&s->mu);
    s->starting = 0;
    pthread_mutex_unlock(&s->mu);
    return d;
}

int lb_server_tls_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

/* The options that are wrong before anything starts; LB_OK or why in msg. */
static lb_err check_opts(const lb_server_opts *o, struct sockaddr_storage *ss, int *v6,
                         char *msg, size_t msglen)
{
    if (bind_addr(o, ss, v6) != LB_OK) {
        snprintf(msg, msglen, "%s is not a numeric IP address", o->host);
        return LB_ERR_INVALID;
    }
    if (!o->tls_cert != !o->tls_key) {
        snprintf(msg, msglen, "a TLS certificate needs its private key and a key its "
                 "certificate: give both, or neither for plain http");
        return LB_ERR_INVALID;
    }
    if (o->tls_cert && !lb_server_tls_supported()) {
        snprintf(msg, msglen, "this libmicrohttpd was built without TLS support (GnuTLS); "
                 "install one built with it, or serve plain http on loopback behind a "
                 "TLS proxy");
        return LB_ERR_INVALID;
    }
    return LB_OK;
}

/* Why the daemon did not start, in msg. */
static void start_failed(lb_server *s, const lb_server_opts *o, char *msg, size_t msglen)
{
    const char *host = o->host ? o->host : "127.0.0.1";
    if (o->tls_cert)
        snprintf(msg, msglen, "cannot serve https on %s port %u: %s (is the key the "
                 "certificate's own, unencrypted, and the port free on this host?)", host,
                 o->port, s->start_err[0] ? s->start_err : "libmicrohttpd said no more");
    else
        snprintf(msg, msglen, "cannot listen on %s port %u (in use, or not an address of "
                 "this host?)%s%s", host, o->port, s->start_err[0] ? ": " : "", s->start_err);
}

static void server_free(lb_server *s)
{
    lb_srvmetrics_free(s->metrics);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

lb_err lb_server_start(lb_srvstore *store, const lb_server_opts *opts, lb_server **out,
                       char *msg, size_t msglen)
{
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    lb_server *s;
    lb_err err;
    unsigned timeout;
    int v6 = 0;
    *out = NULL;
    if ((err = check_opts(opts, &ss, &v6, msg, msglen)) != LB_OK)
        return err;
    if (!(s = calloc(1, sizeof *s)))
        return LB_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    s->store = store;
    s->log = opts->log ? opts->log : stderr;
    s->api.store = store;
    s->api.epochs = opts->epochs;
    s->api.log = api_log;
    s->api.log_ctx = s;
    if (!(s->metrics = lb_srvmetrics_new(ROUTE_NAMES))) {
        server_free(s);
        return LB_ERR_NOMEM;
    }
    s->api.metrics = s->metrics;
    if ((err = store->ops->epoch(store, s->api.epoch)) != LB_OK) {
        store->ops->errmsg(store, msg, msglen);
        server_free(s);
        return err;
    }
    timeout = opts->timeout_s ? opts->timeout_s : DEFAULT_TIMEOUT_S;
    s->body_deadline_s = (double)timeout * BODY_DEADLINE_TIMEOUTS;
    s->d = daemon_start(s, &ss, v6, timeout, opts);
    info = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        start_failed(s, opts, msg, msglen);
        if (s->d)
            MHD_stop_daemon(s->d);
        server_free(s);
        return LB_ERR_IO;
    }
    s->port = info->port;
    *out = s;
    return LB_OK;
}

unsigned lb_server_port(const lb_server *s)
{
    return s->port;
}

void lb_server_stop(lb_server *s, unsigned grace_ms)
{
    struct timespec tick = { 0, 10 * 1000000L };
    MHD_socket fd;
    long left = 1;
    unsigned waited = 0;
    if (!s)
        return;
    fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    while (waited < grace_ms) {
        pthread_mutex_lock(&s->mu);
        left = s->inflight;
        pthread_mutex_unlock(&s->mu);
        if (left <= 0)
            break;
        nanosleep(&tick, NULL);
        waited += 10;
    }
    MHD_stop_daemon(s->d);
    server_free(s);
}
