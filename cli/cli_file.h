/* cli_file.h - writing output files whole or not at all: each file is
 * written to a temporary file beside it (mode 0600: exports hold personal
 * data, and reports are for their reader alone), flushed to disk, then
 * renamed over its name, so a reader never sees half a file and a failure
 * leaves no partial file behind; a file already there stays as it was.
 */
#ifndef CLI_FILE_H
#define CLI_FILE_H

#include <stddef.h>
#include <stdio.h>
#include "cli_store.h"

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

/* An output file written as a stream: open, write to f, then commit (or
 * abort).  The temporary file is renamed over path only by commit. */
typedef struct cli_file_out {
    char path[CLI_PATH_MAX];
    char tmp[CLI_PATH_MAX];
    FILE *f;                /* write here between open and commit */
} cli_file_out;

/* Create the temporary file for path.  Returns CLI_GO, or 2 after saying
 * why the path cannot be written (a directory, a missing or read-only
 * folder, a name too long). */
int cli_file_out_open(cli_file_out *o, const char *path);

/* Flush, sync and close the temporary file, then rename it to the target.
 * Returns 0, or 1 after saying what failed (the temporary file removed). */
int cli_file_out_commit(cli_file_out *o);

/* Close and remove the temporary file; safe after commit or a failed open. */
void cli_file_out_abort(cli_file_out *o);

#endif
