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
 * Envelopes: the routing facts (id, person, key, assign) beside body =
 * nonce (24) || XChaCha20-Poly1305 ciphertext, under team key "key", of the
 * change as compact JSON {"kind", "record", "caseload", "hlc", "device",
 * "schema", "a": author, "f": fields, "p": prev stamps (when any)}: the
 * clear facts, then the change's stored content copied as it is, so the
 * outbox neither parses nor writes the fields again; a pull seals that
 * closing {"a", "f", "p"} into its own log as it is, and makes only the
 * fields and stamps into values (the rest is read as written).  The associated data
 * is "lbe1|ID|PERSON|KEY|CASELOAD|ACTIVE" (ACTIVE is 1 or 0) for an
 * assignment, "lbe1|ID|PERSON|KEY|-" otherwise.  Envelopes are handed over
 * as lb_sync_envelope views (sync/lb_proto.c frames them for the wire; core/
 * does not depend on sync/); the JSON form (body in base64) remains for
 * tests and tools.
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
#include "lb_json.h"
#include "lb_record.h"
#include "lb_store_priv.h"
#include "lb_sync.h"

#define ENV_AD_MAX 192
#define META_AD_MAX 128
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_KEY_LEN (LB_SYNC_TEAM_KEY_LEN + crypto_box_SEALBYTES)
#define KEY_CACHE 8
#define ENV_PLAIN_GROWTH 160    /* an envelope's plaintext beyond the stored content */
#define TEXT_MAX 256            /* enrolment facts */

static const char SQL_META_GET[] = "SELECT value FROM sync_meta WHERE key = ?1";
static const char SQL_META_PUT[] =
    "INSERT OR REPLACE INTO sync_meta(key, value) VALUES (?1, ?2)";
static const char SQL_KEY_GET[] = "SELECT sealed FROM team_keys WHERE key_id = ?1";
static const char SQL_KEY_PUT[] =
    "INSERT OR IGNORE INTO team_keys(key_id, sealed) VALUES (?1, ?2)";
static const char SQL_KEY_MAX[] = "SELECT coalesce(max(key_id), 0) FROM team_keys";
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

/* Sync's own transactions (acknowledgements, pull answers) need not wait
 * for the disk: a power cut can lose them, never what the user recorded
 * (those commits keep synchronous=FULL, and WAL keeps commits in order),
 * and the next sync does them again.  relax(s) before such a transaction:
 * 1 if it switched (outside any transaction only); unrelax(s, 1) after. */
static int relax(lb_store *s)
{
    return sqlite3_get_autocommit(s->db) &&
           sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) == SQLITE_OK;
}

static void unrelax(lb_store *s, int relaxed)
{
    if (relaxed && sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
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

/* Keep the server epoch an answer names (now; NULL or "" when it names
 * none).  A new one (the server's database was restored or replaced):
 * every change goes back into the outbox and every cursor back to 0;
 * *reset says so. */
static lb_err epoch_check(lb_store *s, const char *now, int *reset)
{
    unsigned char *old = NULL;
    size_t len;
    lb_err err;
    *reset = 0;
    if (!now || !now[0])
        return LB_OK;
    if (!is_name(now, TEXT_MAX))
        return lb_store_fail(s, LB_ERR_INVALID, "the server's epoch is not a short "
                             "printable name");
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

size_t lb_sync_envelope_ad(const char *id, const char *person, int64_t key, int has_assign,
                           const char *caseload, int active, char *ad, size_t cap)
{
    char num[LB_AD_NUM];
    const char *f[] = {id, person, lb_ad_int(num, key), has_assign ? caseload : "-",
                       active ? "1" : "0"};
    return lb_ad_join(ad, cap, "lbe1", f, has_assign ? 5 : 4);
}

static size_t env_ad(const lb_sync_envelope *e, char ad[ENV_AD_MAX])
{
    return lb_sync_envelope_ad(e->id, e->person, e->key, e->has_assign, e->caseload, e->active,
                               ad, ENV_AD_MAX);
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

/* Append the short name t (kind, caseload: no control characters, see
 * is_name) as a JSON string. */
static int add_json_name(lb_buf *b, const char *t)
{
    char out[2 * (LB_CASELOAD_MAX + LB_KIND_MAX) + 4];
    size_t n = 0;
    out[n++] = '"';
    for (; *t && n + 3 < sizeof out; t++) {
        if (*t == '"' || *t == '\\')
            out[n++] = '\\';
        out[n++] = *t;
    }
    out[n++] = '"';
    return *t ? -1 : lb_buf_add(b, out, n);
}

/* The sealed plaintext of an envelope: the clear facts of c, then the
 * stored content {"a", "f", "p"} (text) in the same object. */
static lb_err envelope_plain(const lb_change *c, const unsigned char *text, size_t len,
                             lb_buf *b)
{
    char hlc[LB_AD_NUM], schema[LB_AD_NUM];
    if (len < 3 || text[0] != '{' || text[1] != '"' || text[len - 1] != '}')
        return LB_ERR_TAMPERED;
    b->len = 0;
    if (lb_buf_adds(b, "{\"kind\":") || add_json_name(b, c->kind) ||
        lb_buf_adds(b, ",\"record\":\"") || lb_buf_adds(b, c->record) ||
        lb_buf_adds(b, "\",\"caseload\":") || add_json_name(b, c->caseload) ||
        lb_buf_adds(b, ",\"hlc\":") || lb_buf_adds(b, lb_ad_uint(hlc, c->hlc)) ||
        lb_buf_adds(b, ",\"device\":\"") || lb_buf_adds(b, c->device) ||
        lb_buf_adds(b, "\",\"schema\":") || lb_buf_adds(b, lb_ad_int(schema, c->schema)) ||
        lb_buf_adds(b, ",") || lb_buf_add(b, text + 1, len - 1))
        return LB_ERR_NOMEM;
    return LB_OK;
}

#define NONCE_POOL 64

/* What sealing the outbox needs, reused from one envelope to the next. */
typedef struct outbox {
    lb_store *s;
    int64_t key_id;
    const unsigned char *tk;
    lb_buf plain;               /* the plaintext being sealed (wiped) */
    unsigned char *sealed;      /* nonce || ciphertext */
    size_t sealed_cap;
    unsigned char nonces[NONCE_LEN * NONCE_POOL];
    size_t nonces_left;
} outbox;

static const unsigned char *next_nonce(outbox *o)
{
    if (o->nonces_left == 0) {
        randombytes_buf(o->nonces, sizeof o->nonces);
        o->nonces_left = NONCE_POOL;
    }
    return o->nonces + NONCE_LEN * --o->nonces_left;
}

/* Seal o->plain for c into o->sealed and describe it in e. */
static lb_err envelope_seal(outbox *o, const lb_change *c, lb_sync_envelope *e)
{
    char ad[ENV_AD_MAX];
    size_t adlen, need = NONCE_LEN + o->plain.len + TAG_LEN;
    if (need > o->sealed_cap) {
        unsigned char *p = realloc(o->sealed, need);
        if (!p)
            return LB_ERR_NOMEM;
        o->sealed = p;
        o->sealed_cap = need;
    }
    memcpy(e->id, c->id, LB_ID_HEX + 1);
    memcpy(e->person, c->person, LB_ID_HEX + 1);
    e->key = o->key_id;
    adlen = env_ad(e, ad);
    memcpy(o->sealed, next_nonce(o), NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(o->sealed + NONCE_LEN, NULL,
                                               (unsigned char *)o->plain.data, o->plain.len,
                                               (unsigned char *)ad, adlen, NULL, o->sealed,
                                               o->tk);
    e->body = o->sealed;
    e->body_len = need;
    return LB_OK;
}

static const char SQL_OUTBOX_ROWS[] =
    "SELECT id, kind, record, person, caseload, hlc, device, schema, body, seq "
    "FROM changes WHERE pushed = 0 AND seq > ?2 ORDER BY seq LIMIT ?1";

/* Copy text column col of st into dst (cap bytes); -1 if it does not fit. */
static int col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    size_t n = v ? strlen(v) : 0;
    if (!v || n >= cap)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* The clear facts of an outbox row into c (author and fields unset). */
static lb_err row_facts(lb_store *s, sqlite3_stmt *st, lb_change *c)
{
    memset(c, 0, sizeof *c);
    if (col_text(st, 0, c->id, sizeof c->id) || col_text(st, 1, c->kind, sizeof c->kind) ||
        col_text(st, 2, c->record, sizeof c->record) ||
        col_text(st, 3, c->person, sizeof c->person) ||
        col_text(st, 4, c->caseload, sizeof c->caseload) ||
        col_text(st, 6, c->device, sizeof c->device))
        return lb_store_fail(s, LB_ERR_CORRUPT, "the change log of store %s is damaged "
                             "(run 'linkbook check')", s->dir);
    c->hlc = (uint64_t)sqlite3_column_int64(st, 5);
    c->schema = sqlite3_column_int(st, 7);
    c->seq = sqlite3_column_int64(st, 9);
    return LB_OK;
}

/* The envelope of the outbox row at st, into e (a view into o). */
static lb_err outbox_row(outbox *o, sqlite3_stmt *st, lb_sync_envelope *e)
{
    lb_change c;
    unsigned char *text = NULL;
    size_t tlen = 0;
    lb_err err = row_facts(o->s, st, &c);
    memset(e, 0, sizeof *e);
    if (!err && strcmp(c.kind, "assignment") == 0) {
        lb_change full;
        if ((err = lb_change_read(o->s, c.seq, &full)) == LB_OK) {
            err = assign_facts(o->s, &full, &e->has_assign, e->caseload, &e->active);
            lb_change_clear(&full);
        }
    }
    if (!err)
        err = lb_change_content(o->s, &c, sqlite3_column_blob(st, 8),
                                (size_t)sqlite3_column_bytes(st, 8), &text, &tlen);
    if (!err && (err = envelope_plain(&c, text, tlen, &o->plain)) == LB_ERR_TAMPERED)
        lb_store_fail(o->s, err, "change %s of store %s holds no change content (run "
                      "'linkbook check')", c.id, o->s->dir);
    if (text) {
        sodium_memzero(text, tlen);
        free(text);
    }
    if (!err)
        err = envelope_seal(o, &c, e);
    if (o->plain.data)
        sodium_memzero(o->plain.data, o->plain.len);
    return err;
}

/* Hand the outbox after *after to fn, up to max_count envelopes and about
 * max_bytes; *after moves to the last one, *more says whether any is left. */
static lb_err outbox_fill(outbox *o, int64_t *after, size_t max_count, size_t max_bytes,
                          lb_sync_envelope_fn fn, void *ctx, size_t *count, int *more)
{
    sqlite3_stmt *st = lb_store_stmt(o->s, SQL_OUTBOX_ROWS);
    size_t bytes = 0;
    int rc = SQLITE_DONE;
    lb_err err = LB_OK;
    if (!st)
        return LB_ERR_INTERNAL;
    /* One row more than asked: whether any is left. */
    sqlite3_bind_int64(st, 1, max_count >= (uint64_t)INT64_MAX ? INT64_MAX
                                                               : (sqlite3_int64)max_count + 1);
    sqlite3_bind_int64(st, 2, *after);
    *more = 0;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_sync_envelope e;
        size_t size = (size_t)sqlite3_column_bytes(st, 8) + ENV_PLAIN_GROWTH;
        if (*count == max_count || (*count > 0 && bytes + size > max_bytes)) {
            *more = 1;
            break;
        }
        err = outbox_row(o, st, &e);
        if (!err && fn(ctx, &e) != 0)
            err = LB_ERR_NOMEM;
        if (!err) {
            bytes += size;
            (*count)++;
            *after = sqlite3_column_int64(st, 9);
        }
    }
    if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = lb_store_sqlfail(o->s, rc, "reading the outbox");
    sqlite3_reset(st);
    return err;
}

lb_err lb_sync_outbox_each(lb_store *s, int64_t *after, size_t max_count, size_t max_bytes,
                           lb_sync_envelope_fn fn, void *ctx, size_t *count, int *more)
{
    unsigned char *tk = sodium_malloc(LB_SYNC_TEAM_KEY_LEN);
    outbox o;
    int64_t last = *after;
    size_t got = 0;
    int found = 0, left = 0;
    lb_err err = tk ? lb_store_need_keys(s) : LB_ERR_NOMEM;
    memset(&o, 0, sizeof o);
    o.s = s;
    o.tk = tk;
    lb_buf_init(&o.plain, 2 * (size_t)LB_BODY_MAX);
    if (!err)
        err = query_int(s, SQL_KEY_MAX, &o.key_id);
    if (!err && o.key_id > 0)
        err = team_key_get(s, o.key_id, tk, &found);
    if (!err && !found)
        err = lb_store_fail(s, LB_ERR_LOCKED, "this device holds no team key yet: a supervisor "
                            "must approve it first (sync again later)");
    if (!err)
        err = outbox_fill(&o, &last, max_count, max_bytes, fn, ctx, &got, &left);
    sodium_free(tk);
    lb_buf_wipe(&o.plain);
    free(o.sealed);
    sodium_memzero(o.nonces, sizeof o.nonces);
    if (err)
        return err;
    *after = last;
    *count = got;
    *more = left;
    return LB_OK;
}

/* The JSON form of an envelope, appended to the array ctx. */
static int envelope_json_add(void *ctx, const lb_sync_envelope *e)
{
    char *b64 = b64_encode(e->body, e->body_len);
    json_t *j = b64 ? json_pack("{s:s, s:s, s:I, s:s}", "id", e->id, "person", e->person,
                                "key", (json_int_t)e->key, "body", b64) : NULL;
    free(b64);
    if (j && e->has_assign &&
        json_object_set_new(j, "assign", json_pack("{s:s, s:b}", "caseload", e->caseload,
                                                   "active", e->active)) != 0) {
        json_decref(j);
        j = NULL;
    }
    return j ? json_array_append_new(ctx, j) : -1;
}

lb_err lb_sync_outbox(lb_store *s, size_t max_count, size_t max_bytes, json_t **envelopes,
                      size_t *pending)
{
    json_t *arr = json_array();
    int64_t after = 0;
    size_t count = 0;
    int more = 0;
    /* base64 is 4/3 of the body */
    lb_err err = arr ? lb_sync_outbox_each(s, &after, max_count, max_bytes / 4 * 3,
                                           envelope_json_add, arr, &count, &more)
                     : LB_ERR_NOMEM;
    if (!err)
        err = lb_sync_pending(s, pending);
    if (err) {
        json_decref(arr);
        return err;
    }
    *envelopes = arr;
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

lb_err lb_sync_acked_ids(lb_store *s, const char *epoch, const char (*ids)[LB_ID_HEX + 1],
                         size_t n, size_t *count)
{
    size_t i, marked = 0;
    int own = 0, reset = 0, relaxed = relax(s);
    lb_err err = lb_store_write_begin(s, &own);
    if (!err)
        err = epoch_check(s, epoch, &reset);
    for (i = 0; i < n && !err; i++) {
        if (!is_id(ids[i]))
            err = lb_store_fail(s, LB_ERR_INVALID, "the push answer has an ack without a "
                                "valid change id");
        else
            err = mark_pushed(s, ids[i], &marked);
    }
    err = lb_store_write_end(s, own, err);
    unrelax(s, relaxed);
    if (!err)
        *count = marked;
    return err;
}

lb_err lb_sync_acked(lb_store *s, const json_t *resp, size_t *count)
{
    json_t *acks = json_object_get(resp, "acks"), *a;
    char epoch[TEXT_MAX + 1], (*ids)[LB_ID_HEX + 1] = NULL;
    size_t i;
    lb_err err = lb_store_need_keys(s);
    if (!err && !json_is_array(acks))
        err = lb_store_fail(s, LB_ERR_INVALID, "the push answer has no \"acks\" list");
    if (!err && !(ids = calloc(json_array_size(acks) + 1, sizeof *ids)))
        err = LB_ERR_NOMEM;
    json_array_foreach(acks, i, a) {
        const char *id = json_string_value(json_object_get(a, "id"));
        if (err)
            break;
        if (!is_id(id))
            err = lb_store_fail(s, LB_ERR_INVALID, "the push answer has an ack without a "
                                "valid \"id\"");
        else
            memcpy(ids[i], id, LB_ID_HEX + 1);
    }
    epoch_text(resp, epoch);
    if (!err)
        err = lb_sync_acked_ids(s, epoch, (const char (*)[LB_ID_HEX + 1])ids,
                                json_array_size(acks), count);
    free(ids);
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

struct lb_sync_pull {
    lb_store *s;
    int own;                /* the transaction is the pull's own */
    char *epoch;            /* as given to lb_sync_pull_begin (NULL: none) */
    int careful;            /* each change under its own savepoint */
    lb_sync_envelope *seen; /* envelopes given so far (not careful yet) */
    size_t nseen, capseen;
    json_t *cursors;        /* caseload -> seq, as the answer gave them */
    json_t *hold;           /* caseload -> the highest seq that may be saved */
    int hold_all;           /* save no cursor of this answer */
    int redo;               /* a change failed without a savepoint: start again */
    int relaxed;            /* synchronous=NORMAL for it (relax) */
    size_t applied, rejected, nkeys;
    int64_t ids[KEY_CACHE];
    int have[KEY_CACHE];
    unsigned char *keys;    /* KEY_CACHE team keys, guarded memory */
};

/* Decrypt e with key into a new buffer (the caller wipes it). */
static lb_err env_open(const lb_sync_envelope *e, const unsigned char *key,
                       unsigned char **plain, size_t *plen, const char **why)
{
    char ad[ENV_AD_MAX];
    size_t adlen = env_ad(e, ad);
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
/* An integer member of j, or -1 when it is absent or not an integer. */
static json_int_t int_of(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

#define PLAIN_MEMBERS 12

/* The stored content within the plaintext: from its "a" member on, when
 * only "a", "f" and "p" follow (as envelope_plain writes them), rewritten
 * in place as an object of its own ({"a", "f", "p"}).  *content NULL when
 * it is laid out otherwise: then the content is written again. */
static void content_in_plain(unsigned char *plain, size_t len, const lb_json_member *m,
                             size_t n, const char **content, size_t *clen)
{
    static const char *const names[] = {"a", "f", "p"};
    size_t i, a = n, end = len;
    *content = NULL;
    for (i = 0; i < n && i < PLAIN_MEMBERS; i++)
        if (m[i].keylen == 1 && m[i].key[0] == 'a')
            a = i;
    if (a == 0 || a >= n || n > PLAIN_MEMBERS || n - a > 3)
        return;
    for (i = a; i < n; i++)
        if (m[i].keylen != 1 || m[i].key[0] != names[i - a][0])
            return;
    while (end > 0 && plain[end - 1] != '}')
        end--;
    plain[m[a].at - 1] = '{';
    *content = (const char *)plain + m[a].at - 1;
    *clen = end - (m[a].at - 1);
}

static lb_err change_from_tree(const lb_sync_envelope *e, unsigned char *plain, size_t len,
                                lb_change *c, const char **content, size_t *clen,
                                const char **why)
{
    json_t *j = NULL;
    lb_json_member m[PLAIN_MEMBERS];
    size_t nm = 0;
    lb_err err = lb_json_parse_members((const char *)plain, len, 1, &j, m, PLAIN_MEMBERS, &nm);
    /* Plain lookups rather than json_unpack, whose format parsing cost as
     * much as the rest of reading a change. */
    const char *kind = json_string_value(json_object_get(j, "kind"));
    const char *record = json_string_value(json_object_get(j, "record"));
    const char *caseload = json_string_value(json_object_get(j, "caseload"));
    const char *device = json_string_value(json_object_get(j, "device"));
    const char *author = json_string_value(json_object_get(j, "a"));
    json_t *fields = json_object_get(j, "f"), *prev = json_object_get(j, "p");
    json_int_t hlc = int_of(j, "hlc"), schema = int_of(j, "schema");
    if (err == LB_ERR_NOMEM)
        return err;
    if (!json_is_object(j) || !is_name(kind, LB_KIND_MAX) || !is_id(record) ||
        !is_name(caseload, LB_CASELOAD_MAX) || hlc < 0 || !is_id(device) || !author ||
        !json_is_object(fields) || schema < 1 || schema > 0xffff ||
        (prev && !json_is_object(prev)))
        err = LB_ERR_INVALID;
    if (!err) {
        memcpy(c->id, e->id, LB_ID_HEX + 1);
        memcpy(c->person, e->person, LB_ID_HEX + 1);
        memcpy(c->record, record, LB_ID_HEX + 1);
        memcpy(c->device, device, LB_ID_HEX + 1);
        memcpy(c->kind, kind, strlen(kind) + 1);
        memcpy(c->caseload, caseload, strlen(caseload) + 1);
        c->hlc = (uint64_t)hlc;
        c->schema = (int)schema;
        c->fields = json_incref(fields);
        c->prev = json_incref(prev);
        if (!(c->author = strdup(author)))
            err = LB_ERR_NOMEM;
    }
    if (!err)
        content_in_plain(plain, len, m, nm, content, clen);
    if (err == LB_ERR_INVALID)
        *why = "its sealed content is not a change";
    json_decref(j);
    return err;
}

/* A string value written without escapes, copied into out (cap bytes with
 * its NUL): 1; 0 when it is absent, no string or too long (no change has
 * it so); -1 when it has an escape (the text is read in full then). */
static int raw_text(const lb_json_member *m, char *out, size_t cap)
{
    size_t n = m ? m->vallen - 2 : 0;
    if (!m || m->vallen < 2 || m->val[0] != '"' || n >= cap)
        return 0;
    if (memchr(m->val + 1, '\\', n))
        return -1;
    memcpy(out, m->val + 1, n);
    out[n] = '\0';
    return 1;
}

/* An integer value as written, or -1 (absent, not an integer, negative:
 * as int_of, for the checks that follow). */
static json_int_t raw_int(const lb_json_member *m)
{
    json_int_t v = 0;
    size_t i;
    if (!m || m->vallen == 0)
        return -1;
    if (m->vallen == 2 && memcmp(m->val, "-0", 2) == 0)
        return 0;
    for (i = 0; i < m->vallen; i++) {
        if (m->val[i] < '0' || m->val[i] > '9')
            return -1;
        v = v * 10 + (m->val[i] - '0');   /* the reader refused what overflows */
    }
    return v;
}

enum { M_KIND, M_RECORD, M_CASELOAD, M_HLC, M_DEVICE, M_SCHEMA, M_AUTHOR, M_FIELDS, M_PREV,
       M_NAMES };

/* Which of the plaintext's members is which (NULL: absent). */
static void plain_find(const lb_json_member *m, size_t n, const lb_json_member *at[M_NAMES])
{
    static const char *const names[M_NAMES] = {"kind", "record", "caseload", "hlc", "device",
                                               "schema", "a", "f", "p"};
    size_t i, k;
    for (k = 0; k < M_NAMES; k++)
        at[k] = NULL;
    for (i = 0; i < n; i++)
        for (k = 0; k < M_NAMES; k++)
            if (strlen(names[k]) == m[i].keylen && memcmp(names[k], m[i].key, m[i].keylen) == 0)
                at[k] = &m[i];
}

/* change_from_tree without making the plaintext's object: its members read
 * as written, only "f" and "p" made.  *whole when the plaintext is to be
 * read in full instead (escapes where this reads text as written). */
static lb_err change_from_members(const lb_sync_envelope *e, unsigned char *plain, size_t len,
                                  lb_change *c, const char **content, size_t *clen,
                                  const char **why, int *whole)
{
    static const char *const made[] = {"f", "p"};
    lb_json_member m[PLAIN_MEMBERS];
    const lb_json_member *at[M_NAMES];
    const lb_json_member *a;
    size_t n = 0;
    json_int_t hlc, schema;
    int texts[5];
    lb_err err = lb_json_parse_shallow((const char *)plain, len, made, 2, m, PLAIN_MEMBERS, &n);
    *whole = !err && n > PLAIN_MEMBERS;
    if (err || *whole) {
        *why = err == LB_ERR_INVALID ? "its sealed content is not a change" : NULL;
        return err;
    }
    plain_find(m, n, at);
    texts[0] = raw_text(at[M_KIND], c->kind, sizeof c->kind);
    texts[1] = raw_text(at[M_RECORD], c->record, sizeof c->record);
    texts[2] = raw_text(at[M_CASELOAD], c->caseload, sizeof c->caseload);
    texts[3] = raw_text(at[M_DEVICE], c->device, sizeof c->device);
    a = at[M_AUTHOR];
    texts[4] = !a || a->vallen < 2 || a->val[0] != '"' ? 0
             : memchr(a->val + 1, '\\', a->vallen - 2) ? -1 : 1;
    hlc = raw_int(at[M_HLC]);
    schema = raw_int(at[M_SCHEMA]);
    *whole = texts[0] < 0 || texts[1] < 0 || texts[2] < 0 || texts[3] < 0 || texts[4] < 0;
    if (!*whole && (!texts[0] || !is_name(c->kind, LB_KIND_MAX) || !texts[1] ||
                    !is_id(c->record) || !texts[2] || !is_name(c->caseload, LB_CASELOAD_MAX) ||
                    hlc < 0 || !texts[3] || !is_id(c->device) || !texts[4] ||
                    !at[M_FIELDS] || !json_is_object(at[M_FIELDS]->v) || schema < 1 ||
                    schema > 0xffff || (at[M_PREV] && !json_is_object(at[M_PREV]->v))))
        err = LB_ERR_INVALID;
    if (!err && !*whole) {
        memcpy(c->id, e->id, LB_ID_HEX + 1);
        memcpy(c->person, e->person, LB_ID_HEX + 1);
        c->hlc = (uint64_t)hlc;
        c->schema = (int)schema;
        c->fields = json_incref(at[M_FIELDS]->v);
        c->prev = at[M_PREV] ? json_incref(at[M_PREV]->v) : NULL;
        if (!(c->author = strndup(a->val + 1, a->vallen - 2)))
            err = LB_ERR_NOMEM;
        else
            content_in_plain(plain, len, m, n, content, clen);
    }
    for (n = 0; n < PLAIN_MEMBERS; n++)
        json_decref(m[n].v);
    if (err == LB_ERR_INVALID)
        *why = "its sealed content is not a change";
    return err;
}

/* The change an envelope carries: its id and person from the (now
 * authenticated) metadata, the rest from the plaintext; *content the
 * stored content within the plaintext when it is there as it is. */
static lb_err change_from_plain(const lb_sync_envelope *e, unsigned char *plain, size_t len,
                                lb_change *c, const char **content, size_t *clen,
                                const char **why)
{
    int whole = 0;
    lb_err err = change_from_members(e, plain, len, c, content, clen, why, &whole);
    if (!err && whole) {
        lb_change_clear(c);
        memset(c, 0, sizeof *c);
        err = change_from_tree(e, plain, len, c, content, clen, why);
    }
    return err;
}

/* The routing facts beside the seal must say what the sealed change says. */
static const char *assign_mismatch(const lb_sync_envelope *e, const lb_change *c)
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

static const char SQL_SAVEPOINT[] = "SAVEPOINT lb_pull";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO lb_pull";
static const char SQL_RELEASE[] = "RELEASE lb_pull";

/* Run one of the cached statements above. */
static lb_err step_once(lb_store *s, const char *sql)
{
    sqlite3_stmt *st = lb_store_stmt(s, sql);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st)
        sqlite3_reset(st);
    return !st ? LB_ERR_INTERNAL : rc == SQLITE_DONE ? LB_OK
                                 : lb_store_sqlfail(s, rc, "applying a pulled change");
}

/* Apply c (unless the log has it), kept as on the server.  Careful: under
 * a savepoint, so a change the log refuses leaves nothing behind.
 * Otherwise (the common case: a savepoint per change cost a quarter of a
 * pull) a refused change sets p->redo, and lb_sync_pull_envelope starts
 * the answer again, carefully. */
static lb_err pull_apply(lb_sync_pull *p, const lb_change *c, const char *content, size_t clen,
                         const char **why)
{
    size_t marked = 0;
    int known = 0, fresh = 0;
    lb_err err = LB_OK;
    if (!p->careful) {
        err = lb_change_apply_synced(p->s, c, content, clen, &fresh);
        if (err == LB_ERR_INVALID) {
            p->redo = 1;
            return LB_OK;
        }
    } else if (!(err = lb_change_known(p->s, c->id, &known)) && !known &&
               !(err = step_once(p->s, SQL_SAVEPOINT))) {
        err = lb_change_apply_synced(p->s, c, content, clen, &fresh);
        if (err == LB_ERR_INVALID) {
            step_once(p->s, SQL_ROLLBACK_TO);
            lb_store_forget_active(p->s);
            *why = "its change is malformed";
        }
        step_once(p->s, SQL_RELEASE);
    }
    p->applied += !err && fresh;
    if (!err && !fresh)
        err = mark_pushed(p->s, c->id, &marked);
    return err;
}

/* Open e with key and apply its change; LB_ERR_INVALID with *why when the
 * envelope is to be rejected. */
static lb_err pull_open_apply(lb_sync_pull *p, const lb_sync_envelope *e,
                              const unsigned char *key, const char **why)
{
    lb_change c;
    unsigned char *plain = NULL;
    const char *content = NULL;
    size_t plen = 0, clen = 0;
    lb_err err = env_open(e, key, &plain, &plen, why);
    memset(&c, 0, sizeof c);
    if (!err)
        err = change_from_plain(e, plain, plen, &c, &content, &clen, why);
    if (!err && (*why = assign_mismatch(e, &c)) != NULL)
        err = LB_ERR_INVALID;
    if (!err)
        err = pull_apply(p, &c, content, clen, why);
    if (plain) {
        sodium_memzero(plain, plen);
        free(plain);
    }
    lb_change_clear(&c);
    return err;
}

/* Team key id, from the cache or the store; *key NULL if not held. */
static lb_err pull_key(lb_sync_pull *p, int64_t id, const unsigned char **key)
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

static lb_err pull_reject(lb_sync_pull *p, const char *id, const char *why)
{
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

/* What is wrong with an envelope's metadata (NULL: nothing). */
static const char *envelope_fault(const lb_sync_envelope *e)
{
    return !is_id(e->id) ? "envelope: bad id" : !is_id(e->person) ? "envelope: bad person"
         : e->key < 1 ? "envelope: bad key"
         : !e->body || e->body_len < NONCE_LEN + TAG_LEN ? "envelope: body too short to be sealed"
         : e->has_assign && !is_name(e->caseload, LB_CASELOAD_MAX) ? "envelope: bad assign"
         : NULL;
}

/* Apply or reject one envelope; *no_key when its team key is not held
 * (then it is rejected and the caller holds the cursors back). */
static lb_err pull_one(lb_sync_pull *p, const lb_sync_envelope *e, int *no_key)
{
    const char *why = envelope_fault(e);
    const unsigned char *key = NULL;
    char msg[64];
    lb_err err = why ? LB_ERR_INVALID : pull_key(p, e->key, &key);
    *no_key = 0;
    if (!err && !key) {
        snprintf(msg, sizeof msg, "no team key %" PRId64 " yet", e->key);
        *no_key = 1;
        err = pull_reject(p, e->id, msg);
    } else if (!err) {
        err = pull_open_apply(p, e, key, &why);
    }
    if (err == LB_ERR_INVALID && why)
        err = pull_reject(p, e->id, why);
    return err;
}

static void pull_free(lb_sync_pull *p)
{
    if (!p)
        return;
    unrelax(p->s, p->relaxed);
    json_decref(p->hold);
    json_decref(p->cursors);
    sodium_free(p->keys);
    free(p->epoch);
    free(p->seen);
    free(p);
}

/* Open the transaction and take the answer's epoch. */
static lb_err pull_start(lb_sync_pull *p)
{
    int reset = 0;
    lb_err err;
    if (!p->relaxed)
        p->relaxed = relax(p->s);
    err = lb_store_write_begin(p->s, &p->own);
    if (err)
        return err;
    err = epoch_check(p->s, p->epoch, &reset);
    p->hold_all = reset;
    return err ? lb_store_write_end(p->s, p->own, err) : LB_OK;
}

static lb_err pull_begin(lb_store *s, const char *epoch, int careful, lb_sync_pull **out)
{
    lb_sync_pull *p = calloc(1, sizeof *p);
    lb_err err = p ? lb_store_need_keys(s) : LB_ERR_NOMEM;
    if (!err) {
        p->s = s;
        p->careful = careful;
        p->hold = json_object();
        p->cursors = json_object();
        p->keys = sodium_malloc(KEY_CACHE * LB_SYNC_TEAM_KEY_LEN);
        if (!p->hold || !p->cursors || !p->keys || (epoch && !(p->epoch = strdup(epoch))))
            err = LB_ERR_NOMEM;
    }
    if (!err)
        err = pull_start(p);
    if (!err && !p->own)
        p->careful = 1;   /* the caller's transaction cannot be started again */
    if (err) {
        pull_free(p);
        return err;
    }
    *out = p;
    return LB_OK;
}

lb_err lb_sync_pull_begin(lb_store *s, const char *epoch, lb_sync_pull **out)
{
    return pull_begin(s, epoch, 0, out);
}

/* A change was refused without a savepoint: roll the answer back and apply
 * every envelope given so far again, each change under its own savepoint. */
static lb_err pull_redo(lb_sync_pull *p)
{
    size_t i;
    int no_key = 0;
    lb_err err = lb_store_write_end(p->s, p->own, LB_ERR_INVALID);   /* rolls back */
    if (err != LB_ERR_INVALID)
        return err;
    p->careful = 1;
    p->redo = 0;
    p->applied = p->rejected = 0;
    json_object_clear(p->hold);
    if ((err = pull_start(p)) != LB_OK)
        return err;
    for (i = 0; i < p->nseen && !err; i++) {
        err = pull_one(p, &p->seen[i], &no_key);
        if (no_key)
            p->hold_all = 1;
    }
    free(p->seen);
    p->seen = NULL;
    p->nseen = p->capseen = 0;
    return err;
}

/* Remember e (its body stays the caller's) for a redo. */
static lb_err pull_remember(lb_sync_pull *p, const lb_sync_envelope *e)
{
    if (p->nseen == p->capseen) {
        size_t cap = p->capseen ? p->capseen * 2 : 1024;
        lb_sync_envelope *n = realloc(p->seen, cap * sizeof *n);
        if (!n)
            return LB_ERR_NOMEM;
        p->seen = n;
        p->capseen = cap;
    }
    p->seen[p->nseen++] = *e;
    return LB_OK;
}

lb_err lb_sync_pull_envelope(lb_sync_pull *p, const lb_sync_envelope *e)
{
    int no_key = 0;
    lb_err err = p->careful ? LB_OK : pull_remember(p, e);
    if (!err)
        err = pull_one(p, e, &no_key);
    if (!err && no_key)
        p->hold_all = 1;
    if (!err && p->redo)
        err = pull_redo(p);
    return err;
}

lb_err lb_sync_pull_cursor(lb_sync_pull *p, const char *caseload, int64_t seq)
{
    if (!is_name(caseload, LB_CASELOAD_MAX) || seq < 0)
        return lb_store_fail(p->s, LB_ERR_INVALID, "the pull answer has a bad cursor");
    return json_object_set_new(p->cursors, caseload, json_integer(seq)) ? LB_ERR_NOMEM : LB_OK;
}

static lb_err cursors_save(lb_sync_pull *p)
{
    sqlite3_stmt *st;
    const char *c;
    json_t *v, *h;
    int rc;
    if (p->hold_all)
        return LB_OK;
    json_object_foreach(p->cursors, c, v) {
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

lb_err lb_sync_pull_end(lb_sync_pull *p, int commit, size_t *applied, size_t *rejected)
{
    lb_err err;
    if (!p)
        return LB_ERR_INVALID;
    /* Any error rolls back; without commit the result does not matter. */
    err = commit ? cursors_save(p) : LB_ERR_INTERNAL;
    err = lb_store_write_end(p->s, p->own, err);
    if (!commit)
        err = LB_OK;
    if (!err && commit) {
        *applied = p->applied;
        *rejected = p->rejected;
    }
    pull_free(p);
    return err;
}

/* ---- the JSON form of a pull answer -------------------------------------------------------- */

/* Check an envelope's JSON form and decode its body into e (body owned:
 * the caller frees it).  LB_ERR_INVALID with *why when it is to be
 * rejected. */
static lb_err env_parse(const json_t *j, lb_sync_envelope *e, const char **why)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *person = json_string_value(json_object_get(j, "person"));
    const char *body = json_string_value(json_object_get(j, "body"));
    json_t *key = json_object_get(j, "key"), *assign = json_object_get(j, "assign");
    json_t *cl = json_object_get(assign, "caseload"), *active = json_object_get(assign, "active");
    unsigned char *bin = NULL;
    int rc;
    memset(e, 0, sizeof *e);
    *why = !is_id(id) ? "envelope: bad id" : !is_id(person) ? "envelope: bad person"
         : !json_is_integer(key) || json_integer_value(key) < 1 ? "envelope: bad key"
         : !body ? "envelope: no body" : NULL;
    if (!*why && assign && !json_is_null(assign) &&
        (!is_name(json_string_value(cl), LB_CASELOAD_MAX) || !json_is_boolean(active)))
        *why = "envelope: bad assign";
    if (*why)
        return LB_ERR_INVALID;
    memcpy(e->id, id, LB_ID_HEX + 1);
    memcpy(e->person, person, LB_ID_HEX + 1);
    e->key = (int64_t)json_integer_value(key);
    if (assign && !json_is_null(assign)) {
        e->has_assign = 1;
        snprintf(e->caseload, sizeof e->caseload, "%s", json_string_value(cl));
        e->active = json_is_true(active);
    }
    rc = b64_decode(body, &bin, &e->body_len);
    if (rc == -2)
        return LB_ERR_NOMEM;
    e->body = bin;
    if (rc == 0 && e->body_len >= NONCE_LEN + TAG_LEN)
        return LB_OK;
    free(bin);
    e->body = NULL;
    *why = "envelope: body is not base64 of a sealed change";
    return LB_ERR_INVALID;
}

/* No cursor may pass an envelope not applied for want of its key: only the
 * caseloads it names in "seq", or every cursor if it names none. */
static lb_err pull_hold(lb_sync_pull *p, const json_t *j)
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

static lb_err pull_one_json(lb_sync_pull *p, const json_t *j)
{
    lb_sync_envelope e;
    const char *why = NULL, *id = json_string_value(json_object_get(j, "id"));
    int no_key = 0;
    lb_err err = env_parse(j, &e, &why);
    if (!err)
        err = pull_one(p, &e, &no_key);
    else if (err == LB_ERR_INVALID)
        err = pull_reject(p, id, why);
    if (!err && no_key)
        err = pull_hold(p, j);
    free((unsigned char *)e.body);
    return err;
}

lb_err lb_sync_apply_pull(lb_store *s, const json_t *resp, size_t *applied, size_t *rejected)
{
    json_t *envs = json_object_get(resp, "envelopes"), *cursors = json_object_get(resp, "cursors");
    json_t *e, *v;
    char epoch[TEXT_MAX + 1];
    const char *c;
    lb_sync_pull *p = NULL;
    size_t i;
    lb_err err = lb_store_need_keys(s);
    if (!err && !json_is_array(envs))
        err = lb_store_fail(s, LB_ERR_INVALID, "the pull answer has no \"envelopes\" list");
    if (!err && !json_is_object(cursors))
        err = lb_store_fail(s, LB_ERR_INVALID, "the pull answer has no \"cursors\" object");
    json_object_foreach(cursors, c, v) {
        if (!err && (!is_name(c, LB_CASELOAD_MAX) || !json_is_integer(v) ||
                     json_integer_value(v) < 0))
            err = lb_store_fail(s, LB_ERR_INVALID, "the pull answer has a bad cursor");
    }
    epoch_text(resp, epoch);
    if (!err)   /* careful: the bodies here live only for one envelope */
        err = pull_begin(s, epoch, 1, &p);
    if (err)
        return err;
    json_array_foreach(envs, i, e) {
        if (err)
            break;
        err = pull_one_json(p, e);
    }
    json_object_foreach(cursors, c, v) {
        if (!err)
            err = lb_sync_pull_cursor(p, c, (int64_t)json_integer_value(v));
    }
    if (err) {
        lb_sync_pull_end(p, 0, applied, rejected);
        return err;
    }
    return lb_sync_pull_end(p, 1, applied, rejected);
}
