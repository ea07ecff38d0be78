/* cli_line.h - a small line editor for the interactive session.
 *
 * Reads one line from a terminal in raw mode: printable text (UTF-8) is
 * inserted at the cursor; Left/Right, Home/End (and Ctrl-A/Ctrl-E) move;
 * Backspace and Delete erase; Ctrl-U erases the line, Ctrl-W the word
 * before the cursor; Ctrl-C abandons the line; Ctrl-D on an empty line is
 * the end of input; Tab completes the word before the cursor through a
 * caller's function.  The terminal is in raw mode only while a line is
 * read, and is restored before cli_line_read returns (and on SIGTERM or
 * SIGHUP).  A wait for input longer than the idle limit returns
 * CLI_LINE_IDLE with the line kept: the next read shows it again.
 */
#ifndef CLI_LINE_H
#define CLI_LINE_H

#include <stddef.h>

#define CLI_LINE_MAX 4096

enum {
    CLI_LINE_OK = 0,     /* a line was entered: ed->buf */
    CLI_LINE_EOF,        /* Ctrl-D on an empty line, or the terminal closed */
    CLI_LINE_IDLE,       /* no key for idle_ms; the line is kept */
    CLI_LINE_ERROR       /* the terminal could not be set up or read */
};

/* Completions of one word: the caller's function fills in up to
 * CLI_LINE_CANDIDATES words (copied), and the count of all matches. */
#define CLI_LINE_CANDIDATES 32
#define CLI_LINE_WORD_MAX 128

typedef struct cli_line_matches {
    char word[CLI_LINE_CANDIDATES][CLI_LINE_WORD_MAX];
    size_t n;      /* words filled in */
    size_t total;  /* every match, even past the ones filled in */
} cli_line_matches;

/* Fill m with the words that could replace the word ending at the cursor.
 * line holds the text before the cursor (len bytes, NUL-terminated), word
 * the start of the word in it. */
typedef void (*cli_line_complete_fn)(void *ctx, const char *line, size_t len,
                                     const char *word, cli_line_matches *m);

typedef struct cli_line {
    char buf[CLI_LINE_MAX + 1];  /* the line, NUL-terminated */
    size_t len, cursor;          /* bytes */
    int keep;                    /* show buf again at the next read */
    int tabs;                    /* Tab presses in a row */
    cli_line_complete_fn complete;
    void *ctx;
} cli_line;

/* Read a line after prompt, waiting at most idle_ms between keys (-1:
 * forever).  Returns a CLI_LINE_ code. */
int cli_line_read(cli_line *ed, const char *prompt, int idle_ms);

/* Add (append) a word to m if it starts with prefix. */
void cli_line_match(cli_line_matches *m, const char *prefix, const char *word);

#endif
