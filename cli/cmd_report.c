/* cmd_report.c - report --html: the team's figures as one self-contained
 * HTML page (lb_report.h), written whole or not at all (cli_file.h).
 *
 * Refused with exit 2 before anything is read: a bad or inverted date, an
 * output path that cannot be written.  Refused with exit 2 after the
 * figures are computed: a period with nothing recorded in it (no file is
 * written; the computation is audited as a read like any other). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "linkbook.h"
#include "lb_report.h"
#include "lb_review.h"
#include "lb_team.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_file.h"
#include "cli_opts.h"
#include "cli_store.h"

#define REPORT_MAX (256u << 20)   /* a page larger than this is a bug */

typedef struct report_args {
    const char *file, *from, *to;
} report_args;

static int check_dates(const cli_cmd *cmd, const report_args *a)
{
    char msg[256];
    if (a->from && lb_date_check("--from", a->from, msg, sizeof msg) != LB_OK)
        return cli_usage(cmd, "%s", msg);
    if (a->to && lb_date_check("--to", a->to, msg, sizeof msg) != LB_OK)
        return cli_usage(cmd, "%s", msg);
    if (a->from && a->to && strcmp(a->from, a->to) > 0)
        return cli_usage(cmd, "the period is inverted: --from %s is after --to %s", a->from,
                         a->to);
    return CLI_GO;
}

static int open_output(const cli_cmd *cmd, cli_file *f, const char *path)
{
    int e = cli_file_open(f, path);
    if (e == 0)
        return CLI_GO;
    return cli_fail(CLI_EXIT_USAGE, "%s: cannot write %s: %s (choose a file in a "
                    "directory you can write to)", cmd->name, path, strerror(e));
}

/* The worker's name for each caseload, from the team roster (NULL where
 * the roster does not know it, or on a worker's device, which has none). */
static const char **caseload_names(lb_store *s, const lb_review *r, lb_team_roster **roster)
{
    const char **names;
    *roster = NULL;
    if (!r->n_caseloads || lb_team_roster_get(s, roster) != LB_OK)
        return NULL;
    if (!(names = calloc(r->n_caseloads, sizeof *names)))
        return NULL;
    for (size_t i = 0; i < r->n_caseloads; i++)
        for (size_t d = 0; d < (*roster)->n && !names[i]; d++)
            if (strcmp((*roster)->devices[d].caseload, r->caseloads[i].caseload) == 0)
                names[i] = (*roster)->devices[d].name;
    return names;
}

static int write_page(const cli_cmd *cmd, lb_store *s, const lb_review *r, cli_file *f)
{
    char today[LB_HLC_TEXT + 1];
    lb_team_roster *roster;
    const char **names = caseload_names(s, r, &roster);
    lb_report_opts o = {today, LINKBOOK_VERSION, names};
    lb_markup m;
    lb_err err;
    int e, rc = CLI_EXIT_OK;
    lb_hlc_format(lb_store_now_ms(s) << 16, today);
    today[10] = '\0';
    lb_markup_init(&m, REPORT_MAX);
    err = lb_report_html(r, &o, &m);
    if (err != LB_OK)
        rc = cli_err_report(s, err, cmd, "could not draw the report");
    else if ((e = cli_file_write(f, m.buf.data, m.buf.len)) != 0 ||
             (e = cli_file_commit(f)) != 0)
        rc = cli_fail(CLI_EXIT_FAIL, "%s: could not write %s: %s (check the disk has "
                      "space; nothing was written)", cmd->name, f->path, strerror(e));
    else
        cli_say("Wrote the report for %s to %s to %s (%zu bytes).",
                r->from[0] ? r->from : r->first_month, r->to[0] ? r->to : r->as_of,
                f->path, m.buf.len);
    lb_markup_free(&m);
    free(names);
    lb_team_roster_free(roster);
    return rc;
}

static int report_html(const cli_cmd *cmd, const report_args *a)
{
    lb_review_query q = {NULL, a->from, a->to, "report"};
    lb_store *s = NULL;
    lb_review *r = NULL;
    cli_file f;
    lb_err err;
    int rc;
    if ((rc = open_output(cmd, &f, a->file)) != CLI_GO)
        return rc;
    if ((rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        goto out;
    err = lb_review_compute(s, &q, &r);
    if (err != LB_OK)
        rc = cli_err_report(s, err, cmd, "could not compute the figures");
    else if (lb_report_empty(r))
        rc = cli_fail(CLI_EXIT_USAGE, "%s: nothing was recorded between %s and %s (choose "
                      "another period with --from and --to); no report written", cmd->name,
                      r->from[0] ? r->from : r->first_month, r->to[0] ? r->to : r->as_of);
    else
        rc = write_page(cmd, s, r, &f);
out:
    cli_file_abort(&f);
    lb_review_free(r);
    lb_store_close(s);
    return rc;
}

int cmd_report(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"html", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "FILE", NULL},
        {"from", CLI_OPT_VALUE, "DATE", NULL},
        {"to", CLI_OPT_VALUE, "DATE", NULL},
    };
    cli_args args;
    report_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 3, NULL, &args);
    if (rc != CLI_GO)
        return rc;
    a = (report_args){o[0].value, o[1].value, o[2].value};
    if ((rc = check_dates(cmd, &a)) != CLI_GO)
        return rc;
    return report_html(cmd, &a);
}
