/* lb_srvstore.h - linkbookd's storage, behind a table of operations.
 *
 * The server (lb_server.c) speaks only to this interface; each backend is a
 * table of operations and an open function: lb_srvstore_sqlite.c (one
 * process, a data directory) and lb_srvstore_pg.c (PostgreSQL, any number
 * of linkbookd processes on one database).  The store keeps teams,
 * users, devices (token hashes only), one-time enrolment codes (hashes
 * only), sealed team keys, and opaque envelopes filed under caseloads with a
 * per-caseload sequence.  It holds no key that opens an envelope.
 *
 * Mechanism here, policy in the server: the store does not know what a
 * worker may do, except that push takes the caseload a worker is limited to.
 *
 * Threads: every operation may be called from any thread at the same time
 * (the SQLite backend keeps a small pool of connections).  Operations return
 * an lb_err; lb_srvstore_ops.errmsg copies the detail of the last storage
 * failure (for the log; it never holds record content).  Out-parameters are
 * untouched on failure, and a failed write leaves nothing half-written.
 *
 * Callbacks return 0 to go on; anything else stops the operation, which
 * then fails with LB_ERR_NOMEM (callbacks only fail to allocate).
 */
#ifndef LB_SRVSTORE_H
#define LB_SRVSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "lb_err.h"
#include "lb_proto.h"

#define LB_SRV_ID_LEN LB_PROTO_ID_LEN
#define LB_SRV_CODE_LEN 10      /* enrolment code: Crockford base32 */
#define LB_SRV_TOKEN_LEN 64     /* device token: 32 random bytes, hex */
#define LB_SRV_NAME_MAX 128
#define LB_SRV_ROLE_MAX 32
#define LB_SRV_DEVICE_KEY_LEN 32 /* X25519 public key */
#define LB_SRV_SUPERVISOR "supervisor"
/* What an envelope costs on the wire beside its sealed body, as pull
 * budgets count it (an estimate; lb_proto.h has the frame layout). */
#define LB_SRV_WIRE_OVERHEAD 64

/* The device behind a token, with its user and team. */
typedef struct lb_srv_who {
    char device[LB_SRV_ID_LEN + 1];
    char user[LB_SRV_ID_LEN + 1];
    char team[LB_SRV_ID_LEN + 1];
    char team_name[LB_SRV_NAME_MAX + 1];
    char name[LB_SRV_NAME_MAX + 1];       /* the user's name */
    char role[LB_SRV_ROLE_MAX + 1];
    char caseload[LB_PROTO_CASELOAD_MAX + 1]; /* the user's own: its id */
    int supervisor;
} lb_srv_who;

/* A device as listed to a supervisor. */
typedef struct lb_srv_device {
    char device[LB_SRV_ID_LEN + 1];
    char user[LB_SRV_ID_LEN + 1];
    char name[LB_SRV_NAME_MAX + 1];       /* the user's name */
    char device_name[LB_SRV_NAME_MAX + 1];
    char role[LB_SRV_ROLE_MAX + 1];
    unsigned char device_key[LB_SRV_DEVICE_KEY_LEN];
    int64_t created, last_seen, revoked;  /* unix ms; revoked 0 = valid */
} lb_srv_device;

/* A caseload and a sequence number in it (a pull cursor, or a filing). */
typedef struct lb_srv_cursor {
    char caseload[LB_PROTO_CASELOAD_MAX + 1];
    int64_t seq;
} lb_srv_cursor;

/* A team key sealed to one device. */
typedef struct lb_srv_sealed {
    char device[LB_SRV_ID_LEN + 1];
    int64_t key;
    unsigned char *sealed;    /* not owned */
    size_t sealed_len;
} lb_srv_sealed;

/* Where push reports each envelope: acknowledged with every caseload it is
 * filed under (seqs, n), or rejected with a reason for the device. */
typedef struct lb_srv_push_sink {
    int (*ack)(void *ctx, const char *id, const lb_srv_cursor *seqs, size_t n);
    int (*reject)(void *ctx, const char *id, const char *why);
    void *ctx;
} lb_srv_push_sink;

typedef int (*lb_srv_envelope_fn)(void *ctx, const lb_envelope *e);
typedef int (*lb_srv_device_fn)(void *ctx, const lb_srv_device *d);
typedef int (*lb_srv_caseload_fn)(void *ctx, const char *caseload);
typedef int (*lb_srv_key_fn)(void *ctx, int64_t key, const unsigned char *sealed, size_t len);

typedef struct lb_srvstore lb_srvstore;

typedef struct lb_srvstore_ops {
    /* Close every connection and free s. */
    void (*close)(lb_srvstore *s);
    /* Copy the detail of the last failure into buf. */
    void (*errmsg)(lb_srvstore *s, char *buf, size_t len);
    /* The random id made with the database (the server asks for it with
     * every answer: a backend may change it while serving). */
    lb_err (*epoch)(lb_srvstore *s, char out[LB_SRV_ID_LEN + 1]);
    /* Replace it (a restore was detected, or an operator asked): devices
     * that see a new epoch push everything again and restart their
     * cursors.  epoch is LB_SRV_ID_LEN hex digits. */
    lb_err (*epoch_set)(lb_srvstore *s, const char *epoch);
    /* The highest envelope number committed (0 when there is none).  It
     * only grows while the database lives; a lower one than was seen
     * before means the database was restored (lb_srvepoch.h). */
    lb_err (*high_water)(lb_srvstore *s, int64_t *n);

    /* A team with its first supervisor: who gets team and user filled, code
     * the supervisor's one-time enrolment code. */
    lb_err (*team_create)(lb_srvstore *s, const char *team_name, const char *user_name,
                          lb_srv_who *who, char code[LB_SRV_CODE_LEN + 1]);
    /* A user of team with role and a one-time enrolment code. */
    lb_err (*invite)(lb_srvstore *s, const char *team, const char *role, const char *name,
                     char user[LB_SRV_ID_LEN + 1], char code[LB_SRV_CODE_LEN + 1]);
    /* Consume code (LB_ERR_NOTFOUND if unknown or used) and make a device
     * for its user; token receives the new token (kept hashed only). */
    lb_err (*enrol)(lb_srvstore *s, const char *code,
                    const unsigned char device_key[LB_SRV_DEVICE_KEY_LEN],
                    const char *device_name, char token[LB_SRV_TOKEN_LEN + 1],
                    lb_srv_who *who);
    /* The valid device holding token (LB_ERR_NOTFOUND: unknown or revoked). */
    lb_err (*auth)(lb_srvstore *s, const char *token, lb_srv_who *who);
    lb_err (*devices)(lb_srvstore *s, const char *team, lb_srv_device_fn fn, void *ctx);
    /* Revoke a device of team (LB_ERR_NOTFOUND if none such); idempotent. */
    lb_err (*revoke)(lb_srvstore *s, const char *team, const char *device);

    /* Store and file a batch in one transaction.  limit: NULL for a
     * supervisor, else the one caseload the uploader may write to (an
     * envelope for a person not on it is rejected, unless it assigns the
     * person to limit or the same batch does). */
    lb_err (*push)(lb_srvstore *s, const lb_srv_who *who, const char *limit,
                   const lb_envelope *envs, size_t n, const lb_srv_push_sink *sink);
    /* Every caseload who may follow, in order. */
    lb_err (*followed)(lb_srvstore *s, const lb_srv_who *who, lb_srv_caseload_fn fn, void *ctx);
    /* Whether caseload is known in a team other than team. */
    lb_err (*caseload_elsewhere)(lb_srvstore *s, const char *team, const char *caseload,
                                 int *yes);
    /* Envelopes after each cursor, in sequence order, each at most once,
     * until max_bytes (estimated wire size: the body and about 64 bytes an
     * envelope, lb_proto.h; at least one envelope) or
     * max_count; advances the cursors in place; *more when stopped early.
     * Envelopes uploaded by device skip_from (NULL: none) are not passed
     * to fn, but the cursors move past them: a device is not sent back
     * what it pushed. */
    lb_err (*pull)(lb_srvstore *s, const char *team, const char *skip_from,
                   lb_srv_cursor *cursors, size_t n, size_t max_bytes, size_t max_count,
                   lb_srv_envelope_fn fn, void *ctx, int *more);

    lb_err (*key_current)(lb_srvstore *s, const char *team, int64_t *key);
    /* Keep sealed keys for devices of team (LB_ERR_NOTFOUND: a device is
     * not of team) and, when current > 0, make it the current key id
     * (LB_ERR_INVALID if lower than the current one). */
    lb_err (*keys_put)(lb_srvstore *s, const char *team, const lb_srv_sealed *keys,
                       size_t n, int64_t current);
    lb_err (*keys_get)(lb_srvstore *s, const char *device, lb_srv_key_fn fn, void *ctx);
    /* Valid devices of team lacking a sealed copy of key. */
    lb_err (*pending)(lb_srvstore *s, const char *team, int64_t key, lb_srv_device_fn fn,
                      void *ctx);
    lb_err (*count_envelopes)(lb_srvstore *s, int64_t *n);
} lb_srvstore_ops;

/* Every backend's handle starts with this. */
struct lb_srvstore {
    const lb_srvstore_ops *ops;
};

/* Open (creating and migrating if needed) the SQLite store in dir.  On
 * failure *out is NULL and msg says why. */
lb_err lb_srvstore_sqlite_open(const char *dir, lb_srvstore **out, char *msg, size_t msglen);

/* Where a backend's lines for the log go (one line, no newline). */
typedef void (*lb_srvstore_log)(void *ctx, const char *line);

/* Open (creating the tables and migrating if needed) the PostgreSQL store
 * that the libpq connection string conninfo names ("host=... dbname=..."
 * or a postgresql:// URI), with a pool of up to pool connections (0: the
 * default).  It fails, with msg saying why, when the database cannot be
 * reached now; once open, operations fail with LB_ERR_BUSY while it is
 * unreachable and work again when it is back.  The epoch lives in the
 * database and is checked against its identity on every new connection
 * (a restore from a dump, a new cluster, point-in-time recovery or a
 * failover make a new one; log says so).  log may be NULL. */
lb_err lb_srvstore_pg_open(const char *conninfo, int pool, lb_srvstore_log log, void *log_ctx,
                           lb_srvstore **out, char *msg, size_t msglen);

/* Close any backend; NULL is a no-op. */
static inline void lb_srvstore_close(lb_srvstore *s)
{
    if (s)
        s->ops->close(s);
}

#endif
