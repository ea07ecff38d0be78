/* lb_proto.c - the sync protocol's JSON documents (see lb_proto.h).
 *
 * Builds and checks envelopes, error documents and the associated data of
 * a seal; base64 through libsodium.  No I/O, no global state: the client
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
    int n;
    if (e->has_assign)
        n = snprintf(ad, LB_PROTO_AD_MAX, "lbe1|%s|%s|%lld|%s|%d", e->id, e->person,
                     (long long)e->key, e->assign_caseload, e->assign_active ? 1 : 0);
    else
        n = snprintf(ad, LB_PROTO_AD_MAX, "lbe1|%s|%s|%lld|-", e->id, e->person,
                     (long long)e->key);
    if (n < 0 || (size_t)n >= LB_PROTO_AD_MAX) {
        ad[0] = '\0';
        return 0;
    }
    return (size_t)n;
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
