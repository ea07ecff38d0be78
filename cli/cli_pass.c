/* cli_pass.c - passphrases from the environment or the terminal (cli_pass.h).
 *
 * On a terminal the prompt and the answer go through /dev/tty with echo,
 * line editing and signal keys off, so the interrupt key cancels the
 * prompt (and restores the terminal) instead of killing linkbook with echo
 * still off; erase and kill keys are applied here.  The answer is read a
 * byte at a time with read(2): no stdio buffer keeps a copy of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include "cli_pass.h"
#include "cli_opts.h"
#include "cli_err.h"

void cli_pass_wipe(cli_pass *p)
{
    sodium_memzero(p, sizeof *p);
}

static int from_env(cli_pass *p, const char *value)
{
    size_t len = strlen(value);
    if (len > CLI_PASS_MAX)
        return cli_fail(CLI_EXIT_USAGE, "the passphrase is longer than %d bytes "
                        "(choose a shorter one)", CLI_PASS_MAX);
    memcpy(p->buf, value, len);
    p->buf[len] = '\0';
    p->len = len;
    return CLI_GO;
}

static void tty_write(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* Special keys of the terminal, for reading it byte by byte. */
typedef struct tty_keys {
    unsigned char intr, erase, kill, eof;
} tty_keys;

/* Apply one typed byte c to p.  Returns 1 at the end of the line, 0 to go
 * on; sets *cancel on the interrupt key and *too_long on overflow. */
static int tty_key(cli_pass *p, unsigned char c, const tty_keys *k, int *cancel,
                   int *too_long)
{
    if (c == '\n' || c == '\r' || (c == k->eof && k->eof != 0))
        return 1;
    if (c == k->intr && k->intr != 0) {
        *cancel = 1;
        return 1;
    }
    if ((c == k->erase && k->erase != 0) || c == 0x7f || c == 0x08) {
        while (p->len > 0 && ((unsigned char)p->buf[p->len - 1] & 0xc0) == 0x80)
            p->buf[--p->len] = '\0';
        if (p->len > 0)
            p->buf[--p->len] = '\0';
    } else if (c == k->kill && k->kill != 0) {
        sodium_memzero(p->buf, sizeof p->buf);
        p->len = 0;
    } else if (p->len < CLI_PASS_MAX) {
        p->buf[p->len++] = (char)c;
    } else {
        *too_long = 1;
    }
    return 0;
}

enum { TTY_OK, TTY_CANCEL, TTY_TOO_LONG };

/* Read one line from fd into p with the terminal in non-canonical mode,
 * echo and signal keys off: editing keys are applied here, and the
 * interrupt key cancels at once. */
static int tty_read_line(int fd, cli_pass *p, const tty_keys *k)
{
    unsigned char c = 0;
    int too_long = 0, cancel = 0;
    p->len = 0;
    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || tty_key(p, c, k, &cancel, &too_long))
            break;
    }
    c = 0;
    p->buf[p->len] = '\0';
    return cancel ? TTY_CANCEL : too_long ? TTY_TOO_LONG : TTY_OK;
}

/* Ask once on the terminal fd. */
static int tty_ask(int fd, const char *prompt, cli_pass *p)
{
    struct termios old, quiet;
    if (tcgetattr(fd, &old) != 0)
        return cli_fail(CLI_EXIT_FAIL, "cannot read the terminal settings "
                        "(set LINKBOOK_PASSPHRASE instead)");
    tty_keys keys = {old.c_cc[VINTR], old.c_cc[VERASE], old.c_cc[VKILL], old.c_cc[VEOF]};
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ICANON | ISIG);
    quiet.c_cc[VMIN] = 1;
    quiet.c_cc[VTIME] = 0;
    /* Echo off before the prompt: what is typed once it shows is never
     * echoed, nor thrown away with what was typed before it. */
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return cli_fail(CLI_EXIT_FAIL, "cannot turn terminal echo off "
                        "(set LINKBOOK_PASSPHRASE instead)");
    tty_write(fd, prompt);
    int got = tty_read_line(fd, p, &keys);
    tcsetattr(fd, TCSAFLUSH, &old);
    tty_write(fd, "\n");
    if (got == TTY_CANCEL)
        return cli_fail(CLI_EXIT_FAIL, "cancelled (nothing was changed)");
    if (got == TTY_TOO_LONG)
        return cli_fail(CLI_EXIT_USAGE, "the passphrase is longer than %d bytes "
                        "(choose a shorter one)", CLI_PASS_MAX);
    return CLI_GO;
}

static int from_tty(cli_pass *p, const char *prompt, int confirm)
{
    cli_pass again;
    int rc;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cli_fail(CLI_EXIT_USAGE, "cannot open the terminal to ask for the "
                        "passphrase (set LINKBOOK_PASSPHRASE)");
    memset(&again, 0, sizeof again);
    rc = tty_ask(fd, prompt, p);
    if (rc != CLI_GO || !confirm)
        goto out;
    rc = tty_ask(fd, "Repeat it: ", &again);
    if (rc != CLI_GO)
        goto out;
    if (again.len != p->len || sodium_memcmp(again.buf, p->buf, p->len) != 0)
        rc = cli_fail(CLI_EXIT_USAGE, "the passphrases do not match (nothing was "
                      "changed; try again)");
out:
    cli_pass_wipe(&again);
    close(fd);
    return rc;
}

int cli_pass_get(cli_pass *p, const char *env, const char *prompt, int confirm,
                 int nonempty)
{
    const char *value = env ? getenv(env) : NULL;
    int rc;
    memset(p, 0, sizeof *p);
    if (value)
        rc = from_env(p, value);
    else if (isatty(STDIN_FILENO))
        rc = from_tty(p, prompt, confirm);
    else
        rc = cli_fail(CLI_EXIT_USAGE, "no passphrase: stdin is not a terminal "
                      "(set %s to the passphrase)", env ? env : "LINKBOOK_PASSPHRASE");
    if (rc == CLI_GO && nonempty && p->len == 0)
        rc = cli_fail(CLI_EXIT_USAGE, "the passphrase is empty (choose one)");
    if (rc != CLI_GO)
        cli_pass_wipe(p);
    return rc;
}
