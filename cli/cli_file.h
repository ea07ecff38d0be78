/* cli_file.h - writing output files whole or not at all: each file is
 * written to a temporary file beside it, flushed to disk, then renamed
 * over its name, so a reader never sees half a file and a failure leaves
 * no partial file behind.
 */
#ifndef CLI_FILE_H
#define CLI_FILE_H

#include <stddef.h>

/* Write len bytes of data as path.  0, or -1 with errno set (the
 * temporary file is removed). */
int cli_file_write_atomic(const char *path, const void *data, size_t len);

/* Write n files into directory dir: every one to a temporary file first,
 * then all renamed into place.  If any write fails, every temporary file
 * is removed and nothing is renamed.  0, or -1 with errno set and *failed
 * the index of the file that failed. */
int cli_file_write_set(const char *dir, const char *const *names, const char *const *data,
                       const size_t *lens, size_t n, size_t *failed);

/* Make directory dir (and missing parents, mode 0700 for those made) and
 * check that files can be created in it: 0, or -1 with errno set. */
int cli_file_prepare_dir(const char *dir);

/* Check that a file can be written as path: it is not a directory and its
 * directory exists and can be written to.  0, or -1 with errno set. */
int cli_file_check_target(const char *path);

#endif
