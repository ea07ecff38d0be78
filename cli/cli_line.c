/* cli_line.c - a small line editor for the interactive session (cli_line.h).
 *
 * The line is redrawn whole after every key: carriage return, prompt,
 * text, erase to the end of the screen line, then the cursor moved back.
 * Columns are counted in UTF-8 code points; a line wider than the
 * terminal wraps as the terminal pleases.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "cli_line.h"

#define ESC_WAIT_MS 100

enum {
    K_CTRL_A = 1, K_CTRL_C = 3, K_CTRL_D = 4, K_CTRL_E = 5, K_BS = 8, K_TAB = 9,
    K_LF = 10, K_CTRL_L = 12, K_CR = 13, K_CTRL_U = 21, K_CTRL_W = 23, K_ESC = 27,
    K_DEL = 127
};

enum { KEY_LEFT = 1000, KEY_RIGHT, KEY_HOME, KEY_END, KEY_DELETE, KEY_NONE };

static struct termios saved;        /* the terminal as it was, while raw */
static volatile sig_atomic_t raw_on;

static void restore_and_die(int sig)
{
    if (raw_on)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    raise(sig); /* SA_RESETHAND: now the default action */
}

static int raw_enter(void)
{
    struct termios raw;
    struct sigaction sa;
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_die;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    raw = saved;
    raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    /* TCSANOW keeps what was typed ahead while a command ran. */
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0)
        return -1;
    raw_on = 1;
    return 0;
}

static void raw_leave(void)
{
    if (raw_on)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    raw_on = 0;
}

static void out(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void outs(const char *s)
{
    out(s, strlen(s));
}

static int is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Code points in s[0..n). */
static size_t columns(const char *s, size_t n)
{
    size_t c = 0, i;
    for (i = 0; i < n; i++)
        c += !is_cont(s[i]);
    return c;
}

static void refresh(const cli_line *ed, const char *prompt)
{
    char back[32];
    outs("\r");
    outs(prompt);
    out(ed->buf, ed->len);
    outs("\x1b[K");
    if (ed->cursor < ed->len) {
        snprintf(back, sizeof back, "\x1b[%zuD", columns(ed->buf + ed->cursor, ed->len - ed->cursor));
        outs(back);
    }
}

/* ---- editing -------------------------------------------------------------------- */

static int insert(cli_line *ed, const char *s, size_t n)
{
    if (ed->len + n > CLI_LINE_MAX)
        return -1;
    memmove(ed->buf + ed->cursor + n, ed->buf + ed->cursor, ed->len - ed->cursor + 1);
    memcpy(ed->buf + ed->cursor, s, n);
    ed->len += n;
    ed->cursor += n;
    return 0;
}

/* Erase bytes [from, to) of the line; the cursor goes to from. */
static void erase(cli_line *ed, size_t from, size_t to)
{
    memmove(ed->buf + from, ed->buf + to, ed->len - to + 1);
    ed->len -= to - from;
    ed->cursor = from;
}

static size_t prev_char(const cli_line *ed, size_t at)
{
    while (at > 0 && is_cont(ed->buf[--at]))
        ;
    return at;
}

static size_t next_char(const cli_line *ed, size_t at)
{
    if (at < ed->len)
        at++;
    while (at < ed->len && is_cont(ed->buf[at]))
        at++;
    return at;
}

/* Where the word being typed begins: empty right after a space. */
static size_t completion_start(const cli_line *ed)
{
    size_t at = ed->cursor;
    while (at > 0 && ed->buf[at - 1] != ' ')
        at--;
    return at;
}

/* Where Ctrl-W erases from: spaces, then the word before them. */
static size_t word_start(const cli_line *ed)
{
    size_t at = ed->cursor;
    while (at > 0 && ed->buf[at - 1] == ' ')
        at--;
    while (at > 0 && ed->buf[at - 1] != ' ')
        at--;
    return at;
}

/* ---- completion ------------------------------------------------------------------ */

void cli_line_match(cli_line_matches *m, const char *prefix, const char *word)
{
    size_t n = strlen(prefix);
    if (strncmp(word, prefix, n) != 0 || strlen(word) >= CLI_LINE_WORD_MAX)
        return;
    if (m->n < CLI_LINE_CANDIDATES)
        memcpy(m->word[m->n++], word, strlen(word) + 1);
    m->total++;
}

static size_t common_prefix(const cli_line_matches *m)
{
    size_t len = strlen(m->word[0]), i, j;
    for (i = 1; i < m->n; i++) {
        for (j = 0; j < len && m->word[i][j] == m->word[0][j]; j++)
            ;
        len = j;
    }
    return len;
}

static void list_matches(const cli_line_matches *m)
{
    char more[64];
    size_t i;
    outs("\r\n");
    for (i = 0; i < m->n; i++) {
        outs(m->word[i]);
        outs(i + 1 < m->n ? "  " : "");
    }
    if (m->total > m->n) {
        snprintf(more, sizeof more, "  (and %zu more)", m->total - m->n);
        outs(more);
    }
    outs("\r\n");
}

/* Replace the word before the cursor with len bytes of word. */
static void replace_word(cli_line *ed, size_t start, const char *word, size_t len)
{
    size_t end = ed->cursor;
    char saved_tail[CLI_LINE_MAX + 1];
    memcpy(saved_tail, ed->buf, ed->len + 1);
    erase(ed, start, end);
    if (insert(ed, word, len) != 0) {
        memcpy(ed->buf, saved_tail, sizeof saved_tail);
        ed->len = strlen(ed->buf);
        ed->cursor = end;
    }
}

static void complete(cli_line *ed)
{
    cli_line_matches m;
    char before[CLI_LINE_MAX + 1];
    size_t start = completion_start(ed), typed = ed->cursor - start, common;
    if (!ed->complete)
        return;
    memset(&m, 0, sizeof m);
    memcpy(before, ed->buf, ed->cursor);
    before[ed->cursor] = '\0';
    ed->complete(ed->ctx, before, ed->cursor, before + start, &m);
    if (m.total == 0) {
        outs("\a");
        return;
    }
    if (m.total == 1) {
        replace_word(ed, start, m.word[0], strlen(m.word[0]));
        if (ed->cursor == ed->len)
            insert(ed, " ", 1);
        return;
    }
    common = m.n == m.total ? common_prefix(&m) : 0;
    if (common > typed && ed->tabs < 2)
        replace_word(ed, start, m.word[0], common);
    else
        list_matches(&m);
}

/* ---- keys -------------------------------------------------------------------------- */

static int wait_key(int ms)
{
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    int rc;
    do
        rc = poll(&p, 1, ms);
    while (rc < 0 && errno == EINTR);
    return rc;
}

static int read_byte(unsigned char *c)
{
    ssize_t n;
    do
        n = read(STDIN_FILENO, c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* The rest of an escape sequence: arrows, Home, End, Delete. */
static int escape_key(void)
{
    unsigned char a, b, t;
    if (wait_key(ESC_WAIT_MS) <= 0 || read_byte(&a) || wait_key(ESC_WAIT_MS) <= 0 || read_byte(&b))
        return KEY_NONE;
    if (a != '[' && a != 'O')
        return KEY_NONE;
    switch (b) {
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    default: break;
    }
    if (b < '0' || b > '9' || wait_key(ESC_WAIT_MS) <= 0 || read_byte(&t) || t != '~')
        return KEY_NONE;
    return b == '3' ? KEY_DELETE : (b == '1' || b == '7') ? KEY_HOME :
           (b == '4' || b == '8') ? KEY_END : KEY_NONE;
}

static void move_key(cli_line *ed, int key)
{
    if (key == KEY_LEFT)
        ed->cursor = prev_char(ed, ed->cursor);
    else if (key == KEY_RIGHT)
        ed->cursor = next_char(ed, ed->cursor);
    else if (key == KEY_HOME)
        ed->cursor = 0;
    else if (key == KEY_END)
        ed->cursor = ed->len;
    else if (key == KEY_DELETE && ed->cursor < ed->len)
        erase(ed, ed->cursor, next_char(ed, ed->cursor));
}

/* Apply one key; returns a CLI_LINE_ code when the line is done, else -1. */
static int edit_key(cli_line *ed, int c)
{
    ed->tabs = c == K_TAB ? ed->tabs + 1 : 0;
    switch (c) {
    case K_CR: case K_LF: outs("\r\n"); return CLI_LINE_OK;
    case K_CTRL_C: outs("^C\r\n"); erase(ed, 0, ed->len); return -1;
    case K_CTRL_D:
        if (ed->len == 0) {
            outs("\r\n");
            return CLI_LINE_EOF;
        }
        move_key(ed, KEY_DELETE);
        return -1;
    case K_BS: case K_DEL:
        if (ed->cursor > 0)
            erase(ed, prev_char(ed, ed->cursor), ed->cursor);
        return -1;
    case K_CTRL_A: move_key(ed, KEY_HOME); return -1;
    case K_CTRL_E: move_key(ed, KEY_END); return -1;
    case K_CTRL_U: erase(ed, 0, ed->cursor); return -1;
    case K_CTRL_W: erase(ed, word_start(ed), ed->cursor); return -1;
    case K_CTRL_L: outs("\x1b[H\x1b[2J"); return -1;
    case K_TAB: complete(ed); return -1;
    case K_ESC: move_key(ed, escape_key()); return -1;
    default: break;
    }
    if (c >= 32 && c < 256) {
        char ch = (char)c;
        if (insert(ed, &ch, 1) != 0)
            outs("\a");
    }
    return -1;
}

static int read_loop(cli_line *ed, const char *prompt, int idle_ms)
{
    for (;;) {
        unsigned char c;
        int rc;
        refresh(ed, prompt);
        rc = wait_key(idle_ms);
        if (rc == 0) {
            outs("\r\n");
            ed->keep = 1;
            return CLI_LINE_IDLE;
        }
        if (rc < 0)
            return CLI_LINE_ERROR;
        if (read_byte(&c) != 0)
            return CLI_LINE_EOF;
        if ((rc = edit_key(ed, c)) >= 0)
            return rc;
    }
}

int cli_line_read(cli_line *ed, const char *prompt, int idle_ms)
{
    int rc;
    if (!ed->keep) {
        ed->len = ed->cursor = 0;
        ed->buf[0] = '\0';
    }
    ed->keep = 0;
    ed->tabs = 0;
    fflush(stdout);
    fflush(stderr);
    if (raw_enter() != 0)
        return CLI_LINE_ERROR;
    rc = read_loop(ed, prompt, idle_ms);
    raw_leave();
    return rc;
}
