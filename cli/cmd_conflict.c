/* cmd_conflict.c - concurrent edits to settle: conflicts, resolve. */
#include "lb_conflict.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_print.h"
#include "cli_store.h"

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

/* One conflict: what it is about, then each value numbered. */
static void print_conflict(const json_t *c)
{
    const json_t *values = json_object_get(c, "values"), *v;
    char buf[256];
    size_t i;
    printf("%s  %s %.8s, field %s\n", or_dash(cli_json_str(c, "id")),
           or_dash(cli_json_str(c, "kind")), or_dash(cli_json_str(c, "record")),
           or_dash(cli_json_str(c, "field")));
    json_array_foreach(values, i, v) {
        printf("  [%s] ", or_dash(cli_json_str(v, "value_id")));
        cli_print_text(stdout, cli_json_text(json_object_get(v, "value"), buf, sizeof buf), 0, "");
        printf("  (%s, device %s)%s\n", or_dash(cli_json_str(v, "when")),
               or_dash(cli_json_str(v, "device")),
               json_is_true(json_object_get(v, "current")) ? "  shown now" : "");
    }
}

int cmd_conflicts(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {{"json", 0, "", NULL}};
    cli_args a;
    lb_store *s = NULL;
    json_t *doc = NULL, *c;
    size_t i;
    lb_err err;
    int rc = cli_opts_parse(cmd, argc, argv, o, 1, NULL, &a);
    if (rc != CLI_GO || (rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        return rc;
    err = lb_conflict_list(s, &doc);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, "could not list the conflicts");
    } else if (cli_opt_flag(&o[0])) {
        rc = cli_print_json(doc);
    } else {
        if (json_array_size(json_object_get(doc, "conflicts")) == 0)
            cli_say("No conflicts to settle.");
        json_array_foreach(json_object_get(doc, "conflicts"), i, c)
            print_conflict(c);
        rc = CLI_EXIT_OK;
    }
    json_decref(doc);
    lb_store_close(s);
    return rc;
}

static lb_err resolve_op(lb_store *s, const char *conflict, const void *ctx,
                         char id[LB_ID_HEX + 1])
{
    id[0] = '\0';
    return lb_conflict_resolve(s, conflict, ctx);
}

int cmd_resolve(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"CONFLICT", NULL};
    cli_opt o[] = {{"keep", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "VALUE-ID", NULL}};
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 1, pos, &a);
    if (rc != CLI_GO)
        return rc;
    return cli_store_run(cmd, a.pos[0], CLI_REF_RECORD, resolve_op, o[0].value,
                         "could not settle the conflict",
                         "Settled the conflict; every device will show the value kept.");
}
