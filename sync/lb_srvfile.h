/* lb_srvfile.h - private to linkbookd's storage backends: the filing
 * policy of a push, written once for both of them.  Not for the server.
 *
 * The policy.  An envelope is stored once per team (by change id); a push
 * of an id already stored answers the numbers it was filed under then, and
 * an id already stored with other routing facts (person, assignment) is a
 * clash.  A new envelope is filed under every caseload its person is
 * active on, each filing taking that caseload's next number, gap-free and
 * once per (caseload, envelope).  An assignment fact updates the person's
 * caseloads first, and a person who becomes active on a caseload has their
 * whole history filed under it.  An assignment that ends is still filed
 * under the caseload it ends, so that caseload learns of it.  An envelope
 * for LB_NOBODY, or for a person on no caseload at all, is filed under the
 * uploader's own caseload (so nothing pushed is ever unreachable).
 * Assignment facts of one (person, caseload) apply in the order they reach
 * the server: devices order them by HLC, the server only routes.
 *
 * A worker limited to one caseload may push, judged on the state before
 * the batch: LB_NOBODY; a person on its caseload; a re-push of an envelope
 * its device uploaded; a person the team has never heard of (a new
 * person); or a person on nobody's caseload whose history its caseload
 * holds already.  A person on another caseload is not: a worker cannot open
 * someone else's person by assigning them to itself; that takes a referral
 * from a worker who has them, or a supervisor.
 *
 * The mechanism is the backend's: each gives a table of steps (lb_srvfile_ops)
 * with its own SQL and its own caches, and runs lb_srvfile_batch inside its
 * own transaction.  The backends number differently (SQLite: one writer at a
 * time, caseload heads kept for the batch; PostgreSQL: a locked counter row
 * per caseload): see lb_srvsql_sync.c and lb_srvpg_sync.c.
 */
#ifndef LB_SRVFILE_H
#define LB_SRVFILE_H

#include "lb_srvstore.h"

/* A growable list of (caseload, number): the caseloads of one envelope. */
typedef struct lb_srvfile_list {
    lb_srv_cursor *v;
    size_t n, cap;
} lb_srvfile_list;

/* Append (caseload, seq); LB_ERR_NOMEM when it cannot grow. */
lb_err lb_srvfile_list_add(lb_srvfile_list *l, const char *caseload, int64_t seq);

/* What the state before a batch says of a person, for a limited uploader:
 * on its caseload; known to the team (has envelopes); active on any
 * caseload; with history filed under the uploader's caseload. */
typedef struct lb_srvfile_person {
    int on, known, active, seen;
} lb_srvfile_person;

/* A backend's steps.  b is the backend's context for the batch (its
 * connection, the uploader, its caches).  Each step returns an lb_err and
 * records the detail of a failure in the backend. */
typedef struct lb_srvfile_ops {
    /* Store e as the uploader's: *n its row number, *stored 1; or
     * *stored 0 when the team has an envelope of that id already. */
    lb_err (*insert)(void *b, const lb_envelope *e, int64_t *n, int *stored);
    /* The team's envelope of id: *found, its row *n and its routing facts
     * (person, has_assign, assign_caseload, assign_active) into *facts. */
    lb_err (*lookup)(void *b, const char *id, int *found, int64_t *n, lb_envelope *facts);
    /* Whether (person, caseload) is active: 0 when it has no row. */
    lb_err (*assign_get)(void *b, const char *person, const char *caseload, int *active);
    lb_err (*assign_set)(void *b, const char *person, const char *caseload, int active);
    /* The row numbers of person's envelopes, in order: *ns (malloc'd, the
     * caller frees it; NULL when *n is 0). */
    lb_err (*history)(void *b, const char *person, int64_t **ns, size_t *n);
    /* The caseloads person is active on, in order, appended to out. */
    lb_err (*active_on)(void *b, const char *person, lb_srvfile_list *out);
    /* Whether envelope n is filed under caseload. */
    lb_err (*filed)(void *b, const char *caseload, int64_t n, int *yes);
    /* File envelope n under caseload with the caseload's next number *seq. */
    lb_err (*file)(void *b, const char *caseload, int64_t n, int64_t *seq);
    /* Every filing of envelope n, ordered by caseload, appended to out. */
    lb_err (*filings)(void *b, int64_t n, lb_srvfile_list *out);
    /* The limited uploader's checks: what the state says of person for
     * caseload limit, and whether envelope id was uploaded by its device. */
    lb_err (*person)(void *b, const char *person, const char *limit, lb_srvfile_person *out);
    lb_err (*mine)(void *b, const char *id, int *yes);
} lb_srvfile_ops;

/* How one envelope of a batch ended. */
typedef enum lb_srvfile_outcome {
    LB_SRVFILE_ACK,         /* stored (now or before): filed under seqs */
    LB_SRVFILE_NOT_YOURS,   /* a limited uploader may not push it */
    LB_SRVFILE_CLASH        /* its id holds a different change */
} lb_srvfile_outcome;

/* Told of envelope i of the batch (seqs only for LB_SRVFILE_ACK; valid
 * during the call).  Returns LB_OK to go on. */
typedef lb_err (*lb_srvfile_report_fn)(void *ctx, size_t i, lb_srvfile_outcome out,
                                       const lb_srv_cursor *seqs, size_t n);

/* Store and file the batch envs[0..n) of uploader who through the steps
 * of ops on b, inside a transaction the caller holds; limit: NULL for a
 * supervisor, else the caseload the uploader is limited to.  Every
 * envelope is reported, in order, as it is done.  On failure the caller
 * rolls back: what was reported does not stand. */
lb_err lb_srvfile_batch(const lb_srvfile_ops *ops, void *b, const lb_srv_who *who,
                        const char *limit, const lb_envelope *envs, size_t n,
                        lb_srvfile_report_fn report, void *ctx);

/* Tell sink how the envelope of id ended (the reason for the device when
 * it is rejected); LB_ERR_NOMEM when the sink fails. */
lb_err lb_srvfile_tell(const lb_srv_push_sink *sink, const char *id, lb_srvfile_outcome out,
                       const lb_srv_cursor *seqs, size_t n);

#endif
