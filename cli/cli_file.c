/* cli_file.c - an output file written whole or not at all (cli_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_file.h"

/* dir/.base.XXXXXX from path, or ENAMETOOLONG. */
static int temp_name(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (slash)
        n = snprintf(out, cap, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
    else
        n = snprintf(out, cap, ".%s.XXXXXX", path);
    return n < 0 || (size_t)n >= cap ? ENAMETOOLONG : 0;
}

int cli_file_open(cli_file *f, const char *path)
{
    struct stat st;
    int rc;
    f->fd = -1;
    f->tmp[0] = '\0';
    if (!*path || strlen(path) >= sizeof f->path)
        return !*path ? ENOENT : ENAMETOOLONG;
    if (path[strlen(path) - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        return EISDIR;
    memcpy(f->path, path, strlen(path) + 1);
    if ((rc = temp_name(path, f->tmp, sizeof f->tmp)) != 0) {
        f->tmp[0] = '\0';
        return rc;
    }
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        rc = errno;
        f->tmp[0] = '\0';
        return rc;
    }
    return 0;
}

int cli_file_write(cli_file *f, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(f->fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path)
{
    char dir[CLI_PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;
    if (slash && slash == path)
        snprintf(dir, sizeof dir, "/");
    else if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);   /* best effort: some file systems refuse it */
        close(fd);
    }
}

int cli_file_commit(cli_file *f)
{
    int rc = 0;
    if (fsync(f->fd) != 0)
        rc = errno;
    if (close(f->fd) != 0 && !rc)
        rc = errno;
    f->fd = -1;
    if (!rc && rename(f->tmp, f->path) != 0)
        rc = errno;
    if (rc) {
        cli_file_abort(f);
        return rc;
    }
    f->tmp[0] = '\0';
    sync_dir(f->path);
    return 0;
}

void cli_file_abort(cli_file *f)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    if (f->tmp[0]) {
        unlink(f->tmp);
        f->tmp[0] = '\0';
    }
}
