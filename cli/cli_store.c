/* cli_store.c - finding, opening and unlocking the store (cli_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include "lb_model.h"
#include "cli_store.h"
#include "cli_pass.h"
#include "cli_opts.h"
#include "cli_err.h"

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return (v && v[0]) ? v : NULL;
}

int cli_store_dir(char *out, size_t cap)
{
    const char *v;
    int n;
    if ((v = nonempty_env("LINKBOOK_STORE")) != NULL)
        n = snprintf(out, cap, "%s", v);
    else if ((v = nonempty_env("XDG_DATA_HOME")) != NULL && v[0] == '/')
        n = snprintf(out, cap, "%s/linkbook", v);
    else if ((v = nonempty_env("HOME")) != NULL)
        n = snprintf(out, cap, "%s/.local/share/linkbook", v);
    else
        return cli_fail(CLI_EXIT_USAGE, "no store directory: HOME is not set "
                        "(set LINKBOOK_STORE to the store's directory)");
    if (n < 0 || (size_t)n >= cap)
        return cli_fail(CLI_EXIT_USAGE, "the store directory's name is too long "
                        "(set LINKBOOK_STORE to a shorter path)");
    return CLI_GO;
}

static int report_open(lb_store *s, lb_err err, const cli_cmd *cmd, const char *dir)
{
    if (err == LB_ERR_NOTFOUND && s && lb_store_errmsg(s)[0])
        return cli_fail(CLI_EXIT_NOTFOUND, "%s", lb_store_errmsg(s));
    if (err == LB_ERR_NOTFOUND)
        return cli_fail(CLI_EXIT_NOTFOUND, "no store at %s (create one with "
                        "'linkbook init')", dir);
    if (err == LB_ERR_PASSPHRASE)
        return cli_fail(CLI_EXIT_PASSPHRASE, "wrong passphrase for store %s "
                        "(try again, or see 'linkbook help passwd')", dir);
    return cli_err_report(s, err, cmd, "could not open the store");
}

int cli_store_open(const cli_cmd *cmd, lb_store **out)
{
    char dir[CLI_PATH_MAX];
    lb_store *s = NULL;
    lb_err err;
    int rc = cli_store_dir(dir, sizeof dir);
    if (rc != CLI_GO)
        return rc;
    err = lb_store_open(dir, &s);
    if (err != LB_OK) {
        rc = report_open(s, err, cmd, dir);
        lb_store_close(s); /* set even on failure, for its message */
        return rc;
    }
    *out = s;
    return CLI_GO;
}

int cli_store_unlock(lb_store *s, const cli_cmd *cmd, const char *pass, size_t len)
{
    lb_err err = lb_store_unlock(s, pass, len);
    if (err != LB_OK)
        return report_open(s, err, cmd, lb_store_dir(s));
    return CLI_GO;
}

/* The interactive session's store (cli_repl.h), or NULL. */
static lb_store *session;

void cli_store_session(lb_store *s)
{
    session = s;
}

int cli_store_unlocked(const cli_cmd *cmd, lb_store **out)
{
    cli_pass pass;
    lb_store *s = NULL;
    int rc;
    if (session && lb_store_is_unlocked(session)) {
        lb_store_retain(session);
        *out = session;
        return CLI_GO;
    }
    rc = cli_store_open(cmd, &s);
    if (rc != CLI_GO)
        return rc;
    rc = cli_pass_get(&pass, "LINKBOOK_PASSPHRASE", "Passphrase: ", 0, 0);
    if (rc != CLI_GO)
        goto out;
    rc = cli_store_unlock(s, cmd, pass.buf, pass.len);
    cli_pass_wipe(&pass);
    if (rc != CLI_GO)
        goto out;
    *out = s;
    s = NULL;
out:
    lb_store_close(s);
    return rc;
}

int cli_store_person(lb_store *s, const cli_cmd *cmd, const char *ref,
                     char id[LB_ID_HEX + 1], const char *what)
{
    lb_err err = lb_person_resolve(s, ref, id);
    if (err != LB_OK)
        return cli_err_report(s, err, cmd, what);
    return CLI_GO;
}

int cli_store_run(const cli_cmd *cmd, const char *ref, int ref_kind, cli_store_op op,
                  const void *ctx, const char *what, const char *done)
{
    char person[LB_ID_HEX + 1], id[LB_ID_HEX + 1] = "";
    lb_store *s = NULL;
    lb_err err;
    int rc = cli_store_unlocked(cmd, &s);
    if (rc != CLI_GO)
        return rc;
    if (ref_kind == CLI_REF_PERSON) {
        rc = cli_store_person(s, cmd, ref, person, what);
        if (rc != CLI_GO)
            goto out;
        ref = person;
    }
    err = op(s, ref, ctx, id);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, what);
        goto out;
    }
    cli_say("%s", done);
    if (id[0])
        printf("%s\n", id);
    rc = CLI_EXIT_OK;
out:
    lb_store_close(s);
    return rc;
}
