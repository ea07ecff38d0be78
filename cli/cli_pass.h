/* cli_pass.h - getting a passphrase: from the environment for scripts, or
 * asked on the terminal with echo off.
 *
 * The passphrase lives in a caller-owned cli_pass (on the stack) and must
 * be wiped with cli_pass_wipe on every path.  Nothing here prints it.
 */
#ifndef CLI_PASS_H
#define CLI_PASS_H

#include <stddef.h>

#define CLI_PASS_MAX 1024

typedef struct cli_pass {
    char buf[CLI_PASS_MAX + 1];
    size_t len;
} cli_pass;

/* Fill p: from the environment variable env if it is set (env NULL: the
 * terminal only); else, when stdin is a terminal, ask with prompt on
 * /dev/tty (twice, and compare, when confirm is set); else fail saying to
 * set env.  Returns CLI_GO, or an exit
 * code after printing why (2: no way to ask, mismatch, too long or empty
 * when nonempty is set; 1: terminal error or cancelled). */
int cli_pass_get(cli_pass *p, const char *env, const char *prompt, int confirm,
                 int nonempty);

/* Wipe p (sodium_memzero).  Safe on a zeroed or already wiped p. */
void cli_pass_wipe(cli_pass *p);

#endif
