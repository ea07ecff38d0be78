/* cli_opts.c - table-driven parsing of a command's options and arguments.
 * See cli_opts.h.  Messages go through cli_usage(), which names the
 * command and points at its help; the parser never prints values.
 */
#include <string.h>
#include "cli_opts.h"
#include "cli_err.h"

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* An argument that looks like an option: "--x" or "-x" (a letter).
 * "-", "-5" and "- text" are ordinary arguments. */
static int looks_like_option(const char *arg)
{
    if (arg[0] != '-' || arg[1] == '\0')
        return 0;
    if (arg[1] == '-')
        return arg[2] != '\0';
    return (arg[1] >= 'a' && arg[1] <= 'z') || (arg[1] >= 'A' && arg[1] <= 'Z');
}

static cli_opt *find_opt(cli_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++) {
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

/* Take the option at argv[*i]; advances *i past a separate value. */
static int take_option(const cli_cmd *cmd, int argc, char **argv, int *i,
                       cli_opt *opts, size_t nopts)
{
    const char *arg = argv[*i];
    if (arg[1] != '-')
        return cli_usage(cmd, "unknown option '%s'", arg);
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    cli_opt *o = find_opt(opts, nopts, name, len);
    if (!o)
        return cli_usage(cmd, "unknown option '--%.*s' for '%s'", (int)len, name, cmd->name);
    if (o->value)
        return cli_usage(cmd, "option --%s given more than once", o->name);
    if (!(o->flags & CLI_OPT_VALUE)) {
        if (eq)
            return cli_usage(cmd, "option --%s takes no value", o->name);
        o->value = "1";
        return CLI_GO;
    }
    if (eq) {
        o->value = eq + 1;
        return CLI_GO;
    }
    if (*i + 1 >= argc)
        return cli_usage(cmd, "option --%s needs a value (--%s %s)", o->name, o->name,
                         o->metavar);
    *i += 1;
    o->value = argv[*i];
    return CLI_GO;
}

static int take_positional(const cli_cmd *cmd, const char *arg,
                           const char *const *pos_names, cli_args *out)
{
    size_t want = 0;
    while (pos_names && pos_names[want])
        want++;
    if (out->npos >= want || out->npos >= CLI_POS_MAX) {
        if (want > 0 && strcmp(pos_names[want - 1], "TEXT") == 0)
            return cli_usage(cmd, "unexpected argument '%s' (put TEXT in quotes)", arg);
        return cli_usage(cmd, "unexpected argument '%s'", arg);
    }
    out->pos[out->npos++] = arg;
    return CLI_GO;
}

static int check_complete(const cli_cmd *cmd, const cli_opt *opts, size_t nopts,
                          const char *const *pos_names, const cli_args *out)
{
    size_t want = 0;
    while (pos_names && pos_names[want] && pos_names[want][0] != '[')
        want++;
    if (out->npos < want)
        return cli_usage(cmd, "'%s' needs %s", cmd->name, pos_names[out->npos]);
    for (size_t i = 0; i < nopts; i++) {
        if ((opts[i].flags & CLI_OPT_REQUIRED) && !opts[i].value)
            return cli_usage(cmd, "'%s' needs --%s %s", cmd->name, opts[i].name,
                             opts[i].metavar);
    }
    return CLI_GO;
}

int cli_opts_parse(const cli_cmd *cmd, int argc, char **argv,
                   cli_opt *opts, size_t nopts, const char *const *pos_names,
                   cli_args *out)
{
    int only_pos = 0;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < nopts; k++)
        opts[k].value = NULL;
    for (int i = 0; i < argc; i++) {
        int rc;
        if (!only_pos && is_help(argv[i])) {
            cli_cmd_help(cmd, stdout);
            return 0;
        }
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && looks_like_option(argv[i]))
            rc = take_option(cmd, argc, argv, &i, opts, nopts);
        else
            rc = take_positional(cmd, argv[i], pos_names, out);
        if (rc != CLI_GO)
            return rc;
    }
    return check_complete(cmd, opts, nopts, pos_names, out);
}

int cli_opt_flag(const cli_opt *opt)
{
    return opt->value != NULL;
}
