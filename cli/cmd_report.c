/* cmd_report.c - `linkbook report --csv DIR | --html FILE`: the
 * commissioner's dataset (lb_dataset.h) or the team's report (lb_report.h),
 * from the figures of lb_review.h for a period and optionally one worker.
 *
 * Bad input exits 2 before anything is written: dates, an inverted or
 * empty period, an unknown worker, an output path that cannot be written.
 * Files are written whole or not at all (cli_file.h).  Computing the
 * figures records the export in the audit trail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "linkbook.h"
#include "lb_dataset.h"
#include "lb_report.h"
#include "lb_store.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_file.h"
#include "cli_opts.h"
#include "cli_review.h"

#define REPORT_MAX (256u << 20)   /* an HTML page larger than this is a bug */

enum { R_CSV, R_HTML, R_FROM, R_TO, R_WORKER, R_NOPTS };

static int write_csv(const cli_cmd *cmd, cli_review *v, const char *dir)
{
    const lb_review_figures *f = v->r->n_caseloads == 1 && v->caseload[0] ? &v->r->caseloads[0]
                                                                          : &v->r->all;
    const char *data[LB_DATASET_FILES];
    size_t lens[LB_DATASET_FILES], i, failed = 0;
    char today[11];
    lb_dataset d;
    lb_err err;
    lb_store_today(v->s, today);
    if ((err = lb_dataset_csv(v->r, f, today, &d)) != LB_OK) {
        lb_dataset_clear(&d);
        return cli_err_report(v->s, err, cmd, "could not build the dataset");
    }
    for (i = 0; i < LB_DATASET_FILES; i++) {
        data[i] = d.files[i].data ? d.files[i].data : "";
        lens[i] = d.files[i].len;
    }
    if (cli_file_write_set(dir, d.names, data, lens, LB_DATASET_FILES, &failed) != 0) {
        int e = errno;
        lb_dataset_clear(&d);
        return cli_fail(CLI_EXIT_FAIL, "could not write %s/%s: %s (nothing was written; "
                        "check the space on the disk)", dir, d.names[failed], strerror(e));
    }
    cli_say("Wrote the dataset for %s to %s: %s, %s, %s, %s (counts from 1 to 4 suppressed).",
            v->r->from[0] ? "the period" : "all records", dir, d.names[0], d.names[1],
            d.names[2], d.names[3]);
    lb_dataset_clear(&d);
    return CLI_EXIT_OK;
}

/* The page (lb_report.h), each caseload under its worker's name. */
static int write_html(const cli_cmd *cmd, cli_review *v, const char *file)
{
    const char **names = calloc(v->r->n_caseloads + 1, sizeof *names);
    char today[11];
    lb_report_opts o = {today, LINKBOOK_VERSION, names};
    lb_markup m;
    lb_err err = names ? LB_OK : LB_ERR_NOMEM;
    int rc = CLI_EXIT_OK;
    lb_store_today(v->s, today);
    for (size_t i = 0; names && i < v->r->n_caseloads; i++)
        names[i] = cli_review_worker(v, v->r->caseloads[i].caseload);
    lb_markup_init(&m, REPORT_MAX);
    if (err == LB_OK)
        err = lb_report_html(v->r, &o, &m);
    if (err != LB_OK)
        rc = cli_err_report(v->s, err, cmd, "could not draw the report");
    else if (cli_file_write_atomic(file, m.buf.data, m.buf.len) != 0)
        rc = cli_fail(CLI_EXIT_FAIL, "could not write %s: %s (nothing was written; check "
                      "the space on the disk)", file, strerror(errno));
    else
        cli_say("Wrote the report for %s to %s to %s.",
                v->r->from[0] ? v->r->from : v->r->first_month,
                v->r->to[0] ? v->r->to : v->r->as_of, file);
    lb_markup_free(&m);
    free(names);
    return rc;
}

/* The output path can be written: exit 2 now if not, before any work. */
static int check_output(const cli_cmd *cmd, const char *csv_dir, const char *html)
{
    if (csv_dir && cli_file_prepare_dir(csv_dir) != 0)
        return cli_usage(cmd, "cannot write into --csv %s: %s (give a directory you can "
                         "write to)", csv_dir, strerror(errno));
    if (html && cli_file_check_target(html) != 0)
        return cli_usage(cmd, "cannot write --html %s: %s (give a file in a directory you "
                         "can write to)", html, strerror(errno));
    return CLI_GO;
}

int cmd_report(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[R_NOPTS] = {
        [R_CSV] = {"csv", CLI_OPT_VALUE, "DIR", NULL},
        [R_HTML] = {"html", CLI_OPT_VALUE, "FILE", NULL},
        [R_FROM] = {"from", CLI_OPT_VALUE, "DATE", NULL},
        [R_TO] = {"to", CLI_OPT_VALUE, "DATE", NULL},
        [R_WORKER] = {"worker", CLI_OPT_VALUE, "W", NULL},
    };
    cli_args a;
    cli_review v;
    int rc = cli_opts_parse(cmd, argc, argv, o, R_NOPTS, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    if (!o[R_CSV].value == !o[R_HTML].value)
        return cli_usage(cmd, "give one of --csv DIR or --html FILE");
    if ((o[R_CSV].value && !*o[R_CSV].value) || (o[R_HTML].value && !*o[R_HTML].value))
        return cli_usage(cmd, "the output path is empty");
    if ((rc = cli_review_check_period(cmd, o[R_FROM].value, o[R_TO].value)) != CLI_GO ||
        (rc = check_output(cmd, o[R_CSV].value, o[R_HTML].value)) != CLI_GO)
        return rc;
    rc = cli_review_open(cmd, o[R_WORKER].value, o[R_FROM].value, o[R_TO].value, &v);
    if (rc != CLI_GO)
        return rc;
    if ((rc = cli_review_audit(cmd, &v, o[R_CSV].value ? "export" : "report")) == CLI_GO)
        rc = o[R_CSV].value ? write_csv(cmd, &v, o[R_CSV].value)
                            : write_html(cmd, &v, o[R_HTML].value);
    cli_review_close(&v);
    return rc;
}
