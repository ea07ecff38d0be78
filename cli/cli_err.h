/* cli_err.h - how the command line reports: exit codes and messages.
 *
 * Every message goes to stderr as "linkbook: WHAT HAPPENED (WHAT TO DO)".
 * The detail of a core failure comes from lb_store_errmsg(), which names
 * the field or record; passphrases and record contents are never printed.
 *
 * Exit codes: 0 done; 1 failure; 2 invalid usage or input (nothing was
 * written); 3 wrong passphrase; 4 no such record or no store; 5 offline.
 */
#ifndef CLI_ERR_H
#define CLI_ERR_H

#include "lb_store.h"
#include "cli_cmd.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_PASSPHRASE = 3,
    CLI_EXIT_NOTFOUND = 4,
    CLI_EXIT_OFFLINE = 5
};

#if defined(__GNUC__) || defined(__clang__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* The exit code for a core error. */
int cli_err_code(lb_err err);

/* Report a core failure of cmd while doing what ("could not record the
 * contact"); s may be NULL.  Returns the exit code. */
int cli_err_report(const lb_store *s, lb_err err, const cli_cmd *cmd, const char *what);

/* Report invalid usage of cmd (cmd may be NULL for the top level) and
 * point at its help.  Returns 2. */
int cli_usage(const cli_cmd *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* A failure of the command line itself (not the core).  Returns code. */
int cli_fail(int code, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Words for people: one line to stderr. */
void cli_say(const char *fmt, ...) CLI_PRINTF(1, 2);

#endif
