/* cmd_task.c - follow-ups and the audit trail: tasks, task done, audit. */
#include "lb_model.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_print.h"
#include "cli_store.h"

int cmd_tasks(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"overdue", 0, "", NULL},
        {"json", 0, "", NULL},
    };
    cli_args a;
    lb_store *s = NULL;
    json_t *doc = NULL;
    lb_err err;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, NULL, &a);
    if (rc != CLI_GO || (rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        return rc;
    err = lb_task_list(s, cli_opt_flag(&o[0]), &doc);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, "could not list the follow-ups");
    } else if (cli_opt_flag(&o[1])) {
        rc = cli_print_json(doc);
    } else {
        cli_print_tasks(doc);
        rc = CLI_EXIT_OK;
    }
    json_decref(doc);
    lb_store_close(s);
    return rc;
}

static lb_err task_done_op(lb_store *s, const char *task, const void *ctx,
                           char id[LB_ID_HEX + 1])
{
    (void)ctx;
    id[0] = '\0';
    return lb_task_done(s, task);
}

int cmd_task_done(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"TASK", NULL};
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, pos, &a);
    if (rc != CLI_GO)
        return rc;
    return cli_store_run(cmd, a.pos[0], CLI_REF_RECORD, task_done_op, NULL,
                         "could not mark the follow-up done", "Marked the follow-up done.");
}

static int audit_list(lb_store *s, const cli_cmd *cmd, const char *ref, int json)
{
    char person[LB_ID_HEX + 1];
    json_t *doc = NULL;
    lb_err err;
    int rc = CLI_GO;
    if (ref)
        rc = cli_store_person(s, cmd, ref, person, "could not find the person");
    if (rc != CLI_GO)
        return rc;
    err = lb_audit_list(s, ref ? person : NULL, &doc);
    if (err != LB_OK)
        return cli_err_report(s, err, cmd, "could not read the audit trail");
    if (json) {
        rc = cli_print_json(doc);
    } else {
        cli_print_audit(doc);
        rc = CLI_EXIT_OK;
    }
    json_decref(doc);
    return rc;
}

int cmd_audit(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"person", CLI_OPT_VALUE, "P", NULL},
        {"json", 0, "", NULL},
    };
    cli_args a;
    lb_store *s = NULL;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, NULL, &a);
    if (rc != CLI_GO || (rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        return rc;
    rc = audit_list(s, cmd, o[0].value, cli_opt_flag(&o[1]));
    lb_store_close(s);
    return rc;
}
