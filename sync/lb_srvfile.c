/* lb_srvfile.c - the filing policy of a push (lb_srvfile.h), over a
 * backend's steps.  Nothing here speaks SQL or keeps a connection: what to
 * store and where to file it is decided here, how is the backend's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_change.h"
#include "lb_srvfile.h"

#define VERDICTS 32   /* people whose verdict a batch keeps */

/* Whether a limited uploader may push for a person. */
typedef struct verdict {
    char person[LB_PROTO_ID_LEN + 1];
    int ok;
} verdict;

/* One batch: the backend's steps and context, the uploader, the caseloads
 * of the envelope at hand, and the limited uploader's verdicts so far. */
typedef struct batch {
    const lb_srvfile_ops *ops;
    void *b;
    const lb_srv_who *who;
    const char *limit;
    lb_srvfile_list list;
    verdict verdicts[VERDICTS];
    size_t nverdicts, next_verdict;
} batch;

lb_err lb_srvfile_list_add(lb_srvfile_list *l, const char *caseload, int64_t seq)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        lb_srv_cursor *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return LB_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    memcpy(l->v[l->n].caseload, caseload, strnlen(caseload, LB_PROTO_CASELOAD_MAX));
    l->v[l->n++].seq = seq;
    return LB_OK;
}

/* File envelope n under caseload, once, with the caseload's next number.
 * fresh: n was stored by this push and filed nowhere yet.  *seq is its
 * number there (0 when it was filed there already). */
static lb_err file_under(batch *f, const char *caseload, int64_t n, int fresh, int64_t *seq)
{
    int filed = 0;
    lb_err err;
    *seq = 0;
    if (!fresh && ((err = f->ops->filed(f->b, caseload, n, &filed)) != LB_OK || filed))
        return err;
    return f->ops->file(f->b, caseload, n, seq);
}

/* File the whole history of person under caseload. */
static lb_err file_history(batch *f, const char *person, const char *caseload)
{
    int64_t *ns = NULL, seq = 0;
    size_t n = 0, i;
    lb_err err = f->ops->history(f->b, person, &ns, &n);
    for (i = 0; i < n && !err; i++)
        err = file_under(f, caseload, ns[i], 0, &seq);
    free(ns);
    return err;
}

/* Apply an assignment fact; a new active caseload gets the history. */
static lb_err apply_assign(batch *f, const lb_envelope *e)
{
    int was = 0;
    lb_err err = f->ops->assign_get(f->b, e->person, e->assign_caseload, &was);
    if (!err)
        err = f->ops->assign_set(f->b, e->person, e->assign_caseload, e->assign_active ? 1 : 0);
    if (!err && e->assign_active && !was)
        err = file_history(f, e->person, e->assign_caseload);
    return err;
}

/* File a freshly stored envelope n under its caseloads. */
static lb_err file_new(batch *f, const lb_envelope *e, int64_t n)
{
    lb_srvfile_list *l = &f->list;
    size_t i;
    lb_err err = LB_OK;
    if (e->has_assign && (err = apply_assign(f, e)) != LB_OK)
        return err;
    l->n = 0;
    if ((err = f->ops->active_on(f->b, e->person, l)) != LB_OK)
        return err;
    if (e->has_assign && !e->assign_active)
        err = lb_srvfile_list_add(l, e->assign_caseload, 0);
    if (!err && (l->n == 0 || strcmp(e->person, LB_NOBODY) == 0)) {
        l->n = 0;
        err = lb_srvfile_list_add(l, f->who->caseload, 0);
    }
    /* Only an assignment may have filed it already (with the history);
     * otherwise the list ends as its filings. */
    for (i = 0; i < l->n && !err; i++)
        err = file_under(f, l->v[i].caseload, n, !e->has_assign, &l->v[i].seq);
    return err;
}

/* Whether a stored envelope's routing facts are those of e: the same
 * change.  The body and key may differ: a device seals a change again,
 * with a fresh nonce and its current team key, each time it pushes it (a
 * lost acknowledgement, or a new server epoch that put its whole log back
 * into the outbox); the copy stored first is kept. */
static int same_envelope(const lb_envelope *stored, const lb_envelope *e)
{
    if (strcmp(stored->person, e->person) != 0)
        return 0;
    if (!e->has_assign)
        return !stored->has_assign;
    return stored->has_assign && strcmp(stored->assign_caseload, e->assign_caseload) == 0 &&
           (stored->assign_active != 0) == (e->assign_active != 0);
}

/* Store e, or find it stored: the insert first (ON CONFLICT DO NOTHING),
 * then a look only when the id was there.  Most envelopes are new, so this
 * is one statement where a look first is two; and on PostgreSQL another
 * process may be storing the same id at this moment: the insert waits for
 * it and then finds it there, where a look first would miss it.
 * *stored: this push stored it (as *n); else *n is the row of that id and
 * *facts its routing facts. */
static lb_err store_or_find(batch *f, const lb_envelope *e, int64_t *n, int *stored,
                            lb_envelope *facts)
{
    int found = 0;
    lb_err err;
    *stored = 0;
    if ((err = f->ops->insert(f->b, e, n, stored)) != LB_OK || *stored)
        return err;
    if ((err = f->ops->lookup(f->b, e->id, &found, n, facts)) != LB_OK)
        return err;
    return found ? LB_OK : LB_ERR_INTERNAL;
}

/* Store and file one envelope, or find it stored: *n its row; *clash when
 * its id is taken by a different change (same_envelope); *fresh when this
 * push stored it without an assignment (the list then holds its filings). */
static lb_err push_one(batch *f, const lb_envelope *e, int64_t *n, int *clash, int *fresh)
{
    lb_envelope facts;
    int stored = 0;
    lb_err err;
    memset(&facts, 0, sizeof facts);
    *clash = *fresh = 0;
    if ((err = store_or_find(f, e, n, &stored, &facts)) != LB_OK)
        return err;
    if (!stored) {
        *clash = !same_envelope(&facts, e);
        return LB_OK;
    }
    *fresh = !e->has_assign;
    return file_new(f, e, *n);
}

/* Whether a limited uploader may push envelopes for person: on its
 * caseload, a new person, or one on nobody's caseload whose history its
 * caseload holds.  Judged on the state before the batch, so the answers
 * are kept for the batch (a batch holds the visits of a few people). */
static lb_err person_ok(batch *f, const char *person, int *yes)
{
    lb_srvfile_person st;
    verdict *v;
    size_t i;
    lb_err err;
    for (i = 0; i < f->nverdicts; i++)
        if (strcmp(f->verdicts[i].person, person) == 0) {
            *yes = f->verdicts[i].ok;
            return LB_OK;
        }
    memset(&st, 0, sizeof st);
    if ((err = f->ops->person(f->b, person, f->limit, &st)) != LB_OK)
        return err;
    *yes = st.on || !st.known || (!st.active && st.seen);
    v = &f->verdicts[f->next_verdict];
    f->next_verdict = (f->next_verdict + 1) % VERDICTS;
    if (f->nverdicts < VERDICTS)
        f->nverdicts++;
    snprintf(v->person, sizeof v->person, "%s", person);
    v->ok = *yes;
    return LB_OK;
}

/* Whether a limited uploader may push e: LB_NOBODY, a person it may write
 * for (person_ok), or a re-push of its own envelope. */
static lb_err allowed(batch *f, const lb_envelope *e, int *yes)
{
    lb_err err;
    *yes = strcmp(e->person, LB_NOBODY) == 0;
    if (!*yes && (err = person_ok(f, e->person, yes)) != LB_OK)
        return err;
    if (!*yes)
        return f->ops->mine(f->b, e->id, yes);
    return LB_OK;
}

/* Which envelopes of the batch a limited uploader may push: all judged
 * before any is stored. */
static lb_err allowed_set(batch *f, const lb_envelope *envs, size_t n, unsigned char *ok)
{
    size_t i;
    lb_err err = LB_OK;
    int yes = 0;
    for (i = 0; i < n && !err; i++) {
        err = allowed(f, &envs[i], &yes);
        ok[i] = (unsigned char)yes;
    }
    return err;
}

/* Store envelope i and report it: acknowledged with its filings (those of
 * this push, or those it had), or a clash. */
static lb_err push_report(batch *f, const lb_envelope *envs, size_t i,
                          lb_srvfile_report_fn report, void *ctx)
{
    int64_t n = 0;
    int clash = 0, fresh = 0;
    lb_err err = push_one(f, &envs[i], &n, &clash, &fresh);
    if (err)
        return err;
    if (clash)
        return report(ctx, i, LB_SRVFILE_CLASH, NULL, 0);
    if (!fresh) {
        f->list.n = 0;
        if ((err = f->ops->filings(f->b, n, &f->list)) != LB_OK)
            return err;
    }
    return report(ctx, i, LB_SRVFILE_ACK, f->list.v, f->list.n);
}

lb_err lb_srvfile_batch(const lb_srvfile_ops *ops, void *b, const lb_srv_who *who,
                        const char *limit, const lb_envelope *envs, size_t n,
                        lb_srvfile_report_fn report, void *ctx)
{
    batch f = { .ops = ops, .b = b, .who = who, .limit = limit };
    unsigned char *ok = NULL;
    size_t i;
    lb_err err = LB_OK;
    if (limit && !(ok = calloc(n ? n : 1, 1)))
        return LB_ERR_NOMEM;
    if (limit)
        err = allowed_set(&f, envs, n, ok);
    for (i = 0; i < n && !err; i++) {
        if (limit && !ok[i])
            err = report(ctx, i, LB_SRVFILE_NOT_YOURS, NULL, 0);
        else
            err = push_report(&f, envs, i, report, ctx);
    }
    free(f.list.v);
    free(ok);
    return err;
}

lb_err lb_srvfile_tell(const lb_srv_push_sink *sink, const char *id, lb_srvfile_outcome out,
                       const lb_srv_cursor *seqs, size_t n)
{
    int rc;
    if (out == LB_SRVFILE_ACK)
        rc = sink->ack(sink->ctx, id, seqs, n);
    else if (out == LB_SRVFILE_NOT_YOURS)
        rc = sink->reject(sink->ctx, id, "this person is not on your caseload");
    else
        rc = sink->reject(sink->ctx, id, "this change id is already used by a different "
                          "envelope (make a new change id)");
    return rc ? LB_ERR_NOMEM : LB_OK;
}
