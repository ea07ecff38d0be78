/* lb_sync.c - the device side of sync (see lb_sync.h).
 *
 * Tables (schema/device/003_sync.sql): sync_meta holds the enrolment facts
 * and the device key pair, team_keys the team keys, cursors the pull
 * cursors, rejected the envelopes a pull brought that were not applied, and
 * changes.pushed marks the outbox (0: not acknowledged yet).
 *
 * Sealing at rest: a secret in sync_meta (token, device secret key, the
 * worker's and team's names) is lb_seal'd under the data key with the
 * associated data "lbs1|STORE|KEY"; a team key with "lbk1|STORE|ID".
 *
 * Envelopes (the wire shape of sync/lb_proto.h, built here with libsodium
 * and jansson because core/ does not depend on sync/):
 *   {"id", "person", "key", "body", "assign": {"caseload", "active"}}
 * body = base64 (standard, padded) of nonce (24) || XChaCha20-Poly1305
 * ciphertext of the change as compact JSON {"kind", "record", "caseload",
 * "hlc", "device", "author", "fields", "schema", "prev" (when any)}, under team key "key",
 * with the associated data "lbe1|ID|PERSON|KEY|CASELOAD|ACTIVE" (ACTIVE is
 * 1 or 0) for an assignment, "lbe1|ID|PERSON|KEY|-" otherwise.
 *
 * A team key this device does not hold yet: the envelope is not applied,
 * is counted as rejected (reason "no team key N yet") and no cursor moves
 * past it, so it comes again on the next pull.  When the envelope says
 * where it sits ("seq": {caseload: n}, as push acks do) only those
 * caseloads are held back, at n - 1; otherwise no cursor of that answer is
 * saved.  The other envelopes still apply: merge is commutative, so the
 * missing one can come later.
 *
 * A new server epoch (its database was restored or replaced): every change
 * in the log goes back into the outbox (the server keeps one copy of each
 * id, so it takes only what it lacks) and every cursor restarts at 0.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_buf.h"
#include "lb_change.h"
#include "lb_record.h"
#include "lb_store_priv.h"
#include "lb_sync.h"

#define ENV_AD_MAX 192
#define META_AD_MAX 128
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_KEY_LEN (LB_SYNC_TEAM_KEY_LEN + crypto_box_SEALBYTES)
#define KEY_CACHE 8
#define ENV_JSON_OVERHEAD 160   /* an envelope's JSON beside its base64 body */
#define TEXT_MAX 256            /* enrolment facts */

static const char SQL_META_GET[] = "SELECT value FROM sync_meta WHERE key = ?1";
static const char SQL_META_PUT[] =
    "INSERT OR REPLACE INTO sync_meta(key, value) VALUES (?1, ?2)";
static const char SQL_KEY_GET[] = "SELECT sealed FROM team_keys WHERE key_id = ?1";
static const char SQL_KEY_PUT[] =
    "INSERT OR IGNORE INTO team_keys(key_id, sealed) VALUES (?1, ?2)";
static const char SQL_KEY_MAX[] = "SELECT coalesce(max(key_id), 0) FROM team_keys";
static const char SQL_OUTBOX[] =
    "SELECT seq FROM changes WHERE pushed = 0 ORDER BY seq LIMIT ?1";
static const char SQL_PENDING[] = "SELECT count(*) FROM changes WHERE pushed = 0";
static const char SQL_ACK[] = "UPDATE changes SET pushed = 1 WHERE id = ?1 AND pushed = 0";
static const char SQL_CURSORS[] = "SELECT caseload, seq FROM cursors ORDER BY caseload";
static const char SQL_CURSOR_PUT[] =
    "INSERT INTO cursors(caseload, seq) VALUES (?1, ?2) "
    "ON CONFLICT(caseload) DO UPDATE SET seq = max(seq, excluded.seq)";
static const char SQL_REJECT[] =
    "INSERT OR REPLACE INTO rejected(id, reason, at) VALUES (?1, ?2, ?3)";

/* ---- small helpers ---------------------------------------------------------- */

static int is_id(const char *s)
{
    size_t i;
    if (!s)
        return 0;
    for (i = 0; i < LB_ID_HEX; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[LB_ID_HEX] == '\0';
}

/* A short printable name (caseload, role, ids the server gave). */
static int is_name(const char *s, size_t max)
{
    size_t i, n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '|')
            return 0;
    return 1;
}

static char *b64_encode(const unsigned char *bin, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(n);
    if (out)
        sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* Decode standard padded base64 into a new buffer; -1 if it is not. */
static int b64_decode(const char *text, unsigned char **out, size_t *outlen)
{
    size_t tl = strlen(text), max = tl / 4 * 3 + 3, n = 0;
    const char *end = NULL;
    unsigned char *bin = malloc(max);
    if (!bin)
        return -2;
    if (sodium_base642bin(bin, max, text, tl, NULL, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || end != text + tl) {
        free(bin);
        return -1;
    }
    *out = bin;
    *outlen = n;
    return 0;
}

static lb_err exec(lb_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LB_OK : lb_store_sqlfail(s, rc, what);
}

/* Run a one-row query with one optional text parameter; *v its integer. */
static lb_err query_int(lb_store *s, const char *sql, int64_t *v)
{
    sqlite3_stmt *st = lb_store_stmt(s, sql);
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? LB_OK : lb_store_sqlfail(s, rc, "reading the sync state");
}

/* ---- sync_meta ------------------------------------------------------------------ */

static size_t meta_ad(const lb_store *s, const char *key, char ad[META_AD_MAX])
{
    int n = snprintf(ad, META_AD_MAX, "lbs1|%s|%s", s->store_id, key);
    return n > 0 && n < META_AD_MAX ? (size_t)n : 0;
}

/* The raw value of key in a new NUL-terminated buffer; *val NULL if absent. */
static lb_err meta_get(lb_store *s, const char *key, unsigned char **val, size_t *len)
{
    return lb_store_kv_get(s, SQL_META_GET, key, val, len, "sync settings");
}

static lb_err meta_put(lb_store *s, const char *key, const void *val, size_t len)
{
    return lb_store_kv_put(s, SQL_META_PUT, key, val, len, "sync settings");
}

static lb_err meta_put_text(lb_store *s, const char *key, const char *text)
{
    return meta_put(s, key, text, strlen(text));
}

static lb_err meta_put_sealed(lb_store *s, const char *key, const void *val, size_t len)
{
    char ad[META_AD_MAX];
    size_t adlen = meta_ad(s, key, ad);
    unsigned char *sealed = malloc(len + LB_SEAL_OVERHEAD);
    lb_err err = sealed ? LB_OK : LB_ERR_NOMEM;
    if (!err)
        err = lb_seal(s->keys, val, len, (unsigned char *)ad, adlen, sealed);
    if (!err)
        err = meta_put(s, key, sealed, len + LB_SEAL_OVERHEAD);
    free(sealed);
    return err;
}

/* Open the sealed value of key into a new NUL-terminated buffer (the
 * caller wipes it); *val NULL if absent. */
static lb_err meta_get_sealed(lb_store *s, const char *key, unsigned char **val, size_t *len)
{
    char ad[META_AD_MAX];
    size_t adlen = meta_ad(s, key, ad), slen;
    unsigned char *sealed, *plain = NULL;
    lb_err err = meta_get(s, key, &sealed, &slen);
    *val = NULL;
    if (err || !sealed)
        return err;
    if (slen < LB_SEAL_OVERHEAD)
        err = LB_ERR_TAMPERED;
    else if (!(plain = malloc(slen - LB_SEAL_OVERHEAD + 1)))
        err = LB_ERR_NOMEM;
    if (!err)
        err = lb_open(s->keys, sealed, slen, (unsigned char *)ad, adlen, plain);
    free(sealed);
    if (err == LB_ERR_TAMPERED)
        lb_store_fail(s, err, "the sync setting '%s' of store %s failed its integrity check "
                      "(restore the store from a backup)", key, s->dir);
    if (err) {
        free(plain);
        return err;
    }
    plain[slen - LB_SEAL_OVERHEAD] = '\0';
    *val = plain;
    *len = slen - LB_SEAL_OVERHEAD;
    return LB_OK;
}

/* ---- enrolment facts ------------------------------------------------------------- */

typedef struct info_field {
    const char *key;
    int sealed;
    size_t off;
} info_field;

static const info_field INFO_FIELDS[] = {
    {"url", 0, offsetof(lb_sync_info, url)},
    {"device", 0, offsetof(lb_sync_info, device)},
    {"team", 0, offsetof(lb_sync_info, team)},
    {"team_name", 1, offsetof(lb_sync_info, team_name)},
    {"user", 0, offsetof(lb_sync_info, user)},
    {"name", 1, offsetof(lb_sync_info, name)},
    {"role", 0, offsetof(lb_sync_info, role)},
    {"caseload", 0, offsetof(lb_sync_info, caseload)},
    {"epoch", 0, offsetof(lb_sync_info, epoch)},
};
#define INFO_COUNT (sizeof INFO_FIELDS / sizeof INFO_FIELDS[0])

static char **info_slot(lb_sync_info *i, const info_field *f)
{
    return (char **)(void *)((char *)i + f->off);
}

void lb_sync_info_clear(lb_sync_info *i)
{
    size_t k;
    if (!i)
        return;
    for (k = 0; k < INFO_COUNT; k++) {
        char **slot = info_slot(i, &INFO_FIELDS[k]);
        if (*slot && INFO_FIELDS[k].sealed)
            sodium_memzero(*slot, strlen(*slot));
        free(*slot);
        *slot = NULL;
    }
    i->key = 0;
    i->insecure = 0;
}

lb_err lb_sync_info_get(lb_store *s, lb_sync_info *out)
{
    lb_sync_info i;
    unsigned char *v = NULL;
    size_t k, len;
    lb_err err = lb_store_need_keys(s);
    memset(&i, 0, sizeof i);
    for (k = 0; !err && k < INFO_COUNT; k++) {
        const info_field *f = &INFO_FIELDS[k];
        err = f->sealed ? meta_get_sealed(s, f->key, &v, &len) : meta_get(s, f->key, &v, &len);
        *info_slot(&i, f) = (char *)v;
    }
    if (!err)
        err = meta_get(s, "insecure", &v, &len);
    if (!err) {
        i.insecure = v && v[0] == '1';
        free(v);
        err = query_int(s, SQL_KEY_MAX, &i.key);
    }
    if (err) {
        lb_sync_info_clear(&i);
        return err;
    }
    *out = i;
    return LB_OK;
}

/* ---- device key pair ---------------------------------------------------------------- */

/* The device secret key in new guarded memory (sodium_free it). */
static lb_err device_sk(lb_store *s, unsigned char **sk)
{
    unsigned char *v = NULL, *k;
    size_t len = 0;
    lb_err err = meta_get_sealed(s, "device_sk", &v, &len);
    if (!err && (!v || len != crypto_box_SECRETKEYBYTES))
        err = lb_store_fail(s, v ? LB_ERR_CORRUPT : LB_ERR_NOTFOUND, v ? "the device key of "
                            "store %s is damaged" : "store %s has no device key yet (enrol it "
                            "first)", s->dir);
    if (!err && !(k = sodium_malloc(crypto_box_SECRETKEYBYTES)))
        err = LB_ERR_NOMEM;
    if (!err) {
        memcpy(k, v, len);
        *sk = k;
    }
    if (v)
        sodium_memzero(v, len);
    free(v);
    return err;
}

static lb_err device_key_make(lb_store *s, unsigned char pk[LB_SYNC_PK_LEN])
{
    unsigned char *sk = sodium_malloc(crypto_box_SECRETKEYBYTES);
    int own;
    lb_err err = sk ? lb_store_write_begin(s, &own) : LB_ERR_NOMEM;
    if (err) {
        sodium_free(sk);
        return err;
    }
    crypto_box_keypair(pk, sk);
    err = meta_put(s, "device_pk", pk, LB_SYNC_PK_LEN);
    if (!err)
        err = meta_put_sealed(s, "device_sk", sk, crypto_box_SECRETKEYBYTES);
    sodium_free(sk);
    return lb_store_write_end(s, own, err);
}

lb_err lb_sync_device_key(lb_store *s, unsigned char pk[LB_SYNC_PK_LEN])
{
    unsigned char *v = NULL, made[LB_SYNC_PK_LEN];
    size_t len = 0;
    lb_err err = lb_store_need_keys(s);
    if (!err)
        err = meta_get(s, "device_pk", &v, &len);
    if (!err && v && len != LB_SYNC_PK_LEN)
        err = lb_store_fail(s, LB_ERR_CORRUPT, "the device key of store %s is damaged", s->dir);
    if (!err && v)
        memcpy(pk, v, LB_SYNC_PK_LEN);
    else if (!err && (err = device_key_make(s, made)) == LB_OK)
        memcpy(pk, made, LB_SYNC_PK_LEN);
    free(v);
    return err;
}

/* ---- team keys ------------------------------------------------------------------------ */

static size_t key_ad(const lb_store *s, int64_t id, char ad[META_AD_MAX])
{
    int n = snprintf(ad, META_AD_MAX, "lbk1|%s|%" PRId64, s->store_id, id);
    return n > 0 && n < META_AD_MAX ? (size_t)n : 0;
}

/* Keep team key id (sealed); *added 1 if it was not held before. */
static lb_err team_key_put(lb_store *s, int64_t id, const unsigned char *key, int *added)
{
    char ad[META_AD_MAX];
    size_t adlen = key_ad(s, id, ad);
    unsigned char sealed[LB_SYNC_TEAM_KEY_LEN + LB_SEAL_OVERHEAD];
    sqlite3_stmt *st;
    int rc;
    lb_err err = lb_seal(s->keys, key, LB_SYNC_TEAM_KEY_LEN, (unsigned char *)ad, adlen, sealed);
    if (err)
        return err;
    if (!(st = lb_store_stmt(s, SQL_KEY_PUT)))
        return LB_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, sealed, sizeof sealed, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, "saving a team key");
    *added = sqlite3_changes(s->db) > 0;
    return LB_OK;
}

/* Open team key id into key (guarded memory); *found 0 if not held. */
static lb_err team_key_get(lb_store *s, int64_t id, unsigned char *key, int *found)
{
    char ad[META_AD_MAX];
    size_t adlen = key_ad(s, id, ad);
    sqlite3_stmt *st = lb_store_stmt(s, SQL_KEY_GET);
    int rc;
    lb_err err = LB_OK;
    *found = 0;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if ((size_t)sqlite3_column_bytes(st, 0) != LB_SYNC_TEAM_KEY_LEN + LB_SEAL_OVERHEAD)
            err = LB_ERR_TAMPERED;
        else
            err = lb_open(s->keys, sqlite3_column_blob(st, 0), LB_SYNC_TEAM_KEY_LEN +
                          LB_SEAL_OVERHEAD, (unsigned char *)ad, adlen, key);
        *found = !err;
    } else if (rc != SQLITE_DONE) {
        err = lb_store_sqlfail(s, rc, "reading a team key");
    }
    sqlite3_reset(st);
    if (err == LB_ERR_TAMPERED)
        lb_store_fail(s, err, "team key %" PRId64 " of store %s failed its integrity check "
                      "(restore the store from a backup)", id, s->dir);
    return err;
}

/* Open one sealed key of a GET /v1/keys answer and keep it. */
static lb_err key_add_one(lb_store *s, const json_t *k, const unsigned char *pk,
                          const unsigned char *sk, unsigned char *tk, int *added)
{
    json_t *id = json_object_get(k, "key");
    const char *b64 = json_string_value(json_object_get(k, "sealed"));
    unsigned char *bin = NULL;
    size_t len = 0;
    lb_err err = LB_OK;
    *added = 0;
    if (!json_is_integer(id) || json_integer_value(id) < 1 || !b64)
        return lb_store_fail(s, LB_ERR_INVALID, "keys: each needs \"key\" (>= 1) and \"sealed\"");
    if (b64_decode(b64, &bin, &len) == -2)
        return LB_ERR_NOMEM;
    if (bin && len == SEALED_KEY_LEN && crypto_box_seal_open(tk, bin, len, pk, sk) == 0)
        err = team_key_put(s, (int64_t)json_integer_value(id), tk, added);
    sodium_memzero(tk, LB_SYNC_TEAM_KEY_LEN);
    free(bin);
    return err;
}

lb_err lb_sync_keys_add(lb_store *s, const json_t *resp, int *added)
{
    json_t *keys = json_object_get(resp, "keys"), *k;
    unsigned char pk[LB_SYNC_PK_LEN], *sk = NULL, *tk = sodium_malloc(LB_SYNC_TEAM_KEY_LEN);
    size_t i;
    int own = 0, n = 0, one;
    lb_err err = tk ? lb_store_need_keys(s) : LB_ERR_NOMEM;
    if (!err && !json_is_array(keys))
        err = lb_store_fail(s, LB_ERR_INVALID, "the keys answer has no \"keys\" list");
    if (!err)
        err = lb_sync_device_key(s, pk);
    if (!err)
        err = device_sk(s, &sk);
    if (!err)
        err = lb_store_write_begin(s, &own);
    json_array_foreach(keys, i, k) {
        if (err)
            break;
        err = key_add_one(s, k, pk, sk, tk, &one);
        n += one;
    }
    err = lb_store_write_end(s, own, err);
    sodium_free(sk);
    sodium_free(tk);
    if (!err)
        *added = n;
    return err;
}

lb_err lb_sync_key_new(lb_store *s, int64_t *key_id)
{
    unsigned char *tk = sodium_malloc(LB_SYNC_TEAM_KEY_LEN);
    int64_t id = 0;
    int own = 0, added = 0;
    lb_err err = tk ? lb_store_write_begin(s, &own) : LB_ERR_NOMEM;
    if (!err)
        err = query_int(s, SQL_KEY_MAX, &id);
    if (!err) {
        crypto_aead_xchacha20poly1305_ietf_keygen(tk);
        err = team_key_put(s, ++id, tk, &added);
    }
    if (!err && !added)
        err = lb_store_fail(s, LB_ERR_INTERNAL, "team key %" PRId64 " already exists", id);
    err = lb_store_write_end(s, own, err);
    sodium_free(tk);
    if (!err)
        *key_id = id;
    return err;
}

lb_err lb_sync_key_seal_for(lb_store *s, int64_t key_id, const char *device_key_b64,
                            char **sealed_b64)
{
    unsigned char *tk = sodium_malloc(LB_SYNC_TEAM_KEY_LEN), *pk = NULL;
    unsigned char sealed[SEALED_KEY_LEN];
    size_t len = 0;
    int found = 0;
    char *out = NULL;
    lb_err err = tk ? lb_store_need_keys(s) : LB_ERR_NOMEM;
    if (!err && (!device_key_b64 || b64_decode(device_key_b64, &pk, &len) != 0 ||
                 len != LB_SYNC_PK_LEN))
        err = lb_store_fail(s, LB_ERR_INVALID, "device_key: not a base64 X25519 public key");
    if (!err)
        err = team_key_get(s, key_id, tk, &found);
    if (!err && !found)
        err = lb_store_fail(s, LB_ERR_NOTFOUND, "this device does not hold team key %" PRId64,
                            key_id);
    if (!err && crypto_box_seal(sealed, tk, LB_SYNC_TEAM_KEY_LEN, pk) != 0)
        err = lb_store_fail(s, LB_ERR_INVALID, "device_key: not a usable public key");
    if (!err && !(out = b64_encode(sealed, sizeof sealed)))
        err = LB_ERR_NOMEM;
    if (!err)
        *sealed_b64 = out;
    sodium_free(tk);
    free(pk);
    return err;
}

/* ---- token ------------------------------------------------------------------------------ */

lb_err lb_sync_token(lb_store *s, char **token)
{
    unsigned char *v = NULL;
    size_t len = 0;
    lb_err err = lb_store_need_keys(s);
    if (!err)
        err = meta_get_sealed(s, "token", &v, &len);
    if (!err && !v)
        err = lb_store_fail(s, LB_ERR_NOTFOUND, "this store is not enrolled in a team "
                            "(run 'linkbook enrol URL CODE')");
    if (!err)
        *token = (char *)v;
    return err;
}

void lb_sync_token_free(char *token)
{
    if (!token)
        return;
    sodium_memzero(token, strlen(token));
    free(token);
}

/* ---- enrolment ---------------------------------------------------------------------- */

/* The epoch of an answer as text ("" when it has none). */
static void epoch_text(const json_t *resp, char out[TEXT_MAX + 1])
{
    json_t *e = json_object_get(resp, "epoch");
    out[0] = '\0';
    if (json_is_string(e) && is_name(json_string_value(e), TEXT_MAX))
        snprintf(out, TEXT_MAX + 1, "%s", json_string_value(e));
    else if (json_is_integer(e))
        snprintf(out, TEXT_MAX + 1, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
}

typedef struct enrol_facts {
    const char *device, *token, *team, *team_name, *user, *name, *role, *caseload;
    char epoch[TEXT_MAX + 1];
} enrol_facts;

static lb_err enrol_parse(lb_store *s, const json_t *resp, enrol_facts *f)
{
    memset(f, 0, sizeof *f);
    if (json_unpack((json_t *)resp, "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                    "device", &f->device, "token", &f->token, "team", &f->team,
                    "team_name", &f->team_name, "user", &f->user, "name", &f->name,
                    "role", &f->role, "caseload", &f->caseload) != 0)
        return lb_store_fail(s, LB_ERR_INVALID, "the enrolment answer lacks one of device, "
                             "token, team, team_name, user, name, role, caseload");
    if (!is_name(f->device, TEXT_MAX) || !is_name(f->token, 4 * TEXT_MAX) ||
        !is_name(f->team, TEXT_MAX) || !is_name(f->user, TEXT_MAX) || !is_name(f->role, 64) ||
        !is_name(f->caseload, LB_CASELOAD_MAX) || !is_name(f->name, TEXT_MAX) ||
        strlen(f->team_name) > TEXT_MAX)
        return lb_store_fail(s, LB_ERR_INVALID, "the enrolment answer has a field that is "
                             "empty, too long or not printable");
    epoch_text(resp, f->epoch);
    return LB_OK;
}

/* Enrolling again is for the same team only (a revoked device, say). */
static lb_err enrol_same_team(lb_store *s, const char *team)
{
    unsigned char *old = NULL;
    size_t len;
    lb_err err = meta_get(s, "team", &old, &len);
    if (!err && old && strcmp((char *)old, team) != 0)
        err = lb_store_fail(s, LB_ERR_EXISTS, "this store is already enrolled in another team "
                            "(%s); use a new store for team %s", (char *)old, team);
    free(old);
    return err;
}

static lb_err enrol_save(lb_store *s, const char *url, int insecure, const enrol_facts *f)
{
    lb_err err = meta_put_text(s, "url", url);
    if (!err)
        err = meta_put_text(s, "device", f->device);
    if (!err)
        err = meta_put_text(s, "team", f->team);
    if (!err)
        err = meta_put_text(s, "user", f->user);
    if (!err)
        err = meta_put_text(s, "role", f->role);
    if (!err)
        err = meta_put_text(s, "caseload", f->caseload);
    if (!err && f->epoch[0])
        err = meta_put_text(s, "epoch", f->epoch);
    if (!err)
        err = meta_put_text(s, "insecure", insecure ? "1" : "0");
    if (!err)
        err = meta_put_sealed(s, "token", f->token, strlen(f->token));
    if (!err)
        err = meta_put_sealed(s, "name", f->name, strlen(f->name));
    if (!err)
        err = meta_put_sealed(s, "team_name", f->team_name, strlen(f->team_name));
    return err;
}

typedef struct on_caseload {
    const char *caseload;
    json_t *list;
} on_caseload;

/* Collect [assignment id, person] of every active assignment to a caseload. */
static int collect_on(const lb_record *r, void *ctx)
{
    on_caseload *o = ctx;
    const char *c = json_string_value(json_object_get(r->fields, "caseload"));
    if (c && strcmp(c, o->caseload) == 0 && json_is_true(json_object_get(r->fields, "active")))
        return json_array_append_new(o->list, json_pack("[s, s]", r->id, r->person)) != 0;
    return 0;
}

/* Move every person on the caseload this device recorded under before it
 * enrolled ("local", or what init named) to the user's caseload to: the old
 * assignment ends, a new one begins (both are changes).  Cursors of the
 * caseload followed before no longer apply. */
static lb_err move_local(lb_store *s, const char *from, const char *to)
{
    char today[11];
    json_t *list = json_array(), *item;
    on_caseload o = {from, list};
    size_t i;
    lb_err err = list ? LB_OK : LB_ERR_NOMEM;
    if (!err && strcmp(to, from) != 0) {
        err = lb_record_each(s, "assignment", NULL, collect_on, &o);
        if (!err)
            err = exec(s, "DELETE FROM cursors", "forgetting old cursors");
    }
    lb_store_today(s, today);
    json_array_foreach(list, i, item) {
        const char *rec = json_string_value(json_array_get(item, 0));
        const char *person = json_string_value(json_array_get(item, 1));
        json_t *end = json_pack("{s:s, s:b, s:s, s:s}", "caseload", from, "active", 0,
                                "to", today, "reason", "enrolled");
        json_t *begin = json_pack("{s:s, s:s, s:s, s:s, s:b}", "caseload", to, "role",
                                  lb_store_role(s), "from", today, "reason", "enrolled",
                                  "active", 1);
        if (err || !rec || !person || !end || !begin)
            err = err ? err : LB_ERR_NOMEM;
        if (!err)
            err = lb_change_write(s, "assignment", rec, person, end, NULL);
        if (!err)
            err = lb_change_write(s, "assignment", NULL, person, begin, NULL);
        json_decref(end);
        json_decref(begin);
    }
    json_decref(list);
    return err;
}

/* Copy the identity of s, to set it again if enrolment fails. */
static lb_err identity_copy(lb_store *s, char *out[3])
{
    out[0] = strdup(lb_store_author(s));
    out[1] = strdup(lb_store_role(s));
    out[2] = strdup(lb_store_caseload(s));
    return out[0] && out[1] && out[2] ? LB_OK : LB_ERR_NOMEM;
}

lb_err lb_sync_enrolled(lb_store *s, const char *url, int insecure, const json_t *resp)
{
    enrol_facts f;
    char *old[3] = {NULL, NULL, NULL};
    lb_identity who;
    int own = 0, changed = 0;
    lb_err err = lb_store_need_keys(s);
    if (!err && !is_name(url, 2048))
        err = lb_store_fail(s, LB_ERR_INVALID, "url: missing, too long or not printable");
    if (!err)
        err = enrol_parse(s, resp, &f);
    if (!err)
        err = enrol_same_team(s, f.team);
    if (!err)
        err = identity_copy(s, old);
    if (!err)
        err = lb_store_write_begin(s, &own);
    if (!err)
        err = enrol_save(s, url, insecure, &f);
    who.author = f.name;
    who.role = f.role;
    who.caseload = f.caseload;
    if (!err && (err = lb_store_set_identity(s, &who)) == LB_OK)
        changed = 1;
    if (!err)
        err = move_local(s, old[2], f.caseload);
    err = lb_store_write_end(s, own, err);
    if (err && changed) {
        who.author = old[0];
        who.role = old[1];
        who.caseload = old[2];
        lb_store_set_identity(s, &who); /* in memory at least, as it was */
    }
    free(old[0]);
    free(old[1]);
    free(old[2]);
    return err;
}

/* ---- epoch ---------------------------------------------------------------------------- */

/* Keep the server epoch an answer names.  A new one (the server's database
 * was restored or replaced): every change goes back into the outbox and
 * every cursor back to 0; *reset says so. */
static lb_err epoch_check(lb_store *s, const json_t *resp, int *reset)
{
    char now[TEXT_MAX + 1];
    unsigned char *old = NULL;
    size_t len;
    lb_err err;
    *reset = 0;
    epoch_text(resp, now);
    if (!now[0])
        return LB_OK;
    err = meta_get(s, "epoch", &old, &len);
    if (!err && old && strcmp((char *)old, now) != 0) {
        *reset = 1;
        err = exec(s, "UPDATE changes SET pushed = 0 WHERE pushed <> 0; DELETE FROM cursors",
                   "starting again with a restored server");
    }
    if (!err && (!old || *reset))
        err = meta_put_text(s, "epoch", now);
    free(old);
    return err;
}

/* ---- envelopes out ----------------------------------------------------------------------- */

static size_t env_ad(const char *id, const char *person, int64_t key, int has_assign,
                     const char *caseload, int active, char ad[ENV_AD_MAX])
{
    int n = has_assign ? snprintf(ad, ENV_AD_MAX, "lbe1|%s|%s|%" PRId64 "|%s|%d", id, person,
                                  key, caseload, active ? 1 : 0)
                       : snprintf(ad, ENV_AD_MAX, "lbe1|%s|%s|%" PRId64 "|-", id, person, key);
    return n > 0 && n < ENV_AD_MAX ? (size_t)n : 0;
}

/* The routing facts of an assignment change: from its fields, else from the
 * assignment record (the caseload of an assignment never changes). */
static lb_err assign_facts(lb_store *s, const lb_change *c, int *has,
                           char caseload[LB_CASELOAD_MAX + 1], int *active)
{
    json_t *cl = json_object_get(c->fields, "caseload"), *ac = json_object_get(c->fields, "active");
    lb_record *r = NULL;
    lb_err err = LB_OK;
    *has = 0;
    if (strcmp(c->kind, "assignment") != 0)
        return LB_OK;
    if (!json_is_string(cl) || !json_is_boolean(ac))
        err = lb_record_get(s, c->record, &r);
    if (err)
        return err;
    if (!json_is_string(cl) && r)
        cl = json_object_get(r->fields, "caseload");
    if (!json_is_boolean(ac) && r)
        ac = json_object_get(r->fields, "active");
    if (is_name(json_string_value(cl), LB_CASELOAD_MAX)) {
        *has = 1;
        snprintf(caseload, LB_CASELOAD_MAX + 1, "%s", json_string_value(cl));
        *active = !json_is_false(ac);
    }
    lb_record_free(r);
    return LB_OK;
}

/* The change as the sealed plaintext of an envelope (compact JSON). */
static lb_err change_plain(const lb_change *c, lb_buf *b)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:O, s:i}", "kind", c->kind,
                          "record", c->record, "caseload", c->caseload,
                          "hlc", (json_int_t)c->hlc, "device", c->device,
                          "author", c->author, "fields", c->fields, "schema", c->schema);
    int rc = !j || (c->prev && json_object_set(j, "prev", c->prev)) ? -1 : lb_buf_add_json(b, j);
    json_decref(j);
    return rc ? LB_ERR_NOMEM : LB_OK;
}

static lb_err envelope_json(const lb_change *c, int64_t key_id, const char *body, int has,
                            const char *caseload, int active, json_t **out)
{
    json_t *e = json_pack("{s:s, s:s, s:I, s:s}", "id", c->id, "person", c->person,
                          "key", (json_int_t)key_id, "body", body);
    if (e && has && json_object_set_new(e, "assign", json_pack("{s:s, s:b}", "caseload",
                                                                 caseload, "active", active))) {
        json_decref(e);
        e = NULL;
    }
    *out = e;
    return e ? LB_OK : LB_ERR_NOMEM;
}

/* Seal c with team key tk (id key_id) into an envelope; *size about its
 * JSON length. */
static lb_err envelope_make(lb_store *s, const lb_change *c, int64_t key_id,
                            const unsigned char *tk, json_t **env, size_t *size)
{
    char ad[ENV_AD_MAX], caseload[LB_CASELOAD_MAX + 1] = "", *b64 = NULL;
    unsigned char *sealed = NULL;
    size_t adlen, slen = 0;
    int has = 0, active = 0;
    lb_buf b;
    lb_err err = assign_facts(s, c, &has, caseload, &active);
    lb_buf_init(&b, 2 * (size_t)LB_BODY_MAX);
    if (!err)
        err = change_plain(c, &b);
    adlen = env_ad(c->id, c->person, key_id, has, caseload, active, ad);
    if (!err && !(sealed = malloc(slen = NONCE_LEN + b.len + TAG_LEN)))
        err = LB_ERR_NOMEM;
    if (!err) {
        randombytes_buf(sealed, NONCE_LEN);
        crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + NONCE_LEN, NULL,
                                                   (unsigned char *)b.data, b.len,
                                                   (unsigned char *)ad, adlen, NULL, sealed, tk);
        if (!(b64 = b64_encode(sealed, slen)))
            err = LB_ERR_NOMEM;
    }
    if (!err)
        err = envelope_json(c, key_id, b64, has, caseload, active, env);
    if (!err)
        *size = strlen(b64) + ENV_JSON_OVERHEAD;
    lb_buf_wipe(&b);
    free(sealed);
    free(b64);
    return err;
}

static lb_err outbox_fill(lb_store *s, int64_t key_id, const unsigned char *tk,
                          size_t max_count, size_t max_bytes, json_t *arr)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_OUTBOX);
    size_t bytes = 0, size = 0;
    int rc = SQLITE_DONE;
    lb_err err = LB_OK;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, max_count > (uint64_t)INT64_MAX ? INT64_MAX
                                                              : (sqlite3_int64)max_count);
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_change c;
        json_t *env = NULL;
        err = lb_change_read(s, sqlite3_column_int64(st, 0), &c);
        if (!err) {
            err = envelope_make(s, &c, key_id, tk, &env, &size);
            lb_change_clear(&c);
        }
        if (!err && json_array_size(arr) > 0 && bytes + size > max_bytes) {
            json_decref(env);
            break;
        }
        if (!err && json_array_append_new(arr, env) != 0)
            err = LB_ERR_NOMEM;
        bytes += size;
    }
    if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = lb_store_sqlfail(s, rc, "reading the outbox");
    sqlite3_reset(st);
    return err;
}

lb_err lb_sync_outbox(lb_store *s, size_t max_count, size_t max_bytes, json_t **envelopes,
                      size_t *pending)
{
    unsigned char *tk = sodium_malloc(LB_SYNC_TEAM_KEY_LEN);
    json_t *arr = json_array();
    int64_t key_id = 0, n = 0;
    int found = 0;
    lb_err err = tk && arr ? lb_store_need_keys(s) : LB_ERR_NOMEM;
    if (!err)
        err = query_int(s, SQL_KEY_MAX, &key_id);
    if (!err && key_id > 0)
        err = team_key_get(s, key_id, tk, &found);
    if (!err && !found)
        err = lb_store_fail(s, LB_ERR_LOCKED, "this device holds no team key yet: a supervisor "
                            "must approve it first (sync again later)");
    if (!err)
        err = outbox_fill(s, key_id, tk, max_count, max_bytes, arr);
    if (!err)
        err = query_int(s, SQL_PENDING, &n);
    sodium_free(tk);
    if (err) {
        json_decref(arr);
        return err;
    }
    *envelopes = arr;
    *pending = (size_t)n;
    return LB_OK;
}

lb_err lb_sync_pending(lb_store *s, size_t *count)
{
    int64_t n = 0;
    lb_err err = query_int(s, SQL_PENDING, &n);
    if (!err)
        *count = (size_t)n;
    return err;
}

/* ---- acknowledgements and cursors ---------------------------------------------------------- */

static lb_err mark_pushed(lb_store *s, const char *id, size_t *n)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_ACK);
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, "marking changes as sent");
    *n += (size_t)sqlite3_changes(s->db);
    return LB_OK;
}

lb_err lb_sync_acked(lb_store *s, const json_t *resp, size_t *count)
{
    json_t *acks = json_object_get(resp, "acks"), *a;
    size_t i, n = 0;
    int own = 0, reset = 0;
    lb_err err = lb_store_need_keys(s);
    if (!err && !json_is_array(acks))
        err = lb_store_fail(s, LB_ERR_INVALID, "the push answer has no \"acks\" list");
    if (!err)
        err = lb_store_write_begin(s, &own);
    if (!err)
        err = epoch_check(s, resp, &reset);
    json_array_foreach(acks, i, a) {
        const char *id = json_string_value(json_object_get(a, "id"));
        if (err)
            break;
        if (!is_id(id))
            err = lb_store_fail(s, LB_ERR_INVALID, "the push answer has an ack without a "
                                "valid \"id\"");
        else
            err = mark_pushed(s, id, &n);
    }
    err = lb_store_write_end(s, own, err);
    if (!err)
        *count = n;
    return err;
}

lb_err lb_sync_cursors(lb_store *s, json_t **cursors)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_CURSORS);
    json_t *o = json_object();
    int rc = SQLITE_DONE;
    lb_err err = st ? (o ? LB_OK : LB_ERR_NOMEM) : LB_ERR_INTERNAL;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
                                json_integer(sqlite3_column_int64(st, 1))) != 0)
            err = LB_ERR_NOMEM;
    if (!err && rc != SQLITE_DONE)
        err = lb_store_sqlfail(s, rc, "reading the pull cursors");
    if (st)
        sqlite3_reset(st);
    if (err) {
        json_decref(o);
        return err;
    }
    *cursors = o;
    return LB_OK;
}

/* ---- envelopes in ------------------------------------------------------------------------- */

typedef struct env {
    char id[LB_ID_HEX + 1], person[LB_ID_HEX + 1], caseload[LB_CASELOAD_MAX + 1];
    int64_t key;
    int has_assign, active;
    unsigned char *body;    /* nonce || ciphertext */
    size_t body_len;
} env;

typedef struct pull {
    lb_store *s;
    json_t *hold;           /* caseload -> the highest seq that may be saved */
    int hold_all;           /* save no cursor of this answer */
    size_t applied, rejected, nkeys;
    int64_t ids[KEY_CACHE];
    int have[KEY_CACHE];
    unsigned char *keys;    /* KEY_CACHE team keys, guarded memory */
} pull;

static const char *assign_parse(const json_t *a, env *e)
{
    const char *c = json_string_value(json_object_get(a, "caseload"));
    json_t *active = json_object_get(a, "active");
    if (!is_name(c, LB_CASELOAD_MAX) || !json_is_boolean(active))
        return "envelope: bad assign";
    e->has_assign = 1;
    snprintf(e->caseload, sizeof e->caseload, "%s", c);
    e->active = json_is_true(active);
    return NULL;
}

/* Check an envelope's metadata and decode its body.  LB_ERR_INVALID with
 * *why when it is to be rejected. */
static lb_err env_parse(const json_t *j, env *e, const char **why)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *person = json_string_value(json_object_get(j, "person"));
    const char *body = json_string_value(json_object_get(j, "body"));
    json_t *key = json_object_get(j, "key"), *assign = json_object_get(j, "assign");
    int rc;
    memset(e, 0, sizeof *e);
    *why = !is_id(id) ? "envelope: bad id" : !is_id(person) ? "envelope: bad person"
         : !json_is_integer(key) || json_integer_value(key) < 1 ? "envelope: bad key"
         : !body ? "envelope: no body" : NULL;
    if (!*why && assign && !json_is_null(assign))
        *why = assign_parse(assign, e);
    if (*why)
        return LB_ERR_INVALID;
    memcpy(e->id, id, LB_ID_HEX + 1);
    memcpy(e->person, person, LB_ID_HEX + 1);
    e->key = (int64_t)json_integer_value(key);
    rc = b64_decode(body, &e->body, &e->body_len);
    if (rc == -2)
        return LB_ERR_NOMEM;
    if (rc == 0 && e->body_len >= NONCE_LEN + TAG_LEN)
        return LB_OK;
    free(e->body);
    e->body = NULL;
    *why = "envelope: body is not base64 of a sealed change";
    return LB_ERR_INVALID;
}

/* Decrypt e with key into a new buffer (the caller wipes it). */
static lb_err env_open(const env *e, const unsigned char *key, unsigned char **plain,
                       size_t *plen, const char **why)
{
    char ad[ENV_AD_MAX];
    size_t adlen = env_ad(e->id, e->person, e->key, e->has_assign, e->caseload, e->active, ad);
    size_t n = e->body_len - NONCE_LEN - TAG_LEN;
    unsigned char *out = malloc(n + 1);
    if (!out)
        return LB_ERR_NOMEM;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, e->body + NONCE_LEN,
                                                   e->body_len - NONCE_LEN,
                                                   (unsigned char *)ad, adlen, e->body,
                                                   key) != 0) {
        free(out);
        *why = "failed authentication: its body or metadata was altered";
        return LB_ERR_INVALID;
    }
    out[n] = '\0';
    *plain = out;
    *plen = n;
    return LB_OK;
}

/* The change an envelope carries: its id and person from the (now
 * authenticated) metadata, the rest from the plaintext. */
static lb_err change_from_plain(const env *e, const unsigned char *plain, size_t len,
                                lb_change *c, const char **why)
{
    const char *kind, *record, *caseload, *device, *author;
    json_int_t hlc = -1, schema = 0;
    json_t *fields = NULL, *prev = NULL;
    json_t *j = json_loadb((const char *)plain, len, JSON_REJECT_DUPLICATES, NULL);
    lb_err err = LB_OK;
    if (!j || json_unpack(j, "{s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:I, s?o}", "kind", &kind,
                          "record", &record, "caseload", &caseload, "hlc", &hlc,
                          "device", &device, "author", &author, "fields", &fields,
                          "schema", &schema, "prev", &prev) != 0 ||
        !is_name(kind, LB_KIND_MAX) || !is_id(record) || !is_name(caseload, LB_CASELOAD_MAX) ||
        hlc < 0 || !is_id(device) || !json_is_object(fields) || schema < 1 || schema > 0xffff ||
        (prev && !json_is_object(prev)))
        err = LB_ERR_INVALID;
    if (!err) {
        memcpy(c->id, e->id, LB_ID_HEX + 1);
        memcpy(c->person, e->person, LB_ID_HEX + 1);
        memcpy(c->record, record, LB_ID_HEX + 1);
        memcpy(c->device, device, LB_ID_HEX + 1);
        snprintf(c->kind, sizeof c->kind, "%s", kind);
        snprintf(c->caseload, sizeof c->caseload, "%s", caseload);
        c->hlc = (uint64_t)hlc;
        c->schema = (int)schema;
        c->fields = json_incref(fields);
        c->prev = json_incref(prev);
        if (!(c->author = strdup(author)))
            err = LB_ERR_NOMEM;
    }
    if (err == LB_ERR_INVALID)
        *why = "its sealed content is not a change";
    json_decref(j);
    return err;
}

/* The routing facts beside the seal must say what the sealed change says. */
static const char *assign_mismatch(const env *e, const lb_change *c)
{
    json_t *cl = json_object_get(c->fields, "caseload"), *ac = json_object_get(c->fields, "active");
    if (strcmp(c->kind, "assignment") != 0)
        return e->has_assign ? "routing facts on a change that is no assignment" : NULL;
    if (!e->has_assign)
        return NULL;
    if (json_is_string(cl) && strcmp(json_string_value(cl), e->caseload) != 0)
        return "its routing caseload is not the sealed one";
    if (json_is_boolean(ac) && json_is_true(ac) != (e->active != 0))
        return "its routing active flag is not the sealed one";
    return NULL;
}

/* Apply c (unless the log has it) under a savepoint, so a change the log
 * refuses leaves nothing behind; then it counts as on the server. */
static lb_err pull_apply(pull *p, const lb_change *c, const char **why)
{
    size_t marked = 0;
    int known = 0;
    lb_err err = lb_change_known(p->s, c->id, &known);
    if (!err && !known && !(err = exec(p->s, "SAVEPOINT lb_pull", "applying a pulled change"))) {
        err = lb_change_apply(p->s, c);
        if (err == LB_ERR_INVALID) {
            sqlite3_exec(p->s->db, "ROLLBACK TO lb_pull", NULL, NULL, NULL);
            lb_store_forget_active(p->s);
            *why = "its change is malformed";
        }
        sqlite3_exec(p->s->db, "RELEASE lb_pull", NULL, NULL, NULL);
        p->applied += !err;
    }
    if (!err)
        err = mark_pushed(p->s, c->id, &marked);
    return err;
}

/* Open e with key and apply its change; LB_ERR_INVALID with *why when the
 * envelope is to be rejected. */
static lb_err pull_open_apply(pull *p, const env *e, const unsigned char *key, const char **why)
{
    lb_change c;
    unsigned char *plain = NULL;
    size_t plen = 0;
    lb_err err = env_open(e, key, &plain, &plen, why);
    memset(&c, 0, sizeof c);
    if (!err)
        err = change_from_plain(e, plain, plen, &c, why);
    if (plain) {
        sodium_memzero(plain, plen);
        free(plain);
    }
    if (!err && (*why = assign_mismatch(e, &c)) != NULL)
        err = LB_ERR_INVALID;
    if (!err)
        err = pull_apply(p, &c, why);
    lb_change_clear(&c);
    return err;
}

/* Team key id, from the cache or the store; *key NULL if not held. */
static lb_err pull_key(pull *p, int64_t id, const unsigned char **key)
{
    size_t i, slot;
    int found = 0;
    lb_err err;
    *key = NULL;
    for (i = 0; i < p->nkeys && i < KEY_CACHE; i++) {
        if (p->ids[i] == id) {
            *key = p->have[i] ? p->keys + i * LB_SYNC_TEAM_KEY_LEN : NULL;
            return LB_OK;
        }
    }
    slot = p->nkeys++ % KEY_CACHE;
    p->ids[slot] = id;
    err = team_key_get(p->s, id, p->keys + slot * LB_SYNC_TEAM_KEY_LEN, &found);
    p->have[slot] = !err && found;
    if (p->have[slot])
        *key = p->keys + slot * LB_SYNC_TEAM_KEY_LEN;
    return err;
}

static lb_err pull_reject(pull *p, const json_t *j, const char *why)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    sqlite3_stmt *st = lb_store_stmt(p->s, SQL_REJECT);
    int rc;
    p->rejected++;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, is_id(id) ? id : "(no valid id)", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)lb_store_now_ms(p->s));
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LB_OK : lb_store_sqlfail(p->s, rc, "noting a rejected envelope");
}

/* No cursor may pass an envelope not applied for want of its key: only the
 * caseloads it names in "seq", or every cursor if it names none. */
static lb_err pull_hold(pull *p, const json_t *j)
{
    json_t *seq = json_object_get(j, "seq"), *v, *cur;
    const char *c;
    if (!json_is_object(seq) || json_object_size(seq) == 0) {
        p->hold_all = 1;
        return LB_OK;
    }
    json_object_foreach(seq, c, v) {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
        if (n < 1) {
            p->hold_all = 1;
            continue;
        }
        cur = json_object_get(p->hold, c);
        if ((!cur || json_integer_value(cur) > n - 1) &&
            json_object_set_new(p->hold, c, json_integer(n - 1)) != 0)
            return LB_ERR_NOMEM;
    }
    return LB_OK;
}

static lb_err pull_one(pull *p, const json_t *j)
{
    env e;
    const char *why = NULL;
    const unsigned char *key = NULL;
    char msg[64];
    lb_err err = env_parse(j, &e, &why);
    if (!err)
        err = pull_key(p, e.key, &key);
    if (!err && !key) {
        snprintf(msg, sizeof msg, "no team key %" PRId64 " yet", e.key);
        err = pull_reject(p, j, msg);
        if (!err)
            err = pull_hold(p, j);
    } else if (!err) {
        err = pull_open_apply(p, &e, key, &why);
    }
    if (err == LB_ERR_INVALID && why)
        err = pull_reject(p, j, why);
    free(e.body);
    return err;
}

static lb_err cursors_check(lb_store *s, json_t *cursors)
{
    const char *c;
    json_t *v;
    if (!json_is_object(cursors))
        return lb_store_fail(s, LB_ERR_INVALID, "the pull answer has no \"cursors\" object");
    json_object_foreach(cursors, c, v) {
        if (!is_name(c, LB_CASELOAD_MAX) || !json_is_integer(v) || json_integer_value(v) < 0)
            return lb_store_fail(s, LB_ERR_INVALID, "the pull answer has a bad cursor");
    }
    return LB_OK;
}

static lb_err cursors_save(pull *p, json_t *cursors)
{
    sqlite3_stmt *st;
    const char *c;
    json_t *v, *h;
    int rc;
    if (p->hold_all)
        return LB_OK;
    json_object_foreach(cursors, c, v) {
        json_int_t n = json_integer_value(v);
        h = json_object_get(p->hold, c);
        if (h && json_integer_value(h) < n)
            n = json_integer_value(h);
        if (!(st = lb_store_stmt(p->s, SQL_CURSOR_PUT)))
            return LB_ERR_INTERNAL;
        sqlite3_bind_text(st, 1, c, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return lb_store_sqlfail(p->s, rc, "saving the pull cursors");
    }
    return LB_OK;
}

lb_err lb_sync_apply_pull(lb_store *s, const json_t *resp, size_t *applied, size_t *rejected)
{
    json_t *envs = json_object_get(resp, "envelopes"), *cursors = json_object_get(resp, "cursors");
    json_t *e;
    pull p;
    size_t i;
    int own = 0, reset = 0;
    lb_err err;
    memset(&p, 0, sizeof p);
    p.s = s;
    p.hold = json_object();
    p.keys = sodium_malloc(KEY_CACHE * LB_SYNC_TEAM_KEY_LEN);
    err = p.hold && p.keys ? lb_store_need_keys(s) : LB_ERR_NOMEM;
    if (!err && !json_is_array(envs))
        err = lb_store_fail(s, LB_ERR_INVALID, "the pull answer has no \"envelopes\" list");
    if (!err)
        err = cursors_check(s, cursors);
    if (!err)
        err = lb_store_write_begin(s, &own);
    if (!err)
        err = epoch_check(s, resp, &reset);
    p.hold_all = reset;
    json_array_foreach(envs, i, e) {
        if (err)
            break;
        err = pull_one(&p, e);
    }
    if (!err)
        err = cursors_save(&p, cursors);
    err = lb_store_write_end(s, own, err);
    if (!err) {
        *applied = p.applied;
        *rejected = p.rejected;
    }
    json_decref(p.hold);
    sodium_free(p.keys);
    return err;
}
