/* test_helpers.h - small helpers shared by the cmocka unit tests.
 *
 * Header-only (static inline), POSIX only, no cmocka dependency, so any
 * tests/unit/test_*.c may include it.  Keep it small: a helper that only one
 * test file needs belongs in that file.
 *
 *   lb_test_tmpdir(buf, len)  make a fresh private directory under /tmp
 *                             ("/tmp/linkbook-test.XXXXXX", mode 0700) and
 *                             write its path into buf; 0 on success, -1 if
 *                             buf is too small or mkdtemp fails.
 *   lb_test_rmtree(path)      remove path and everything under it (does not
 *                             follow symbolic links); 0 on success, -1 if
 *                             anything could not be removed.  NULL or ""
 *                             is a no-op returning 0.
 */
#ifndef LB_TEST_HELPERS_H
#define LB_TEST_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LB_TEST_TMPL "/tmp/linkbook-test.XXXXXX"

static inline int lb_test_tmpdir(char *buf, size_t len)
{
    if (len < sizeof LB_TEST_TMPL)
        return -1;
    memcpy(buf, LB_TEST_TMPL, sizeof LB_TEST_TMPL);
    return mkdtemp(buf) ? 0 : -1;
}

static inline int lb_test_rmtree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;
    if (!path || !*path)
        return 0;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t n;
        char *child;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n = strlen(path) + strlen(e->d_name) + 2;
        child = malloc(n);
        if (!child) {
            rc = -1;
            break;
        }
        snprintf(child, n, "%s/%s", path, e->d_name);
        if (lb_test_rmtree(child) != 0)
            rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

#endif
