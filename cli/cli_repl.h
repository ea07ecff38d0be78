/* cli_repl.h - the interactive session: 'linkbook' with no arguments on a
 * terminal.
 *
 * The session opens the store and asks for its passphrase once, on the
 * terminal (LINKBOOK_PASSPHRASE is not used: a session is for a person),
 * then reads command lines with cli_line.h: each line is split into words
 * (spaces separate; '...' keeps everything literally, "..." keeps spaces
 * and takes \" and \\; a backslash outside quotes escapes the next
 * character) and run through the same table and dispatch as the command
 * line, on the session's unlocked store (cli_store_session).  Tab completes
 * command names and the ids of people (and of goals, tasks and notes where
 * a command takes them).  'help', 'exit', 'quit' and Ctrl-D work as
 * expected.
 *
 * After LINKBOOK_IDLE_LOCK seconds without a key (default 600, ten
 * minutes) the session locks: the keys are wiped from memory and the next
 * command asks for the passphrase again before it runs.
 */
#ifndef CLI_REPL_H
#define CLI_REPL_H

#include <stddef.h>
#include "cli_cmd.h"

typedef int (*cli_dispatch_fn)(int argc, char **argv);

/* Run the session over the command table cmds (ncmds entries) with the
 * command line's dispatch.  Returns the exit code: 0 after exit, quit or
 * Ctrl-D; 3 when the passphrase was wrong three times at the start; 4 with
 * no store; 1 when the terminal fails. */
int cli_repl_run(const cli_cmd *cmds, size_t ncmds, cli_dispatch_fn dispatch);

#endif
