/* cli_err.c - exit codes and messages of the command line (cli_err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli_err.h"

int cli_err_code(lb_err err)
{
    switch (err) {
    case LB_OK: return CLI_EXIT_OK;
    case LB_ERR_INVALID:
    case LB_ERR_AMBIGUOUS: return CLI_EXIT_USAGE;
    case LB_ERR_PASSPHRASE: return CLI_EXIT_PASSPHRASE;
    case LB_ERR_NOTFOUND: return CLI_EXIT_NOTFOUND;
    default: return CLI_EXIT_FAIL;
    }
}

/* Where to find the right id, by what the command's first argument is. */
static const char *notfound_advice(const cli_cmd *cmd)
{
    const char *u = cmd ? cmd->usage : "";
    if (strncmp(u, "TASK", 4) == 0)
        return "no such record: check the id; 'linkbook tasks' lists open follow-ups";
    if (strncmp(u, "NOTE", 4) == 0 || strncmp(u, "GOAL", 4) == 0)
        return "no such record: check the id; 'linkbook show PERSON' shows the ids of "
               "a person's records";
    return "no such record: check the id or NHS number; 'linkbook person list' shows "
           "everyone";
}

/* What to do about err; may need the command's name (written to buf). */
static const char *advice(lb_err err, const cli_cmd *cmd, char *buf, size_t cap)
{
    switch (err) {
    case LB_ERR_INVALID:
        if (!cmd)
            return "see 'linkbook help'";
        snprintf(buf, cap, "see 'linkbook help %s'", cmd->name);
        return buf;
    case LB_ERR_AMBIGUOUS: return "ambiguous id prefix: give more of its characters";
    case LB_ERR_NOTFOUND: return notfound_advice(cmd);
    case LB_ERR_PASSPHRASE: return "try again, or see 'linkbook help passwd'";
    case LB_ERR_TAMPERED:
    case LB_ERR_CORRUPT:
        return "run 'linkbook check'; restore the store from a backup or sync it again";
    case LB_ERR_BUSY: return "another linkbook is using the store; try again in a moment";
    case LB_ERR_IO: return "check that the disk has space and the store is writable";
    case LB_ERR_VERSION: return "use a newer version of linkbook";
    case LB_ERR_EXISTS: return "it is already recorded; nothing was changed";
    case LB_ERR_NOMEM: return "free some memory and try again";
    case LB_ERR_LOCKED: return "unlock the store with its passphrase";
    default: return "this is a bug in linkbook; please report it";
    }
}

/* "linkbook: what: detail (advice)"; a detail that ends in its own
 * "(...)" gets the advice inside it: "detail (its own; advice)". */
static void print_advised(const char *what, const char *detail, const char *adv)
{
    size_t len = strlen(detail);
    fputs("linkbook: ", stderr);
    if (what)
        fprintf(stderr, "%s: ", what);
    if (len > 0 && detail[len - 1] == ')' && strchr(detail, '('))
        fprintf(stderr, "%.*s; %s)\n", (int)(len - 1), detail, adv);
    else
        fprintf(stderr, "%s (%s)\n", detail, adv);
}

int cli_err_report(const lb_store *s, lb_err err, const cli_cmd *cmd, const char *what)
{
    char buf[160];
    const char *detail = s ? lb_store_errmsg(s) : "";
    if (!detail || !detail[0])
        detail = lb_strerror(err);
    print_advised(what, detail, advice(err, cmd, buf, sizeof buf));
    return cli_err_code(err);
}

int cli_usage(const cli_cmd *cmd, const char *fmt, ...)
{
    char msg[1024], adv[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(adv, sizeof adv, "see 'linkbook help%s%s'", cmd ? " " : "",
             cmd ? cmd->name : "");
    print_advised(NULL, msg, adv);
    return CLI_EXIT_USAGE;
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("linkbook: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

void cli_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
