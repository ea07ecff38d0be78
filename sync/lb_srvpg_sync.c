/* lb_srvpg_sync.c - push and pull for the PostgreSQL backend of
 * lb_srvstore.  What is stored and where it is filed is the policy of
 * lb_srvfile.c (filing under every active caseload, whole histories on a
 * new assignment, LB_NOBODY under the uploader's caseload); here are its
 * steps in SQL.  Pulling sends each envelope to a device once and never
 * back to its uploader, as the SQLite backend does (lb_srvsql_sync.c).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_srvfile.h"
#include "lb_srvpg.h"

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

/* What push tells the sink once committed: envelope env acknowledged
 * with acks[first..first+count), or rejected. */
typedef struct report {
    size_t env;
    lb_srvfile_outcome out;
    size_t first, count;
} report;

/* The state of one push: the context of the filing steps (connection,
 * uploader) and the reports of the attempt under way. */
typedef struct push_ctx {
    lb_srvpg *s;
    lb_srvpg_conn *c;
    const lb_srv_who *who;
    const char *limit;
    const lb_envelope *envs;
    size_t nenvs;
    report *out;
    size_t nout;
    lb_srvfile_list acks;
} push_ctx;

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

/* Whether a query with (team, a[, b[, n]]) parameters finds a row. */
static lb_err any_row(push_ctx *p, const char *sql, const char *a, const char *b, int64_t n,
                      int with_n, int *yes, const char *what)
{
    PGresult *r = NULL;
    lb_err err = query(p, sql, a, b, n, with_n, &r, what);
    if (!err)
        *yes = PQntuples(r) > 0;
    PQclear(r);
    return err;
}

/* ---- the filing steps (lb_srvfile_ops) ------------------------------------ */

/* The next number of the caseload's head (which locks its row until
 * COMMIT: see the top of this file). */
static lb_err file_under(void *b, const char *caseload, int64_t n, int64_t *seq)
{
    PGresult *r = NULL;
    lb_err err = query(b, SQL_FILE, caseload, NULL, n, 1, &r, "filing an envelope");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_INTERNAL;
    if (!err)
        *seq = lb_srvpg_col_int(r, 0, 0);
    PQclear(r);
    return err;
}

static lb_err filed(void *b, const char *caseload, int64_t n, int *yes)
{
    return any_row(b, SQL_FILED_GET, caseload, NULL, n, 1, yes, "filing an envelope");
}

static lb_err history(void *b, const char *person, int64_t **out, size_t *nout)
{
    PGresult *r = NULL;
    int64_t *ns = NULL;
    int i, rows = 0;
    lb_err err = query(b, SQL_HISTORY, person, NULL, 0, 0, &r, "reading a person's history");
    if (!err && (rows = PQntuples(r)) > 0 && !(ns = malloc((size_t)rows * sizeof *ns)))
        err = LB_ERR_NOMEM;
    for (i = 0; !err && i < rows; i++)
        ns[i] = lb_srvpg_col_int(r, i, 0);
    PQclear(r);
    if (!err)
        *out = ns, *nout = (size_t)rows;
    return err;
}

static lb_err assign_get(void *b, const char *person, const char *caseload, int *active)
{
    PGresult *r = NULL;
    lb_err err = query(b, SQL_ASSIGN_GET, person, caseload, 0, 0, &r, "reading an assignment");
    if (!err)
        *active = PQntuples(r) == 1 && lb_srvpg_col_int(r, 0, 0) != 0;
    PQclear(r);
    return err;
}

static lb_err assign_set(void *b, const char *person, const char *caseload, int active)
{
    push_ctx *p = b;
    lb_srvpg_args g = { 0 };
    lb_srvpg_text(&g, p->who->team), lb_srvpg_text(&g, person);
    lb_srvpg_text(&g, caseload);
    lb_srvpg_int(&g, active);
    return lb_srvpg_do(p->s, p->c, SQL_ASSIGN_SET, &g, "keeping an assignment");
}

static lb_err active_on(void *b, const char *person, lb_srvfile_list *out)
{
    PGresult *r = NULL;
    int i;
    lb_err err = query(b, SQL_ACTIVE_ON, person, NULL, 0, 0, &r, "reading assignments");
    for (i = 0; !err && i < PQntuples(r); i++)
        err = lb_srvfile_list_add(out, lb_srvpg_col_str(r, i, 0), 0);
    PQclear(r);
    return err;
}

static lb_err filings(void *b, int64_t n, lb_srvfile_list *out)
{
    push_ctx *p = b;
    lb_srvpg_args g = { 0 };
    PGresult *r = NULL;
    int i;
    lb_err err;
    lb_srvpg_int(&g, n);
    err = lb_srvpg_run(p->s, p->c, SQL_FILINGS, &g, &r, "reading filings");
    for (i = 0; !err && i < PQntuples(r); i++)
        err = lb_srvfile_list_add(out, lb_srvpg_col_str(r, i, 0), lb_srvpg_col_int(r, i, 1));
    PQclear(r);
    return err;
}

/* *stored 0 when an envelope of that id was there already (or another
 * transaction stored it meanwhile: the insert waits for it). */
static lb_err insert_envelope(void *b, const lb_envelope *e, int64_t *n, int *stored)
{
    push_ctx *p = b;
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

static lb_err lookup(void *b, const char *id, int *found, int64_t *n, lb_envelope *facts)
{
    PGresult *r = NULL;
    lb_err err = query(b, SQL_ENV_GET, id, NULL, 0, 0, &r, "reading an envelope");
    if (!err && (*found = PQntuples(r) == 1) != 0) {
        *n = lb_srvpg_col_int(r, 0, 0);
        snprintf(facts->person, sizeof facts->person, "%s", lb_srvpg_col_str(r, 0, 1));
        facts->has_assign = !lb_srvpg_col_null(r, 0, 2);
        snprintf(facts->assign_caseload, sizeof facts->assign_caseload, "%s",
                 lb_srvpg_col_str(r, 0, 2));
        facts->assign_active = lb_srvpg_col_int(r, 0, 3) != 0;
    }
    PQclear(r);
    return err;
}

static lb_err person_state(void *b, const char *person, const char *limit,
                           lb_srvfile_person *out)
{
    PGresult *r = NULL;
    lb_err err = query(b, SQL_PERSON_STATE, person, limit, 0, 0, &r, "checking a push");
    if (!err && PQntuples(r) != 1)
        err = LB_ERR_INTERNAL;
    if (!err) {
        out->on = lb_srvpg_col_int(r, 0, 0) != 0, out->known = lb_srvpg_col_int(r, 0, 1) != 0;
        out->active = lb_srvpg_col_int(r, 0, 2) != 0, out->seen = lb_srvpg_col_int(r, 0, 3) != 0;
    }
    PQclear(r);
    return err;
}

static lb_err mine(void *b, const char *id, int *yes)
{
    push_ctx *p = b;
    return any_row(p, SQL_MINE, id, p->who->device, 0, 0, yes, "checking a push");
}

static const lb_srvfile_ops filing_steps = {
    .insert = insert_envelope, .lookup = lookup, .assign_get = assign_get,
    .assign_set = assign_set, .history = history, .active_on = active_on, .filed = filed,
    .file = file_under, .filings = filings, .person = person_state, .mine = mine,
};

/* ---- pushing ------------------------------------------------------------- */

/* Keep how envelope i ended, to tell the sink after the COMMIT: an
 * attempt may be rolled back and run again. */
static lb_err report_later(void *ctx, size_t i, lb_srvfile_outcome out,
                           const lb_srv_cursor *seqs, size_t n)
{
    push_ctx *p = ctx;
    report *r = realloc(p->out, (p->nout + 1) * sizeof *r);
    size_t k;
    lb_err err = LB_OK;
    if (!r)
        return LB_ERR_NOMEM;
    p->out = r;
    r[p->nout].env = i, r[p->nout].out = out;
    r[p->nout].first = p->acks.n, r[p->nout].count = 0;
    for (k = 0; k < n && !err; k++)
        err = lb_srvfile_list_add(&p->acks, seqs[k].caseload, seqs[k].seq);
    if (!err) {
        r[p->nout].count = p->acks.n - r[p->nout].first;
        p->nout++;
    }
    return err;
}

/* One attempt at the whole batch (lb_srvpg_txn may run it again). */
static lb_err push_run(lb_srvpg *s, lb_srvpg_conn *c, void *ctx)
{
    push_ctx *p = ctx;
    (void)s;
    p->c = c;
    p->nout = p->acks.n = 0;
    return lb_srvfile_batch(&filing_steps, p, p->who, p->limit, p->envs, p->nenvs,
                            report_later, p);
}

/* Tell the sink, after the COMMIT. */
static lb_err push_tell(const push_ctx *p, const lb_srv_push_sink *sink)
{
    size_t i;
    lb_err err = LB_OK;
    for (i = 0; i < p->nout && !err; i++) {
        const report *r = &p->out[i];
        err = lb_srvfile_tell(sink, p->envs[r->env].id, r->out, p->acks.v + r->first, r->count);
    }
    return err;
}

lb_err lb_srvpg_push(lb_srvstore *base, const lb_srv_who *who, const char *limit,
                     const lb_envelope *envs, size_t n, const lb_srv_push_sink *sink)
{
    push_ctx p;
    lb_err err;
    memset(&p, 0, sizeof p);
    p.s = (lb_srvpg *)base;
    p.who = who, p.limit = limit, p.envs = envs, p.nenvs = n;
    /* Idempotent: storing a batch again finds it stored and files nothing twice. */
    err = lb_srvpg_txn(p.s, "BEGIN", push_run, &p, 1, "storing a push");
    if (!err)
        err = push_tell(&p, sink);
    free(p.out);
    free(p.acks.v);
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
