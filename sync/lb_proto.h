/* lb_proto.h - the linkbook sync protocol, version 1: what travels between
 * a device and linkbookd, shared by the client (lb_client) and the server
 * (lb_server).  This header is the reference for the wire format.
 *
 * Transport: HTTP/1.1, JSON bodies (Content-Type: application/json, UTF-8),
 * at most LB_PROTO_MAX_BODY bytes a request.  Every route but /v1/enrol,
 * /healthz and /metrics needs "Authorization: Bearer TOKEN", the device
 * token that enrolment returned (the server keeps only its BLAKE2b hash).
 *
 * Errors: a status code and {"error": "what happened (what to do)",
 * "code": "machine_code"}: 400 bad_json / bad_request, 401 bad_token
 * (missing, unknown or revoked), 403 forbidden (not your caseload, not a
 * supervisor, bad enrolment code), 404 not_found (route), 405 bad_method,
 * 413 too_large, 415 bad_content_type, 503 unavailable (storage down).
 *
 * Envelope: one change, sealed on the device with the team key
 * (XChaCha20-Poly1305).  The server sees only routing metadata:
 *   {"id": change id (32 hex), "person": person id (32 hex, opaque),
 *    "key": team key id (integer >= 1), "body": base64(nonce || ciphertext),
 *    "assign": {"caseload": C, "active": true|false}   (assignment changes only),
 *    "from": device id (server to device only), "size": body bytes (idem)}
 * The associated data of the seal is lb_proto_envelope_ad(): id, person,
 * key and the assign facts, so none of them can be altered unnoticed.
 * The sealed plaintext is the change as JSON: {"kind","record","caseload",
 * "hlc","device","author","fields","schema"}.
 *
 * Routes:
 *   POST /v1/enrol   {"code", "device_key": base64(X25519 public key),
 *                     "device_name"}                       (no token)
 *     -> {"device", "token", "team", "team_name", "user", "name", "role",
 *         "caseload", "epoch"}
 *   POST /v1/push    {"envelopes": [envelope, ...],   (<= LB_PROTO_MAX_BATCH)
 *                     "cursors": {caseload: last seq seen} (optional, workers)}
 *     -> {"acks": [{"id", "seq": {caseload: n, ...}}], "rejected":
 *         [{"id", "error"}], "epoch", "time",
 *         "news": bool, "key": current team key id (when cursors were sent)}
 *     The server commits, files each envelope under every caseload its
 *     person is on (a per-caseload sequence), then answers.  Re-pushing an
 *     envelope answers its original sequence numbers, also when it was
 *     sealed again (same id, person and assign; the first copy is kept).
 *     "news" false says a pull with those cursors would bring nothing but
 *     the device's own envelopes: with the same epoch and no newer key, the
 *     push was the whole sync (one round trip).  With "news" false the
 *     answer also carries "cursors" {caseload: seq}, moved past those own
 *     envelopes as a pull's would be; the device keeps them, so that the
 *     next push is not judged by looking through them again.
 *   POST /v1/pull    {"cursors": {caseload: last seq seen, ...},
 *                     "max_bytes": n (optional),
 *                     "roster": true (optional, supervisors)}
 *     -> {"envelopes": [envelope, ...], "cursors": {caseload: seq, ...},
 *         "more": bool, "epoch", "time", "key": current team key id,
 *         "pending": [{"device", "device_key"}] (supervisors: devices that
 *         lack the current team key),
 *         "roster": [{"device", "user", "name", "device_name", "role",
 *         "caseload", "created", "last_seen", "revoked"}] (supervisors who
 *         asked: every device of the team, as GET /v1/team/devices without
 *         keys; the first pull of a supervisor's sync asks, and the device
 *         keeps it for review offline, core/lb_team.h)}
 *     Every caseload the device may follow is answered, those not in the
 *     request from 0.  A worker follows its own caseload; a supervisor every
 *     caseload of the team.  Each envelope reaches a device once, and never
 *     when that device pushed it; the cursors move past both.
 *     A different "epoch" than before: the server's database was restored
 *     or replaced (sync/lb_srvepoch.h); push everything again, cursors 0.
 *   GET  /v1/keys    -> {"keys": [{"key", "sealed": base64(crypto_box_seal
 *                       of the 32-byte team key to this device)}]}
 *   POST /v1/keys    {"keys": [{"device", "key", "sealed"}], "current": id}
 *                    (supervisor) -> {"ok": true}
 *   POST /v1/team/invite {"role", "name"} (supervisor) -> {"code", "user"}
 *   GET  /v1/team/devices (supervisor) -> {"devices": [{"device", "user",
 *                       "name", "role", "caseload", "device_key", "created",
 *                       "last_seen", "revoked"}]}
 *   POST /v1/team/revoke {"device"} (supervisor) -> {"revoked": device}
 *   GET  /healthz    -> {"ok": true, "epoch"}
 *   GET  /metrics    -> Prometheus text format
 *
 * This module has no I/O: it builds and checks the JSON documents above.
 */
#ifndef LB_PROTO_H
#define LB_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lb_err.h"

#define LB_PROTO_VERSION 1
#define LB_PROTO_MAX_BODY (8u << 20)   /* bytes in one request or response */
#define LB_PROTO_MAX_BATCH 1000         /* envelopes in one push */
#define LB_PROTO_ID_LEN 32
#define LB_PROTO_CASELOAD_MAX 64
#define LB_PROTO_AD_MAX 192

typedef struct lb_envelope {
    char id[LB_PROTO_ID_LEN + 1];
    char person[LB_PROTO_ID_LEN + 1];
    int64_t key;
    unsigned char *body;    /* owned: nonce || ciphertext */
    size_t body_len;
    int has_assign;
    char assign_caseload[LB_PROTO_CASELOAD_MAX + 1];
    int assign_active;
    char from[LB_PROTO_ID_LEN + 1];   /* uploading device ("" if unknown) */
} lb_envelope;

/* The associated data binding an envelope's seal to its metadata; returns
 * its length (0 if it did not fit). */
size_t lb_proto_envelope_ad(const lb_envelope *e, char ad[LB_PROTO_AD_MAX]);

/* Envelope to JSON (new reference) and back.  lb_proto_envelope_parse
 * checks every field (hex ids, key >= 1, base64 body, caseload length) and
 * writes a message naming the bad field into msg.  Release with
 * lb_proto_envelope_clear. */
json_t *lb_proto_envelope_json(const lb_envelope *e);
lb_err lb_proto_envelope_parse(const json_t *j, lb_envelope *e, char *msg, size_t msglen);
void lb_proto_envelope_clear(lb_envelope *e);

/* An error document {"error": message, "code": code} (new reference). */
json_t *lb_proto_error(const char *code, const char *message);

/* Base64 (standard, padded) of bin; NULL on allocation failure.  Decode
 * into a new buffer; LB_ERR_INVALID if text is not base64. */
char *lb_proto_b64(const unsigned char *bin, size_t len);
lb_err lb_proto_unb64(const char *text, unsigned char **out, size_t *outlen);

/* 1 if s is exactly LB_PROTO_ID_LEN lowercase hex digits. */
int lb_proto_is_id(const char *s);

#endif
