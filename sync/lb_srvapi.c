/* lb_srvapi.c - linkbookd's routes (see lb_srvapi.h and lb_proto.h).
 *
 * Authorisation beyond "a valid token" lives here: a worker pushes for
 * people on its own caseload (the store enforces it per envelope with the
 * limit given) and pulls only its own caseload (403 otherwise); a
 * supervisor reaches every caseload of its team.  Supervisor-only routes
 * are refused by lb_server.c before the body is read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "lb_proto.h"
#include "lb_srvapi.h"

#define PULL_MAX_BYTES (LB_PROTO_MAX_BODY / 2)  /* envelope frames in one answer */
#define PULL_MAX_COUNT 10000
#define PULL_MAX_CURSORS 10000
#define SEALED_MAX 1024
#define KEYS_MAX 10000

static const char *const ROLES[] = {
    "link-worker", "health-coach", "occupational-therapist", "care-coordinator",
    LB_SRV_SUPERVISOR, NULL
};

int lb_srvapi_role_ok(const char *role)
{
    size_t i;
    for (i = 0; ROLES[i]; i++)
        if (strcmp(role, ROLES[i]) == 0)
            return 1;
    return 0;
}

void lb_srvapi_error(lb_srvapi_res *res, int status, const char *code, const char *message)
{
    json_decref(res->doc);
    free(res->bin);
    res->bin = NULL;
    res->bin_len = 0;
    res->status = status;
    res->doc = lb_proto_error(code, message);
}

static void bad_request(lb_srvapi_res *res, const char *message)
{
    lb_srvapi_error(res, 400, "bad_request", message);
}

static void nomem(lb_srvapi_res *res)
{
    lb_srvapi_error(res, 503, "unavailable", "the server ran out of memory (try again later)");
}

static void logf_api(const lb_srvapi *api, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logf_api(const lb_srvapi *api, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!api->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    api->log(api->log_ctx, line);
}

/* Map a store failure to 503 (and log its detail), or NOMEM. */
static void store_failed(const lb_srvapi *api, lb_srvapi_res *res, lb_err err, const char *what)
{
    char detail[256];
    if (err == LB_ERR_NOMEM) {
        nomem(res);
        return;
    }
    api->store->ops->errmsg(api->store, detail, sizeof detail);
    logf_api(api, "storage failed while %s: %s", what, detail);
    if (err == LB_ERR_BUSY)
        lb_srvapi_error(res, 503, "unavailable", "the server's database is unreachable or "
                        "busy; nothing was lost (try again shortly)");
    else
        lb_srvapi_error(res, 503, "unavailable", "the server's storage failed (try again later)");
}

static void ok(lb_srvapi_res *res, json_t *doc)
{
    res->status = doc ? 200 : 503;
    res->doc = doc;
    if (!doc)
        nomem(res);
}

/* The epoch for an answer: asked of the store each time (the PostgreSQL
 * backend renews it while serving when its database was restored), else
 * the one read at start. */
static void epoch_now(const lb_srvapi *api, char out[LB_SRV_ID_LEN + 1])
{
    if (api->store->ops->epoch(api->store, out) != LB_OK)
        memcpy(out, api->epoch, sizeof api->epoch);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A name for people: 1..LB_SRV_NAME_MAX bytes, no control characters. */
static int name_ok(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= LB_SRV_NAME_MAX)
            return 0;
    return n > 0;
}

static int caseload_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= LB_PROTO_CASELOAD_MAX || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
            (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0;
}

static const char *str_field(const json_t *req, const char *key)
{
    return json_string_value(json_object_get(req, key));
}

/* ---- enrol --------------------------------------------------------------- */

static json_t *enrol_answer(const lb_srvapi *api, const lb_srv_who *w, const char *token)
{
    char epoch[LB_SRV_ID_LEN + 1];
    epoch_now(api, epoch);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "device", w->device,
                     "token", token, "team", w->team, "team_name", w->team_name,
                     "user", w->user, "name", w->name, "role", w->role,
                     "caseload", w->caseload, "epoch", epoch);
}

/* The checked fields of an enrolment; NULL (res set) when one is bad. */
static unsigned char *enrol_key(const json_t *req, const char **name, lb_srvapi_res *res)
{
    const char *code = str_field(req, "code"), *dk = str_field(req, "device_key");
    unsigned char *key = NULL;
    size_t keylen = 0;
    *name = json_object_get(req, "device_name") ? str_field(req, "device_name") : "device";
    if (!code || strlen(code) > 64)
        bad_request(res, "\"code\" must be the enrolment code (a string)");
    else if (!dk || lb_proto_unb64(dk, &key, &keylen) != LB_OK ||
             keylen != LB_SRV_DEVICE_KEY_LEN)
        bad_request(res, "\"device_key\" must be the base64 of a 32-byte X25519 key");
    else if (!name_ok(*name))
        bad_request(res, "\"device_name\" must be 1-128 printable characters");
    else
        return key;
    free(key);
    return NULL;
}

void lb_srvapi_enrol(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                     lb_srvapi_res *res)
{
    const char *name = NULL;
    unsigned char *key = enrol_key(req, &name, res);
    char token[LB_SRV_TOKEN_LEN + 1];
    lb_srv_who w;
    lb_err err;
    (void)who;
    if (!key)
        return;
    err = api->store->ops->enrol(api->store, str_field(req, "code"), key, name, token, &w);
    free(key);
    if (err == LB_ERR_NOTFOUND) {
        logf_api(api, "refused: enrolment with an unknown or used code");
        lb_srvapi_error(res, 403, "forbidden", "this enrolment code is unknown or was used "
                        "already (ask your supervisor for a new one)");
    } else if (err) {
        store_failed(api, res, err, "enrolling");
    } else {
        ok(res, enrol_answer(api, &w, token));
        sodium_memzero(token, sizeof token);
    }
}

/* ---- push ---------------------------------------------------------------- */

/* The answer's frames as the store reports them. */
typedef struct push_out {
    lb_buf frames;          /* 'A' and 'R' frames, in order */
    size_t acked, rejected;
} push_out;

static int push_ack(void *ctx, const char *id, const lb_srv_cursor *seqs, size_t n)
{
    push_out *o = ctx;
    lb_proto_seq one[8] = {{NULL, 0}}, *l = n <= 8 ? one : malloc(n * sizeof *l);
    size_t i;
    int rc;
    if (!l)
        return -1;
    for (i = 0; i < n; i++)
        l[i].caseload = seqs[i].caseload, l[i].seq = seqs[i].seq;
    rc = lb_proto_put_ack(&o->frames, id, l, n);
    if (l != one)
        free(l);
    o->acked += rc == 0;
    return rc;
}

static int push_reject(void *ctx, const char *id, const char *why)
{
    push_out *o = ctx;
    o->rejected++;
    return lb_proto_put_reject(&o->frames, id, why);
}

static void bad_frame(lb_srvapi_res *res, const char *message)
{
    lb_srvapi_error(res, 400, "bad_frame", message);
}

/* The push body: its control document (NULL when none) and its envelopes
 * (views into body); 0, or -1 with res set. */
typedef struct push_in {
    json_t *ctl;
    lb_envelope *envs;
    size_t n, cap;
} push_in;

static int push_add(push_in *in, const lb_proto_frame *f, lb_srvapi_res *res)
{
    char msg[160];
    if (in->n == LB_PROTO_MAX_BATCH) {
        lb_srvapi_error(res, 413, "too_large", "too many envelopes in one push (at most "
                        "2000; send smaller batches)");
        return -1;
    }
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        lb_envelope *e = realloc(in->envs, cap * sizeof *e);
        if (!e) {
            nomem(res);
            return -1;
        }
        in->envs = e;
        in->cap = cap;
    }
    if (lb_proto_envelope_view(f, &in->envs[in->n], msg, sizeof msg) != LB_OK) {
        bad_frame(res, msg);
        return -1;
    }
    if (in->envs[in->n].from[0]) {
        bad_frame(res, "an envelope pushed by a device names an uploading device");
        return -1;
    }
    in->n++;
    return 0;
}

static int push_read(const unsigned char *body, size_t len, push_in *in, lb_srvapi_res *res)
{
    lb_proto_reader r;
    lb_proto_frame f;
    char msg[160];
    int rc, first = 1;
    if (lb_proto_bin_open(&r, body, len, msg, sizeof msg) != LB_OK) {
        bad_frame(res, msg);
        return -1;
    }
    while ((rc = lb_proto_next(&r, &f, msg, sizeof msg)) == 1) {
        if (f.type == LB_PROTO_FRAME_JSON && first) {
            if (lb_proto_json_view(&f, &in->ctl, msg, sizeof msg) != LB_OK)
                rc = -1;
        } else if (f.type == LB_PROTO_FRAME_ENVELOPE) {
            if (push_add(in, &f, res) != 0)
                return -1;
        } else {
            snprintf(msg, sizeof msg, "a push takes a control frame first, then envelope "
                     "frames (frame type 0x%02x here)", (unsigned)f.type);
            rc = -1;
        }
        if (rc < 0)
            break;
        first = 0;
    }
    if (rc < 0) {
        bad_frame(res, msg);
        return -1;
    }
    return 0;
}

static int push_news(const lb_srvapi *api, const lb_srv_who *who, const json_t *cursors,
                     json_t **moved);

/* The push answer: its control frame, then the frames of o.  The control
 * carries "news" and "key" when the worker sent its cursors, so that a sync
 * with nothing else to fetch needs no pull after it; with no news, also the
 * cursors moved past the worker's own envelopes, so that the next push does
 * not look through them again. */
static lb_err push_answer(const lb_srvapi *api, const lb_srv_who *who, const json_t *ctl,
                          push_out *o, lb_srvapi_res *res)
{
    char epoch[LB_SRV_ID_LEN + 1];
    json_t *doc, *moved = NULL;
    lb_buf b;
    int64_t key = 0;
    int news, bad;
    epoch_now(api, epoch);
    doc = json_pack("{s:s, s:I}", "epoch", epoch, "time", (json_int_t)now_ms());
    news = push_news(api, who, json_object_get(ctl, "cursors"), &moved);
    bad = !doc;
    if (doc && news >= 0 && api->store->ops->key_current(api->store, who->team, &key) == LB_OK) {
        bad |= json_object_set_new(doc, "news", json_boolean(news));
        bad |= json_object_set_new(doc, "key", json_integer(key));
        if (news == 0 && moved)
            bad |= json_object_set(doc, "cursors", moved);
    }
    json_decref(moved);
    lb_buf_init(&b, LB_PROTO_MAX_BODY);
    if (bad || lb_proto_bin_start(&b) || lb_proto_put_json(&b, doc) ||
        lb_buf_add(&b, o->frames.data, o->frames.len)) {
        json_decref(doc);
        lb_buf_wipe(&b);
        return LB_ERR_NOMEM;
    }
    json_decref(doc);
    res->status = 200;
    res->bin = b.data;
    res->bin_len = b.len;
    return LB_OK;
}

void lb_srvapi_push(const lb_srvapi *api, const lb_srv_who *who, const unsigned char *body,
                    size_t len, lb_srvapi_res *res)
{
    push_in in = { NULL, NULL, 0, 0 };
    push_out out;
    lb_srv_push_sink sink = { push_ack, push_reject, &out };
    lb_err err;
    memset(&out, 0, sizeof out);
    lb_buf_init(&out.frames, LB_PROTO_MAX_BODY);
    if (push_read(body, len, &in, res) != 0)
        goto out;
    if (in.ctl && json_object_get(in.ctl, "cursors") &&
        !json_is_object(json_object_get(in.ctl, "cursors"))) {
        bad_request(res, "\"cursors\" must be an object {caseload: last sequence seen}");
        goto out;
    }
    err = api->store->ops->push(api->store, who, who->supervisor ? NULL : who->caseload,
                                in.envs, in.n, &sink);
    if (err) {
        store_failed(api, res, err, "storing a push");
        goto out;
    }
    if (out.rejected > 0)
        logf_api(api, "refused: %zu envelope(s) from device %.8s (not on its caseload "
                 "or a change id taken)", out.rejected, who->device);
    if (out.acked > 0)
        lb_srvepoch_note(api->epochs);   /* after the commit: see lb_srvepoch.h */
    lb_srvmetrics_push(api->metrics, out.acked, out.rejected);
    if (push_answer(api, who, in.ctl, &out, res) != LB_OK)
        nomem(res);
out:
    free(in.envs);   /* views into body: nothing else to free */
    json_decref(in.ctl);
    lb_buf_wipe(&out.frames);
}

/* ---- pull ---------------------------------------------------------------- */

typedef struct cursor_list {
    lb_srv_cursor *c;
    size_t n, cap;
} cursor_list;

static int followed_add(void *ctx, const char *caseload)
{
    cursor_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        lb_srv_cursor *c = realloc(l->c, cap * sizeof *c);
        if (!c)
            return -1;
        l->c = c;
        l->cap = cap;
    }
    memset(&l->c[l->n], 0, sizeof l->c[l->n]);
    snprintf(l->c[l->n++].caseload, sizeof l->c[0].caseload, "%s", caseload);
    return 0;
}

static lb_srv_cursor *find_cursor(cursor_list *l, const char *caseload)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->c[i].caseload, caseload) == 0)
            return &l->c[i];
    return NULL;
}

/* Set the requested cursors on the followed list; 0, or -1 with res set. */
static int apply_cursors(const lb_srvapi *api, const lb_srv_who *who, const json_t *cursors,
                         cursor_list *l, lb_srvapi_res *res)
{
    const char *caseload;
    json_t *v;
    lb_srv_cursor *c;
    int elsewhere = 0;
    lb_err err;
    json_object_foreach((json_t *)cursors, caseload, v) {
        if (!caseload_ok(caseload) || !json_is_integer(v) || json_integer_value(v) < 0) {
            bad_request(res, "\"cursors\" must map caseload ids to sequence numbers >= 0");
            return -1;
        }
        if ((c = find_cursor(l, caseload)) != NULL) {
            c->seq = (int64_t)json_integer_value(v);
            continue;
        }
        if (who->supervisor &&
            (err = api->store->ops->caseload_elsewhere(api->store, who->team, caseload,
                                                       &elsewhere)) != LB_OK) {
            store_failed(api, res, err, "checking a caseload");
            return -1;
        }
        if (!who->supervisor || elsewhere) {
            logf_api(api, "refused: device %.8s asked for caseload %.64s", who->device, caseload);
            lb_srvapi_error(res, 403, "forbidden", "a cursor names a caseload this device may "
                            "not follow (sync only your own caseload)");
            return -1;
        }
        /* a supervisor's caseload unknown here (a restored server): skipped */
    }
    return 0;
}

/* The envelope frames of a pull answer. */
typedef struct pull_frames {
    lb_buf b;
    size_t n;
} pull_frames;

static int pull_add(void *ctx, const lb_envelope *e)
{
    pull_frames *f = ctx;
    f->n++;
    return lb_proto_put_envelope(&f->b, e);
}

static int pull_count(void *ctx, const lb_envelope *e)
{
    size_t *n = ctx;
    (void)e;
    (*n)++;
    return 0;
}

static int pending_add(void *ctx, const lb_srv_device *d)
{
    char *dk = lb_proto_b64(d->device_key, sizeof d->device_key);
    json_t *j = dk ? json_pack("{s:s, s:s}", "device", d->device, "device_key", dk) : NULL;
    free(dk);
    return j ? json_array_append_new(ctx, j) : -1;
}

/* The answer's "cursors", "key" and (supervisors) "pending". */
static lb_err pull_extras(const lb_srvapi *api, const lb_srv_who *who, const cursor_list *l,
                          json_t *doc)
{
    json_t *cur = json_object(), *pending = NULL;
    int64_t key = 0;
    size_t i;
    lb_err err = LB_OK;
    for (i = 0; cur && i < l->n; i++)
        if (json_object_set_new(cur, l->c[i].caseload, json_integer(l->c[i].seq)) != 0)
            break;
    if (!cur || i < l->n || json_object_set_new(doc, "cursors", cur) != 0)
        return LB_ERR_NOMEM;
    if ((err = api->store->ops->key_current(api->store, who->team, &key)) != LB_OK)
        return err;
    if (json_object_set_new(doc, "key", json_integer(key)) != 0)
        return LB_ERR_NOMEM;
    if (!who->supervisor)
        return LB_OK;
    if (!(pending = json_array()) || json_object_set_new(doc, "pending", pending) != 0)
        return LB_ERR_NOMEM;
    if (key > 0)
        err = api->store->ops->pending(api->store, who->team, key, pending_add, pending);
    return err;
}

static size_t pull_budget(const json_t *req)
{
    const json_t *mb = json_object_get(req, "max_bytes");
    json_int_t v;
    if (!mb)
        return PULL_MAX_BYTES;
    v = json_integer_value(mb);
    return v > 0 && v < (json_int_t)PULL_MAX_BYTES ? (size_t)v : PULL_MAX_BYTES;
}

static int pull_checks(const json_t *req, lb_srvapi_res *res)
{
    const json_t *cursors = json_object_get(req, "cursors"), *mb = json_object_get(req, "max_bytes");
    if (cursors && (!json_is_object(cursors) || json_object_size(cursors) > PULL_MAX_CURSORS))
        bad_request(res, "\"cursors\" must be an object {caseload: last sequence seen}");
    else if (mb && (!json_is_integer(mb) || json_integer_value(mb) < 1))
        bad_request(res, "\"max_bytes\" must be a positive integer");
    else
        return 0;
    return -1;
}

/* For a worker that pushed with its cursors: 1 if a pull would bring it
 * anything (others' envelopes past them), 0 if not, -1 when this cannot be
 * told (a supervisor, no or odd cursors, a storage error): then the device
 * pulls as usual.  With 0, *moved (new reference, may stay NULL) holds every
 * followed caseload's cursor past what that pull would only pass over (the
 * worker's own envelopes), as a pull answer's "cursors" would. */
static int push_news(const lb_srvapi *api, const lb_srv_who *who, const json_t *cursors,
                     json_t **moved)
{
    cursor_list l = { NULL, 0, 0 };
    json_t *v;
    const char *caseload;
    lb_srv_cursor *c;
    size_t found = 0;
    int more = 0, news = -1;
    if (who->supervisor || !json_is_object(cursors) ||
        api->store->ops->followed(api->store, who, followed_add, &l) != LB_OK)
        goto out;
    json_object_foreach((json_t *)cursors, caseload, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || !(c = find_cursor(&l, caseload)))
            goto out;
        c->seq = (int64_t)json_integer_value(v);
    }
    if (api->store->ops->pull(api->store, who->team, who->device, l.c, l.n, 1, 1, pull_count,
                              &found, &more) == LB_OK)
        news = found > 0 || more;
    if (news == 0 && (*moved = json_object()) != NULL)
        for (size_t i = 0; i < l.n; i++)
            json_object_set_new(*moved, l.c[i].caseload, json_integer(l.c[i].seq));
out:
    free(l.c);
    return news;
}

static int roster_add(void *ctx, const lb_srv_device *d)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}",
                          "device", d->device, "user", d->user, "name", d->name,
                          "device_name", d->device_name, "role", d->role, "caseload", d->user,
                          "created", (json_int_t)d->created, "last_seen",
                          (json_int_t)d->last_seen, "revoked", d->revoked != 0);
    return j ? json_array_append_new(ctx, j) : -1;
}

/* A supervisor's pull that asks for it gets the team roster ("roster"). */
static lb_err pull_roster(const lb_srvapi *api, const lb_srv_who *who, json_t *doc)
{
    json_t *list = json_array();
    lb_err err = list ? api->store->ops->devices(api->store, who->team, roster_add, list)
                      : LB_ERR_NOMEM;
    if (!err && json_object_set_new(doc, "roster", list) != 0)
        return LB_ERR_NOMEM;
    if (err)
        json_decref(list);
    return err;
}

/* The pull answer: magic, the control frame doc, the envelope frames. */
static lb_err pull_answer(const json_t *doc, const lb_buf *envs, lb_srvapi_res *res)
{
    lb_buf b;
    lb_buf_init(&b, LB_PROTO_MAX_BODY);
    if (lb_proto_bin_start(&b) || lb_proto_put_json(&b, doc) ||
        (envs->len && lb_buf_add(&b, envs->data, envs->len))) {
        lb_buf_wipe(&b);
        return LB_ERR_NOMEM;
    }
    res->status = 200;
    res->bin = b.data;
    res->bin_len = b.len;
    return LB_OK;
}

void lb_srvapi_pull(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                    lb_srvapi_res *res)
{
    cursor_list l = { NULL, 0, 0 };
    json_t *doc = NULL;
    pull_frames envs = { { NULL, 0, 0, 0 }, 0 };
    char epoch[LB_SRV_ID_LEN + 1];
    int more = 0;
    lb_err err;
    lb_buf_init(&envs.b, LB_PROTO_MAX_BODY);
    if (pull_checks(req, res) != 0)
        goto out;
    if ((err = api->store->ops->followed(api->store, who, followed_add, &l)) != LB_OK) {
        store_failed(api, res, err, "listing caseloads");
        goto out;
    }
    if (json_object_get(req, "cursors") &&
        apply_cursors(api, who, json_object_get(req, "cursors"), &l, res) != 0)
        goto out;
    err = api->store->ops->pull(api->store, who->team, who->device, l.c, l.n,
                                pull_budget(req), PULL_MAX_COUNT, pull_add, &envs, &more);
    epoch_now(api, epoch);
    if (!err && !(doc = json_pack("{s:b, s:s, s:I}", "more", more, "epoch", epoch,
                                  "time", (json_int_t)now_ms())))
        err = LB_ERR_NOMEM;
    if (!err)
        err = pull_extras(api, who, &l, doc);
    if (!err && who->supervisor && json_is_true(json_object_get(req, "roster")))
        err = pull_roster(api, who, doc);
    if (!err)
        err = pull_answer(doc, &envs.b, res);
    if (err) {
        store_failed(api, res, err, "answering a pull");
        goto out;
    }
    lb_srvmetrics_pull(api->metrics, envs.n);
out:
    json_decref(doc);
    lb_buf_wipe(&envs.b);
    free(l.c);
}

/* ---- team keys ----------------------------------------------------------- */

static int key_add(void *ctx, int64_t key, const unsigned char *sealed, size_t len)
{
    char *b = lb_proto_b64(sealed, len);
    json_t *j = b ? json_pack("{s:I, s:s}", "key", (json_int_t)key, "sealed", b) : NULL;
    free(b);
    return j ? json_array_append_new(ctx, j) : -1;
}

void lb_srvapi_keys_get(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                        lb_srvapi_res *res)
{
    json_t *keys = json_array();
    lb_err err = keys ? api->store->ops->keys_get(api->store, who->device, key_add, keys)
                      : LB_ERR_NOMEM;
    (void)req;
    if (err)
        store_failed(api, res, err, "reading sealed keys");
    else
        ok(res, json_pack("{s:O}", "keys", keys));
    json_decref(keys);
}

/* One {"device", "key", "sealed"} into k (sealed decoded, caller frees). */
static int parse_sealed(const json_t *j, lb_srv_sealed *k)
{
    const char *dev = str_field(j, "device"), *sealed = str_field(j, "sealed");
    const json_t *key = json_object_get(j, "key");
    memset(k, 0, sizeof *k);
    if (!dev || !lb_proto_is_id(dev) || !json_is_integer(key) || json_integer_value(key) < 1 ||
        !sealed || strlen(sealed) > SEALED_MAX * 2)
        return -1;
    memcpy(k->device, dev, LB_SRV_ID_LEN + 1);
    k->key = (int64_t)json_integer_value(key);
    if (lb_proto_unb64(sealed, &k->sealed, &k->sealed_len) != LB_OK)
        return -1;
    return k->sealed_len > 0 && k->sealed_len <= SEALED_MAX ? 0 : -1;
}

static void keys_store(const lb_srvapi *api, const lb_srv_who *who, lb_srv_sealed *keys,
                       size_t n, int64_t current, lb_srvapi_res *res)
{
    lb_err err = api->store->ops->keys_put(api->store, who->team, keys, n, current);
    if (err == LB_ERR_NOTFOUND)
        lb_srvapi_error(res, 403, "forbidden", "a sealed key names a device that is not of "
                        "your team");
    else if (err == LB_ERR_INVALID)
        bad_request(res, "\"current\" is lower than the team's current key id");
    else if (err)
        store_failed(api, res, err, "keeping sealed keys");
    else
        ok(res, json_pack("{s:b}", "ok", 1));
}

void lb_srvapi_keys_post(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                         lb_srvapi_res *res)
{
    const json_t *list = json_object_get(req, "keys"), *cur = json_object_get(req, "current");
    lb_srv_sealed *keys = NULL;
    size_t i = 0, n = 0;
    if (!json_is_array(list) || json_array_size(list) > KEYS_MAX ||
        (cur && (!json_is_integer(cur) || json_integer_value(cur) < 0))) {
        bad_request(res, "expected {\"keys\": [{\"device\", \"key\", \"sealed\"}], "
                    "\"current\": key id}");
        return;
    }
    if (!(keys = calloc(json_array_size(list) + 1, sizeof *keys))) {
        nomem(res);
        return;
    }
    for (n = 0; n < json_array_size(list); n++)
        if (parse_sealed(json_array_get(list, n), &keys[n]) != 0)
            break;
    if (n < json_array_size(list))
        bad_request(res, "each sealed key must be {\"device\": id, \"key\": id >= 1, "
                    "\"sealed\": base64}");
    else
        keys_store(api, who, keys, n, cur ? (int64_t)json_integer_value(cur) : 0, res);
    for (i = 0; i <= n && i < json_array_size(list); i++)
        free(keys[i].sealed);
    free(keys);
}

/* ---- team ---------------------------------------------------------------- */

void lb_srvapi_invite(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                      lb_srvapi_res *res)
{
    const char *role = str_field(req, "role"), *name = str_field(req, "name");
    char user[LB_SRV_ID_LEN + 1], code[LB_SRV_CODE_LEN + 1];
    lb_err err;
    if (!role || !lb_srvapi_role_ok(role)) {
        bad_request(res, "\"role\" must be link-worker, health-coach, occupational-therapist, "
                    "care-coordinator or supervisor");
        return;
    }
    if (!name_ok(name)) {
        bad_request(res, "\"name\" must be 1-128 printable characters");
        return;
    }
    err = api->store->ops->invite(api->store, who->team, role, name, user, code);
    if (err)
        store_failed(api, res, err, "inviting a user");
    else
        ok(res, json_pack("{s:s, s:s}", "code", code, "user", user));
    sodium_memzero(code, sizeof code);
}

static int device_add(void *ctx, const lb_srv_device *d)
{
    char *dk = lb_proto_b64(d->device_key, sizeof d->device_key);
    json_t *j = NULL;
    if (dk)
        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:I}",
                      "device", d->device, "user", d->user, "name", d->name,
                      "device_name", d->device_name, "role", d->role, "caseload", d->user,
                      "device_key", dk, "created", (json_int_t)d->created,
                      "last_seen", (json_int_t)d->last_seen, "revoked", d->revoked != 0,
                      "revoked_at", (json_int_t)d->revoked);
    free(dk);
    return j ? json_array_append_new(ctx, j) : -1;
}

void lb_srvapi_devices(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                       lb_srvapi_res *res)
{
    json_t *list = json_array();
    lb_err err = list ? api->store->ops->devices(api->store, who->team, device_add, list)
                      : LB_ERR_NOMEM;
    (void)req;
    if (err)
        store_failed(api, res, err, "listing devices");
    else
        ok(res, json_pack("{s:O}", "devices", list));
    json_decref(list);
}

void lb_srvapi_revoke(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                      lb_srvapi_res *res)
{
    const char *dev = str_field(req, "device");
    lb_err err;
    if (!dev || !lb_proto_is_id(dev)) {
        bad_request(res, "\"device\" must be a device id (32 hex digits)");
        return;
    }
    err = api->store->ops->revoke(api->store, who->team, dev);
    if (err == LB_ERR_NOTFOUND) {
        lb_srvapi_error(res, 404, "not_found", "no such device in your team (see "
                        "'linkbook team devices')");
        return;
    }
    if (err) {
        store_failed(api, res, err, "revoking a device");
        return;
    }
    logf_api(api, "device %.8s revoked by device %.8s", dev, who->device);
    ok(res, json_pack("{s:s}", "revoked", dev));
}

void lb_srvapi_healthz(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                       lb_srvapi_res *res)
{
    char epoch[LB_SRV_ID_LEN + 1];
    int64_t n = 0;
    lb_err err = api->store->ops->count_envelopes(api->store, &n);
    (void)who, (void)req;
    epoch_now(api, epoch);
    if (err)
        store_failed(api, res, err, "checking health");
    else
        ok(res, json_pack("{s:b, s:s}", "ok", 1, "epoch", epoch));
}
