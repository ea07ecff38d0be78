/* lb_client.c - the HTTP handle of the sync client (lb_client.h): URL and
 * transport checks, one reused CURL easy handle, retries with backoff and
 * jitter, bounded JSON answers, counters.  Bodies and the token are never
 * logged (CURLOPT_VERBOSE stays off); the Authorization header is built
 * in locked memory and wiped when it is replaced or the handle is freed.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <sodium.h>
#include "lb_buf.h"
#include "lb_proto.h"
#include "lb_client_priv.h"

#define DEFAULT_TRIES 3
#define DEFAULT_BACKOFF_MS 200
#define MAX_BACKOFF_MS 1600
#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_TIMEOUT_MS 60000
#define URL_MAX 2048

struct lb_client {
    CURL *curl;
    char *url;                  /* base URL without trailing '/' */
    struct curl_slist *hdrs;    /* JSON content type, accept, token (wiped) */
    struct curl_slist *hdrs_bin; /* the same with the binary content type */
    char *ca_file, *pin;
    int tries, insecure;
    long backoff_ms, connect_ms, timeout_ms;
    lb_client_stats stats;
    lb_buf answer;              /* the current answer's body */
    int answer_too_big;
    lb_err store_err;
    char msg[512];
    char curl_err[CURL_ERROR_SIZE]; /* libcurl's detail of the last failed transfer */
};

const char *lb_client_strerror(lb_client_rc rc)
{
    switch (rc) {
    case LB_CLIENT_OK: return "done";
    case LB_CLIENT_OFFLINE: return "the server could not be reached";
    case LB_CLIENT_REFUSED: return "the server refused this device's credentials";
    case LB_CLIENT_FORBIDDEN: return "the server does not allow this";
    case LB_CLIENT_TOO_LARGE: return "the request was too large for the server";
    case LB_CLIENT_NOKEY: return "this device holds no team key yet";
    case LB_CLIENT_TLS: return "the server's certificate or key was not trusted";
    case LB_CLIENT_INSECURE: return "plain http is refused for a host that is not loopback";
    case LB_CLIENT_BAD_URL: return "not an http or https URL";
    case LB_CLIENT_HTTP: return "the server answered with an error";
    case LB_CLIENT_PROTOCOL: return "the server's answer did not follow the protocol";
    case LB_CLIENT_STORE: return "the store could not do what sync needed";
    case LB_CLIENT_NOMEM: return "out of memory";
    }
    return "unknown result";
}

lb_client_rc lb_client_fail(lb_client *c, lb_client_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return rc;
}

lb_client_rc lb_client_store_fail(lb_client *c, const lb_store *s, lb_err err,
                                  const char *what)
{
    const char *detail = s ? lb_store_errmsg(s) : NULL;
    c->store_err = err;
    if (!detail || !detail[0])
        detail = lb_strerror(err);
    lb_client_fail(c, LB_CLIENT_STORE, "%s: %s", what, detail);
    return err == LB_ERR_NOMEM ? LB_CLIENT_NOMEM : LB_CLIENT_STORE;
}

void lb_client_clear(lb_client *c)
{
    c->msg[0] = '\0';
    c->store_err = LB_OK;
}

const char *lb_client_errmsg(const lb_client *c) { return c->msg; }
lb_err lb_client_store_err(const lb_client *c) { return c->store_err; }
const char *lb_client_url(const lb_client *c) { return c->url; }
int lb_client_insecure(const lb_client *c) { return c->insecure; }
void lb_client_stats_get(const lb_client *c, lb_client_stats *out) { *out = c->stats; }

/* 1 if host (as libcurl's URL parser gives it) is a loopback address. */
static int host_is_loopback(const char *host)
{
    unsigned char a4[4], a6[16];
    char h[64];
    size_t n = strlen(host);
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return 1;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof h) {
        memcpy(h, host + 1, n - 2);
        h[n - 2] = '\0';
        static const unsigned char lo6[16] = {[15] = 1};
        return inet_pton(AF_INET6, h, a6) == 1 && memcmp(a6, lo6, 16) == 0;
    }
    return inet_pton(AF_INET, host, a4) == 1 && a4[0] == 127;
}

/* Check the scheme and the plain-http rule of url. */
static lb_client_rc check_url(const char *url, int insecure, char *msg, size_t msglen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    lb_client_rc rc = LB_CLIENT_BAD_URL;
    if (!u)
        return LB_CLIENT_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(msg, msglen, "'%s' is not a URL (give it as https://HOST[:PORT])", url);
        goto out;
    }
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
        snprintf(msg, msglen, "'%s' is not an http or https URL", url);
        goto out;
    }
    if (strcmp(scheme, "http") == 0 && !insecure && !host_is_loopback(host)) {
        snprintf(msg, msglen, "plain http to %s would send records' envelopes and the "
                 "device token unencrypted (use https, or --insecure on a trusted "
                 "network)", host);
        rc = LB_CLIENT_INSECURE;
        goto out;
    }
    rc = LB_CLIENT_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    lb_client *c = ud;
    size_t n = size * nmemb;
    if (lb_buf_add(&c->answer, ptr, n) != 0) {
        c->answer_too_big = 1;
        return 0;
    }
    return n;
}

/* The fixed headers (and the token's, when set) as a new list; bin: the
 * body is binary (lb_proto.h). */
static struct curl_slist *make_headers(const char *auth, int bin)
{
    struct curl_slist *l = NULL, *t;
    static const char *const fixed[] = {"Content-Type: application/json",
                                        "Accept: " LB_PROTO_BIN_TYPE ", application/json",
                                        "Expect:", NULL};
    static const char *const fixed_bin[] = {"Content-Type: " LB_PROTO_BIN_TYPE,
                                            "Accept: " LB_PROTO_BIN_TYPE ", application/json",
                                            "Expect:", NULL};
    const char *const *h = bin ? fixed_bin : fixed;
    for (size_t i = 0; h[i]; i++) {
        if (!(t = curl_slist_append(l, h[i])))
            goto fail;
        l = t;
    }
    if (auth) {
        if (!(t = curl_slist_append(l, auth)))
            goto fail;
        l = t;
    }
    return l;
fail:
    curl_slist_free_all(l);
    return NULL;
}

static void wipe_headers(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

lb_client_rc lb_client_set_token(lb_client *c, const char *token)
{
    struct curl_slist *l, *lb;
    char *auth = NULL;
    size_t n = 0;
    if (token) {
        n = strlen(token) + sizeof "Authorization: Bearer ";
        if (!(auth = sodium_malloc(n)))
            return LB_CLIENT_NOMEM;
        snprintf(auth, n, "Authorization: Bearer %s", token);
    }
    l = make_headers(auth, 0);
    lb = make_headers(auth, 1);
    if (auth) {
        sodium_memzero(auth, n);
        sodium_free(auth);
    }
    if (!l || !lb) {
        wipe_headers(l);
        wipe_headers(lb);
        return LB_CLIENT_NOMEM;
    }
    wipe_headers(c->hdrs);
    wipe_headers(c->hdrs_bin);
    c->hdrs = l;
    c->hdrs_bin = lb;
    return LB_CLIENT_OK;
}

static long pick(long v, long dflt) { return v > 0 ? v : dflt; }

/* Options that stay the same for every request of the handle. */
static lb_client_rc setup_curl(lb_client *c)
{
    CURL *h = c->curl;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))
           != CURLE_OK;
#endif
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)LB_PROTO_MAX_BODY) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "linkbook-sync/1") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err) != CURLE_OK;
    if (c->ca_file)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
    if (c->pin && curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pin) != CURLE_OK)
        return lb_client_fail(c, LB_CLIENT_TLS, "this libcurl cannot pin a public key");
    if (bad)
        return lb_client_fail(c, LB_CLIENT_NOMEM, "libcurl refused an option");
    return LB_CLIENT_OK;
}

static char *dup_opt(const char *s, int *bad)
{
    char *d;
    if (!s)
        return NULL;
    if (!(d = strdup(s)))
        *bad = 1;
    return d;
}

lb_client_rc lb_client_new(const lb_client_opts *o, lb_client **out, char *msg, size_t msglen)
{
    lb_client *c;
    lb_client_rc rc;
    int bad = 0;
    if (msglen)
        msg[0] = '\0';
    if (!o->url || strlen(o->url) >= URL_MAX / 2)
        return LB_CLIENT_BAD_URL;
    if ((rc = check_url(o->url, o->insecure, msg, msglen)) != LB_CLIENT_OK)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c = calloc(1, sizeof *c)))
        return LB_CLIENT_NOMEM;
    c->url = dup_opt(o->url, &bad);
    c->ca_file = dup_opt(o->ca_file, &bad);
    c->pin = dup_opt(o->pin, &bad);
    c->insecure = o->insecure != 0;
    c->tries = o->tries > 0 ? o->tries : DEFAULT_TRIES;
    c->backoff_ms = o->backoff_ms < 0 ? 0 : pick(o->backoff_ms, DEFAULT_BACKOFF_MS);
    c->connect_ms = pick(o->connect_timeout_ms, DEFAULT_CONNECT_MS);
    c->timeout_ms = pick(o->timeout_ms, DEFAULT_TIMEOUT_MS);
    lb_buf_init(&c->answer, LB_PROTO_MAX_BODY);
    if (bad || !(c->curl = curl_easy_init()) || !(c->hdrs = make_headers(NULL, 0)) ||
        !(c->hdrs_bin = make_headers(NULL, 1))) {
        lb_client_free(c);
        return LB_CLIENT_NOMEM;
    }
    for (size_t n = strlen(c->url); n > 0 && c->url[n - 1] == '/'; n--)
        c->url[n - 1] = '\0';
    if ((rc = setup_curl(c)) != LB_CLIENT_OK) {
        snprintf(msg, msglen, "%s", c->msg);
        lb_client_free(c);
        return rc;
    }
    *out = c;
    return LB_CLIENT_OK;
}

void lb_client_free(lb_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    wipe_headers(c->hdrs);
    wipe_headers(c->hdrs_bin);
    lb_buf_wipe(&c->answer);
    free(c->url);
    free(c->ca_file);
    free(c->pin);
    free(c);
    curl_global_cleanup();
}

/* ---- one request ---- */

/* Add what the last transfer (with a body of len bytes) cost to the
 * counters.  CURLINFO_REQUEST_SIZE counts the body too when libcurl sent
 * it with the headers (7.88 always does for POSTFIELDS); add the body
 * only when it is plainly not included. */
static void count_transfer(lb_client *c, size_t len)
{
    long req = 0, hdr = 0;
    curl_off_t down = 0;
    uint64_t up;
    curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &req);
    curl_easy_getinfo(c->curl, CURLINFO_HEADER_SIZE, &hdr);
    curl_easy_getinfo(c->curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
    up = (uint64_t)(req > 0 ? req : 0);
    if (up < len)
        up += len;
    c->stats.requests++;
    c->stats.bytes_up += up;
    c->stats.bytes_down += (uint64_t)(hdr > 0 ? hdr : 0) + (uint64_t)(down > 0 ? down : 0);
}

/* One transfer: POST text (when not NULL; binary when bin) or GET url. */
static CURLcode perform_once(lb_client *c, const char *url, const char *text, size_t len,
                             int bin, long *status)
{
    CURL *h = c->curl;
    CURLcode cc;
    lb_buf_wipe(&c->answer);
    c->answer_too_big = 0;
    *status = 0;
    if ((cc = curl_easy_setopt(h, CURLOPT_URL, url)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, bin ? c->hdrs_bin : c->hdrs)) != CURLE_OK)
        return cc;
    if (text) {
        if ((cc = curl_easy_setopt(h, CURLOPT_POST, 1L)) != CURLE_OK ||
            (cc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len)) != CURLE_OK ||
            (cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, text)) != CURLE_OK)
            return cc;
    } else if ((cc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L)) != CURLE_OK) {
        return cc;
    }
    c->curl_err[0] = '\0';
    cc = curl_easy_perform(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    count_transfer(c, text ? len : 0);
    return cc;
}

/* What a transfer that failed below HTTP means. */
static lb_client_rc net_result(lb_client *c, CURLcode cc, unsigned flags, int *retry)
{
    const char *why = curl_easy_strerror(cc);
    *retry = 0;
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        *retry = 1; /* nothing reached the server */
        return lb_client_fail(c, LB_CLIENT_OFFLINE, "cannot connect to %s: %s", c->url, why);
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        *retry = !(flags & LB_CLIENT_ONCE);
        return lb_client_fail(c, LB_CLIENT_OFFLINE, "the connection to %s failed: %s",
                              c->url, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        /* libcurl's own text says which check failed (issuer, name, pin). */
        return lb_client_fail(c, LB_CLIENT_TLS, "%s was not trusted: %s", c->url,
                              c->curl_err[0] ? c->curl_err : why);
    case CURLE_OUT_OF_MEMORY:
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        return lb_client_fail(c, LB_CLIENT_PROTOCOL, "the server's answer was larger "
                              "than %u bytes", (unsigned)LB_PROTO_MAX_BODY);
    default:
        return lb_client_fail(c, LB_CLIENT_PROTOCOL, "talking to %s failed: %s", c->url, why);
    }
}

/* The server's "error" text of the current answer, with control
 * characters replaced, into out ("" if none). */
static void server_error(const lb_client *c, char *out, size_t cap)
{
    json_t *j = c->answer.data ? json_loadb(c->answer.data, c->answer.len, 0, NULL) : NULL;
    const char *e = json_string_value(json_object_get(j, "error"));
    size_t i = 0;
    for (; e && e[i] && i + 1 < cap; i++)
        out[i] = ((unsigned char)e[i] < 0x20 || e[i] == 0x7f) ? '?' : e[i];
    out[i] = '\0';
    json_decref(j);
}

/* What an HTTP status means. */
static lb_client_rc status_result(lb_client *c, long status, unsigned flags, int *retry)
{
    char err[256];
    *retry = 0;
    if (status >= 200 && status < 300)
        return LB_CLIENT_OK;
    server_error(c, err, sizeof err);
    if (!err[0])
        snprintf(err, sizeof err, "no reason given");
    switch (status) {
    case 401: return lb_client_fail(c, LB_CLIENT_REFUSED, "%s", err);
    case 403: return lb_client_fail(c, LB_CLIENT_FORBIDDEN, "%s", err);
    case 413: return lb_client_fail(c, LB_CLIENT_TOO_LARGE, "%s", err);
    case 502:
    case 503:
    case 504:
        *retry = !(flags & LB_CLIENT_ONCE);
        return lb_client_fail(c, LB_CLIENT_OFFLINE, "%s is unavailable (HTTP %ld: %s)",
                              c->url, status, err);
    default:
        *retry = status >= 500 && !(flags & LB_CLIENT_ONCE);
        return lb_client_fail(c, LB_CLIENT_HTTP, "the server answered HTTP %ld: %s",
                              status, err);
    }
}

/* Sleep before retry number k (0, 1, ...): backoff * 2^k capped, with
 * jitter: a uniform pick in [d/2, d]. */
static void backoff(const lb_client *c, int k)
{
    long d = c->backoff_ms;
    struct timespec ts;
    if (d <= 0)
        return;
    for (int i = 0; i < k && d < MAX_BACKOFF_MS; i++)
        d *= 2;
    if (d > MAX_BACKOFF_MS)
        d = MAX_BACKOFF_MS;
    d = d / 2 + (long)randombytes_uniform((uint32_t)(d / 2 + 1));
    ts.tv_sec = d / 1000;
    ts.tv_nsec = (d % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* The answer as a JSON object. */
static lb_client_rc parse_answer(lb_client *c, json_t **resp)
{
    json_error_t e;
    json_t *j = c->answer.data ? json_loadb(c->answer.data, c->answer.len, 0, &e) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return lb_client_fail(c, LB_CLIENT_PROTOCOL, "the server's answer was not a JSON "
                              "object (is %s a linkbook server?)", c->url);
    }
    *resp = j;
    return LB_CLIENT_OK;
}

/* POST text (len bytes; binary when bin) or GET path, with retries; on
 * LB_CLIENT_OK the answer is in c->answer. */
static lb_client_rc exchange(lb_client *c, const char *path, const char *text, size_t len,
                             int bin, unsigned flags, long *status)
{
    char url[URL_MAX];
    long st = 0;
    int retry = 0;
    lb_client_rc rc = LB_CLIENT_OFFLINE;
    lb_client_clear(c);
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->url, path) >= sizeof url)
        return lb_client_fail(c, LB_CLIENT_BAD_URL, "the URL is too long");
    if (text && len > LB_PROTO_MAX_BODY)
        return lb_client_fail(c, LB_CLIENT_TOO_LARGE, "the request is larger than %u bytes",
                              (unsigned)LB_PROTO_MAX_BODY);
    for (int k = 0; k < c->tries; k++) {
        if (k > 0)
            backoff(c, k - 1);
        CURLcode cc = perform_once(c, url, text, len, bin, &st);
        rc = cc == CURLE_OK ? status_result(c, st, flags, &retry)
                            : net_result(c, cc, flags, &retry);
        if (!retry)
            break;
    }
    if (status)
        *status = st;
    return rc;
}

static lb_client_rc request(lb_client *c, const char *path, const json_t *body,
                            unsigned flags, long *status, json_t **resp)
{
    char *text = NULL;
    size_t len = 0;
    lb_client_rc rc;
    if (body && !(text = json_dumps(body, JSON_COMPACT)))
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    if (text)
        len = strlen(text);
    rc = exchange(c, path, text, len, 0, flags, status);
    if (rc == LB_CLIENT_OK)
        rc = parse_answer(c, resp);
    if (text) {
        sodium_memzero(text, len);
        free(text);
    }
    lb_buf_wipe(&c->answer);
    return rc;
}

/* POST data (len bytes; binary when bin, else JSON text) to a route that
 * answers a binary body, moved into *ans on success. */
static lb_client_rc post_for_bin(lb_client *c, const char *path, const char *data, size_t len,
                                 int bin, unsigned flags, long *status, lb_buf *ans)
{
    lb_client_rc rc = exchange(c, path, data, len, bin, flags, status);
    if (rc == LB_CLIENT_OK && (!c->answer.data || c->answer.len < LB_PROTO_MAGIC_LEN ||
                               memcmp(c->answer.data, LB_PROTO_MAGIC, LB_PROTO_MAGIC_LEN)))
        rc = lb_client_fail(c, LB_CLIENT_PROTOCOL, "the server's answer was not a binary "
                            "linkbook body (is %s a linkbook server of protocol version %d?)",
                            c->url, LB_PROTO_VERSION);
    if (rc != LB_CLIENT_OK) {
        lb_buf_wipe(&c->answer);
        return rc;
    }
    *ans = c->answer;   /* the caller owns it now */
    lb_buf_init(&c->answer, LB_PROTO_MAX_BODY);
    return LB_CLIENT_OK;
}

static void free_text(char *text)
{
    if (text) {
        sodium_memzero(text, strlen(text));
        free(text);
    }
}

lb_client_rc lb_client_post_bin(lb_client *c, const char *path, const json_t *doc,
                                const void *body, size_t len, unsigned flags, long *status,
                                lb_buf *ans)
{
    char *text = NULL;
    lb_client_rc rc;
    if (!body && !(text = json_dumps(doc, JSON_COMPACT)))
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    rc = post_for_bin(c, path, text ? text : body, text ? strlen(text) : len, text == NULL,
                      flags, status, ans);
    free_text(text);
    return rc;
}

/* ---- a request in flight ---- */

struct lb_client_call {
    lb_client *c;
    pthread_t thread;
    int threaded;           /* 0: it ran at start, without a thread */
    const char *path;
    const void *body;
    char *text;             /* the JSON request, when doc was given */
    size_t len;
    unsigned flags;
    lb_client_rc rc;
    long status;
    lb_buf ans;
};

static void *call_run(void *arg)
{
    lb_client_call *k = arg;
    k->rc = post_for_bin(k->c, k->path, k->text ? k->text : k->body,
                         k->text ? strlen(k->text) : k->len, k->text == NULL, k->flags,
                         &k->status, &k->ans);
    return NULL;
}

lb_client_rc lb_client_post_bin_start(lb_client *c, const char *path, const json_t *doc,
                                      const void *body, size_t len, unsigned flags,
                                      lb_client_call **out)
{
    lb_client_call *k = calloc(1, sizeof *k);
    if (!k)
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    k->c = c, k->path = path, k->body = body, k->len = len, k->flags = flags;
    lb_buf_init(&k->ans, LB_PROTO_MAX_BODY);
    if (!body && !(k->text = json_dumps(doc, JSON_COMPACT))) {
        free(k);
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    }
    k->threaded = pthread_create(&k->thread, NULL, call_run, k) == 0;
    if (!k->threaded)
        call_run(k);   /* no thread to be had: the same request, now */
    *out = k;
    return LB_CLIENT_OK;
}

lb_client_rc lb_client_post_bin_wait(lb_client_call *k, long *status, lb_buf *ans)
{
    lb_client_rc rc;
    if (k->threaded)
        pthread_join(k->thread, NULL);
    rc = k->rc;
    if (status)
        *status = k->status;
    if (rc == LB_CLIENT_OK && ans)
        *ans = k->ans;
    else
        lb_buf_wipe(&k->ans);
    free_text(k->text);
    free(k);
    return rc;
}

lb_client_rc lb_client_post(lb_client *c, const char *path, const json_t *body,
                            unsigned flags, long *status, json_t **resp)
{
    return request(c, path, body, flags, status, resp);
}

lb_client_rc lb_client_get(lb_client *c, const char *path, long *status, json_t **resp)
{
    return request(c, path, NULL, 0, status, resp);
}
