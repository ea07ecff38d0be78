/* lb_srvsql_sync.c - push and pull for the SQLite backend of lb_srvstore.
 *
 * Filing: what is stored and where it is filed is the policy of
 * lb_srvfile.c; here are its steps in SQL.  Each filing takes the next
 * number of its caseload's head counter in the same transaction, so
 * numbers become visible in their order.  Pushes that arrive together are
 * stored as a group, in one transaction with a savepoint a push (group
 * commit, below).
 *
 * A batch is filed with two statements an envelope in the common case:
 * one row in envelopes (inserted first; its id is looked up only when it
 * was there already), one in filed per caseload.
 * What a batch asks again and again is kept in memory for the batch (it
 * holds the write lock, so nothing else changes it meanwhile): the
 * caseloads each person is active on (dropped for a person when one of
 * their assignments applies) and each caseload's head counter (written
 * back once, before the commit).
 *
 * Pulling: each caseload after its cursor, one snapshot for all of them.
 * An envelope is sent to a device once: not again under a second followed
 * caseload, and never when that device uploaded it (it has it); the
 * cursors still move past what is not sent.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_srvfile.h"
#include "lb_srvsql.h"

#define PULL_MAX_SKIPPED 200000      /* rows passed over in one pull answer */

static const char SQL_ENV_GET[] =
    "SELECT n, person, assign_caseload, assign_active FROM envelopes "
    "WHERE team = ?1 AND id = ?2";
static const char SQL_ENV_NEW[] =
    "INSERT INTO envelopes (team, id, person, key_id, body, assign_caseload, assign_active, "
    "device, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (team, id) DO NOTHING";
static const char SQL_ASSIGN_GET[] =
    "SELECT active FROM assignments WHERE team = ?1 AND person = ?2 AND caseload = ?3";
static const char SQL_ASSIGN_SET[] =
    "INSERT OR REPLACE INTO assignments (team, person, caseload, active) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_ACTIVE_ON[] =
    "SELECT caseload FROM assignments WHERE team = ?1 AND person = ?2 AND active = 1 "
    "ORDER BY caseload";
static const char SQL_HISTORY[] =
    "SELECT n FROM envelopes WHERE team = ?1 AND person = ?2 ORDER BY n";
static const char SQL_FILED_GET[] =
    "SELECT seq FROM filed WHERE team = ?1 AND caseload = ?2 AND envelope = ?3";
static const char SQL_HEAD_GET[] =
    "SELECT head FROM caseloads WHERE team = ?1 AND caseload = ?2";
static const char SQL_HEAD_PUT[] =
    "INSERT INTO caseloads (team, caseload, head) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (team, caseload) DO UPDATE SET head = excluded.head";
static const char SQL_FILE[] =
    "INSERT INTO filed (team, caseload, seq, envelope) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_FILINGS[] =
    "SELECT caseload, seq FROM filed WHERE envelope = ?1 ORDER BY caseload";
static const char SQL_MINE[] =
    "SELECT 1 FROM envelopes WHERE team = ?1 AND id = ?2 AND device = ?3";
/* What the state says of a person for a limited uploader (caseload ?3):
 * on it; known to the team; on any caseload; with history filed under it. */
static const char SQL_PERSON_STATE[] =
    "SELECT EXISTS (SELECT 1 FROM assignments WHERE team = ?1 AND person = ?2 "
    "AND caseload = ?3 AND active = 1), "
    "EXISTS (SELECT 1 FROM envelopes WHERE team = ?1 AND person = ?2), "
    "EXISTS (SELECT 1 FROM assignments WHERE team = ?1 AND person = ?2 AND active = 1), "
    "EXISTS (SELECT 1 FROM envelopes e JOIN filed f ON f.envelope = e.n WHERE e.team = ?1 "
    "AND e.person = ?2 AND f.team = ?1 AND f.caseload = ?3)";

#define PERSON_CACHE 64          /* people whose caseloads a batch keeps */
#define PERSON_CASELOADS 4        /* caseloads kept per person (more: not kept) */
#define HEADS_MAX 256             /* caseload heads a batch keeps */

/* The caseloads one person is active on, as read in this batch. */
typedef struct person_on {
    char person[LB_SRV_ID_LEN + 1];
    size_t n;
    char caseload[PERSON_CASELOADS][LB_PROTO_CASELOAD_MAX + 1];
} person_on;

/* A caseload's head counter as this batch moved it. */
typedef struct head {
    char caseload[LB_PROTO_CASELOAD_MAX + 1];
    int64_t head;
    int dirty;
} head;

/* The state of one push (the context of the filing steps): connection,
 * uploader, and what the batch keeps in memory. */
typedef struct push_ctx {
    lb_srvsql *s;
    lb_srvsql_conn *c;
    const lb_srv_who *who;
    person_on people[PERSON_CACHE];
    size_t people_next;
    head heads[HEADS_MAX];
    size_t nheads;
} push_ctx;

/* Bind text that outlives the statement's step (no copy); NULL binds NULL. */
static void bind_static(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static lb_err fail(push_ctx *p, int rc, const char *what)
{
    return lb_srvsql_fail(p->s, p->c, rc ? rc : sqlite3_errcode(p->c->db), what);
}

/* An integer from a one-row query: *out, *found. */
static lb_err step_int(push_ctx *p, sqlite3_stmt *st, int64_t *out, int *found, const char *what)
{
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LB_OK : fail(p, rc, what);
}

/* The cached statement sql with the team and a bound as ?1 and ?2; NULL
 * when it cannot be prepared. */
static sqlite3_stmt *team_stmt(push_ctx *p, const char *sql, const char *a)
{
    sqlite3_stmt *st = lb_srvsql_stmt(p->c, sql);
    if (st)
        lb_srvsql_text(st, 1, p->who->team), lb_srvsql_text(st, 2, a);
    return st;
}

/* The head of caseload as this batch sees it (read once, then kept). */
static lb_err head_of(push_ctx *p, const char *caseload, head **out)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    int found = 0;
    size_t i;
    lb_err err;
    for (i = 0; i < p->nheads; i++)
        if (strcmp(p->heads[i].caseload, caseload) == 0) {
            *out = &p->heads[i];
            return LB_OK;
        }
    if (p->nheads == HEADS_MAX)
        return LB_ERR_BUSY;   /* the caller writes the heads back, then asks again */
    if (!(st = team_stmt(p, SQL_HEAD_GET, caseload)))
        return fail(p, 0, "numbering an envelope");
    if ((err = step_int(p, st, &v, &found, "numbering an envelope")) != LB_OK)
        return err;
    *out = &p->heads[p->nheads++];
    snprintf((*out)->caseload, sizeof (*out)->caseload, "%s", caseload);
    (*out)->head = found ? v : 0;
    (*out)->dirty = 0;
    return LB_OK;
}

/* Write every head this batch moved back to the caseloads table. */
static lb_err heads_save(push_ctx *p)
{
    sqlite3_stmt *st;
    int64_t dummy;
    int found;
    size_t i;
    lb_err err;
    for (i = 0; i < p->nheads; i++) {
        if (!p->heads[i].dirty)
            continue;
        if (!(st = team_stmt(p, SQL_HEAD_PUT, p->heads[i].caseload)))
            return fail(p, 0, "numbering an envelope");
        sqlite3_bind_int64(st, 3, p->heads[i].head);
        if ((err = step_int(p, st, &dummy, &found, "numbering an envelope")) != LB_OK)
            return err;
    }
    p->nheads = 0;
    return LB_OK;
}

/* The next number of caseload's head. */
static lb_err head_next(push_ctx *p, const char *caseload, int64_t *seq)
{
    head *h = NULL;
    lb_err err = head_of(p, caseload, &h);
    if (err == LB_ERR_BUSY && (err = heads_save(p)) == LB_OK)
        err = head_of(p, caseload, &h);
    if (err)
        return err;
    h->dirty = 1;
    *seq = ++h->head;
    return LB_OK;
}

/* ---- the filing steps (lb_srvfile_ops) ------------------------------------ */

static lb_err file_under(void *b, const char *caseload, int64_t n, int64_t *seq)
{
    push_ctx *p = b;
    sqlite3_stmt *st;
    int64_t dummy = 0;
    int found = 0;
    lb_err err;
    if ((err = head_next(p, caseload, seq)) != LB_OK)
        return err;
    if (!(st = lb_srvsql_stmt(p->c, SQL_FILE)))
        return fail(p, 0, "filing an envelope");
    bind_static(st, 1, p->who->team), bind_static(st, 2, caseload);
    sqlite3_bind_int64(st, 3, *seq);
    sqlite3_bind_int64(st, 4, n);
    return step_int(p, st, &dummy, &found, "filing an envelope");
}

static lb_err filed(void *b, const char *caseload, int64_t n, int *yes)
{
    push_ctx *p = b;
    sqlite3_stmt *st = team_stmt(p, SQL_FILED_GET, caseload);
    int64_t dummy = 0;
    if (!st)
        return fail(p, 0, "filing an envelope");
    sqlite3_bind_int64(st, 3, n);
    return step_int(p, st, &dummy, yes, "filing an envelope");
}

static lb_err history(void *b, const char *person, int64_t **out, size_t *nout)
{
    push_ctx *p = b;
    sqlite3_stmt *st = team_stmt(p, SQL_HISTORY, person);
    int64_t *ns = NULL;
    size_t n = 0, cap = 0;
    lb_err err = LB_OK;
    int rc = SQLITE_DONE;
    if (!st)
        return fail(p, 0, "reading a person's history");
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            int64_t *m = realloc(ns, (cap = cap ? cap * 2 : 64) * sizeof *m);
            if (!m) {
                err = LB_ERR_NOMEM;
                break;
            }
            ns = m;
        }
        ns[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (!err && rc != SQLITE_DONE)
        err = fail(p, rc, "reading a person's history");
    if (err) {
        free(ns);
        return err;
    }
    *out = ns, *nout = n;
    return LB_OK;
}

static lb_err assign_get(void *b, const char *person, const char *caseload, int *active)
{
    push_ctx *p = b;
    sqlite3_stmt *st = team_stmt(p, SQL_ASSIGN_GET, person);
    int64_t was = 0;
    int found = 0;
    lb_err err;
    if (!st)
        return fail(p, 0, "reading an assignment");
    lb_srvsql_text(st, 3, caseload);
    if ((err = step_int(p, st, &was, &found, "reading an assignment")) == LB_OK)
        *active = found && was;
    return err;
}

/* Keep an assignment, forgetting what the batch kept of the person's
 * caseloads. */
static lb_err assign_set(void *b, const char *person, const char *caseload, int active)
{
    push_ctx *p = b;
    sqlite3_stmt *st;
    int64_t dummy = 0;
    int found = 0;
    size_t i;
    for (i = 0; i < PERSON_CACHE; i++)
        if (strcmp(p->people[i].person, person) == 0)
            p->people[i].person[0] = '\0';
    if (!(st = team_stmt(p, SQL_ASSIGN_SET, person)))
        return fail(p, 0, "keeping an assignment");
    lb_srvsql_text(st, 3, caseload);
    sqlite3_bind_int(st, 4, active);
    return step_int(p, st, &dummy, &found, "keeping an assignment");
}

/* The caseloads person is active on, as kept by this batch; 0 when it
 * keeps none for person. */
static int active_kept(push_ctx *p, const char *person, lb_srvfile_list *out, lb_err *err)
{
    size_t i, j;
    for (i = 0; i < PERSON_CACHE; i++) {
        const person_on *k = &p->people[i];
        if (strcmp(k->person, person) != 0)
            continue;
        for (j = 0; j < k->n && !*err; j++)
            *err = lb_srvfile_list_add(out, k->caseload[j], 0);
        return 1;
    }
    return 0;
}

/* Read from the assignments table (and kept, when they are few), or as
 * kept by this batch. */
static lb_err active_on(void *b, const char *person, lb_srvfile_list *out)
{
    push_ctx *p = b;
    sqlite3_stmt *st;
    person_on *k;
    lb_err err = LB_OK;
    size_t i, first = out->n;
    int rc = SQLITE_DONE;
    if (active_kept(p, person, out, &err))
        return err;
    if (!(st = team_stmt(p, SQL_ACTIVE_ON, person)))
        return fail(p, 0, "reading assignments");
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = lb_srvfile_list_add(out, (const char *)sqlite3_column_text(st, 0), 0);
    sqlite3_reset(st);
    if (err || rc != SQLITE_DONE)
        return err ? err : fail(p, rc, "reading assignments");
    if (out->n - first <= PERSON_CASELOADS) {
        k = &p->people[p->people_next++ % PERSON_CACHE];
        memcpy(k->person, person, LB_SRV_ID_LEN + 1);
        k->n = out->n - first;
        for (i = 0; i < k->n; i++)
            memcpy(k->caseload[i], out->v[first + i].caseload, sizeof k->caseload[i]);
    }
    return LB_OK;
}

static lb_err filings(void *b, int64_t n, lb_srvfile_list *out)
{
    push_ctx *p = b;
    sqlite3_stmt *st = lb_srvsql_stmt(p->c, SQL_FILINGS);
    lb_err err = LB_OK;
    int rc = SQLITE_DONE;
    if (!st)
        return fail(p, 0, "reading filings");
    sqlite3_bind_int64(st, 1, n);
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = lb_srvfile_list_add(out, (const char *)sqlite3_column_text(st, 0),
                                  sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return err ? err : rc == SQLITE_DONE ? LB_OK : fail(p, rc, "reading filings");
}

/* Store e; *stored 0 when the team has an envelope of that id. */
static lb_err insert_envelope(void *b, const lb_envelope *e, int64_t *n, int *stored)
{
    push_ctx *p = b;
    sqlite3_stmt *st = lb_srvsql_stmt(p->c, SQL_ENV_NEW);
    int64_t dummy;
    int found;
    lb_err err;
    if (!st)
        return fail(p, 0, "storing an envelope");
    bind_static(st, 1, p->who->team), bind_static(st, 2, e->id);
    bind_static(st, 3, e->person);
    sqlite3_bind_int64(st, 4, e->key);
    sqlite3_bind_blob(st, 5, e->body, (int)e->body_len, SQLITE_STATIC);
    bind_static(st, 6, e->has_assign ? e->assign_caseload : NULL);
    if (e->has_assign)
        sqlite3_bind_int(st, 7, e->assign_active ? 1 : 0);
    bind_static(st, 8, p->who->device);
    sqlite3_bind_int64(st, 9, lb_srvsql_now_ms());
    err = step_int(p, st, &dummy, &found, "storing an envelope");
    *stored = !err && sqlite3_changes(p->c->db) > 0;
    if (*stored)
        *n = sqlite3_last_insert_rowid(p->c->db);
    return err;
}

/* The routing facts of the current row of SQL_ENV_GET. */
static void row_facts(sqlite3_stmt *st, lb_envelope *facts)
{
    const char *person = (const char *)sqlite3_column_text(st, 1);
    const char *caseload = (const char *)sqlite3_column_text(st, 2);
    snprintf(facts->person, sizeof facts->person, "%s", person ? person : "");
    facts->has_assign = caseload != NULL;
    if (caseload)
        snprintf(facts->assign_caseload, sizeof facts->assign_caseload, "%s", caseload);
    facts->assign_active = sqlite3_column_int(st, 3);
}

static lb_err lookup(void *b, const char *id, int *found, int64_t *n, lb_envelope *facts)
{
    push_ctx *p = b;
    sqlite3_stmt *st = lb_srvsql_stmt(p->c, SQL_ENV_GET);
    int rc;
    if (!st)
        return fail(p, 0, "reading an envelope");
    bind_static(st, 1, p->who->team), bind_static(st, 2, id);
    rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) {
        *n = sqlite3_column_int64(st, 0);
        row_facts(st, facts);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LB_OK : fail(p, rc, "reading an envelope");
}

static lb_err person_state(void *b, const char *person, const char *limit,
                           lb_srvfile_person *out)
{
    push_ctx *p = b;
    sqlite3_stmt *st = team_stmt(p, SQL_PERSON_STATE, person);
    int rc;
    if (!st)
        return fail(p, 0, "checking a push");
    lb_srvsql_text(st, 3, limit);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out->on = sqlite3_column_int(st, 0), out->known = sqlite3_column_int(st, 1);
        out->active = sqlite3_column_int(st, 2), out->seen = sqlite3_column_int(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? LB_OK : fail(p, rc, "checking a push");
}

static lb_err mine(void *b, const char *id, int *yes)
{
    push_ctx *p = b;
    sqlite3_stmt *st = team_stmt(p, SQL_MINE, id);
    int64_t one = 0;
    if (!st)
        return fail(p, 0, "checking a push");
    lb_srvsql_text(st, 3, p->who->device);
    return step_int(p, st, &one, yes, "checking a push");
}

static const lb_srvfile_ops filing_steps = {
    .insert = insert_envelope, .lookup = lookup, .assign_get = assign_get,
    .assign_set = assign_set, .history = history, .active_on = active_on, .filed = filed,
    .file = file_under, .filings = filings, .person = person_state, .mine = mine,
};

/* One push waiting to be stored: what lb_srvsql_push was given, and how
 * it ended.  It lives on its pusher's stack until done is set. */
typedef struct lb_srvsql_job {
    const lb_srv_who *who;
    const char *limit;
    const lb_envelope *envs;
    size_t n;
    const lb_srv_push_sink *sink;
    lb_err err;
    int done;
    pthread_cond_t wake;          /* done, or its turn to commit a group */
    struct lb_srvsql_job *next;
} lb_srvsql_job;

/* Tell the sink at once: the group's transaction is not run again (a
 * job that fails fails, and its pusher's answer is an error). */
static lb_err report_now(void *ctx, size_t i, lb_srvfile_outcome out, const lb_srv_cursor *seqs,
                         size_t n)
{
    const lb_srvsql_job *j = ctx;
    return lb_srvfile_tell(j->sink, j->envs[i].id, out, seqs, n);
}

#define GROUP_MAX_ENVELOPES 4000  /* envelopes one group transaction stores */

/* Store job j inside the open transaction on c, under a savepoint: a job
 * that fails leaves nothing behind and the others stand. */
static lb_err job_run(lb_srvsql *s, lb_srvsql_conn *c, const lb_srvsql_job *j)
{
    push_ctx *p = calloc(1, sizeof *p);   /* its caches are too big for a stack */
    lb_err err;
    if (!p)
        return LB_ERR_NOMEM;
    p->s = s, p->c = c, p->who = j->who;
    err = lb_srvsql_exec(s, c, "SAVEPOINT push", "storing a push");
    if (!err)
        err = lb_srvfile_batch(&filing_steps, p, j->who, j->limit, j->envs, j->n, report_now,
                               (void *)j);
    if (!err)
        err = heads_save(p);
    if (err && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK TO push", NULL, NULL, NULL);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "RELEASE push", NULL, NULL, NULL);
    free(p);
    return err;
}

/* Store the jobs of group in one transaction and one commit.  A job that
 * fails alone fails alone; when the transaction itself is lost (a failed
 * COMMIT, or an error that ended it) every job of the group fails. */
static void group_store(lb_srvsql *s, lb_srvsql_job *group)
{
    lb_srvsql_conn *c = lb_srvsql_get(s);
    lb_srvsql_job *j;
    lb_err err = lb_srvsql_exec(s, c, "BEGIN IMMEDIATE", "storing a push");
    for (j = group; j && !err; j = j->next)
        if ((j->err = job_run(s, c, j)) != LB_OK && sqlite3_get_autocommit(c->db))
            err = j->err;
    if (!err)
        err = lb_srvsql_exec(s, c, "COMMIT", "storing a push");
    for (j = group; j && err; j = j->next)
        j->err = err;
    lb_srvsql_put(s, c);
}

/* Take the group to commit from the queue head: a run of jobs of at most
 * GROUP_MAX_ENVELOPES envelopes (always one at least).  Under push_mu. */
static lb_srvsql_job *group_take(lb_srvsql *s)
{
    lb_srvsql_job *first = s->push_queue, *last = first;
    size_t n = first->n;
    while (last->next && n + last->next->n <= GROUP_MAX_ENVELOPES) {
        last = last->next;
        n += last->n;
    }
    s->push_queue = last->next;
    if (!s->push_queue)
        s->push_tail = NULL;
    last->next = NULL;
    return first;
}

/* Commit one group for the queue, as its leader (push_mu held on entry
 * and on return): the jobs done and woken, then the next leader. */
static void group_lead(lb_srvsql *s, const lb_srvsql_job *self)
{
    lb_srvsql_job *group = group_take(s), *j, *next;
    s->committing = 1;
    pthread_mutex_unlock(&s->push_mu);
    group_store(s, group);
    pthread_mutex_lock(&s->push_mu);
    for (j = group; j; j = next) {
        next = j->next;
        j->done = 1;
        if (j != self)
            pthread_cond_signal(&j->wake);
    }
    s->committing = 0;
    if (s->push_queue)
        pthread_cond_signal(&s->push_queue->wake);
}

int lb_srvsql_queued(lb_srvsql *s)
{
    const lb_srvsql_job *j;
    int n = 0;
    pthread_mutex_lock(&s->push_mu);
    for (j = s->push_queue; j; j = j->next)
        n++;
    pthread_mutex_unlock(&s->push_mu);
    return n;
}

lb_err lb_srvsql_push(lb_srvstore *base, const lb_srv_who *who, const char *limit,
                      const lb_envelope *envs, size_t n, const lb_srv_push_sink *sink)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_job job = { .who = who, .limit = limit, .envs = envs, .n = n, .sink = sink };
    pthread_cond_init(&job.wake, NULL);
    pthread_mutex_lock(&s->push_mu);
    if (s->push_tail)
        s->push_tail->next = &job;
    else
        s->push_queue = &job;
    s->push_tail = &job;
    while (!job.done) {
        if (s->committing)
            pthread_cond_wait(&job.wake, &s->push_mu);
        else
            group_lead(s, &job);
    }
    pthread_mutex_unlock(&s->push_mu);
    pthread_cond_destroy(&job.wake);
    return job.err;
}

/* ---- following and pulling ----------------------------------------------- */

static const char SQL_FOLLOWED[] =
    "SELECT caseload FROM caseloads WHERE team = ?1 UNION SELECT id FROM users "
    "WHERE team = ?1 ORDER BY 1";
static const char SQL_ELSEWHERE[] =
    "SELECT 1 FROM caseloads WHERE caseload = ?2 AND team <> ?1 UNION ALL "
    "SELECT 1 FROM users WHERE id = ?2 AND team <> ?1 LIMIT 1";

lb_err lb_srvsql_followed(lb_srvstore *base, const lb_srv_who *who, lb_srv_caseload_fn fn,
                          void *ctx)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c;
    sqlite3_stmt *st;
    lb_err err = LB_OK;
    int rc = SQLITE_DONE;
    if (!who->supervisor)
        return fn(ctx, who->caseload) ? LB_ERR_NOMEM : LB_OK;
    c = lb_srvsql_get(s);
    if ((st = lb_srvsql_stmt(c, SQL_FOLLOWED)) != NULL)
        lb_srvsql_text(st, 1, who->team);
    while (st && !err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = fn(ctx, (const char *)sqlite3_column_text(st, 0)) ? LB_ERR_NOMEM : LB_OK;
    if (!err && (!st || rc != SQLITE_DONE))
        err = lb_srvsql_fail(s, c, st ? rc : sqlite3_errcode(c->db), "listing caseloads");
    lb_srvsql_put(s, c);
    return err;
}

lb_err lb_srvsql_caseload_elsewhere(lb_srvstore *base, const char *team, const char *caseload,
                                    int *yes)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c = lb_srvsql_get(s);
    sqlite3_stmt *st = lb_srvsql_stmt(c, SQL_ELSEWHERE);
    lb_err err = LB_OK;
    int rc = st ? SQLITE_OK : sqlite3_errcode(c->db);
    if (st) {
        lb_srvsql_text(st, 1, team), lb_srvsql_text(st, 2, caseload);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        *yes = rc == SQLITE_ROW;
    else
        err = lb_srvsql_fail(s, c, rc, "looking up a caseload");
    lb_srvsql_put(s, c);
    return err;
}

static const char SQL_PULL[] =
    "SELECT f.seq, e.n, e.id, e.person, e.key_id, e.body, e.assign_caseload, "
    "e.assign_active, e.device FROM filed f JOIN envelopes e ON e.n = f.envelope "
    "WHERE f.team = ?1 AND f.caseload = ?2 AND f.seq > ?3 ORDER BY f.seq";

static const char SQL_PULL_FILED[] = "SELECT caseload, seq FROM filed WHERE envelope = ?1";

typedef struct pull_ctx {
    size_t bytes, count, max_bytes, max_count;
    size_t skipped;           /* rows passed over without sending them */
    const char *skip_from;    /* the pulling device: its own are not sent */
    lb_srv_cursor *cursors;   /* every caseload of the request */
    size_t ncursors;
    lb_srvsql_conn *c;
    lb_srv_envelope_fn fn;
    void *ctx;
    int more;
} pull_ctx;

/* Whether the device has envelope n already, or gets it in this answer:
 * it is filed under another followed caseload at or below that caseload's
 * cursor (as requested, or as advanced by this answer).  So a device that
 * follows several caseloads receives each envelope once, across answers.
 * Returns 1, 0, or -1 on failure. */
static int delivered_elsewhere(pull_ctx *q, const lb_srv_cursor *self, int64_t n)
{
    sqlite3_stmt *st = lb_srvsql_stmt(q->c, SQL_PULL_FILED);
    int rc, yes = 0;
    size_t i;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, n);
    while (!yes && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *caseload = (const char *)sqlite3_column_text(st, 0);
        for (i = 0; i < q->ncursors && !yes; i++)
            yes = &q->cursors[i] != self && strcmp(q->cursors[i].caseload, caseload) == 0 &&
                  sqlite3_column_int64(st, 1) <= q->cursors[i].seq;
    }
    sqlite3_reset(st);
    return yes ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A view of the current row as an envelope (pointers into the row). */
static void row_envelope(sqlite3_stmt *st, lb_envelope *e)
{
    const char *c = (const char *)sqlite3_column_text(st, 6);
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(e->person, sizeof e->person, "%s", (const char *)sqlite3_column_text(st, 3));
    e->key = sqlite3_column_int64(st, 4);
    e->body = (unsigned char *)sqlite3_column_blob(st, 5);
    e->body_len = (size_t)sqlite3_column_bytes(st, 5);
    if (c) {
        e->has_assign = 1;
        snprintf(e->assign_caseload, sizeof e->assign_caseload, "%s", c);
        e->assign_active = sqlite3_column_int(st, 7);
    }
    snprintf(e->from, sizeof e->from, "%s", (const char *)sqlite3_column_text(st, 8));
}

/* Whether the current row is the pulling device's own upload: it has
 * it, so only the cursor moves past it. */
static int own_upload(const pull_ctx *q, sqlite3_stmt *st)
{
    const char *from = (const char *)sqlite3_column_text(st, 8);
    return q->skip_from && from && strcmp(from, q->skip_from) == 0;
}

/* Read one caseload after its cursor; returns an sqlite code, -1 when
 * the callback failed, -2 when reading filings failed.  Rows passed over
 * (own uploads, delivered elsewhere) only move the cursor; at most
 * PULL_MAX_SKIPPED of them in one answer, then "more". */
static int pull_caseload(pull_ctx *q, sqlite3_stmt *st, lb_srv_cursor *cur)
{
    lb_envelope e;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t cost = (size_t)sqlite3_column_bytes(st, 5) + LB_SRV_WIRE_OVERHEAD;
        int dup = own_upload(q, st);
        if (!dup && q->ncursors > 1)
            dup = delivered_elsewhere(q, cur, sqlite3_column_int64(st, 1));
        if (dup < 0)
            return -2;
        if (dup && q->skipped >= PULL_MAX_SKIPPED) {
            q->more = 1;
            return SQLITE_DONE;
        }
        if (dup) {
            cur->seq = sqlite3_column_int64(st, 0);
            q->skipped++;
            continue;
        }
        if (q->count >= q->max_count || (q->count > 0 && q->bytes + cost > q->max_bytes)) {
            q->more = 1;
            return SQLITE_DONE;
        }
        row_envelope(st, &e);
        if (q->fn(q->ctx, &e) != 0)
            return -1;
        cur->seq = sqlite3_column_int64(st, 0);
        q->count++;
        q->bytes += cost;
    }
    return rc;
}

lb_err lb_srvsql_pull(lb_srvstore *base, const char *team, const char *skip_from,
                      lb_srv_cursor *cursors, size_t n, size_t max_bytes, size_t max_count,
                      lb_srv_envelope_fn fn, void *ctx, int *more)
{
    lb_srvsql *s = (lb_srvsql *)base;
    lb_srvsql_conn *c;
    pull_ctx q;
    sqlite3_stmt *st;
    size_t i;
    lb_err err;
    int rc = SQLITE_DONE;
    memset(&q, 0, sizeof q);
    q.max_bytes = max_bytes, q.max_count = max_count, q.fn = fn, q.ctx = ctx;
    q.cursors = cursors, q.ncursors = n, q.skip_from = skip_from;
    q.c = c = lb_srvsql_get(s);
    /* One read transaction: every caseload from the same snapshot. */
    err = lb_srvsql_exec(s, c, "BEGIN", "reading envelopes");
    for (i = 0; i < n && !err && !q.more && rc == SQLITE_DONE; i++) {
        if (!(st = lb_srvsql_stmt(c, SQL_PULL))) {
            err = lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "reading envelopes");
            break;
        }
        lb_srvsql_text(st, 1, team), lb_srvsql_text(st, 2, cursors[i].caseload);
        sqlite3_bind_int64(st, 3, cursors[i].seq);
        rc = pull_caseload(&q, st, &cursors[i]);
        sqlite3_reset(st);
    }
    if (!err && rc == -1)
        err = LB_ERR_NOMEM;
    else if (!err && rc == -2)
        err = lb_srvsql_fail(s, c, sqlite3_errcode(c->db), "reading filings");
    else if (!err && rc != SQLITE_DONE)
        err = lb_srvsql_fail(s, c, rc, "reading envelopes");
    lb_srvsql_rollback(c);
    lb_srvsql_put(s, c);
    if (!err)
        *more = q.more;
    return err;
}
