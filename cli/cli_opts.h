/* cli_opts.h - table-driven parsing of a command's options and arguments.
 *
 * A command describes its options in an array of cli_opt and its
 * positional arguments by name; cli_opts_parse fills in the values.
 * Accepted: "--opt value", "--opt=value", flags "--flag", "--" to end
 * options, and "--help" / "-h" anywhere (prints the command's help).
 * Any other argument starting with "-" and a letter is an unknown option.
 * Values point into argv; nothing is allocated.
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stddef.h>
#include "cli_cmd.h"

/* Returned by the parser (and other cli helpers) when the command should
 * go on; any other value is the exit code to return at once. */
#define CLI_GO (-1)

enum {
    CLI_OPT_VALUE = 1,    /* takes a value */
    CLI_OPT_REQUIRED = 2  /* must be given */
};

typedef struct cli_opt {
    const char *name;     /* long name without "--" */
    unsigned flags;       /* CLI_OPT_VALUE | CLI_OPT_REQUIRED */
    const char *metavar;  /* what the value is, for messages: "DATE" */
    const char *value;    /* out: the value, "1" for a flag, NULL if absent */
} cli_opt;

#define CLI_POS_MAX 4

typedef struct cli_args {
    const char *pos[CLI_POS_MAX]; /* positional arguments, in order */
    size_t npos;
} cli_args;

/* Parse argv[0..argc) for cmd.  pos_names is a NULL-terminated list of the
 * positional arguments ("PERSON", "TEXT"); exactly that many must be given,
 * except that names in brackets ("[PERSON]"), which come last, may be
 * left out.  Returns CLI_GO on success, 0 after printing help, or 2 after
 * printing a usage message naming the problem. */
int cli_opts_parse(const cli_cmd *cmd, int argc, char **argv,
                   cli_opt *opts, size_t nopts, const char *const *pos_names,
                   cli_args *out);

/* The value of a flag option as 0/1. */
int cli_opt_flag(const cli_opt *opt);

#endif
