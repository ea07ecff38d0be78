/* cmd_goal.c - goals: goal add, goal review, goal status. */
#include "lb_model.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_store.h"

typedef struct goal_args {
    const char *text, *domain, *target;
} goal_args;

static lb_err goal_add_op(lb_store *s, const char *person, const void *ctx,
                          char id[LB_ID_HEX + 1])
{
    const goal_args *g = ctx;
    return lb_goal_add(s, person, g->text, g->domain, g->target, id);
}

int cmd_goal_add(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"PERSON", "TEXT", NULL};
    cli_opt o[] = {
        {"domain", CLI_OPT_VALUE, "D", NULL},
        {"target", CLI_OPT_VALUE, "DATE", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, pos, &a);
    if (rc != CLI_GO)
        return rc;
    goal_args g = {a.pos[1], o[0].value, o[1].value};
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, goal_add_op, &g,
                         "could not add the goal", "Added the goal.");
}

typedef struct review_args {
    const char *score, *note;
} review_args;

static lb_err goal_review_op(lb_store *s, const char *goal, const void *ctx,
                             char id[LB_ID_HEX + 1])
{
    const review_args *r = ctx;
    return lb_goal_review(s, goal, r->score, r->note, id);
}

int cmd_goal_review(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"GOAL", NULL};
    cli_opt o[] = {
        {"score", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "0-10", NULL},
        {"note", CLI_OPT_VALUE, "TEXT", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, pos, &a);
    if (rc != CLI_GO)
        return rc;
    review_args r = {o[0].value, o[1].value};
    return cli_store_run(cmd, a.pos[0], CLI_REF_RECORD, goal_review_op, &r,
                         "could not review the goal", "Reviewed the goal.");
}

static lb_err goal_status_op(lb_store *s, const char *goal, const void *ctx,
                             char id[LB_ID_HEX + 1])
{
    id[0] = '\0';
    return lb_goal_status(s, goal, ctx);
}

int cmd_goal_status(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"GOAL", "STATUS", NULL};
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, pos, &a);
    if (rc != CLI_GO)
        return rc;
    return cli_store_run(cmd, a.pos[0], CLI_REF_RECORD, goal_status_op, a.pos[1],
                         "could not set the goal's status", "Set the goal's status.");
}
