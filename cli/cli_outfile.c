/* cli_outfile.c - an output file written whole or not at all (cli_outfile.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_outfile.h"

int cli_outfile_open(cli_outfile *o, const char *path)
{
    struct stat st;
    int fd, n;
    memset(o, 0, sizeof *o);
    if (!*path)
        return cli_fail(CLI_EXIT_USAGE, "the output file name is empty (give a file name)");
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_fail(CLI_EXIT_USAGE, "cannot write %s: it is a directory "
                        "(give a file name)", path);
    n = snprintf(o->tmp, sizeof o->tmp, "%s.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof o->tmp)
        return cli_fail(CLI_EXIT_USAGE, "the output file name is too long");
    memcpy(o->path, path, strlen(path) + 1);
    fd = mkstemp(o->tmp);
    if (fd < 0) {
        o->tmp[0] = '\0';
        return cli_fail(CLI_EXIT_USAGE, "cannot write %s: %s (choose a folder that exists "
                        "and is writable)", path, strerror(errno));
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        cli_outfile_abort(o);
        return cli_fail(CLI_EXIT_FAIL, "cannot write %s: %s", path, strerror(errno));
    }
    return CLI_GO;
}

int cli_outfile_commit(cli_outfile *o)
{
    int bad = fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0;
    int err = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    o->f = NULL;
    if (!bad && rename(o->tmp, o->path) != 0) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        cli_outfile_abort(o);
        return cli_fail(CLI_EXIT_FAIL, "could not write %s: %s (nothing was written; "
                        "check the disk has space)", o->path, strerror(err));
    }
    o->tmp[0] = '\0';
    return CLI_EXIT_OK;
}

void cli_outfile_abort(cli_outfile *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
}
