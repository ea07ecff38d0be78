/* lb_srvpg_sync.c - push and pull for the PostgreSQL backend of
 * lb_srvstore.  The routing rules are those of the SQLite backend
 * (lb_srvsql_sync.c: filing under every active caseload, whole histories
 * on a new assignment, LB_NOBODY under the uploader's caseload, each
 * envelope sent to a device once and never back to its uploader).
 *
 * Gap-free ordering.  Several linkbookd processes push at once, so a plain
 * sequence (or serial column) would not do: numbers are taken in one order
 * and committed in another, and a pull that read seq 7 before seq 6 was
 * committed would move its cursor past 6 and never see it.  Here a
 * caseload's numbers come from its row in caseloads:
 *     INSERT ... ON CONFLICT (team, caseload) DO UPDATE SET head = head + 1
 *     RETURNING head
 * inside the push transaction.  That UPDATE locks the caseload's row until
 * the transaction ends, so a second push to the same caseload waits at the
 * same statement until the first has committed (or rolled back, handing
 * its numbers back unused) and then takes the next number.  Numbers of
 * one caseload are therefore committed in their order, one transaction at
 * a time, and PostgreSQL makes a commit visible before it releases its
 * locks: any snapshot that sees number N sees every number below it.  A
 * pull reads all its caseloads in one REPEATABLE READ snapshot.  Pushes to
 * different caseloads do not wait for each other.
 *
 * Transactions that lose a race (a deadlock between two pushes filing under
 * the same two caseloads in opposite orders, two devices storing the same
 * change id at once) are rolled back and run again (lb_srvpg_txn); the
 * sink hears of the envelopes only after the COMMIT, so a retried attempt
 * leaves no trace in the answer.
 */
#include <stdlib.h>
#include <string.h>
#include "lb_srvpg.h"

#define NOBODY "00000000000000000000000000000000"
#define PULL_MAX_SKIPPED 200000      /* rows passed over in one pull answer */
#define PULL_PAGE 256                /* rows read at a time */

static const char SQL_ENV_GET[] =
    "SELECT n, person, assign_caseload, assign_active FROM envelopes "
    "WHERE team = $1 AND id = $2";
/* Stored, or (no row) already there under that id. */
static const char SQL_ENV_NEW[] =
    "INSERT INTO envelopes (team, id, person, key_id, body, assign_caseload, assign_active, "
    "device, created) VALUES ($1, $2, $3, $4, $5, $6, $7::int::boolean, $8, $9) "
    "ON CONFLICT (team, id) DO NOTHING RETURNING n";
static const char SQL_ASSIGN_GET[] =
    "SELECT active FROM assignments WHERE team = $1 AND person = $2 AND caseload = $3";
static const char SQL_ASSIGN_SET[] =
    "INSERT INTO assignments (team, person, caseload, active) VALUES ($1, $2, $3, "
    "$4::int::boolean) ON CONFLICT (team, person, caseload) DO UPDATE SET active = EXCLUDED.active";
static const char SQL_ACTIVE_ON[] =
    "SELECT caseload FROM assignments WHERE team = $1 AND person = $2 AND active "
    "ORDER BY caseload";
static const char SQL_HISTORY[] =
    "SELECT n FROM envelopes WHERE team = $1 AND person = $2 ORDER BY n";
static const char SQL_FILED_GET[] =
    "SELECT seq FROM filed WHERE team = $1 AND caseload = $2 AND envelope = $3";
/* The caseload's next number (locking its row until COMMIT) and the
 * filing under it, in one statement. */
static const char SQL_FILE[] =
    "WITH h AS (INSERT INTO caseloads AS c (team, caseload, head) VALUES ($1, $2, 1) "
    "ON CONFLICT (team, caseload) DO UPDATE SET head = c.head + 1 RETURNING head) "
    "INSERT INTO filed (team, caseload, seq, envelope) SELECT $1, $2, h.head, $3 FROM h "
    "RETURNING seq";
static const char SQL_FILINGS[] =
    "SELECT caseload, seq FROM filed WHERE envelope = $1 ORDER BY caseload";

/* What push tells the sink once committed: envelope i acknowledged with
 * acks[first..first+count), or rejected. */
enum { REPORT_ACK, REPORT_NOT_YOURS, REPORT_CLASH };
typedef struct report {
    size_t env;
    int kind;
    size_t first, count;
} report;

typedef struct push_ctx {
    lb_srvpg *s;
    lb_srvpg_conn *c;
    const lb_srv_who *who;
    const char *limit;
    const lb_envelope *envs;
    size_t nenvs;
    unsigned char *ok;
    lb_srv_cursor *list;          /* the caseloads of one envelope */
    size_t n, cap;
    report *out;
    size_t nout;
    lb_srv_cursor *acks;
    size_t nacks, ackcap;
    char last_person[LB_PROTO_ID_LEN + 1];   /* person_ok's answer, kept */
    int last_ok;
} push_ctx;

static lb_err cursor_add(lb_srv_cursor **list, size_t *n, size_t *cap, const char *caseload,
                         int64_t seq)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        lb_srv_cursor *l = realloc(*list, c * sizeof *l);
        if (!l)
            return LB_ERR_NOMEM;
        *list = l;
        *cap = c;
    }
    memset(&(*list)[*n], 0, sizeof (*list)[*n]);
    memcpy((*list)[*n].caseload, caseload, strnlen(caseload, LB_PROTO_CASELOAD_MAX));
    (*list)[(*n)++].seq = seq;
    return LB_OK;
}

static lb_err list_add(push_ctx *p, const char *caseload, int64_t seq)
{
    return cursor_add(&p->list, &p->n, &p->cap, caseload, seq);
}

/* A query with (team, a[, b[, n]]) parameters; rows into *r. */
static lb_err query(push_ctx *p, const char *sql, const char *a, const char *b, int64_t n,
                    int with_n, PGresult **r, const char *what)
{
    lb_srvpg_args g = { 0 };
    lb_srvpg_text(&g, p->who->team);
    if (a)
        lb_srvpg_text(&g, a);
    if (b)
        lb_srvpg_text(&g, b);
    if (with_n)
        lb_srvpg_int(&g, n);
    return lb_srvpg_run(p->s, p->c, sql, &g, r, what);
}

/* File envelope n under caseload, once: the next number of its head
 * (which locks the caseload's row until COMMIT: see the top of this file),
 * into *seq.  fresh: n was stored by this push and filed nowhere yet. */
static lb_err file_under(push_ctx *p, const char *caseload, int64_t n, int fresh, int64_t *seq)
{
    PGresult *r = NULL;
    lb_err err;
    if (!fresh) {
        err = query(p, SQL_FILED_GET, caseload, NULL, n, 1, &r, "filing an envelope");
        if (!err && PQntuples(r) > 0)
            err = LB_ERR_EXISTS;
        PQclear(r);
        if (err)
            return err == LB_ERR_EXISTS ? LB_OK : err;
    }
    err = query(p, SQL_FILE, caseload, NULL, n, 1, &r, "filing an envelope");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_INTERNAL;
    if (!err)
        *seq = lb_srvpg_col_int(r, 0, 0);
    PQclear(r);
    return err;
}

/* File the whole history of person under caseload. */
static lb_err file_history(push_ctx *p, const char *person, const char *caseload)
{
    PGresult *r = NULL;
    int64_t *ns = NULL;
    int i, rows = 0;
    lb_err err = query(p, SQL_HISTORY, person, NULL, 0, 0, &r, "reading a person's history");
    if (!err && (rows = PQntuples(r)) > 0 && !(ns = malloc((size_t)rows * sizeof *ns)))
        err = LB_ERR_NOMEM;
    for (i = 0; !err && i < rows; i++)
        ns[i] = lb_srvpg_col_int(r, i, 0);
    PQclear(r);
    for (i = 0; !err && i < rows; i++) {
        int64_t seq = 0;
        err = file_under(p, caseload, ns[i], 0, &seq);
    }
    free(ns);
    return err;
}

/* Apply an assignment fact; a new active caseload gets the history. */
static lb_err apply_assign(push_ctx *p, const lb_envelope *e)
{
    lb_srvpg_args g = { 0 };
    PGresult *r = NULL;
    int was = 0;
    lb_err err = query(p, SQL_ASSIGN_GET, e->person, e->assign_caseload, 0, 0, &r,
                       "reading an assignment");
    if (!err && PQntuples(r) == 1)
        was = lb_srvpg_col_int(r, 0, 0) != 0;
    PQclear(r);
    if (err)
        return err;
    lb_srvpg_text(&g, p->who->team), lb_srvpg_text(&g, e->person);
    lb_srvpg_text(&g, e->assign_caseload);
    lb_srvpg_int(&g, e->assign_active ? 1 : 0);
    if ((err = lb_srvpg_do(p->s, p->c, SQL_ASSIGN_SET, &g, "keeping an assignment")) != LB_OK)
        return err;
    if (e->assign_active && !was)
        return file_history(p, e->person, e->assign_caseload);
    return LB_OK;
}

/* The caseloads person is active on, into p->list. */
static lb_err active_on(push_ctx *p, const char *person)
{
    PGresult *r = NULL;
    int i;
    lb_err err = query(p, SQL_ACTIVE_ON, person, NULL, 0, 0, &r, "reading assignments");
    p->n = 0;
    for (i = 0; !err && i < PQntuples(r); i++)
        err = list_add(p, lb_srvpg_col_str(r, i, 0), 0);
    PQclear(r);
    return err;
}

/* Every filing of envelope n, into p->list. */
static lb_err filings(push_ctx *p, int64_t n)
{
    lb_srvpg_args g = { 0 };
    PGresult *r = NULL;
    int i;
    lb_err err;
    lb_srvpg_int(&g, n);
    err = lb_srvpg_run(p->s, p->c, SQL_FILINGS, &g, &r, "reading filings");
    p->n = 0;
    for (i = 0; !err && i < PQntuples(r); i++)
        err = list_add(p, lb_srvpg_col_str(r, i, 0), lb_srvpg_col_int(r, i, 1));
    PQclear(r);
    return err;
}

/* Store a new envelope: its row number into *n; *stored 0 when an
 * envelope of that id was there already. */
static lb_err insert_envelope(push_ctx *p, const lb_envelope *e, int64_t *n, int *stored)
{
    lb_srvpg_args g = { 0 };
    PGresult *r = NULL;
    lb_err err;
    lb_srvpg_text(&g, p->who->team), lb_srvpg_text(&g, e->id);
    lb_srvpg_text(&g, e->person);
    lb_srvpg_int(&g, e->key);
    lb_srvpg_bytes(&g, e->body, e->body_len);
    lb_srvpg_text(&g, e->has_assign ? e->assign_caseload : NULL);
    if (e->has_assign)
        lb_srvpg_int(&g, e->assign_active ? 1 : 0);
    else
        lb_srvpg_text(&g, NULL);
    lb_srvpg_text(&g, p->who->device);
    lb_srvpg_int(&g, lb_srvpg_now_ms());
    err = lb_srvpg_run(p->s, p->c, SQL_ENV_NEW, &g, &r, "storing an envelope");
    *stored = !err && PQntuples(r) == 1;
    if (*stored)
        *n = lb_srvpg_col_int(r, 0, 0);
    PQclear(r);
    return err;
}

/* File a freshly stored envelope under its caseloads. */
static lb_err file_new(push_ctx *p, const lb_envelope *e, int64_t n)
{
    size_t i;
    lb_err err = LB_OK;
    if (e->has_assign && (err = apply_assign(p, e)) != LB_OK)
        return err;
    if ((err = active_on(p, e->person)) != LB_OK)
        return err;
    if (e->has_assign && !e->assign_active)
        err = list_add(p, e->assign_caseload, 0);
    if (!err && (p->n == 0 || strcmp(e->person, NOBODY) == 0)) {
        p->n = 0;
        err = list_add(p, p->who->caseload, 0);
    }
    /* Only an assignment may have filed it already (with the history). */
    for (i = 0; i < p->n && !err; i++)
        err = file_under(p, p->list[i].caseload, n, !e->has_assign, &p->list[i].seq);
    return err;
}

/* Whether a stored row (SQL_ENV_GET) holds the same change as e: the same
 * routing facts (see lb_srvsql_sync.c: the body may be sealed anew). */
static int same_envelope(const PGresult *r, const lb_envelope *e)
{
    if (strcmp(lb_srvpg_col_str(r, 0, 1), e->person) != 0)
        return 0;
    if (!e->has_assign)
        return lb_srvpg_col_null(r, 0, 2);
    return !lb_srvpg_col_null(r, 0, 2) &&
           strcmp(lb_srvpg_col_str(r, 0, 2), e->assign_caseload) == 0 &&
           (lb_srvpg_col_int(r, 0, 3) != 0) == (e->assign_active != 0);
}

/* Store and file one envelope, or find it stored: *n its row; *clash when
 * its id is taken by a different change; *filed when p->list holds its
 * filings already (a new envelope without an assignment). */
static lb_err push_one(push_ctx *p, const lb_envelope *e, int64_t *n, int *clash, int *filed)
{
    PGresult *r = NULL;
    int stored = 0;
    lb_err err = insert_envelope(p, e, n, &stored);
    *clash = *filed = 0;
    if (!err && stored) {
        err = file_new(p, e, *n);
        *filed = !err && !e->has_assign;
        return err;
    }
    if (!err)
        err = query(p, SQL_ENV_GET, e->id, NULL, 0, 0, &r, "reading an envelope");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_INTERNAL;
    if (!err) {
        *n = lb_srvpg_col_int(r, 0, 0);
        *clash = !same_envelope(r, e);
    }
    PQclear(r);
    return err;
}

static const char SQL_MINE[] =
    "SELECT 1 FROM envelopes WHERE team = $1 AND id = $2 AND device = $3";
/* What the state before the batch says of a person for a limited
 * uploader (caseload $3): on it; known to the team; on any caseload; and
 * with history already filed under it. */
static const char SQL_PERSON_STATE[] =
    "SELECT EXISTS (SELECT 1 FROM assignments WHERE team = $1 AND person = $2 "
    "AND caseload = $3 AND active), "
    "EXISTS (SELECT 1 FROM envelopes WHERE team = $1 AND person = $2), "
    "EXISTS (SELECT 1 FROM assignments WHERE team = $1 AND person = $2 AND active), "
    "EXISTS (SELECT 1 FROM envelopes e JOIN filed f ON f.envelope = e.n WHERE e.team = $1 "
    "AND e.person = $2 AND f.team = $1 AND f.caseload = $3)";

/* Whether a limited uploader may push envelopes for person (see
 * lb_srvsql_sync.c: was_on, person_free): on its caseload; or one the team
 * has never heard of; or on nobody's caseload with its history filed under
 * the uploader's.  Judged before the batch writes anything, so the answer
 * for a person is kept for the rest of the batch (the envelopes of a batch
 * are mostly of one person). */
static lb_err person_ok(push_ctx *p, const char *person, int *yes)
{
    PGresult *r = NULL;
    lb_err err;
    if (p->last_person[0] && strcmp(p->last_person, person) == 0) {
        *yes = p->last_ok;
        return LB_OK;
    }
    err = query(p, SQL_PERSON_STATE, person, p->limit, 0, 0, &r, "checking a push");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_INTERNAL;
    if (!err) {
        int on = lb_srvpg_col_int(r, 0, 0) != 0, known = lb_srvpg_col_int(r, 0, 1) != 0;
        int active = lb_srvpg_col_int(r, 0, 2) != 0, seen = lb_srvpg_col_int(r, 0, 3) != 0;
        *yes = on || !known || (!active && seen);
        snprintf(p->last_person, sizeof p->last_person, "%s", person);
        p->last_ok = *yes;
    }
    PQclear(r);
    return err;
}

/* Whether a limited uploader may push e: LB_NOBODY, a person it may write
 * for, or a re-push of its own envelope. */
static lb_err allowed(push_ctx *p, const lb_envelope *e, int *yes)
{
    lb_srvpg_args g = { 0 };
    PGresult *r = NULL;
    lb_err err;
    *yes = strcmp(e->person, NOBODY) == 0;
    if (!*yes && (err = person_ok(p, e->person, yes)) != LB_OK)
        return err;
    if (*yes)
        return LB_OK;
    lb_srvpg_text(&g, p->who->team), lb_srvpg_text(&g, e->id);
    lb_srvpg_text(&g, p->who->device);
    if ((err = lb_srvpg_run(p->s, p->c, SQL_MINE, &g, &r, "checking a push")) != LB_OK)
        return err;
    *yes = PQntuples(r) > 0;
    PQclear(r);
    return LB_OK;
}

static lb_err report_add(push_ctx *p, size_t env, int kind)
{
    report *r = realloc(p->out, (p->nout + 1) * sizeof *r);
    size_t i;
    lb_err err = LB_OK;
    if (!r)
        return LB_ERR_NOMEM;
    p->out = r;
    r[p->nout].env = env, r[p->nout].kind = kind;
    r[p->nout].first = p->nacks, r[p->nout].count = 0;
    for (i = 0; kind == REPORT_ACK && i < p->n && !err; i++)
        err = cursor_add(&p->acks, &p->nacks, &p->ackcap, p->list[i].caseload, p->list[i].seq);
    if (!err) {
        r[p->nout].count = p->nacks - r[p->nout].first;
        p->nout++;
    }
    return err;
}

/* One attempt at the whole batch (lb_srvpg_txn may run it again). */
static lb_err push_run(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    push_ctx *p = ctx;
    size_t i;
    int64_t n = 0;
    int clash = 0, filed = 0, yes = 1;
    lb_err err = LB_OK;
    (void)s;
    p->c = c;
    p->nout = p->nacks = 0;
    p->last_person[0] = '\0';
    for (i = 0; p->limit && i < p->nenvs && !err; i++) {
        err = allowed(p, &p->envs[i], &yes);
        p->ok[i] = (unsigned char)yes;
    }
    for (i = 0; i < p->nenvs && !err; i++) {
        if (p->limit && !p->ok[i]) {
            err = report_add(p, i, REPORT_NOT_YOURS);
            continue;
        }
        err = push_one(p, &p->envs[i], &n, &clash, &filed);
        if (!err && !clash && !filed)
            err = filings(p, n);
        if (!err)
            err = report_add(p, i, clash ? REPORT_CLASH : REPORT_ACK);
    }
    return err;
}

/* Tell the sink, after the COMMIT. */
static lb_err push_tell(const push_ctx *p, const lb_srv_push_sink *sink)
{
    size_t i;
    int rc = 0;
    for (i = 0; i < p->nout && !rc; i++) {
        const report *r = &p->out[i];
        const char *id = p->envs[r->env].id;
        if (r->kind == REPORT_ACK)
            rc = sink->ack(sink->ctx, id, p->acks + r->first, r->count);
        else if (r->kind == REPORT_NOT_YOURS)
            rc = sink->reject(sink->ctx, id, "this person is not on your caseload");
        else
            rc = sink->reject(sink->ctx, id, "this change id is already used by a different "
                              "envelope (make a new change id)");
    }
    return rc ? LB_ERR_NOMEM : LB_OK;
}

lb_err lb_srvpg_push(lb_srvstore *base, const lb_srv_who *who, const char *limit,
                     const lb_envelope *envs, size_t n, const lb_srv_push_sink *sink)
{
    push_ctx p;
    lb_err err;
    memset(&p, 0, sizeof p);
    p.s = (lb_srvpg *)base;
    p.who = who, p.limit = limit, p.envs = envs, p.nenvs = n;
    if (!(p.ok = calloc(n ? n : 1, 1)))
        return LB_ERR_NOMEM;
    /* Idempotent: storing a batch again finds it stored and files nothing twice. */
    err = lb_srvpg_txn(p.s, "BEGIN", push_run, &p, 1, "storing a push");
    if (!err)
        err = push_tell(&p, sink);
    free(p.list);
    free(p.out);
    free(p.acks);
    free(p.ok);
    return err;
}

/* ---- following and pulling ----------------------------------------------- */

static const char SQL_FOLLOWED[] =
    "SELECT caseload FROM caseloads WHERE team = $1 UNION SELECT id FROM users "
    "WHERE team = $1 ORDER BY 1";
static const char SQL_ELSEWHERE[] =
    "SELECT 1 FROM caseloads WHERE caseload = $2 AND team <> $1 UNION ALL "
    "SELECT 1 FROM users WHERE id = $2 AND team <> $1 LIMIT 1";

lb_err lb_srvpg_followed(lb_srvstore *base, const lb_srv_who *who, lb_srv_caseload_fn fn,
                         void *ctx)
{
    lb_srvpg *s = (lb_srvpg *)base;
    lb_srvpg_args g = { 0 };
    lb_srvpg_conn *c;
    PGresult *r = NULL;
    lb_err err;
    int i;
    if (!who->supervisor)
        return fn(ctx, who->caseload) ? LB_ERR_NOMEM : LB_OK;
    if (!(c = lb_srvpg_get(s)))
        return LB_ERR_BUSY;
    lb_srvpg_text(&g, who->team);
    err = lb_srvpg_run(s, c, SQL_FOLLOWED, &g, &r, "listing caseloads");
    for (i = 0; !err && i < PQntuples(r); i++)
        if (fn(ctx, lb_srvpg_col_str(r, i, 0)) != 0)
            err = LB_ERR_NOMEM;
    PQclear(r);
    lb_srvpg_put(s, c);
    return err;
}

lb_err lb_srvpg_caseload_elsewhere(lb_srvstore *base, const char *team, const char *caseload,
                                   int *yes)
{
    lb_srvpg *s = (lb_srvpg *)base;
    lb_srvpg_args g = { 0 };
    lb_srvpg_conn *c;
    PGresult *r = NULL;
    lb_err err;
    if (!(c = lb_srvpg_get(s)))
        return LB_ERR_BUSY;
    lb_srvpg_text(&g, team), lb_srvpg_text(&g, caseload);
    err = lb_srvpg_run(s, c, SQL_ELSEWHERE, &g, &r, "looking up a caseload");
    if (!err)
        *yes = PQntuples(r) > 0;
    PQclear(r);
    lb_srvpg_put(s, c);
    return err;
}

#define PULL_COLUMNS "SELECT f.seq, e.n, e.id, e.person, e.key_id, e.body, e.assign_caseload, " \
    "e.assign_active, e.device"
#define PULL_FROM " FROM filed f JOIN envelopes e ON e.n = f.envelope " \
    "WHERE f.team = $1 AND f.caseload = $2 AND f.seq > $3 ORDER BY f.seq LIMIT $4"
static const char SQL_PULL[] = PULL_COLUMNS PULL_FROM;
/* With the envelope's other filings, "caseload:seq,...", for a device that
 * follows several caseloads. */
static const char SQL_PULL_OTHERS[] = PULL_COLUMNS ", (SELECT string_agg(g.caseload || ':' || "
    "g.seq, ',') FROM filed g WHERE g.envelope = e.n AND g.caseload <> f.caseload)" PULL_FROM;

typedef struct pull_ctx {
    size_t bytes, count, max_bytes, max_count;
    size_t skipped;           /* rows passed over without sending them */
    const char *skip_from;    /* the pulling device: its own are not sent */
    lb_srv_cursor *cursors;   /* every caseload of the request */
    size_t ncursors;
    lb_srv_envelope_fn fn;
    void *ctx;
    int more, failed;
} pull_ctx;

/* Whether the device has the envelope already, or gets it in this answer:
 * it is filed under another followed caseload at or below that caseload's
 * cursor ("caseload:seq,..." in others). */
static int delivered_elsewhere(const pull_ctx *q, const lb_srv_cursor *self, const char *others)
{
    const char *p = others;
    size_t i, len;
    while (*p) {
        const char *colon = strchr(p, ':'), *comma;
        long long seq;
        if (!colon)
            return 0;
        len = (size_t)(colon - p);
        seq = strtoll(colon + 1, NULL, 10);
        for (i = 0; i < q->ncursors; i++)
            if (&q->cursors[i] != self && strlen(q->cursors[i].caseload) == len &&
                memcmp(q->cursors[i].caseload, p, len) == 0 && seq <= q->cursors[i].seq)
                return 1;
        comma = strchr(colon, ',');
        p = comma ? comma + 1 : colon + strlen(colon);
    }
    return 0;
}

/* A view of row i as an envelope (pointers into the result). */
static void row_envelope(const PGresult *r, int i, lb_envelope *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", lb_srvpg_col_str(r, i, 2));
    snprintf(e->person, sizeof e->person, "%s", lb_srvpg_col_str(r, i, 3));
    e->key = lb_srvpg_col_int(r, i, 4);
    e->body = (unsigned char *)lb_srvpg_col_blob(r, i, 5, &e->body_len);
    if (!lb_srvpg_col_null(r, i, 6)) {
        e->has_assign = 1;
        snprintf(e->assign_caseload, sizeof e->assign_caseload, "%s",
                 lb_srvpg_col_str(r, i, 6));
        e->assign_active = lb_srvpg_col_int(r, i, 7) != 0;
    }
    snprintf(e->from, sizeof e->from, "%s", lb_srvpg_col_str(r, i, 8));
}

/* Go through one page of a caseload; 1 when the answer is full (stop). */
static int pull_rows(pull_ctx *q, const PGresult *r, lb_srv_cursor *cur)
{
    lb_envelope e;
    int i;
    for (i = 0; i < PQntuples(r); i++) {
        size_t cost = (size_t)PQgetlength(r, i, 5) + LB_SRV_WIRE_OVERHEAD;
        int dup = q->skip_from && strcmp(lb_srvpg_col_str(r, i, 8), q->skip_from) == 0;
        if (!dup && q->ncursors > 1)
            dup = delivered_elsewhere(q, cur, lb_srvpg_col_str(r, i, 9));
        if (dup && q->skipped >= PULL_MAX_SKIPPED)
            return q->more = 1;
        if (dup) {
            cur->seq = lb_srvpg_col_int(r, i, 0);
            q->skipped++;
            continue;
        }
        if (q->count >= q->max_count || (q->count > 0 && q->bytes + cost > q->max_bytes))
            return q->more = 1;
        row_envelope(r, i, &e);
        if (q->fn(q->ctx, &e) != 0) {
            q->failed = 1;
            return 1;
        }
        cur->seq = lb_srvpg_col_int(r, i, 0);
        q->count++;
        q->bytes += cost;
    }
    return 0;
}

/* Read one caseload after its cursor, a page at a time. */
static lb_err pull_caseload(lb_srvpg *s, lb_srvpg_conn *c, pull_ctx *q, const char *team,
                            lb_srv_cursor *cur)
{
    lb_err err = LB_OK;
    int rows = PULL_PAGE, stop = 0;
    while (!err && !stop && rows == PULL_PAGE) {
        lb_srvpg_args g = { 0 };
        PGresult *r = NULL;
        lb_srvpg_text(&g, team), lb_srvpg_text(&g, cur->caseload);
        lb_srvpg_int(&g, cur->seq);
        lb_srvpg_int(&g, PULL_PAGE);
        err = lb_srvpg_run(s, c, q->ncursors > 1 ? SQL_PULL_OTHERS : SQL_PULL, &g, &r,
                           "reading envelopes");
        if (!err) {
            rows = PQntuples(r);
            stop = pull_rows(q, r, cur);
        }
        PQclear(r);
    }
    if (!err && q->failed)
        err = LB_ERR_NOMEM;
    return err;
}

lb_err lb_srvpg_pull(lb_srvstore *base, const char *team, const char *skip_from,
                     lb_srv_cursor *cursors, size_t n, size_t max_bytes, size_t max_count,
                     lb_srv_envelope_fn fn, void *ctx, int *more)
{
    lb_srvpg *s = (lb_srvpg *)base;
    lb_srvpg_conn *c;
    pull_ctx q;
    size_t i;
    lb_err err;
    memset(&q, 0, sizeof q);
    q.max_bytes = max_bytes, q.max_count = max_count, q.fn = fn, q.ctx = ctx;
    q.cursors = cursors, q.ncursors = n, q.skip_from = skip_from;
    if (!(c = lb_srvpg_get(s)))
        return LB_ERR_BUSY;
    /* One snapshot for every caseload of the answer. */
    err = lb_srvpg_cmd(s, c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                       "reading envelopes");
    for (i = 0; i < n && !err && !q.more; i++)
        err = pull_caseload(s, c, &q, team, &cursors[i]);
    if (!err)
        err = lb_srvpg_cmd(s, c, "COMMIT", "reading envelopes");
    lb_srvpg_put(s, c);
    if (!err)
        *more = q.more;
    return err;
}
