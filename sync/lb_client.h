/* lb_client.h - the device's side of the network: an HTTP client for the
 * linkbook sync protocol (sync/lb_proto.h) on libcurl, and the operations
 * built on it (enrolment, a full sync, key rotation after a revoke).
 *
 * A client handle holds one CURL easy handle, reused for every request so
 * that one sync keeps one connection alive.  It is not thread-safe: one
 * handle per thread (lb_client_post_bin_start lends it to a thread of its
 * own until lb_client_post_bin_wait).  Nothing here prints or exits; nothing here logs a
 * request or answer body or the device token.
 *
 * Transport rules:
 *   - https:// verifies the server's certificate and host name (always; the
 *     insecure flag does not turn that off), against the system's CA store
 *     or opts.ca_file, and against opts.pin (a CURLOPT_PINNEDPUBLICKEY
 *     value, e.g. "sha256//BASE64") when set.
 *   - plain http:// is refused unless the host is loopback (127.0.0.0/8,
 *     ::1, localhost) or opts.insecure is set.
 *   - no redirects are followed; connect timeout 5 s, whole request 60 s.
 *   - a connection failure, a timeout and a 5xx answer are retried with
 *     exponential backoff and jitter (3 tries, 0.2 s then 0.4 s... capped at
 *     1.6 s); requests that are not safe to repeat (LB_CLIENT_ONCE) are
 *     retried only when the connection was never made.
 *   - answers are read up to LB_PROTO_MAX_BODY bytes and must be JSON, or
 *     for push and pull binary bodies (lb_proto.h).
 *
 * Results: every function returns an lb_client_rc.  LB_CLIENT_OFFLINE
 * means the server could not be reached (or said it is unavailable): the
 * caller's work is kept and a later sync moves it.  lb_client_errmsg()
 * says what happened in words (the server's "error" text when it sent
 * one); lb_client_store_err() is the lb_err of a failed store call when
 * the result is LB_CLIENT_STORE (the detail is then lb_store_errmsg()).
 */
#ifndef LB_CLIENT_H
#define LB_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lb_err.h"
#include "lb_store.h"
#include "lb_buf.h"

typedef enum lb_client_rc {
    LB_CLIENT_OK = 0,
    LB_CLIENT_OFFLINE,    /* cannot connect, timed out, 502/503/504: work kept */
    LB_CLIENT_REFUSED,    /* 401: the device token was refused (revoked?) */
    LB_CLIENT_FORBIDDEN,  /* 403: not allowed (not a supervisor, bad code) */
    LB_CLIENT_TOO_LARGE,  /* 413: the request was too large */
    LB_CLIENT_NOKEY,      /* this device holds no team key yet: work kept */
    LB_CLIENT_TLS,        /* certificate, host name or pinned key refused */
    LB_CLIENT_INSECURE,   /* plain http:// to a host that is not loopback */
    LB_CLIENT_BAD_URL,    /* not an http(s) URL */
    LB_CLIENT_HTTP,       /* another error status from the server */
    LB_CLIENT_PROTOCOL,   /* the answer was not what the protocol says */
    LB_CLIENT_STORE,      /* a store call failed (lb_client_store_err) */
    LB_CLIENT_NOMEM
} lb_client_rc;

/* A static description of rc; never NULL. */
const char *lb_client_strerror(lb_client_rc rc);

typedef struct lb_client_opts {
    const char *url;        /* base URL: "https://sync.example.org" */
    int insecure;           /* allow plain http:// to any host */
    const char *ca_file;    /* PEM bundle to verify with (NULL: system) */
    const char *pin;        /* pinned public key (NULL: none) */
    int tries;              /* attempts per request (0: 3) */
    long backoff_ms;        /* first retry delay (0: 200; negative: none) */
    long connect_timeout_ms;/* 0: 5000 */
    long timeout_ms;        /* 0: 60000 */
} lb_client_opts;

typedef struct lb_client_stats {
    uint64_t requests;      /* HTTP requests made (retries included) */
    uint64_t bytes_up;      /* request headers and bodies */
    uint64_t bytes_down;    /* answer headers and bodies */
} lb_client_stats;

typedef struct lb_client lb_client;

/* A new client for opts->url (copied).  opts->insecure is remembered
 * for lb_client_enrol (lb_sync_enrolled keeps it).  Checks the URL and the http://
 * rule at once: LB_CLIENT_BAD_URL or LB_CLIENT_INSECURE with a message in
 * msg.  Free with lb_client_free (NULL is fine). */
lb_client_rc lb_client_new(const lb_client_opts *opts, lb_client **out, char *msg,
                           size_t msglen);
void lb_client_free(lb_client *c);

/* Use token (copied into locked memory, wiped on free or replace) as the
 * bearer token of every later request; NULL removes it. */
lb_client_rc lb_client_set_token(lb_client *c, const char *token);

/* Flags of a request. */
enum { LB_CLIENT_ONCE = 1 /* not safe to repeat once it reached the server */ };

/* POST body (JSON) to path ("/v1/push"), or GET path.  On LB_CLIENT_OK
 * (a 2xx answer) *resp is the parsed answer (new reference, caller
 * decrefs).  *status (may be NULL) is the HTTP status, 0 if none came.
 * Error statuses give the matching lb_client_rc with the server's
 * "error" text in lb_client_errmsg(). */
lb_client_rc lb_client_post(lb_client *c, const char *path, const json_t *body,
                            unsigned flags, long *status, json_t **resp);
lb_client_rc lb_client_get(lb_client *c, const char *path, long *status, json_t **resp);

/* POST to a route whose answer is binary (lb_proto.h: push, pull): the
 * request is body (len bytes, binary) when not NULL, else the JSON document
 * doc.  On LB_CLIENT_OK *ans is the answer, which starts with the binary
 * magic; the caller owns it and releases it with lb_buf_wipe.  Errors are
 * JSON as for lb_client_post. */
lb_client_rc lb_client_post_bin(lb_client *c, const char *path, const json_t *doc,
                                const void *body, size_t len, unsigned flags, long *status,
                                lb_buf *ans);

/* The same request in flight on a thread of its own, so that the caller
 * can work meanwhile (build the next push, apply the last pull): start it,
 * then wait for its result, which is lb_client_post_bin's.  body (and
 * path) must stay valid until the wait; between start and wait the caller
 * must not use the handle at all.  Every started call must be waited for
 * (pass ans NULL to drop the answer). */
typedef struct lb_client_call lb_client_call;
lb_client_rc lb_client_post_bin_start(lb_client *c, const char *path, const json_t *doc,
                                      const void *body, size_t len, unsigned flags,
                                      lb_client_call **call);
lb_client_rc lb_client_post_bin_wait(lb_client_call *call, long *status, lb_buf *ans);

/* What the last failure was, in words ("" after success). */
const char *lb_client_errmsg(const lb_client *c);
lb_err lb_client_store_err(const lb_client *c);

/* Requests and bytes since the handle was made. */
void lb_client_stats_get(const lb_client *c, lb_client_stats *out);

/* The base URL the handle talks to. */
const char *lb_client_url(const lb_client *c);

/* ---- operations (lb_client_sync.c) ---- */

/* Read the store's device token (lb_sync_token) into the handle. */
lb_client_rc lb_client_use_store_token(lb_client *c, lb_store *s);

/* Enrol the store's device with a one-time code: make the device key,
 * POST /v1/enrol, keep the answer (lb_sync_enrolled).  *resp (may be
 * NULL) receives the server's answer without its token (new reference)
 * for the caller to show.  A store enrolled before may enrol again in the
 * same team (a revoked device, with its unsynced work); lb_sync_enrolled
 * refuses another team (LB_CLIENT_STORE with LB_ERR_EXISTS), after the
 * server has taken the code. */
lb_client_rc lb_client_enrol(lb_client *c, lb_store *s, const char *code,
                             const char *device_name, json_t **resp);

/* Progress of a long sync: phase is "push" or "pull"; done so far and the
 * total when known (0 when not). */
typedef void (*lb_client_progress)(void *ctx, const char *phase, size_t done, size_t total);

typedef struct lb_client_report {
    size_t pushed;          /* changes the server acknowledged */
    size_t push_rejected;   /* changes the server refused */
    size_t pulled;          /* changes applied from the server */
    size_t rejected;        /* pulled envelopes refused by this device */
    size_t pending;         /* changes still waiting to be pushed */
    size_t keys_sealed;     /* team keys sealed to other devices */
    int key_made;           /* this sync made the team's first key */
    lb_client_stats net;    /* what this sync cost on the wire */
} lb_client_report;

/* One full sync of an enrolled store (token and URL from the store):
 * fetch team keys if the device has none (a supervisor whose team has no
 * key yet makes key 1), push the outbox in batches (a 413 halves the
 * batch), pull until "more" is false (applying each answer with its
 * cursors in one transaction), and, on a supervisor's device, seal the
 * team keys to devices the server says lack them.  With nothing to push
 * and nothing new it is one request.  *rep is filled as far as the sync
 * got, also on failure.  progress may be NULL. */
lb_client_rc lb_client_sync(lb_client *c, lb_store *s, lb_client_progress progress,
                            void *ctx, lb_client_report *rep);

/* Supervisor: revoke device (a full id), then rotate the team key: make
 * the next key, seal it to every device of the team that is not revoked,
 * POST it as current.  *revoked is set once the server took the revoke
 * (a later failure is in the rotation); *new_key receives the new key's
 * id (0 if none was made).  A key made but not accepted by the server is
 * sent again by the supervisor's next lb_client_sync. */
lb_client_rc lb_client_revoke(lb_client *c, lb_store *s, const char *device,
                              int *revoked, int64_t *new_key);

/* Whether a device's "revoked" value in GET /v1/team/devices says revoked:
 * true, a non-empty date or a non-zero time. */
int lb_client_is_revoked(const json_t *v);

/* Seal team key key_id to every device in a GET /v1/team/devices answer
 * that is not revoked, and POST them with current = key_id. */
lb_client_rc lb_client_key_distribute(lb_client *c, lb_store *s, int64_t key_id,
                                      const json_t *devices);

#endif
