/* cli_repl.c - the interactive session (cli_repl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "linkbook.h"
#include "lb_record.h"
#include "cli_err.h"
#include "cli_line.h"
#include "cli_opts.h"
#include "cli_pass.h"
#include "cli_repl.h"
#include "cli_store.h"

#define IDLE_DEFAULT_S 600
#define IDLE_MAX_S 86400
#define ARGS_MAX 64
#define UNLOCK_TRIES 3

typedef struct repl {
    const cli_cmd *cmds;
    size_t ncmds;
    cli_dispatch_fn dispatch;
    lb_store *s;
    int idle_s;
    cli_line ed;
} repl;

/* ---- words ----------------------------------------------------------------------- */

/* One word of line from *p into *o (NUL-terminated); NULL, or what is
 * wrong ("an unterminated quote"). */
static const char *split_word(const char **p, char **o)
{
    const char *s = *p;
    char *d = *o, quote = 0;
    for (; *s && (quote || *s != ' '); s++) {
        if (quote == '\'' && *s == '\'')
            quote = 0;
        else if (quote == '"' && *s == '"')
            quote = 0;
        else if (!quote && (*s == '\'' || *s == '"'))
            quote = *s;
        else if (quote != '\'' && *s == '\\' && s[1] && (!quote || s[1] == '"' || s[1] == '\\'))
            *d++ = *++s;
        else
            *d++ = *s;
    }
    if (quote)
        return "an unterminated quote";
    *d++ = '\0';
    *p = s;
    *o = d;
    return NULL;
}

/* Split line into argv (words stored in store, as long as line); the
 * count, or -1 after saying what is wrong. */
static int split_line(const char *line, char *store, char **argv)
{
    const char *why;
    int argc = 0;
    for (;;) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line)
            return argc;
        if (argc == ARGS_MAX) {
            cli_fail(CLI_EXIT_USAGE, "more than %d words on one line", ARGS_MAX);
            return -1;
        }
        argv[argc++] = store;
        if ((why = split_word(&line, &store)) != NULL) {
            cli_fail(CLI_EXIT_USAGE, "%s (close it, or put a backslash before it)", why);
            return -1;
        }
    }
}

/* ---- the commands in the table ------------------------------------------------------ */

static const cli_cmd *find_cmd(const repl *r, const char *group, const char *sub)
{
    size_t i;
    for (i = 0; i < r->ncmds; i++) {
        const cli_cmd *c = &r->cmds[i];
        if (strcmp(c->group, group) == 0 && (!c->sub || (sub && strcmp(c->sub, sub) == 0)))
            return c;
    }
    return NULL;
}

static int has_subs(const repl *r, const char *group)
{
    size_t i;
    for (i = 0; i < r->ncmds; i++)
        if (strcmp(r->cmds[i].group, group) == 0 && r->cmds[i].sub)
            return 1;
    return 0;
}

/* The kind of record the first argument of cmd names, or NULL. */
static const char *id_kind(const cli_cmd *cmd)
{
    static const char *const kinds[][2] = {
        {"PERSON", "person"}, {"[PERSON]", "person"}, {"GOAL", "goal"},
        {"TASK", "task"}, {"NOTE", "note"}};
    size_t i, n = strcspn(cmd->usage, " ");
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i][0]) == n && strncmp(cmd->usage, kinds[i][0], n) == 0)
            return kinds[i][1];
    return NULL;
}

/* ---- completion ------------------------------------------------------------------------ */

typedef struct id_matches {
    const char *prefix;
    cli_line_matches *m;
} id_matches;

static int id_one(const lb_record *rec, void *ctx)
{
    id_matches *im = ctx;
    cli_line_match(im->m, im->prefix, rec->id);
    return 0;
}

static void complete_ids(repl *r, const char *kind, const char *word, cli_line_matches *m)
{
    id_matches im = {word, m};
    if (word[strspn(word, "0123456789abcdef")] != '\0' || !lb_store_is_unlocked(r->s))
        return;
    lb_record_each(r->s, kind, NULL, id_one, &im);
}

static void complete_commands(repl *r, const char *word, cli_line_matches *m)
{
    static const char *const session[] = {"help", "exit", "quit"};
    size_t i;
    for (i = 0; i < r->ncmds; i++)
        if (i == 0 || strcmp(r->cmds[i].group, r->cmds[i - 1].group) != 0)
            cli_line_match(m, word, r->cmds[i].group);
    for (i = 0; i < sizeof session / sizeof session[0]; i++)
        cli_line_match(m, word, session[i]);
}

/* The word after the command words: ids of the kind its first argument
 * names; after --person, people. */
static void complete_argument(repl *r, char **words, int n, const char *word,
                              cli_line_matches *m)
{
    const cli_cmd *c = find_cmd(r, words[0], n > 1 ? words[1] : NULL);
    const char *kind = c ? id_kind(c) : NULL;
    const char *prev = words[n - 1];
    if (strcmp(prev, "--person") == 0)
        kind = "person";
    else if (prev[0] == '-' || (c && c->sub && n < 2))
        kind = NULL;
    if (kind)
        complete_ids(r, kind, word, m);
}

static void complete(void *ctx, const char *line, size_t len, const char *word,
                     cli_line_matches *m)
{
    repl *r = ctx;
    char store[CLI_LINE_MAX + 1], before[CLI_LINE_MAX + 1], *words[ARGS_MAX];
    size_t head = (size_t)(word - line);
    int n;
    (void)len;
    memcpy(before, line, head);
    before[head] = '\0';
    if ((n = split_line(before, store, words)) < 0)
        return;
    if (n == 0)
        complete_commands(r, word, m);
    else if (n == 1 && strcmp(words[0], "help") == 0)
        complete_commands(r, word, m);
    else if (n == 1 && has_subs(r, words[0])) {
        for (size_t i = 0; i < r->ncmds; i++)
            if (strcmp(r->cmds[i].group, words[0]) == 0)
                cli_line_match(m, word, r->cmds[i].sub);
    } else {
        complete_argument(r, words, n, word, m);
    }
}

/* ---- unlocking --------------------------------------------------------------------------- */

static int idle_seconds(void)
{
    const char *v = getenv("LINKBOOK_IDLE_LOCK");
    char *end;
    long n;
    if (!v || !*v)
        return IDLE_DEFAULT_S;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || n < 1 || n > IDLE_MAX_S) {
        cli_say("LINKBOOK_IDLE_LOCK must be whole seconds from 1 to %d; locking after "
                "%d idle seconds", IDLE_MAX_S, IDLE_DEFAULT_S);
        return IDLE_DEFAULT_S;
    }
    return (int)n;
}

/* Ask for the passphrase once and unlock; CLI_GO or the exit code. */
static int unlock(repl *r)
{
    cli_pass p;
    int rc = cli_pass_get(&p, NULL, "Passphrase: ", 0, 0);
    if (rc != CLI_GO)
        return rc;
    rc = cli_store_unlock(r->s, NULL, p.buf, p.len);
    cli_pass_wipe(&p);
    return rc;
}

static int start(repl *r)
{
    int rc, tries;
    if ((rc = cli_store_open(NULL, &r->s)) != CLI_GO)
        return rc;
    cli_say("linkbook %s, store %s: type a command, 'help' for the list, 'exit' to leave.",
            LINKBOOK_VERSION, lb_store_dir(r->s));
    for (tries = 0; tries < UNLOCK_TRIES; tries++)
        if ((rc = unlock(r)) != CLI_EXIT_PASSPHRASE)
            break;
    if (rc != CLI_GO)
        return rc;
    cli_store_session(r->s);
    return CLI_GO;
}

static void lock(repl *r)
{
    if (!lb_store_is_unlocked(r->s))
        return;
    lb_store_lock(r->s);
    if (r->idle_s % 60 == 0)
        cli_say("locked after %d idle minute%s: the next command asks for the passphrase",
                r->idle_s / 60, r->idle_s == 60 ? "" : "s");
    else
        cli_say("locked after %d idle second%s: the next command asks for the passphrase",
                r->idle_s, r->idle_s == 1 ? "" : "s");
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void session_help(repl *r)
{
    char *argv[] = {"help", NULL};
    r->dispatch(1, argv);
    printf("\nIn this session: type commands without 'linkbook'; quote words with spaces.\n"
           "Tab completes commands and ids; 'exit', 'quit' or Ctrl-D leaves.  After %d idle\n"
           "seconds the session locks and the next command asks for the passphrase.\n",
           r->idle_s);
}

/* Run one line; 1 when the session should end. */
static int run_line(repl *r, const char *line)
{
    char store[CLI_LINE_MAX + 1], *argv[ARGS_MAX + 1];
    int argc = split_line(line, store, argv);
    if (argc <= 0)
        return 0;
    argv[argc] = NULL;
    if (strcmp(argv[0], "exit") == 0 || strcmp(argv[0], "quit") == 0)
        return 1;
    if (strcmp(argv[0], "help") == 0 && argc == 1) {
        session_help(r);
        return 0;
    }
    if (!lb_store_is_unlocked(r->s) && unlock(r) != CLI_GO) {
        cli_say("the command was not run");
        return 0;
    }
    r->dispatch(argc, argv);
    fflush(stdout);
    lb_store_rollback(r->s); /* nothing a command left half-done stays open */
    return 0;
}

int cli_repl_run(const cli_cmd *cmds, size_t ncmds, cli_dispatch_fn dispatch)
{
    repl *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return cli_fail(CLI_EXIT_FAIL, "out of memory");
    *r = (repl){cmds, ncmds, dispatch, NULL, idle_seconds(), {.complete = complete}};
    r->ed.ctx = r;
    if ((rc = start(r)) == CLI_GO) {
        for (rc = CLI_EXIT_OK;;) {
            int got = cli_line_read(&r->ed, lb_store_is_unlocked(r->s) ? "linkbook> " :
                                    "linkbook (locked)> ", r->idle_s * 1000);
            if (got == CLI_LINE_IDLE)
                lock(r);
            else if (got == CLI_LINE_ERROR)
                rc = cli_fail(CLI_EXIT_FAIL, "cannot read the terminal");
            if (got == CLI_LINE_EOF || got == CLI_LINE_ERROR || (got == CLI_LINE_OK &&
                                                                  run_line(r, r->ed.buf)))
                break;
        }
    }
    cli_store_session(NULL);
    lb_store_close(r->s);
    free(r);
    return rc;
}
