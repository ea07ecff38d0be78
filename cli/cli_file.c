/* cli_file.c - output files written whole or not at all (cli_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lb_store.h"
#include "cli_file.h"

/* Write data to a new temporary file beside path; its name into tmp. */
static int write_temp(const char *path, const void *data, size_t len, char *tmp, size_t cap)
{
    const char *p = data;
    int fd, n = snprintf(tmp, cap, "%s.tmpXXXXXX", path), saved;
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = mkstemp(tmp)) < 0)
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
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
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
