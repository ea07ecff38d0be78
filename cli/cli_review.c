/* cli_review.c - the period, the worker and the figures (cli_review.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "lb_codes.h"
#include "lb_store.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_review.h"
#include "cli_store.h"

int cli_review_check_period(const cli_cmd *cmd, const char *from, const char *to)
{
    char msg[256];
    if (from && lb_date_check("--from", from, msg, sizeof msg) != LB_OK)
        return cli_usage(cmd, "%s", msg);
    if (to && lb_date_check("--to", to, msg, sizeof msg) != LB_OK)
        return cli_usage(cmd, "%s", msg);
    if (from && to && strcmp(to, from) < 0)
        return cli_usage(cmd, "the period ends (--to %s) before it begins (--from %s): "
                         "give the earlier date with --from", to, from);
    return CLI_GO;
}

/* ref names this store's own worker (name or caseload id prefix). */
static int names_self(lb_store *s, const char *ref)
{
    size_t len = strlen(ref);
    return strcasecmp(lb_store_author(s), ref) == 0 ||
           (len >= 4 && strncmp(lb_store_caseload(s), ref, len) == 0);
}

/* The caseload id ref names, whole or as a prefix of at least 4
 * characters, among the caseloads people in the store are on: 1 found,
 * 0 none, -1 ambiguous. */
static int caseload_prefix(lb_store *s, const char *ref, char out[LB_CASELOAD_MAX + 1])
{
    char **list = NULL;
    size_t i, len = strlen(ref);
    int exact = 0, prefixed = 0;
    if (lb_review_caseloads(s, &list) != LB_OK)
        return 0;
    for (i = 0; list[i] && !exact; i++) {
        exact = strcmp(list[i], ref) == 0;
        if (exact || (len >= 4 && strncmp(list[i], ref, len) == 0 && prefixed++ == 0))
            snprintf(out, LB_CASELOAD_MAX + 1, "%s", list[i]);
    }
    lb_review_caseloads_free(list);
    if (exact)
        return 1;
    return prefixed > 1 ? -1 : prefixed;
}

static int resolve_worker(const cli_cmd *cmd, cli_review *v, const char *ref)
{
    const lb_team_device *d = NULL;
    lb_err err = LB_ERR_NOTFOUND;
    int found;
    if (v->roster->n > 0)
        err = lb_team_find_worker(v->s, v->roster, ref, &d);
    if (err == LB_OK) {
        snprintf(v->caseload, sizeof v->caseload, "%s", d->caseload);
        return CLI_GO;
    }
    if (err == LB_ERR_AMBIGUOUS)
        return cli_fail(CLI_EXIT_USAGE, "%s", lb_store_errmsg(v->s));
    if (err != LB_ERR_NOTFOUND)
        return cli_err_report(v->s, err, cmd, "could not read the team roster");
    if (names_self(v->s, ref)) {
        snprintf(v->caseload, sizeof v->caseload, "%s", lb_store_caseload(v->s));
        return CLI_GO;
    }
    found = caseload_prefix(v->s, ref, v->caseload);
    if (found > 0)
        return CLI_GO;
    if (found < 0)
        return cli_fail(CLI_EXIT_USAGE, "'%s' starts more than one caseload id (give more "
                        "of it)", ref);
    return cli_fail(CLI_EXIT_USAGE, "no worker '%s' in the team on this device (give a "
                    "worker's name or user id; 'linkbook review' lists the caseloads%s)", ref,
                    v->roster->n ? "" : "; a supervisor's 'linkbook sync' brings the names");
}

/* An explicit period in which nothing was recorded. */
static int period_empty(const lb_review *r)
{
    const lb_review_figures *f = &r->all;
    return f->referrals == 0 && f->contacts == 0 && f->goals_set == 0 && f->n_ons4 == 0 &&
           f->n_swemwbs == 0;
}

int cli_review_open(const cli_cmd *cmd, const char *worker, const char *from,
                    const char *to, cli_review *out)
{
    lb_review_query q = {NULL, from, to, NULL, 1};
    lb_err err;
    int rc = cli_review_check_period(cmd, from, to);
    memset(out, 0, sizeof *out);
    if (rc != CLI_GO || (rc = cli_store_unlocked(cmd, &out->s)) != CLI_GO)
        return rc;
    if ((err = lb_team_roster_get(out->s, &out->roster)) != LB_OK) {
        rc = cli_err_report(out->s, err, cmd, "could not read the team roster");
        goto fail;
    }
    if (worker && (rc = resolve_worker(cmd, out, worker)) != CLI_GO)
        goto fail;
    q.caseload = worker ? out->caseload : NULL;
    if ((err = lb_review_compute(out->s, &q, &out->r)) != LB_OK) {
        if (err == LB_ERR_INVALID)
            rc = cli_fail(CLI_EXIT_USAGE, "%s", lb_store_errmsg(out->s));
        else
            rc = cli_err_report(out->s, err, cmd, "could not compute the figures");
        goto fail;
    }
    if ((from || to) && period_empty(out->r)) {
        rc = cli_fail(CLI_EXIT_USAGE, "nothing was recorded from %s to %s%s (choose another "
                      "period)", from ? from : "the start", out->r->to[0] ? out->r->to : "today",
                      worker ? " on that caseload" : "");
        goto fail;
    }
    out->from = from;
    out->to = to;
    return CLI_GO;
fail:
    cli_review_close(out);
    return rc;
}

int cli_review_audit(const cli_cmd *cmd, cli_review *v, const char *purpose)
{
    lb_review_query q = {v->caseload[0] ? v->caseload : NULL, v->from, v->to, purpose, 0};
    lb_err err = lb_review_audit(v->s, &q, v->r);
    if (err != LB_OK)
        return cli_err_report(v->s, err, cmd, "could not record the audit event");
    return CLI_GO;
}

void cli_review_close(cli_review *v)
{
    lb_review_free(v->r);
    lb_team_roster_free(v->roster);
    lb_store_close(v->s);
    memset(v, 0, sizeof *v);
}

const lb_team_device *cli_review_member(const cli_review *v, const char *caseload)
{
    const lb_team_device *best = NULL;
    size_t i;
    for (i = 0; v->roster && i < v->roster->n; i++) {
        const lb_team_device *d = &v->roster->devices[i];
        if (strcmp(d->caseload, caseload) == 0 && (!best || d->last_seen_ms > best->last_seen_ms))
            best = d;
    }
    return best;
}

const char *cli_review_worker(const cli_review *v, const char *caseload)
{
    const lb_team_device *d = cli_review_member(v, caseload);
    if (d && d->name[0])
        return d->name;
    if (strcmp(caseload, lb_store_caseload(v->s)) == 0)
        return lb_store_author(v->s);
    return NULL;
}
