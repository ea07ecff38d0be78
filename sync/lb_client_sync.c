/* lb_client_sync.c - what a device does over the network (lb_client.h):
 * enrolment, one full sync, revoking a device and rotating the team key.
 *
 * The store side is core/lb_sync.h; the wire format is sync/lb_proto.h.
 * A sync is ordered so that the common cases cost the fewest requests:
 *   - a device that holds a team key pushes its outbox (none if empty),
 *     then pulls until "more" is false: an idle sync is one pull;
 *   - the team key is fetched (GET /v1/keys) only when the device holds
 *     none, or a pull answer names a newer key than it holds (a rotation);
 *     nothing is applied with keys missing, so no envelope is rejected for
 *     want of a key and no cursor moves past it;
 *   - a supervisor seals keys to devices only when a pull lists them as
 *     "pending", makes key 1 only when the server's key id is 0, and puts
 *     a key it holds but the server does not know (a rotation cut short)
 *     back on the server.
 * Both directions keep the network and the store busy at once: a push
 * batch is in flight (lb_client_post_bin_start) while the next is sealed
 * from the outbox after it, and the next pull answer is asked for while
 * the last one applies (with the cursors it will leave; when they come out
 * otherwise, a key was missing or the epoch changed, that answer is
 * dropped).  While a request is in flight only the store is touched; a
 * failure meanwhile is reported once the request is back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_buf.h"
#include "lb_proto.h"
#include "lb_sync.h"
#include "lb_team.h"
#include "lb_client_priv.h"

#define PUSH_MAX_COUNT 2000          /* LB_PROTO_MAX_BATCH */
#define PUSH_MAX_BYTES (2u << 20)    /* sealed bytes in one push */

lb_client_rc lb_client_use_store_token(lb_client *c, lb_store *s)
{
    char *tok = NULL;
    lb_client_rc rc;
    lb_err err = lb_sync_token(s, &tok);
    if (err != LB_OK)
        return lb_client_store_fail(c, s, err, "could not read the device token");
    rc = lb_client_set_token(c, tok);
    lb_sync_token_free(tok);
    return rc;
}

/* ---- enrolment ---- */

static lb_client_rc enrol_body(lb_client *c, lb_store *s, const char *code,
                               const char *name, json_t **body)
{
    unsigned char pk[LB_SYNC_PK_LEN];
    char *pk64;
    lb_err err = lb_sync_device_key(s, pk);
    if (err != LB_OK)
        return lb_client_store_fail(c, s, err, "could not make the device key");
    if (!(pk64 = lb_proto_b64(pk, sizeof pk)))
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    *body = json_pack("{s:s, s:s, s:s}", "code", code, "device_key", pk64,
                      "device_name", name);
    free(pk64);
    return *body ? LB_CLIENT_OK : lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
}

lb_client_rc lb_client_enrol(lb_client *c, lb_store *s, const char *code,
                             const char *device_name, json_t **resp_out)
{
    json_t *body = NULL, *resp = NULL;
    lb_client_rc rc;
    lb_err err;
    if ((rc = enrol_body(c, s, code, device_name, &body)) != LB_CLIENT_OK ||
        (rc = lb_client_set_token(c, NULL)) != LB_CLIENT_OK)
        goto out;
    rc = lb_client_post(c, "/v1/enrol", body, LB_CLIENT_ONCE, NULL, &resp);
    if (rc != LB_CLIENT_OK)
        goto out;
    if (!json_is_string(json_object_get(resp, "device")) ||
        !json_is_string(json_object_get(resp, "token"))) {
        rc = lb_client_fail(c, LB_CLIENT_PROTOCOL, "the enrolment answer has no device "
                            "id or token");
        goto out;
    }
    err = lb_sync_enrolled(s, lb_client_url(c), lb_client_insecure(c), resp);
    if (err != LB_OK) {
        rc = lb_client_store_fail(c, s, err, "could not keep the enrolment");
        goto out;
    }
    json_object_del(resp, "token"); /* the caller has no use for it */
    if (resp_out)
        *resp_out = json_incref(resp);
out:
    json_decref(body);
    json_decref(resp);
    return rc;
}

/* ---- key distribution ---- */

/* Append {"device", "key", "sealed"} sealing key_id to device_key. */
static lb_client_rc add_sealed(lb_client *c, lb_store *s, json_t *keys, const char *device,
                               const char *device_key, int64_t key_id)
{
    char *sealed = NULL;
    lb_err err = lb_sync_key_seal_for(s, key_id, device_key, &sealed);
    if (err != LB_OK)
        return lb_client_store_fail(c, s, err, "could not seal the team key");
    json_t *k = json_pack("{s:s, s:I, s:s}", "device", device, "key", (json_int_t)key_id,
                          "sealed", sealed);
    free(sealed);
    if (!k || json_array_append_new(keys, k) != 0)
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    return LB_CLIENT_OK;
}

/* POST /v1/keys {"keys": keys, "current": current}. */
static lb_client_rc post_keys(lb_client *c, json_t *keys, int64_t current)
{
    json_t *resp = NULL;
    json_t *body = json_pack("{s:O, s:I}", "keys", keys, "current", (json_int_t)current);
    lb_client_rc rc;
    if (!body)
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    rc = lb_client_post(c, "/v1/keys", body, 0, NULL, &resp);
    json_decref(body);
    json_decref(resp);
    return rc;
}

int lb_client_is_revoked(const json_t *v)
{
    if (json_is_true(v))
        return 1;
    if (json_is_string(v))
        return json_string_value(v)[0] != '\0';
    return json_is_integer(v) && json_integer_value(v) != 0;
}

lb_client_rc lb_client_key_distribute(lb_client *c, lb_store *s, int64_t key_id,
                                      const json_t *devices)
{
    json_t *list = json_object_get(devices, "devices"), *d, *keys = json_array();
    lb_client_rc rc = LB_CLIENT_OK;
    size_t i;
    if (!keys)
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    if (!json_is_array(list)) {
        rc = lb_client_fail(c, LB_CLIENT_PROTOCOL, "the device list has no \"devices\"");
        goto out;
    }
    json_array_foreach(list, i, d) {
        const char *id = json_string_value(json_object_get(d, "device"));
        const char *dk = json_string_value(json_object_get(d, "device_key"));
        if (!id || !dk || lb_client_is_revoked(json_object_get(d, "revoked")))
            continue;
        if ((rc = add_sealed(c, s, keys, id, dk, key_id)) != LB_CLIENT_OK)
            goto out;
    }
    rc = post_keys(c, keys, key_id);
out:
    json_decref(keys);
    return rc;
}

/* GET /v1/team/devices, then lb_client_key_distribute. */
static lb_client_rc distribute_to_team(lb_client *c, lb_store *s, int64_t key_id)
{
    json_t *devices = NULL;
    lb_client_rc rc = lb_client_get(c, "/v1/team/devices", NULL, &devices);
    if (rc == LB_CLIENT_OK)
        rc = lb_client_key_distribute(c, s, key_id, devices);
    json_decref(devices);
    return rc;
}

/* GET /v1/keys and keep every key this device can open. */
static lb_client_rc fetch_keys(lb_client *c, lb_store *s)
{
    json_t *resp = NULL;
    int added = 0;
    lb_client_rc rc = lb_client_get(c, "/v1/keys", NULL, &resp);
    if (rc == LB_CLIENT_OK) {
        lb_err err = lb_sync_keys_add(s, resp, &added);
        if (err != LB_OK)
            rc = lb_client_store_fail(c, s, err, "could not keep the team keys");
    }
    json_decref(resp);
    return rc;
}

lb_client_rc lb_client_revoke(lb_client *c, lb_store *s, const char *device,
                              int *revoked, int64_t *new_key)
{
    json_t *body = json_pack("{s:s}", "device", device), *resp = NULL;
    int64_t id = 0;
    lb_client_rc rc;
    lb_err err;
    *new_key = 0;
    *revoked = 0;
    if (!body)
        return lb_client_fail(c, LB_CLIENT_NOMEM, "out of memory");
    if ((rc = lb_client_use_store_token(c, s)) != LB_CLIENT_OK ||
        (rc = lb_client_post(c, "/v1/team/revoke", body, 0, NULL, &resp)) != LB_CLIENT_OK)
        goto out;
    *revoked = 1;
    /* Hold the newest key first, so that the new one comes after it. */
    if ((rc = fetch_keys(c, s)) != LB_CLIENT_OK)
        goto out;
    if ((err = lb_sync_key_new(s, &id)) != LB_OK) {
        rc = lb_client_store_fail(c, s, err, "could not make the new team key");
        goto out;
    }
    *new_key = id;
    rc = distribute_to_team(c, s, id);
out:
    json_decref(body);
    json_decref(resp);
    return rc;
}

/* ---- one sync ---- */

typedef struct sync_run {
    lb_client *c;
    lb_store *s;
    const char *device;     /* this device's id */
    int supervisor;
    int64_t held;           /* newest team key this device holds */
    int keys_fetched;       /* GET /v1/keys done in this run */
    int key_restored;       /* a key the server lacked was put back */
    json_t *pending;        /* the last pull's "pending" devices */
    int roster_asked;       /* a pull of this sync asked for the roster */
    int64_t server_key;     /* the last pull's "key" (-1: not said) */
    const char *epoch;      /* the server epoch this device knew at the start */
    int news;               /* the last push answer's "news": 1, 0, -1 not said */
    lb_client_progress progress;
    void *ctx;
    lb_client_report *rep;
} sync_run;

static lb_client_rc refresh_held(sync_run *r)
{
    lb_sync_info info;
    lb_err err = lb_sync_info_get(r->s, &info);
    if (err != LB_OK)
        return lb_client_store_fail(r->c, r->s, err, "could not read the team keys");
    r->held = info.key;
    lb_sync_info_clear(&info);
    return LB_CLIENT_OK;
}

static lb_client_rc fetch_keys_once(sync_run *r)
{
    lb_client_rc rc;
    if (r->keys_fetched)
        return LB_CLIENT_OK;
    r->keys_fetched = 1;
    if ((rc = fetch_keys(r->c, r->s)) != LB_CLIENT_OK)
        return rc;
    return refresh_held(r);
}

/* What a push answer's control document says about the pull to follow
 * (see sync_steps). */
static void note_news(sync_run *r, const json_t *ctl)
{
    const json_t *news = json_object_get(ctl, "news"), *key = json_object_get(ctl, "key");
    const char *epoch = json_string_value(json_object_get(ctl, "epoch"));
    r->news = -1;
    if (json_is_boolean(news) && json_is_integer(key) && epoch && r->epoch &&
        strcmp(epoch, r->epoch) == 0 && json_integer_value(key) <= r->held)
        r->news = json_is_true(news);
}

/* A push answer with no news may move the cursors past the worker's own
 * envelopes ("cursors" in its control frame): kept as an empty pull answer
 * would keep them, so that later pushes do not make the server look through
 * them again. */
static lb_client_rc keep_moved_cursors(sync_run *r, const json_t *ctl)
{
    const json_t *cursors = json_object_get(ctl, "cursors"), *v;
    const char *caseload;
    lb_sync_pull *p = NULL;
    size_t applied = 0, rejected = 0;
    lb_err err;
    if (!json_is_object(cursors))
        return LB_CLIENT_OK;
    err = lb_sync_pull_begin(r->s, json_string_value(json_object_get(ctl, "epoch")), &p);
    json_object_foreach((json_t *)cursors, caseload, v)
        if (!err)
            err = json_is_integer(v) ? lb_sync_pull_cursor(p, caseload, json_integer_value(v))
                                     : LB_ERR_INVALID;
    if (p) {
        lb_err end = lb_sync_pull_end(p, err == LB_OK, &applied, &rejected);
        err = err ? err : end;
    }
    if (err != LB_OK)
        return lb_client_store_fail(r->c, r->s, err, "could not keep the cursors");
    return LB_CLIENT_OK;
}

/* The first frame of a binary answer: its control document (new
 * reference).  LB_CLIENT_PROTOCOL when it is not there. */
static lb_client_rc answer_control(sync_run *r, const lb_buf *ans, lb_proto_reader *rd,
                                   json_t **ctl)
{
    lb_proto_frame f;
    char msg[160] = "the answer has no control frame";
    if (lb_proto_bin_open(rd, ans->data, ans->len, msg, sizeof msg) != LB_OK ||
        lb_proto_next(rd, &f, msg, sizeof msg) != 1 || f.type != LB_PROTO_FRAME_JSON ||
        lb_proto_json_view(&f, ctl, msg, sizeof msg) != LB_OK)
        return lb_client_fail(r->c, LB_CLIENT_PROTOCOL, "the server's answer did not follow "
                              "the protocol: %s", msg);
    return LB_CLIENT_OK;
}

/* The acks and refusals of a push answer after its control frame: ids of
 * the acknowledged changes into ids (room for max), *n of them. */
static lb_client_rc read_acks(sync_run *r, lb_proto_reader *rd, char (*ids)[LB_PROTO_ID_LEN + 1],
                              size_t max, size_t *n)
{
    lb_proto_frame f;
    char msg[160];
    int rc;
    *n = 0;
    while ((rc = lb_proto_next(rd, &f, msg, sizeof msg)) == 1) {
        if (f.type == LB_PROTO_FRAME_REJECT) {
            r->rep->push_rejected++;
            continue;
        }
        if (f.type != LB_PROTO_FRAME_ACK) {
            snprintf(msg, sizeof msg, "a push answer holds a frame of type 0x%02x",
                     (unsigned)f.type);
            rc = -1;
        } else if (*n == max) {
            snprintf(msg, sizeof msg, "a push answer acknowledges more changes than were sent");
            rc = -1;
        } else if (lb_proto_ack_view(&f, ids[*n], msg, sizeof msg) == LB_OK) {
            (*n)++;
            continue;
        }
        break;
    }
    if (rc < 0)
        return lb_client_fail(r->c, LB_CLIENT_PROTOCOL, "the server's answer did not follow "
                              "the protocol: %s", msg);
    return LB_CLIENT_OK;
}

/* Mark what a push answer acknowledged; *acked how many were waiting. */
static lb_client_rc push_answered(sync_run *r, const lb_buf *ans, size_t sent, size_t *acked)
{
    lb_proto_reader rd;
    json_t *ctl = NULL;
    char (*ids)[LB_PROTO_ID_LEN + 1] = calloc(sent + 1, sizeof *ids);
    size_t n = 0;
    lb_client_rc rc = ids ? answer_control(r, ans, &rd, &ctl)
                          : lb_client_fail(r->c, LB_CLIENT_NOMEM, "out of memory");
    lb_err err;
    if (rc == LB_CLIENT_OK)
        rc = read_acks(r, &rd, ids, sent, &n);
    if (rc == LB_CLIENT_OK) {
        note_news(r, ctl);
        err = lb_sync_acked_ids(r->s, json_string_value(json_object_get(ctl, "epoch")),
                                (const char (*)[LB_PROTO_ID_LEN + 1])ids, n, acked);
        if (err != LB_OK)
            rc = lb_client_store_fail(r->c, r->s, err, "could not mark pushed changes");
        else if (r->news == 0)
            rc = keep_moved_cursors(r, ctl);
    }
    json_decref(ctl);
    free(ids);
    return rc;
}

/* One envelope of the outbox as a frame of the push body (ctx). */
static int push_frame(void *ctx, const lb_sync_envelope *se)
{
    lb_envelope e;
    memset(&e, 0, sizeof e);
    memcpy(e.id, se->id, sizeof e.id);
    memcpy(e.person, se->person, sizeof e.person);
    e.key = se->key;
    e.has_assign = se->has_assign;
    if (se->has_assign)
        memcpy(e.assign_caseload, se->caseload, sizeof e.assign_caseload);
    e.assign_active = se->active;
    e.body = (unsigned char *)(uintptr_t)se->body;   /* read only */
    e.body_len = se->body_len;
    return lb_proto_put_envelope(ctx, &e);
}

/* Put a worker's cursors in the control frame of body, right after the
 * magic: the answer then tells whether a pull would bring anything (the
 * server reads past the device's own envelopes to tell, so only the batch
 * that empties the outbox asks). */
static lb_err push_cursors(sync_run *r, lb_buf *body)
{
    json_t *cursors = NULL, *ctl = NULL;
    lb_buf frame;
    size_t old = body->len;
    lb_err err = lb_sync_cursors(r->s, &cursors);
    if (err)
        return err;
    lb_buf_init(&frame, LB_PROTO_MAX_BODY);
    ctl = json_pack("{s:o}", "cursors", cursors);
    if (!ctl || lb_proto_put_json(&frame, ctl) || lb_buf_add(body, frame.data, frame.len))
        err = LB_ERR_NOMEM;
    if (!err) {
        memmove(body->data + LB_PROTO_MAGIC_LEN + frame.len, body->data + LB_PROTO_MAGIC_LEN,
                old - LB_PROTO_MAGIC_LEN);
        memcpy(body->data + LB_PROTO_MAGIC_LEN, frame.data, frame.len);
    }
    json_decref(ctl);
    lb_buf_wipe(&frame);
    return err;
}

/* One batch of the push: its body, the outbox positions it covers. */
typedef struct batch {
    lb_buf body;
    int64_t from, to;       /* after from, up to to */
    size_t n;               /* envelopes */
    int more;               /* the outbox holds more after it */
} batch;

/* Build the batch after from into b: the store only, never the client
 * handle (a request may be in flight meanwhile).  b->n 0: nothing left. */
static lb_err push_build(sync_run *r, batch *b, int64_t from, size_t count, size_t bytes)
{
    lb_err err;
    b->body.len = 0;
    b->from = b->to = from;
    b->n = 0;
    b->more = 0;
    if (lb_proto_bin_start(&b->body))
        return LB_ERR_NOMEM;
    err = lb_sync_outbox_each(r->s, &b->to, count, bytes, push_frame, &b->body, &b->n,
                              &b->more);
    if (err == LB_ERR_LOCKED) {
        b->n = 0; /* no team key: nothing can be sealed yet */
        return LB_OK;
    }
    if (!err && b->n > 0 && !b->more && !r->supervisor)
        err = push_cursors(r, &b->body);
    return err;
}

/* Send batch b and, while the server stores it, build the one after it
 * into next (when there is more).  *too_large when the server said 413. */
static lb_client_rc push_send(sync_run *r, batch *b, batch *next, size_t count, size_t bytes,
                              int *too_large, size_t *acked)
{
    lb_client_call *call = NULL;
    lb_buf ans;
    lb_err built = LB_OK;
    lb_client_rc rc = lb_client_post_bin_start(r->c, "/v1/push", NULL, b->body.data,
                                               b->body.len, 0, &call);
    *too_large = 0;
    *acked = 0;
    next->n = 0;
    if (rc != LB_CLIENT_OK)
        return rc;
    if (b->more)
        built = push_build(r, next, b->to, count, bytes);
    rc = lb_client_post_bin_wait(call, NULL, &ans);
    if (rc == LB_CLIENT_TOO_LARGE) {
        *too_large = 1;
        return rc;
    }
    if (rc != LB_CLIENT_OK)
        return rc;
    rc = push_answered(r, &ans, b->n, acked);
    lb_buf_wipe(&ans);
    if (rc == LB_CLIENT_OK && built != LB_OK)
        rc = lb_client_store_fail(r->c, r->s, built, "could not read the outbox");
    return rc;
}

/* A 413: halve the batch size, or say that one change is too large. */
static lb_client_rc push_smaller(sync_run *r, const batch *b, size_t *count, size_t *bytes,
                                 size_t *halvings)
{
    if (b->n <= 1)
        return lb_client_fail(r->c, LB_CLIENT_TOO_LARGE, "one change is larger than the "
                              "server accepts (%s)", lb_client_errmsg(r->c));
    if (++*halvings > 16)
        return lb_client_fail(r->c, LB_CLIENT_TOO_LARGE, "the server refused every batch "
                              "size as too large");
    *count = b->n / 2;
    *bytes = *bytes / 2 > 1024 ? *bytes / 2 : 1024;
    return LB_CLIENT_OK;
}

/* Push the outbox to its end, one batch in flight while the next is built;
 * envelopes the server refuses stay in the outbox. */
static lb_client_rc push_all(sync_run *r)
{
    size_t count = PUSH_MAX_COUNT, bytes = PUSH_MAX_BYTES, halvings = 0, acked, pending;
    batch a, b, *cur = &a, *next = &b, *t;
    lb_client_rc rc = LB_CLIENT_OK;
    lb_err err;
    int too_large;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    lb_buf_init(&a.body, LB_PROTO_MAX_BODY);
    lb_buf_init(&b.body, LB_PROTO_MAX_BODY);
    err = push_build(r, cur, 0, count, bytes);
    while (!err && rc == LB_CLIENT_OK && cur->n > 0) {
        rc = push_send(r, cur, next, count, bytes, &too_large, &acked);
        if (too_large) {
            if ((rc = push_smaller(r, cur, &count, &bytes, &halvings)) == LB_CLIENT_OK)
                err = push_build(r, cur, cur->from, count, bytes);
            continue;
        }
        if (rc != LB_CLIENT_OK)
            break;
        r->rep->pushed += acked;
        if (r->progress && lb_sync_pending(r->s, &pending) == LB_OK)
            r->progress(r->ctx, "push", r->rep->pushed, r->rep->pushed + pending);
        t = cur, cur = next, next = t;
    }
    if (err && rc == LB_CLIENT_OK)
        rc = lb_client_store_fail(r->c, r->s, err, "could not read the outbox");
    lb_buf_wipe(&a.body);
    lb_buf_wipe(&b.body);
    return rc;
}

/* The supervisor's first key: key 1, sealed to every device of the team
 * (itself included). */
static lb_client_rc make_first_key(sync_run *r)
{
    int64_t id = 0;
    lb_err err = lb_sync_key_new(r->s, &id);
    lb_client_rc rc;
    if (err != LB_OK)
        return lb_client_store_fail(r->c, r->s, err, "could not make the team key");
    r->held = id;
    r->keys_fetched = 1;
    r->rep->key_made = 1;
    rc = distribute_to_team(r->c, r->s, id);
    if (rc == LB_CLIENT_OK)
        r->key_restored = 1;
    return rc;
}

/* Before applying a pull answer: hold the key it names.  LB_CLIENT_NOKEY
 * when this device cannot get it yet (nothing is applied then). */
static lb_client_rc keys_for_answer(sync_run *r, const json_t *resp)
{
    const json_t *k = json_object_get(resp, "key");
    lb_client_rc rc;
    r->server_key = json_is_integer(k) ? (int64_t)json_integer_value(k) : -1;
    if (r->server_key < 0)
        return LB_CLIENT_OK;
    if (r->server_key > r->held && (rc = fetch_keys_once(r)) != LB_CLIENT_OK)
        return rc;
    if (r->server_key == 0 && r->held == 0 && r->supervisor)
        return make_first_key(r);
    if (r->server_key > r->held)
        return lb_client_fail(r->c, LB_CLIENT_NOKEY, "this device does not hold team key "
                              "%lld yet (a supervisor's next sync approves it)",
                              (long long)r->server_key);
    if (r->supervisor && r->held > r->server_key && !r->key_restored) {
        r->key_restored = 1; /* a rotation that did not reach the server */
        return distribute_to_team(r->c, r->s, r->held);
    }
    return LB_CLIENT_OK;
}

/* What went wrong applying a pull answer, kept until the client handle is
 * free again (the next pull may be in flight meanwhile). */
typedef struct pull_fault {
    lb_client_rc rc;
    lb_err err;             /* for LB_CLIENT_STORE */
    char msg[200];
} pull_fault;

static lb_client_rc protocol_fault(pull_fault *f, const char *msg)
{
    f->rc = LB_CLIENT_PROTOCOL;
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    return f->rc;
}

static lb_client_rc store_fault(pull_fault *f, lb_err err)
{
    f->rc = LB_CLIENT_STORE;
    f->err = err;
    snprintf(f->msg, sizeof f->msg, "could not apply what was pulled");
    return f->rc;
}

/* Report f on the client handle (no request in flight). */
static lb_client_rc fault_report(sync_run *r, const pull_fault *f)
{
    if (f->rc == LB_CLIENT_STORE)
        return lb_client_store_fail(r->c, r->s, f->err, f->msg);
    return lb_client_fail(r->c, f->rc, "the server's answer did not follow the protocol: %s",
                          f->msg);
}

/* The envelope frames of a pull answer, applied through p; *count of them. */
static lb_client_rc apply_frames(lb_proto_reader *rd, lb_sync_pull *p, size_t *count,
                                 pull_fault *fault)
{
    lb_proto_frame f;
    lb_envelope e;
    lb_sync_envelope se;
    char msg[160];
    int rc;
    lb_err err;
    *count = 0;
    while ((rc = lb_proto_next(rd, &f, msg, sizeof msg)) == 1) {
        if (f.type != LB_PROTO_FRAME_ENVELOPE) {
            snprintf(msg, sizeof msg, "a pull answer holds a frame of type 0x%02x",
                     (unsigned)f.type);
            rc = -1;
        } else if (lb_proto_envelope_view(&f, &e, msg, sizeof msg) != LB_OK) {
            rc = -1;
        }
        if (rc < 0)
            break;
        memcpy(se.id, e.id, sizeof se.id);
        memcpy(se.person, e.person, sizeof se.person);
        se.key = e.key;
        se.has_assign = e.has_assign;
        memcpy(se.caseload, e.assign_caseload, sizeof se.caseload);
        se.active = e.assign_active;
        se.body = e.body;
        se.body_len = e.body_len;
        if ((err = lb_sync_pull_envelope(p, &se)) != LB_OK)
            return store_fault(fault, err);
        (*count)++;
    }
    return rc < 0 ? protocol_fault(fault, msg) : LB_CLIENT_OK;
}

/* The answer's cursors, through p. */
static lb_client_rc apply_cursors(const json_t *ctl, lb_sync_pull *p, pull_fault *fault)
{
    const json_t *cursors = json_object_get(ctl, "cursors"), *v;
    const char *caseload;
    lb_err err;
    if (!json_is_object(cursors))
        return protocol_fault(fault, "the pull answer has no \"cursors\" object");
    json_object_foreach((json_t *)cursors, caseload, v) {
        if (!json_is_integer(v))
            return protocol_fault(fault, "the pull answer has a bad cursor");
        if ((err = lb_sync_pull_cursor(p, caseload, (int64_t)json_integer_value(v))) != LB_OK)
            return store_fault(fault, err);
    }
    return LB_CLIENT_OK;
}

/* Apply the envelopes and cursors of a pull answer in one transaction.
 * Touches the store only, never the client handle. */
static lb_client_rc apply_body(sync_run *r, const json_t *ctl, lb_proto_reader *rd,
                               size_t *count, pull_fault *fault)
{
    lb_sync_pull *p = NULL;
    size_t applied = 0, rejected = 0;
    lb_client_rc rc;
    lb_err err = lb_sync_pull_begin(r->s, json_string_value(json_object_get(ctl, "epoch")), &p);
    if (err != LB_OK)
        return store_fault(fault, err);
    rc = apply_frames(rd, p, count, fault);
    if (rc == LB_CLIENT_OK)
        rc = apply_cursors(ctl, p, fault);
    err = lb_sync_pull_end(p, rc == LB_CLIENT_OK, &applied, &rejected);
    if (rc == LB_CLIENT_OK && err != LB_OK)
        rc = store_fault(fault, err);
    if (rc == LB_CLIENT_OK) {
        r->rep->pulled += applied;
        r->rep->rejected += rejected;
    }
    return rc;
}

/* The cursors a device will hold once ctl's answer applies: those it
 * asked with, moved to the answer's (new reference). */
static json_t *cursors_after(const json_t *sent, const json_t *ctl)
{
    json_t *c = json_deep_copy(sent), *answer = json_object_get(ctl, "cursors");
    if (c && json_is_object(answer) && json_object_update(c, answer) != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* A pull in flight: asked with cursors ahead, while the last answer
 * applies. */
typedef struct ahead {
    lb_client_call *call;
    json_t *cursors;
    json_t *body;
} ahead;

/* Ask for the next answer now, as if ctl's answer had applied. */
static void ahead_start(sync_run *r, const json_t *sent, const json_t *ctl, ahead *a)
{
    memset(a, 0, sizeof *a);
    if (!(a->cursors = cursors_after(sent, ctl)) ||
        !(a->body = json_pack("{s:O}", "cursors", a->cursors)) ||
        lb_client_post_bin_start(r->c, "/v1/pull", a->body, NULL, 0, 0, &a->call) != LB_CLIENT_OK)
        a->call = NULL;   /* no request ahead: the loop asks as usual */
}

/* Wait for it; its answer in *ans when wanted (1), else dropped (0). */
static lb_client_rc ahead_wait(ahead *a, int want, lb_buf *ans)
{
    lb_client_rc rc = a->call ? lb_client_post_bin_wait(a->call, NULL, want ? ans : NULL)
                              : LB_CLIENT_HTTP;
    json_decref(a->body);
    a->call = NULL;
    a->body = NULL;
    return rc;
}

/* A supervisor's answer may carry the team roster: kept for review offline. */
static lb_client_rc keep_roster(sync_run *r, const json_t *ctl)
{
    const json_t *roster = json_object_get(ctl, "roster");
    lb_err err;
    if (!json_is_array(roster))
        return LB_CLIENT_OK;
    err = lb_team_roster_save(r->s, roster,
                              (int64_t)json_integer_value(json_object_get(ctl, "time")));
    if (err != LB_OK)
        return lb_client_store_fail(r->c, r->s, err, "could not keep the team roster");
    return LB_CLIENT_OK;
}

/* Apply one pull answer, asked with cursors sent; *more when the server
 * has more.  When it has, the next answer is asked for (a) while this one
 * applies. */
static lb_client_rc apply_answer(sync_run *r, const lb_buf *ans, const json_t *sent, ahead *a,
                                 int *more)
{
    lb_proto_reader rd;
    pull_fault fault = {LB_CLIENT_OK, LB_OK, ""};
    json_t *ctl = NULL;
    size_t count = 0;
    lb_client_rc rc = answer_control(r, ans, &rd, &ctl);
    *more = 0;
    memset(a, 0, sizeof *a);
    if (rc == LB_CLIENT_OK)
        rc = keys_for_answer(r, ctl);
    if (rc == LB_CLIENT_OK && json_is_true(json_object_get(ctl, "more")) && rd.off < rd.len)
        ahead_start(r, sent, ctl, a);
    if (rc == LB_CLIENT_OK)
        rc = apply_body(r, ctl, &rd, &count, &fault);
    if (rc != LB_CLIENT_OK && a->call)
        ahead_wait(a, 0, NULL);
    if (rc != LB_CLIENT_OK && fault.rc != LB_CLIENT_OK)
        rc = fault_report(r, &fault);
    if (rc == LB_CLIENT_OK)
        rc = keep_roster(r, ctl);
    if (rc == LB_CLIENT_OK) {
        json_decref(r->pending);
        r->pending = json_incref(json_object_get(ctl, "pending"));
        *more = json_is_true(json_object_get(ctl, "more")) && count > 0;
        if (r->progress && (*more || r->rep->pulled > 0))
            r->progress(r->ctx, "pull", r->rep->pulled, 0);
    }
    json_decref(ctl);
    return rc;
}

/* POST /v1/pull with cursors. */
static lb_client_rc pull_request(sync_run *r, const json_t *cursors, lb_buf *ans)
{
    json_t *body = json_pack("{s:O}", "cursors", cursors);
    /* a supervisor asks once a sync for the team roster (lb_team.h) */
    if (body && r->supervisor && !r->roster_asked++ &&
        json_object_set_new(body, "roster", json_true()) != 0) {
        json_decref(body);
        body = NULL;
    }
    lb_client_rc rc = body ? lb_client_post_bin(r->c, "/v1/pull", body, NULL, 0, 0, NULL, ans)
                           : lb_client_fail(r->c, LB_CLIENT_NOMEM, "out of memory");
    json_decref(body);
    return rc;
}

/* After an answer with more: the next answer, from the request ahead when
 * the cursors came out as it assumed, else asked again; *stop when the
 * answer moved no cursor (an envelope waits for a key: asking again would
 * bring it again).  *sent becomes the cursors the next answer was asked
 * with. */
static lb_client_rc pull_next(sync_run *r, ahead *a, json_t **sent, lb_buf *ans, int *stop)
{
    json_t *now = NULL;
    lb_err err = lb_sync_cursors(r->s, &now);
    int use = !err && a->call && json_equal(now, a->cursors);
    lb_client_rc rc = a->call ? ahead_wait(a, use, ans) : LB_CLIENT_OK;
    *stop = 0;
    if (err)
        rc = lb_client_store_fail(r->c, r->s, err, "could not read the pull cursors");
    else if (!use && json_equal(now, *sent))
        *stop = 1;
    else if (!use)
        rc = pull_request(r, now, ans);
    json_decref(a->cursors);
    a->cursors = NULL;
    json_decref(*sent);
    *sent = now;
    return rc;
}

/* Pull until the server has no more; the next answer is asked for while
 * the last one applies. */
static lb_client_rc pull_all(sync_run *r)
{
    json_t *sent = NULL;
    lb_buf ans;
    ahead a;
    int more = 1, stop = 0;
    lb_err err = lb_sync_cursors(r->s, &sent);
    lb_client_rc rc = err ? lb_client_store_fail(r->c, r->s, err, "could not read the pull "
                                                 "cursors")
                          : pull_request(r, sent, &ans);
    while (rc == LB_CLIENT_OK) {
        rc = apply_answer(r, &ans, sent, &a, &more);
        lb_buf_wipe(&ans);
        if (rc != LB_CLIENT_OK || !more) {
            if (a.call)
                ahead_wait(&a, 0, NULL);
            json_decref(a.cursors);
            break;
        }
        rc = pull_next(r, &a, &sent, &ans, &stop);
        if (rc != LB_CLIENT_OK || stop)
            break;
    }
    json_decref(sent);
    return rc;
}

/* Supervisor: seal every key held to the devices the pull said lack the
 * current one, in one POST /v1/keys. */
static lb_client_rc seal_pending(sync_run *r)
{
    json_t *keys, *d;
    lb_client_rc rc = LB_CLIENT_OK;
    size_t i, devices = 0;
    if (!r->supervisor || r->held <= 0 || r->held != r->server_key ||
        json_array_size(r->pending) == 0)
        return LB_CLIENT_OK;
    if (!(keys = json_array()))
        return lb_client_fail(r->c, LB_CLIENT_NOMEM, "out of memory");
    json_array_foreach(r->pending, i, d) {
        const char *id = json_string_value(json_object_get(d, "device"));
        const char *dk = json_string_value(json_object_get(d, "device_key"));
        if (!id || !dk || strcmp(id, r->device) == 0)
            continue;
        for (int64_t k = 1; k <= r->held && rc == LB_CLIENT_OK; k++)
            rc = add_sealed(r->c, r->s, keys, id, dk, k);
        if (rc != LB_CLIENT_OK)
            goto out;
        devices++;
    }
    if (devices > 0 && (rc = post_keys(r->c, keys, r->held)) == LB_CLIENT_OK)
        r->rep->keys_sealed += devices;
out:
    json_decref(keys);
    return rc;
}

/* The steps of a sync, in order (see the top of this file).  The outbox
 * is looked at again after the pull (locally: no request when it is
 * empty): a key may have arrived, or a new server epoch may have put every
 * change back into it. */
static lb_client_rc sync_steps(sync_run *r)
{
    lb_client_rc rc;
    if (r->held == 0 && (rc = fetch_keys_once(r)) != LB_CLIENT_OK)
        return rc;
    if (r->held > 0 && (rc = push_all(r)) != LB_CLIENT_OK)
        return rc;
    /* The last push answer said nothing else waits (same epoch, no newer
     * key): the push was the whole sync, one round trip. */
    if (r->news == 0)
        return LB_CLIENT_OK;
    if ((rc = pull_all(r)) != LB_CLIENT_OK)
        return rc;
    if (r->held > 0 && (rc = push_all(r)) != LB_CLIENT_OK)
        return rc;
    return seal_pending(r);
}

static lb_client_rc sync_start(sync_run *r, lb_sync_info *info)
{
    lb_err err = lb_sync_info_get(r->s, info);
    if (err != LB_OK)
        return lb_client_store_fail(r->c, r->s, err, "could not read the enrolment");
    if (!info->device) {
        lb_client_store_fail(r->c, NULL, LB_ERR_NOTFOUND, "");
        return lb_client_fail(r->c, LB_CLIENT_STORE, "this store is not enrolled in a team");
    }
    r->device = info->device;
    r->supervisor = info->role && strcmp(info->role, "supervisor") == 0;
    r->held = info->key;
    r->epoch = info->epoch;
    return lb_client_use_store_token(r->c, r->s);
}

lb_client_rc lb_client_sync(lb_client *c, lb_store *s, lb_client_progress progress,
                            void *ctx, lb_client_report *rep)
{
    sync_run r = {.c = c, .s = s, .server_key = -1, .news = -1, .progress = progress,
                  .ctx = ctx, .rep = rep};
    lb_sync_info info;
    lb_client_stats before, after;
    lb_client_rc rc;
    memset(rep, 0, sizeof *rep);
    memset(&info, 0, sizeof info);
    lb_client_stats_get(c, &before);
    rc = sync_start(&r, &info);
    if (rc == LB_CLIENT_OK)
        rc = sync_steps(&r);
    if (lb_sync_pending(s, &rep->pending) != LB_OK)
        rep->pending = 0;
    lb_client_stats_get(c, &after);
    rep->net.requests = after.requests - before.requests;
    rep->net.bytes_up = after.bytes_up - before.bytes_up;
    rep->net.bytes_down = after.bytes_down - before.bytes_down;
    json_decref(r.pending);
    lb_sync_info_clear(&info);
    return rc;
}
