/* lb_sync.h - the device side of sync: enrolment facts, the device key
 * pair, team keys, the outbox of changes not yet acknowledged, pull
 * cursors, and sealing/opening envelopes with the team key.
 *
 * No network here (that is sync/lb_client): this module turns the store's
 * change log into sealed envelopes (JSON, the shape of sync/lb_proto.h) and
 * applies what a pull returned, in one transaction with the new cursors,
 * so a crash can never advance a cursor past changes not applied.
 *
 * Secrets (device token, device secret key, team keys) are kept sealed
 * under the store's data key, like records.
 */
#ifndef LB_SYNC_H
#define LB_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lb_store.h"

#define LB_SYNC_PK_LEN 32      /* X25519 public key */
#define LB_SYNC_TEAM_KEY_LEN 32
#define LB_SYNC_CASELOAD_MAX 64   /* as LB_CASELOAD_MAX */

/* What enrolment made this device: NULL strings while not enrolled. */
typedef struct lb_sync_info {
    char *url;        /* the server's base URL */
    char *device;     /* device id the server gave */
    char *team, *team_name, *user, *name, *role, *caseload, *epoch;
    int64_t key;      /* newest team key id held (0: none yet) */
    int insecure;     /* plain HTTP to a non-loopback host was allowed */
} lb_sync_info;

/* Read the enrolment facts (all NULL/0 when not enrolled); free with
 * lb_sync_info_clear.  The store must be unlocked (the names are sealed). */
lb_err lb_sync_info_get(lb_store *s, lb_sync_info *out);
void lb_sync_info_clear(lb_sync_info *i);

/* The device's X25519 public key, making the key pair on first use (its
 * secret half sealed in the store). */
lb_err lb_sync_device_key(lb_store *s, unsigned char pk[LB_SYNC_PK_LEN]);

/* Keep what POST /v1/enrol answered (resp) for server url: the token
 * (sealed), ids, role, caseload.  The store's identity becomes the user's
 * (author = name, role, caseload), and every person on the caseload the
 * store recorded under until then ("local" by default) is moved to the
 * user's caseload by assignment changes (the old one ends: {"caseload":
 * old, "active": false}; a new one begins); cursors start again when the
 * caseload changes.  One transaction.  "epoch" may be a string or an integer.
 * Enrolling again is allowed into the same team only (LB_ERR_EXISTS). */
lb_err lb_sync_enrolled(lb_store *s, const char *url, int insecure, const json_t *resp);

/* The device token for the Authorization header (caller wipes and frees
 * with lb_sync_token_free).  LB_ERR_NOTFOUND when not enrolled. */
lb_err lb_sync_token(lb_store *s, char **token);
void lb_sync_token_free(char *token);

/* Team keys.  lb_sync_keys_add takes a GET /v1/keys answer and keeps every
 * key it can open with the device secret key.  lb_sync_key_new makes the
 * next team key (first supervisor, rotation after a revoke) and returns its
 * id.  lb_sync_key_seal_for seals team key id to a device public key
 * (crypto_box_seal) as base64 for POST /v1/keys; free it with free().
 * Team keys kept are never dropped: old ones open old envelopes. */
lb_err lb_sync_keys_add(lb_store *s, const json_t *resp, int *added);
lb_err lb_sync_key_new(lb_store *s, int64_t *key_id);
lb_err lb_sync_key_seal_for(lb_store *s, int64_t key_id, const char *device_key_b64,
                            char **sealed_b64);

/* One envelope as the device side sees it (the routing facts of
 * sync/lb_proto.h beside the sealed body).  A view: body points into memory
 * that stays valid only for the call that hands the envelope over. */
typedef struct lb_sync_envelope {
    char id[LB_ID_HEX + 1];          /* change id */
    char person[LB_ID_HEX + 1];
    int64_t key;                     /* team key id, >= 1 */
    int has_assign;                  /* assignment changes: the routing facts */
    char caseload[LB_SYNC_CASELOAD_MAX + 1];
    int active;
    const unsigned char *body;       /* nonce (24) || XChaCha20-Poly1305 ciphertext */
    size_t body_len;
} lb_sync_envelope;

/* The associated data binding an envelope's seal to its routing facts
 * (sync/lb_proto.h): "lbe1|ID|PERSON|KEY|-", or with an assignment
 * "lbe1|ID|PERSON|KEY|CASELOAD|ACTIVE" (ACTIVE 1 or 0), into ad.  Its
 * length, 0 when it does not fit in cap - 1 bytes. */
size_t lb_sync_envelope_ad(const char *id, const char *person, int64_t key, int has_assign,
                           const char *caseload, int active, char *ad, size_t cap);

/* Called with each envelope; return 0 to go on, anything else stops the
 * caller, which then fails with LB_ERR_NOMEM. */
typedef int (*lb_sync_envelope_fn)(void *ctx, const lb_sync_envelope *e);

/* The outbox: up to max_count envelopes (and about max_bytes of sealed
 * bodies, but always at least one) of changes not yet acknowledged whose
 * log position is after *after (0: from the start), oldest first, sealed
 * with the newest team key, handed to fn one by one.  *after becomes the
 * position of the last one handed over, so a client can build the next
 * batch while the server stores this one.  Nothing is marked: a batch that
 * is never acknowledged is simply built again.  LB_ERR_LOCKED with a
 * message when the device holds no team key yet.  *count is how many fn
 * received, *more whether the outbox holds more after them.
 *
 * The sealed plaintext is the change as compact JSON: its clear facts
 * {"kind", "record", "caseload", "hlc", "device", "schema"} followed by the
 * change's stored content {"a": author, "f": fields, "p": prev stamps (when
 * any)} in one object, copied as stored (not parsed again). */
lb_err lb_sync_outbox_each(lb_store *s, int64_t *after, size_t max_count, size_t max_bytes,
                           lb_sync_envelope_fn fn, void *ctx, size_t *count, int *more);

/* The same outbox as a JSON array of envelopes {"id", "person", "key",
 * "body": base64, "assign": {"caseload", "active"}} (the JSON form of an
 * envelope, for tests and tools; the wire uses lb_sync_outbox_each). */
lb_err lb_sync_outbox(lb_store *s, size_t max_count, size_t max_bytes, json_t **envelopes,
                      size_t *pending);

/* Mark the changes ids[0..n) as acknowledged by the server whose epoch is
 * epoch (NULL or "": not said); *count is how many were still waiting.  A
 * new epoch is handled as in lb_sync_pull_begin. */
lb_err lb_sync_acked_ids(lb_store *s, const char *epoch, const char (*ids)[LB_ID_HEX + 1],
                         size_t n, size_t *count);

/* The same for a JSON push answer {"acks": [{"id"}], "epoch"}. */
lb_err lb_sync_acked(lb_store *s, const json_t *resp, size_t *count);

/* Pull cursors as {caseload: seq}. */
lb_err lb_sync_cursors(lb_store *s, json_t **cursors);

/* Applying one pull answer, in one transaction with its new cursors, so a
 * crash can never advance a cursor past changes not applied:
 *   lb_sync_pull_begin   opens the transaction; epoch is the answer's
 *                        (NULL or "": not said);
 *   lb_sync_pull_envelope for each envelope, in the answer's order (its
 *                        body must stay valid until lb_sync_pull_end);
 *   lb_sync_pull_cursor  for each cursor of the answer;
 *   lb_sync_pull_end     saves the cursors and commits (commit != 0), or
 *                        rolls everything back; it frees p in both cases.
 * Each envelope is opened with its team key and its change applied
 * (idempotent) and marked as already on the server.  An envelope that fails
 * authentication or does not parse is not applied; it is counted in
 * *rejected and kept in the store's list of rejected envelopes (with why),
 * and the rest still applies; the cursors move past it.  *applied counts
 * changes new to this store.
 *
 * An envelope sealed with a team key this device does not hold yet is not
 * applied either: it is counted in *rejected (reason "no team key N yet")
 * and no cursor of that answer is saved, so the next pull brings it again.
 * The client then stops asking for "more" (lb_sync_cursors did not change),
 * fetches keys (GET /v1/keys, lb_sync_keys_add) and pulls again later.
 *
 * An answer whose epoch differs from the one kept (the server's database
 * was restored or replaced) puts every change of the log back into the
 * outbox (the server keeps one copy per id) and restarts every cursor at 0;
 * the client then pushes and pulls again.
 *
 * Changes apply without a savepoint each (a quarter of a pull's time went
 * there): when the log refuses one (it names a record of another kind, say)
 * the answer is rolled back and applied again from its first envelope,
 * each change then under its own savepoint.  A cursor with a caseload that is
 * not a short printable name, or a negative seq, is LB_ERR_INVALID (the
 * caller ends with commit 0).  Any failure but a rejected envelope leaves
 * the transaction to be rolled back by lb_sync_pull_end. */
typedef struct lb_sync_pull lb_sync_pull;
lb_err lb_sync_pull_begin(lb_store *s, const char *epoch, lb_sync_pull **out);
lb_err lb_sync_pull_envelope(lb_sync_pull *p, const lb_sync_envelope *e);
lb_err lb_sync_pull_cursor(lb_sync_pull *p, const char *caseload, int64_t seq);
lb_err lb_sync_pull_end(lb_sync_pull *p, int commit, size_t *applied, size_t *rejected);

/* The same for a JSON pull answer {"envelopes": [...], "cursors": {...},
 * "epoch"} with envelopes in their JSON form.  An envelope without a key
 * held that carries "seq": {caseload: n} (its position, as in push acks)
 * holds back only those caseloads, at n - 1.  A malformed answer (no
 * "envelopes" list, no "cursors" object, a negative cursor) is
 * LB_ERR_INVALID and changes nothing. */
lb_err lb_sync_apply_pull(lb_store *s, const json_t *resp, size_t *applied, size_t *rejected);

/* Number of changes waiting to be pushed. */
lb_err lb_sync_pending(lb_store *s, size_t *count);

#endif
