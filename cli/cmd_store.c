/* cmd_store.c - commands about the store itself: init, passwd, check. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "lb_codes.h"
#include "lb_store.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_pass.h"
#include "cli_store.h"

/* Create the missing parents of dir (not dir itself: the core makes it). */
static int make_parents(const char *dir)
{
    char path[CLI_PATH_MAX];
    size_t len = strlen(dir);
    if (len >= sizeof path)
        return -1;
    memcpy(path, dir, len + 1);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    for (size_t i = 1; i < len; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = '/';
    }
    return 0;
}

/* Check the init options before any passphrase is asked. */
static int init_check(const cli_cmd *cmd, const cli_opt *opts)
{
    char msg[256];
    if (opts[0].value && lb_text_check("--name", opts[0].value, 200, msg, sizeof msg))
        return cli_usage(cmd, "%s", msg);
    if (opts[1].value && lb_codes_check(LB_CODES_ROLE, "--role", opts[1].value, msg,
                                        sizeof msg))
        return cli_usage(cmd, "%s", msg);
    if (opts[2].value && lb_text_check("--caseload", opts[2].value, 64, msg, sizeof msg))
        return cli_usage(cmd, "%s", msg);
    return CLI_GO;
}

/* The store directory, refusing one that already holds a store (what a
 * killed init left half-way is not one: lb_store_create takes it over). */
static int init_dir(char *dir, size_t cap)
{
    int rc = cli_store_dir(dir, cap);
    if (rc != CLI_GO)
        return rc;
    if (lb_store_exists(dir))
        return cli_fail(CLI_EXIT_FAIL, "there is already a store at %s (use it, or "
                        "set LINKBOOK_STORE to another directory)", dir);
    if (make_parents(dir) != 0)
        return cli_fail(CLI_EXIT_FAIL, "cannot create the directories above %s: %s "
                        "(check the path and its permissions)", dir, strerror(errno));
    return CLI_GO;
}

static int init_create(const cli_cmd *cmd, const char *dir, const lb_identity *who)
{
    cli_pass pass;
    lb_store *s = NULL;
    lb_err err;
    int rc = cli_pass_get(&pass, "LINKBOOK_PASSPHRASE", "Choose a passphrase: ", 1, 1);
    if (rc != CLI_GO)
        return rc;
    err = lb_store_create(dir, pass.buf, pass.len, who, NULL, &s);
    cli_pass_wipe(&pass);
    if (err == LB_ERR_EXISTS)
        rc = cli_fail(CLI_EXIT_FAIL, "there is already a store at %s (use it, or "
                      "set LINKBOOK_STORE to another directory)", dir);
    else if (err != LB_OK)
        rc = cli_err_report(s, err, cmd, "could not create the store");
    if (err != LB_OK)
        goto out; /* s is set even on failure, for its message */
    cli_say("Created a store at %s for %s (%s, caseload %s).", lb_store_dir(s),
            lb_store_author(s), lb_store_role(s), lb_store_caseload(s));
    printf("%s\n", lb_store_device(s));
    rc = CLI_EXIT_OK;
out:
    lb_store_close(s);
    return rc;
}

int cmd_init(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt opts[] = {
        {"name", CLI_OPT_VALUE, "NAME", NULL},
        {"role", CLI_OPT_VALUE, "ROLE", NULL},
        {"caseload", CLI_OPT_VALUE, "C", NULL},
    };
    char dir[CLI_PATH_MAX];
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, opts, 3, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    if ((rc = init_check(cmd, opts)) != CLI_GO || (rc = init_dir(dir, sizeof dir)) != CLI_GO)
        return rc;
    lb_identity who = {opts[0].value, opts[1].value, opts[2].value};
    return init_create(cmd, dir, &who);
}

/* With s unlocked by old, ask for the new passphrase and rewrap. */
static int passwd_change(lb_store *s, const cli_cmd *cmd, const cli_pass *old)
{
    cli_pass new;
    lb_err err;
    int rc = cli_pass_get(&new, "LINKBOOK_NEW_PASSPHRASE", "New passphrase: ", 1, 1);
    if (rc != CLI_GO)
        return rc;
    err = lb_store_passwd(s, old->buf, old->len, new.buf, new.len, NULL);
    cli_pass_wipe(&new);
    if (err == LB_ERR_PASSPHRASE)
        return cli_fail(CLI_EXIT_PASSPHRASE, "wrong passphrase for store %s (try "
                        "again, or see 'linkbook help passwd')", lb_store_dir(s));
    if (err != LB_OK)
        return cli_err_report(s, err, cmd, "could not change the passphrase");
    cli_say("Changed the passphrase of the store at %s.", lb_store_dir(s));
    return CLI_EXIT_OK;
}

int cmd_passwd(const cli_cmd *cmd, int argc, char **argv)
{
    cli_pass old;
    cli_args a;
    lb_store *s = NULL;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    if ((rc = cli_store_open(cmd, &s)) != CLI_GO)
        return rc;
    rc = cli_pass_get(&old, "LINKBOOK_PASSPHRASE", "Current passphrase: ", 0, 0);
    if (rc != CLI_GO)
        goto out;
    rc = cli_store_unlock(s, cmd, old.buf, old.len);
    if (rc == CLI_GO)
        rc = passwd_change(s, cmd, &old);
    cli_pass_wipe(&old);
out:
    lb_store_close(s);
    return rc;
}

int cmd_check(const cli_cmd *cmd, int argc, char **argv)
{
    cli_args a;
    lb_store *s = NULL;
    lb_err err;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    if ((rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        return rc;
    err = lb_store_check(s);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, "the store failed its check");
        if (err == LB_ERR_INVALID || err == LB_ERR_NOTFOUND)
            rc = CLI_EXIT_FAIL;
    } else {
        cli_say("The store at %s is intact: every record decrypts and authenticates.",
                lb_store_dir(s));
        rc = CLI_EXIT_OK;
    }
    lb_store_close(s);
    return rc;
}
