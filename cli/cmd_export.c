/* cmd_export.c - export fhir: the record as a FHIR R4 Bundle (lb_fhir.h),
 * on stdout or written whole to a file. */
#include <string.h>
#include "lb_fhir.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_file.h"
#include "cli_store.h"

#define EXPORT_ARGS_MAX 16

static int to_file(const char *buf, size_t len, void *ctx)
{
    return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

/* Write the bundle of person (NULL: everyone) to o (NULL: stdout). */
static int export_run(const cli_cmd *cmd, const char *person, cli_file_out *o)
{
    lb_store *s = NULL;
    lb_err err;
    int rc = cli_store_unlocked(cmd, &s);
    if (rc != CLI_GO)
        return rc;
    err = lb_fhir_write(s, person, to_file, o ? o->f : stdout);
    if (err == LB_ERR_IO)
        rc = cli_fail(CLI_EXIT_FAIL, "could not write the bundle (is the disk full or the "
                      "pipe closed?)");
    else if (err != LB_OK)
        rc = cli_err_report(s, err, cmd, "could not export");
    else
        rc = o ? cli_file_out_commit(o) : CLI_EXIT_OK;
    lb_store_close(s);
    return rc;
}

int cmd_export_fhir(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"[PERSON]", NULL};
    char *args[EXPORT_ARGS_MAX];
    cli_opt o[] = {{"output", CLI_OPT_VALUE, "FILE", NULL}};
    cli_file_out out;
    cli_args a;
    int rc, i;
    if (argc > EXPORT_ARGS_MAX)
        return cli_usage(cmd, "too many arguments");
    /* -o is --output. */
    for (i = 0; i < argc; i++)
        args[i] = strcmp(argv[i], "-o") == 0 ? "--output" : argv[i];
    rc = cli_opts_parse(cmd, argc, args, o, 1, pos, &a);
    if (rc != CLI_GO)
        return rc;
    if (!o[0].value)
        return export_run(cmd, a.npos ? a.pos[0] : NULL, NULL);
    if ((rc = cli_file_out_open(&out, o[0].value)) != CLI_GO)
        return rc;
    rc = export_run(cmd, a.npos ? a.pos[0] : NULL, &out);
    cli_file_out_abort(&out);
    return rc;
}
