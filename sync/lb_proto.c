/* lb_proto.c - the sync protocol's documents (see lb_proto.h).
 *
 * Builds and checks envelopes (their binary frames and their JSON form),
 * the frames of the binary push and pull bodies, error documents and the
 * associated data of a seal; base64 and hex through libsodium.  No I/O, no global state: the client
 * and the server both link it.
 *
 * The associated data is "lbe1|ID|PERSON|KEY|CASELOAD|1" (or "|0" for an
 * assignment that ends) and "lbe1|ID|PERSON|KEY|-" for every other change.
 * A caseload may hold letters, digits, '-', '_' and '.', so '|' never
 * occurs inside a field and the text reads back one way only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_proto.h"
#include "lb_sync.h"

/* The smallest sealed body: an XChaCha20-Poly1305 nonce and tag. */
#define ENVELOPE_MIN_BODY (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + \
                           crypto_aead_xchacha20poly1305_ietf_ABYTES)

int lb_proto_is_id(const char *s)
{
    size_t i;
    if (!s)
        return 0;
    for (i = 0; i < LB_PROTO_ID_LEN; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return s[LB_PROTO_ID_LEN] == '\0';
}

/* 1 if s is a caseload id: 1..LB_PROTO_CASELOAD_MAX of [A-Za-z0-9._-]. */
static int is_caseload(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                 (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.';
        if (!ok || n >= LB_PROTO_CASELOAD_MAX)
            return 0;
    }
    return n > 0;
}

size_t lb_proto_envelope_ad(const lb_envelope *e, char ad[LB_PROTO_AD_MAX])
{
    size_t n = lb_sync_envelope_ad(e->id, e->person, e->key, e->has_assign,
                                   e->assign_caseload, e->assign_active, ad, LB_PROTO_AD_MAX);
    if (n == 0)
        ad[0] = '\0';
    return n;
}

char *lb_proto_b64(const unsigned char *bin, size_t len)
{
    size_t n;
    char *out;
    if (len > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    if (!(out = malloc(n)))
        return NULL;
    sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

lb_err lb_proto_unb64(const char *text, unsigned char **out, size_t *outlen)
{
    size_t tlen = strlen(text), max = tlen / 4 * 3 + 3, got = 0;
    const char *end = NULL;
    unsigned char *bin;
    if (tlen % 4 != 0)
        return LB_ERR_INVALID;
    if (!(bin = malloc(max)))
        return LB_ERR_NOMEM;
    if (sodium_base642bin(bin, max, text, tlen, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || end != text + tlen) {
        free(bin);
        return LB_ERR_INVALID;
    }
    *out = bin;
    *outlen = got;
    return LB_OK;
}

json_t *lb_proto_error(const char *code, const char *message)
{
    return json_pack("{s:s, s:s}", "error", message, "code", code);
}

static int add_assign(json_t *j, const lb_envelope *e)
{
    json_t *a = json_pack("{s:s, s:b}", "caseload", e->assign_caseload,
                          "active", e->assign_active ? 1 : 0);
    return a ? json_object_set_new(j, "assign", a) : -1;
}

json_t *lb_proto_envelope_json(const lb_envelope *e)
{
    char *body = lb_proto_b64(e->body, e->body_len);
    json_t *j = NULL;
    int bad = 0;
    if (!body)
        return NULL;
    j = json_pack("{s:s, s:s, s:I, s:s}", "id", e->id, "person", e->person,
                  "key", (json_int_t)e->key, "body", body);
    free(body);
    if (!j)
        return NULL;
    if (e->has_assign)
        bad |= add_assign(j, e);
    if (e->from[0]) {
        bad |= json_object_set_new(j, "from", json_string(e->from));
        bad |= json_object_set_new(j, "size", json_integer((json_int_t)e->body_len));
    }
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void lb_proto_envelope_clear(lb_envelope *e)
{
    if (!e)
        return;
    free(e->body);
    memset(e, 0, sizeof *e);
}

static lb_err bad(char *msg, size_t msglen, const char *what)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s", what);
    return LB_ERR_INVALID;
}

/* Copy a 32-hex id field of j into out. */
static lb_err get_id(const json_t *j, const char *key, char out[LB_PROTO_ID_LEN + 1])
{
    const char *s = json_string_value(json_object_get(j, key));
    if (!s || !lb_proto_is_id(s))
        return LB_ERR_INVALID;
    memcpy(out, s, LB_PROTO_ID_LEN + 1);
    return LB_OK;
}

static lb_err parse_assign(const json_t *a, lb_envelope *e, char *msg, size_t msglen)
{
    const json_t *act = json_object_get(a, "active");
    const char *c = json_string_value(json_object_get(a, "caseload"));
    if (!json_is_object(a) || json_object_size(a) != 2)
        return bad(msg, msglen, "envelope field \"assign\" must be {\"caseload\", \"active\"}");
    if (!c || !is_caseload(c))
        return bad(msg, msglen, "envelope field \"assign.caseload\" must be 1-64 letters, "
                   "digits, '-', '_' or '.'");
    if (!json_is_boolean(act))
        return bad(msg, msglen, "envelope field \"assign.active\" must be true or false");
    e->has_assign = 1;
    memcpy(e->assign_caseload, c, strlen(c) + 1);
    e->assign_active = json_is_true(act);
    return LB_OK;
}

/* The optional server-to-device fields "from" and "size"; returns how many
 * were present, or -1 when one is malformed. */
static int parse_extra(const json_t *j, lb_envelope *e, char *msg, size_t msglen)
{
    const json_t *size = json_object_get(j, "size");
    int n = 0;
    if (json_object_get(j, "from")) {
        if (get_id(j, "from", e->from) != LB_OK)
            return bad(msg, msglen, "envelope field \"from\" must be 32 lowercase hex digits"), -1;
        n++;
    }
    if (size) {
        if (!json_is_integer(size) || json_integer_value(size) != (json_int_t)e->body_len)
            return bad(msg, msglen, "envelope field \"size\" does not match the body"), -1;
        n++;
    }
    return n;
}

static lb_err parse_body(const json_t *j, lb_envelope *e, char *msg, size_t msglen)
{
    const char *b = json_string_value(json_object_get(j, "body"));
    lb_err err;
    if (!b)
        return bad(msg, msglen, "envelope field \"body\" must be a base64 string");
    err = lb_proto_unb64(b, &e->body, &e->body_len);
    if (err == LB_ERR_NOMEM)
        return bad(msg, msglen, "out of memory decoding an envelope body"), LB_ERR_NOMEM;
    if (err)
        return bad(msg, msglen, "envelope field \"body\" is not standard padded base64");
    if (e->body_len < ENVELOPE_MIN_BODY || e->body_len > LB_PROTO_MAX_BODY)
        return bad(msg, msglen, "envelope field \"body\" is too short or too long to be sealed");
    return LB_OK;
}

lb_err lb_proto_envelope_parse(const json_t *j, lb_envelope *e, char *msg, size_t msglen)
{
    lb_envelope tmp;
    const json_t *key = json_object_get(j, "key"), *assign = json_object_get(j, "assign");
    size_t known = 4;
    int extra;
    lb_err err;
    memset(&tmp, 0, sizeof tmp);
    if (!json_is_object(j))
        return bad(msg, msglen, "an envelope must be a JSON object");
    if (get_id(j, "id", tmp.id) != LB_OK)
        return bad(msg, msglen, "envelope field \"id\" must be 32 lowercase hex digits");
    if (get_id(j, "person", tmp.person) != LB_OK)
        return bad(msg, msglen, "envelope field \"person\" must be 32 lowercase hex digits");
    if (!json_is_integer(key) || json_integer_value(key) < 1)
        return bad(msg, msglen, "envelope field \"key\" must be an integer >= 1");
    tmp.key = (int64_t)json_integer_value(key);
    if (assign && (err = parse_assign(assign, &tmp, msg, msglen)) != LB_OK)
        return err;
    known += assign ? 1 : 0;
    if ((err = parse_body(j, &tmp, msg, msglen)) != LB_OK)
        goto out;
    if ((extra = parse_extra(j, &tmp, msg, msglen)) < 0) {
        err = LB_ERR_INVALID;
        goto out;
    }
    if (json_object_size(j) != known + (size_t)extra) {
        err = bad(msg, msglen, "an envelope has a field this protocol version does not know");
        goto out;
    }
    *e = tmp;
    return LB_OK;
out:
    lb_proto_envelope_clear(&tmp);
    return err;
}

/* ---- binary bodies (see lb_proto.h) --------------------------------------- */

#define FRAME_HEAD 5u                       /* type, 32-bit length */
#define ENVELOPE_FIXED (16u + 16u + 4u + 1u) /* id, person, key, flags */
#define FLAG_ASSIGN 1u
#define FLAG_ACTIVE 2u
#define FLAG_FROM 4u
#define REASON_MAX 512u

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* The value of a lowercase hex digit (checked by lb_proto_is_id). */
static unsigned hex_digit(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

/* The 16 bytes of a 32-hex id; -1 if it is not one.  (Not
 * sodium_hex2bin, whose generic parsing was a tenth of sealing a push.) */
static int id_bin(const char *id, unsigned char out[16])
{
    size_t i;
    if (!lb_proto_is_id(id))
        return -1;
    for (i = 0; i < 16; i++)
        out[i] = (unsigned char)(hex_digit(id[2 * i]) << 4 | hex_digit(id[2 * i + 1]));
    return 0;
}

static void id_hex(const unsigned char *bin, char out[LB_PROTO_ID_LEN + 1])
{
    sodium_bin2hex(out, LB_PROTO_ID_LEN + 1, bin, 16);
}

/* Append a frame head for a payload of len bytes. */
static int frame_head(lb_buf *b, int type, size_t len)
{
    unsigned char h[FRAME_HEAD];
    if (len > LB_PROTO_MAX_BODY)
        return -1;
    h[0] = (unsigned char)type;
    put32(h + 1, (uint32_t)len);
    return lb_buf_add(b, h, sizeof h);
}

int lb_proto_bin_start(lb_buf *b)
{
    return lb_buf_add(b, LB_PROTO_MAGIC, LB_PROTO_MAGIC_LEN);
}

int lb_proto_put_json(lb_buf *b, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    size_t n = text ? strlen(text) : 0;
    int rc = !text || frame_head(b, LB_PROTO_FRAME_JSON, n) || lb_buf_add(b, text, n) ? -1 : 0;
    free(text);
    return rc;
}

int lb_proto_put_envelope(lb_buf *b, const lb_envelope *e)
{
    unsigned char head[ENVELOPE_FIXED + 1 + LB_PROTO_CASELOAD_MAX + 16];
    size_t n = ENVELOPE_FIXED, cl = e->has_assign ? strlen(e->assign_caseload) : 0;
    unsigned flags = (e->has_assign ? FLAG_ASSIGN : 0u) |
                     (e->has_assign && e->assign_active ? FLAG_ACTIVE : 0u) |
                     (e->from[0] ? FLAG_FROM : 0u);
    if (id_bin(e->id, head) || id_bin(e->person, head + 16) || e->key < 1 ||
        e->key > (int64_t)UINT32_MAX || cl > LB_PROTO_CASELOAD_MAX || (e->has_assign && !cl))
        return -1;
    put32(head + 32, (uint32_t)e->key);
    head[36] = (unsigned char)flags;
    if (e->has_assign) {
        head[n++] = (unsigned char)cl;
        memcpy(head + n, e->assign_caseload, cl);
        n += cl;
    }
    if (e->from[0] && id_bin(e->from, head + n) == 0)
        n += 16;
    else if (e->from[0])
        return -1;
    if (frame_head(b, LB_PROTO_FRAME_ENVELOPE, n + e->body_len) || lb_buf_add(b, head, n) ||
        lb_buf_add(b, e->body, e->body_len))
        return -1;
    return 0;
}

int lb_proto_put_ack(lb_buf *b, const char *id, const lb_proto_seq *seqs, size_t n)
{
    unsigned char head[17], one[1 + LB_PROTO_CASELOAD_MAX + 8];
    size_t i, len = sizeof head;
    if (id_bin(id, head) || n > 255)
        return -1;
    head[16] = (unsigned char)n;
    for (i = 0; i < n; i++)
        len += 1 + strlen(seqs[i].caseload) + 8;
    if (frame_head(b, LB_PROTO_FRAME_ACK, len) || lb_buf_add(b, head, sizeof head))
        return -1;
    for (i = 0; i < n; i++) {
        size_t cl = strlen(seqs[i].caseload);
        if (cl == 0 || cl > LB_PROTO_CASELOAD_MAX || seqs[i].seq < 0)
            return -1;
        one[0] = (unsigned char)cl;
        memcpy(one + 1, seqs[i].caseload, cl);
        put64(one + 1 + cl, (uint64_t)seqs[i].seq);
        if (lb_buf_add(b, one, 1 + cl + 8))
            return -1;
    }
    return 0;
}

int lb_proto_put_reject(lb_buf *b, const char *id, const char *why)
{
    unsigned char head[16];
    size_t n = strnlen(why, REASON_MAX);
    if (id_bin(id, head) || frame_head(b, LB_PROTO_FRAME_REJECT, sizeof head + n) ||
        lb_buf_add(b, head, sizeof head) || lb_buf_add(b, why, n))
        return -1;
    return 0;
}

lb_err lb_proto_bin_open(lb_proto_reader *r, const void *body, size_t len, char *msg,
                         size_t msglen)
{
    r->p = body;
    r->len = len;
    r->off = LB_PROTO_MAGIC_LEN;
    if (!body || len < LB_PROTO_MAGIC_LEN || memcmp(body, LB_PROTO_MAGIC, LB_PROTO_MAGIC_LEN))
        return bad(msg, msglen, "the body does not start with the linkbook v2 magic \"LB2\\n\"");
    return LB_OK;
}

int lb_proto_next(lb_proto_reader *r, lb_proto_frame *f, char *msg, size_t msglen)
{
    size_t left = r->len - r->off;
    uint32_t n;
    if (left == 0)
        return 0;
    if (left < FRAME_HEAD)
        return bad(msg, msglen, "the body ends inside a frame header"), -1;
    n = get32(r->p + r->off + 1);
    if (n > left - FRAME_HEAD)
        return bad(msg, msglen, "a frame is longer than the rest of the body"), -1;
    f->type = r->p[r->off];
    f->data = r->p + r->off + FRAME_HEAD;
    f->len = n;
    r->off += FRAME_HEAD + n;
    return 1;
}

lb_err lb_proto_envelope_view(const lb_proto_frame *f, lb_envelope *e, char *msg, size_t msglen)
{
    const unsigned char *p = f->data;
    size_t n = ENVELOPE_FIXED, cl = 0;
    unsigned flags;
    memset(e, 0, sizeof *e);
    if (f->len < ENVELOPE_FIXED)
        return bad(msg, msglen, "an envelope frame is shorter than its fixed fields");
    flags = p[36];
    if (flags & ~(FLAG_ASSIGN | FLAG_ACTIVE | FLAG_FROM) ||
        ((flags & FLAG_ACTIVE) && !(flags & FLAG_ASSIGN)))
        return bad(msg, msglen, "an envelope frame has flags this protocol version does not know");
    id_hex(p, e->id);
    id_hex(p + 16, e->person);
    e->key = (int64_t)get32(p + 32);
    if (e->key < 1)
        return bad(msg, msglen, "an envelope's team key id must be >= 1");
    if (flags & FLAG_ASSIGN) {
        cl = n < f->len ? p[n] : 0;
        if (cl == 0 || cl > LB_PROTO_CASELOAD_MAX || n + 1 + cl > f->len)
            return bad(msg, msglen, "an envelope's assign caseload is empty, too long or cut");
        memcpy(e->assign_caseload, p + n + 1, cl);
        if (strlen(e->assign_caseload) != cl || !is_caseload(e->assign_caseload))
            return bad(msg, msglen, "an envelope's assign caseload must be 1-64 letters, "
                       "digits, '-', '_' or '.'");
        e->has_assign = 1;
        e->assign_active = (flags & FLAG_ACTIVE) != 0;
        n += 1 + cl;
    }
    if (flags & FLAG_FROM) {
        if (n + 16 > f->len)
            return bad(msg, msglen, "an envelope's uploading device id is cut");
        id_hex(p + n, e->from);
        n += 16;
    }
    if (f->len - n < ENVELOPE_MIN_BODY)
        return bad(msg, msglen, "an envelope's body is too short to be sealed");
    e->body = (unsigned char *)(uintptr_t)(p + n);   /* a view: see lb_proto.h */
    e->body_len = f->len - n;
    return LB_OK;
}

lb_err lb_proto_ack_view(const lb_proto_frame *f, char id[LB_PROTO_ID_LEN + 1], char *msg,
                         size_t msglen)
{
    size_t off = 17, i, count;
    if (f->len < 17)
        return bad(msg, msglen, "an ack frame is shorter than its id and count");
    count = f->data[16];
    for (i = 0; i < count; i++) {
        size_t cl = off < f->len ? f->data[off] : 0;
        if (cl == 0 || cl > LB_PROTO_CASELOAD_MAX || off + 1 + cl + 8 > f->len)
            return bad(msg, msglen, "an ack frame's sequence numbers are cut or malformed");
        off += 1 + cl + 8;
    }
    if (off != f->len)
        return bad(msg, msglen, "an ack frame has bytes after its sequence numbers");
    id_hex(f->data, id);
    return LB_OK;
}

lb_err lb_proto_json_view(const lb_proto_frame *f, json_t **doc, char *msg, size_t msglen)
{
    json_t *j = json_loadb((const char *)f->data, f->len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return bad(msg, msglen, "a control frame is not a JSON object");
    }
    *doc = j;
    return LB_OK;
}
