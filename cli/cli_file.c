/* cli_file.c - output files written whole or not at all (cli_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lb_store.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_file.h"

/* Create a new temporary file (mode 0600) beside path, its name into tmp:
 * the descriptor, or -1 with errno set. */
static int temp_beside(const char *path, char *tmp, size_t cap)
{
    int n = snprintf(tmp, cap, "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkstemp(tmp);
}

/* Write data to a new temporary file beside path; its name into tmp. */
static int write_temp(const char *path, const void *data, size_t len, char *tmp, size_t cap)
{
    const char *p = data;
    int fd = temp_beside(path, tmp, cap), saved;
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    saved = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

int cli_file_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    int saved;
    if (write_temp(path, data, len, tmp, sizeof tmp) != 0)
        return -1;
    if (rename(tmp, path) == 0)
        return 0;
    saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
}

int cli_file_write_set(const char *dir, const char *const *names, const char *const *data,
                       const size_t *lens, size_t n, size_t *failed)
{
    char (*tmp)[4096] = calloc(n + 1, sizeof *tmp), path[4096];
    size_t i, made = 0;
    int rc = -1, saved = 0;
    if (!tmp)
        return -1;
    for (i = 0; i < n; i++, made++) {
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path)
            errno = ENAMETOOLONG;
        if (len < 0 || (size_t)len >= sizeof path ||
            write_temp(path, data[i], lens[i], tmp[i], sizeof tmp[i]) != 0)
            break;
    }
    for (i = 0; made == n && i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rename(tmp[i], path) != 0)
            break;
        tmp[i][0] = '\0';
    }
    if (made == n && i == n)
        rc = 0;
    else
        saved = errno;
    if (rc != 0)
        *failed = made < n ? made : i;
    for (i = 0; i < made; i++)
        if (tmp[i][0])
            unlink(tmp[i]);
    free(tmp);
    if (rc != 0)
        errno = saved;
    return rc;
}

int cli_file_prepare_dir(const char *dir)
{
    struct stat st;
    if (lb_store_make_dir(dir) != 0)
        return -1;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return access(dir, W_OK | X_OK);
}

int cli_file_check_target(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat st;
    int n;
    if (!*path || path[strlen(path) - 1] == '/' ||
        (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        errno = *path ? EISDIR : ENOENT;
        return -1;
    }
    n = slash ? snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path)
              : snprintf(dir, sizeof dir, ".");
    if (n < 0 || (size_t)n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return access(dir, W_OK | X_OK);
}

int cli_file_out_open(cli_file_out *o, const char *path)
{
    struct stat st;
    int fd;
    memset(o, 0, sizeof *o);
    if (!*path)
        return cli_fail(CLI_EXIT_USAGE, "the output file name is empty (give a file name)");
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cli_fail(CLI_EXIT_USAGE, "cannot write %s: it is a directory "
                        "(give a file name)", path);
    if (strlen(path) >= sizeof o->path)
        return cli_fail(CLI_EXIT_USAGE, "the output file name is too long");
    memcpy(o->path, path, strlen(path) + 1);
    fd = temp_beside(path, o->tmp, sizeof o->tmp);
    if (fd < 0) {
        o->tmp[0] = '\0';
        return cli_fail(CLI_EXIT_USAGE, "cannot write %s: %s (choose a folder that exists "
                        "and is writable)", path, strerror(errno));
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        cli_file_out_abort(o);
        return cli_fail(CLI_EXIT_FAIL, "cannot write %s: %s", path, strerror(errno));
    }
    return CLI_GO;
}

int cli_file_out_commit(cli_file_out *o)
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
        cli_file_out_abort(o);
        return cli_fail(CLI_EXIT_FAIL, "could not write %s: %s (nothing was written; "
                        "check the disk has space)", o->path, strerror(err));
    }
    o->tmp[0] = '\0';
    return CLI_EXIT_OK;
}

void cli_file_out_abort(cli_file_out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
}
