/* cli_store.h - finding, opening and unlocking the store for a command.
 *
 * The store directory is $LINKBOOK_STORE, else $XDG_DATA_HOME/linkbook,
 * else $HOME/.local/share/linkbook.  The passphrase comes from
 * LINKBOOK_PASSPHRASE or the terminal (cli_pass.h).
 */
#ifndef CLI_STORE_H
#define CLI_STORE_H

#include <stddef.h>
#include "lb_store.h"
#include "lb_crypto.h"
#include "cli_cmd.h"

#define CLI_PATH_MAX 4096

/* Write the store directory into out.  Returns CLI_GO, or 2 after saying
 * what to set when no directory can be found or it is too long. */
int cli_store_dir(char *out, size_t cap);

/* Open the store, locked.  Returns CLI_GO or the exit code after reporting
 * (4 with "no store at DIR (create one with 'linkbook init')"). */
int cli_store_open(const cli_cmd *cmd, lb_store **out);

/* Unlock s with pass.  Returns CLI_GO or the exit code after reporting
 * (3 with "wrong passphrase for store DIR ..."). */
int cli_store_unlock(lb_store *s, const cli_cmd *cmd, const char *pass, size_t len);

/* Open the store and unlock it with the passphrase.  Returns CLI_GO with
 * *out unlocked (close it with lb_store_close), or the exit code after
 * reporting: 4 no store ("create one with 'linkbook init'"), 3 wrong
 * passphrase, 2 no way to get a passphrase, 1 other failures. */
int cli_store_unlocked(const cli_cmd *cmd, lb_store **out);

/* In an interactive session, the session's open store: while it is
 * unlocked, cli_store_unlocked hands it out (retained, so the command's
 * lb_store_close leaves it open) instead of opening the store and asking
 * for the passphrase.  NULL ends that. */
void cli_store_session(lb_store *s);

/* Resolve a PERSON argument (id prefix or NHS number) into id.  Returns
 * CLI_GO or the exit code after reporting the failure as what. */
int cli_store_person(lb_store *s, const cli_cmd *cmd, const char *ref,
                     char id[LB_ID_HEX + 1], const char *what);

/* One write to the store for a command: the common shape of every command
 * that records something.  op receives the unlocked store, the reference
 * (a resolved full person id when CLI_REF_PERSON, else ref as given) and
 * ctx, and may write a new record id into id (left "" when none). */
typedef lb_err (*cli_store_op)(lb_store *s, const char *ref, const void *ctx,
                               char id[LB_ID_HEX + 1]);

enum { CLI_REF_PERSON = 1, CLI_REF_RECORD = 0 };

/* Open and unlock the store, resolve ref, run op; on failure report it as
 * what; on success say done (to stderr) and print the new id, if any, as
 * the last line of stdout.  Closes the store.  Returns the exit code. */
int cli_store_run(const cli_cmd *cmd, const char *ref, int ref_kind, cli_store_op op,
                  const void *ctx, const char *what, const char *done);

#endif
