/* lb_proto.h - the linkbook sync protocol, version 2: what travels between
 * a device and linkbookd, shared by the client (lb_client) and the server
 * (lb_server).  This header is the reference for the wire format.
 *
 * Transport: HTTP/1.1, at most LB_PROTO_MAX_BODY bytes a request or answer.
 * Push and pull carry envelopes in binary bodies (Content-Type:
 * application/vnd.linkbook.v2, below); every other body, request or answer,
 * and every error is JSON (Content-Type: application/json, UTF-8).  Every
 * route but /v1/enrol, /healthz and /metrics needs "Authorization: Bearer
 * TOKEN", the device token that enrolment returned (the server keeps only
 * its BLAKE2b hash).  Version 1 sent envelopes as JSON objects with base64
 * bodies; version 2 replaced it on the same routes (a JSON push body gets
 * 415), because base64 alone made every change a third larger on the wire
 * and JSON with base64 was half the CPU time of a sync on both sides.
 *
 * Errors: a status code and {"error": "what happened (what to do)",
 * "code": "machine_code"}: 400 bad_json / bad_request / bad_frame, 401
 * bad_token (missing, unknown or revoked), 403 forbidden (not your
 * caseload, not a supervisor, bad enrolment code), 404 not_found (route),
 * 405 bad_method, 413 too_large, 415 bad_content_type, 503 unavailable
 * (storage down).
 *
 * Envelope: one change, sealed on the device with the team key
 * (XChaCha20-Poly1305).  The server sees only routing metadata: the change
 * id and person id (opaque random ids), the team key id, and for
 * assignment changes the caseload and whether the assignment is active;
 * from the server also the id of the device that uploaded it.  The
 * associated data of the seal is lb_proto_envelope_ad(): id, person, key
 * and the assign facts, so none of them can be altered unnoticed.  The
 * sealed plaintext is the change as one compact JSON object: {"kind",
 * "record", "caseload", "hlc", "device", "schema", "a": author, "f":
 * fields, "p": prev stamps (when any)} (core/lb_sync.h).
 *
 * Binary bodies (application/vnd.linkbook.v2):
 *   body     = magic frame*            magic = the 4 bytes "LB2\n"
 *   frame    = type (1 byte) length (4 bytes, unsigned, big-endian)
 *              payload (length bytes)
 * Each frame lies wholly inside the body and nothing follows the last one;
 * a body that ends inside a frame, a length beyond the body, a frame type
 * or flag this version does not know, or a malformed frame is refused with
 * 400 bad_frame (the server) or LB_CLIENT_PROTOCOL (the client).
 * Integers are unsigned big-endian; ids travel as their 16 raw bytes (the
 * 32 lowercase hex digits elsewhere).  Frame types:
 *   'J' control: a UTF-8 JSON object, at most one, before any other frame
 *   'E' envelope: id (16) person (16) key (4, >= 1) flags (1: 0x01 assign,
 *       0x02 active (with assign only), 0x04 from), then with assign:
 *       caseload length (1, 1..64) and the caseload ([A-Za-z0-9._-]), then
 *       with from: the uploading device id (16, server to device only),
 *       then the rest of the frame is the sealed body, nonce (24) ||
 *       ciphertext (>= 16), at least 40 bytes
 *   'A' ack: id (16) count (1), then count times: caseload length (1,
 *       1..64) caseload, sequence number (8)
 *   'R' rejected: id (16) reason (the rest, UTF-8 text, <= 512 bytes)
 * So an envelope costs 42 bytes beside its sealed body (47 with a 5-byte
 * caseload fact; 16 more from the server).
 *
 * Routes:
 *   POST /v1/enrol   {"code", "device_key": base64(X25519 public key),
 *                     "device_name"}                       (no token)
 *     -> {"device", "token", "team", "team_name", "user", "name", "role",
 *         "caseload", "epoch"}
 *   POST /v1/push    binary: 'J' {"cursors": {caseload: last seq seen}}
 *                    (optional, workers), then 'E' frames
 *                    (<= LB_PROTO_MAX_BATCH)
 *     -> binary: 'J' {"epoch", "time", "news": bool, "key": current team
 *        key id (both when cursors were sent)}, then one 'A' per envelope
 *        stored (with its sequence number under every caseload it is filed
 *        under) and one 'R' per envelope refused, in the order sent.
 *     The server commits, files each envelope under every caseload its
 *     person is on (a per-caseload sequence), then answers.  Re-pushing an
 *     envelope answers its original sequence numbers, also when it was
 *     sealed again (same id, person and assign; the first copy is kept).
 *     "news" false says a pull with those cursors would bring nothing but
 *     the device's own envelopes: with the same epoch and no newer key, the
 *     push was the whole sync (one round trip).  With "news" false the
 *     'J' answer also carries "cursors" {caseload: seq}, moved past those
 *     own envelopes as a pull's would be; the device keeps them, so that
 *     the next push is not judged by looking through them again.
 *   POST /v1/pull    JSON {"cursors": {caseload: last seq seen, ...},
 *                     "max_bytes": n (optional),
 *                     "roster": true (optional, supervisors)}
 *     -> binary: 'J' {"cursors": {caseload: seq, ...}, "more": bool,
 *        "epoch", "time", "key": current team key id, "pending":
 *        [{"device", "device_key"}] (supervisors: devices that lack the
 *        current team key), "roster": [{"device", "user", "name",
 *        "device_name", "role", "caseload", "created", "last_seen",
 *        "revoked"}] (supervisors who asked: every device of the team, as
 *        GET /v1/team/devices without keys; the first pull of a
 *        supervisor's sync asks, and the device keeps it for review
 *        offline, core/lb_team.h)}, then 'E' frames (with from), in order.
 *     Every caseload the device may follow is answered, those not in the
 *     request from 0.  A worker follows its own caseload; a supervisor every
 *     caseload of the team.  Each envelope reaches a device once, and never
 *     when that device pushed it; the cursors move past both.  An answer
 *     holds about max_bytes (at most 4 MiB) of envelopes and at least one.
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
 * The JSON form of an envelope, {"id", "person", "key", "body":
 * base64(nonce || ciphertext), "assign": {"caseload", "active"}, "from",
 * "size"}, is version 1's; it stays for tests and tools
 * (lb_proto_envelope_json/parse, lb_sync_outbox, lb_sync_apply_pull).
 *
 * This module has no I/O: it builds and checks the documents above.
 */
#ifndef LB_PROTO_H
#define LB_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lb_err.h"
#include "lb_buf.h"

#define LB_PROTO_VERSION 2
#define LB_PROTO_BIN_TYPE "application/vnd.linkbook.v2"
#define LB_PROTO_MAGIC "LB2\n"
#define LB_PROTO_MAGIC_LEN 4
#define LB_PROTO_MAX_BODY (8u << 20)   /* bytes in one request or response */
#define LB_PROTO_MAX_BATCH 2000         /* envelopes in one push */
#define LB_PROTO_ID_LEN 32
#define LB_PROTO_CASELOAD_MAX 64
#define LB_PROTO_AD_MAX 192

typedef struct lb_envelope {
    char id[LB_PROTO_ID_LEN + 1];
    char person[LB_PROTO_ID_LEN + 1];
    int64_t key;
    unsigned char *body;    /* nonce || ciphertext: owned, except in a view
                             * (lb_proto_envelope_view) */
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

/* ---- binary bodies ---- */

enum {
    LB_PROTO_FRAME_JSON = 'J',
    LB_PROTO_FRAME_ENVELOPE = 'E',
    LB_PROTO_FRAME_ACK = 'A',
    LB_PROTO_FRAME_REJECT = 'R'
};

/* A caseload and a sequence number in it (one filing of an ack). */
typedef struct lb_proto_seq {
    const char *caseload;
    int64_t seq;
} lb_proto_seq;

/* Writing a body into b (its cap bounds the body): the magic first, then
 * frames.  Each returns 0, or -1 when memory or b's cap runs out or a
 * field cannot be written (an id that is not 32 hex digits, a key id that
 * does not fit in 32 bits, a caseload of the wrong length). */
int lb_proto_bin_start(lb_buf *b);
int lb_proto_put_json(lb_buf *b, const json_t *doc);
int lb_proto_put_envelope(lb_buf *b, const lb_envelope *e);
int lb_proto_put_ack(lb_buf *b, const char *id, const lb_proto_seq *seqs, size_t n);
int lb_proto_put_reject(lb_buf *b, const char *id, const char *why);

/* Reading a body: lb_proto_bin_open checks the magic (LB_ERR_INVALID with
 * msg if absent); lb_proto_next gives the next frame: 1, 0 at the end of
 * the body, -1 (msg set) when the body ends inside a frame or a length
 * passes its end.  Frames point into the body, which the reader does not
 * own or copy. */
typedef struct lb_proto_reader {
    const unsigned char *p;
    size_t len, off;
} lb_proto_reader;

typedef struct lb_proto_frame {
    int type;
    const unsigned char *data;
    size_t len;
} lb_proto_frame;

lb_err lb_proto_bin_open(lb_proto_reader *r, const void *body, size_t len, char *msg,
                         size_t msglen);
int lb_proto_next(lb_proto_reader *r, lb_proto_frame *f, char *msg, size_t msglen);

/* An 'E' frame as an envelope view: every field checked (LB_ERR_INVALID
 * with msg naming it), e->body points into the frame: never pass a view
 * to lb_proto_envelope_clear. */
lb_err lb_proto_envelope_view(const lb_proto_frame *f, lb_envelope *e, char *msg,
                              size_t msglen);

/* An 'A' frame checked, and its change id. */
lb_err lb_proto_ack_view(const lb_proto_frame *f, char id[LB_PROTO_ID_LEN + 1], char *msg,
                         size_t msglen);

/* A 'J' frame as a JSON object (new reference). */
lb_err lb_proto_json_view(const lb_proto_frame *f, json_t **doc, char *msg, size_t msglen);

/* 1 if s is exactly LB_PROTO_ID_LEN lowercase hex digits. */
int lb_proto_is_id(const char *s);

#endif
