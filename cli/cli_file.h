/* cli_file.h - writing an output file whole or not at all.
 *
 * The contents go to a hidden temporary file beside the target (same
 * directory, so the final rename is atomic), which is flushed to disk and
 * then renamed over the target.  Until the rename, the target is as it
 * was; after any failure the temporary file is removed.  The file is
 * created with mode 0600 (reports hold figures about people).
 *
 * Functions return 0 or an errno value.  Opening first, before the slow
 * work, lets a command refuse an unwritable path at once.
 */
#ifndef CLI_FILE_H
#define CLI_FILE_H

#include <stddef.h>
#include "cli_store.h"

typedef struct cli_file {
    char path[CLI_PATH_MAX];   /* the target */
    char tmp[CLI_PATH_MAX];    /* the temporary file, "" when none */
    int fd;                    /* -1 when closed */
} cli_file;

/* Create the temporary file for path.  ENAMETOOLONG for a path that does
 * not fit, EISDIR when path is a directory; otherwise mkstemp's errno
 * (EACCES, ENOENT, EROFS...). */
int cli_file_open(cli_file *f, const char *path);

/* Append n bytes. */
int cli_file_write(cli_file *f, const void *p, size_t n);

/* Flush, close and rename over the target; on failure the temporary file
 * is removed and the target is untouched. */
int cli_file_commit(cli_file *f);

/* Remove the temporary file, if any; safe to call after commit. */
void cli_file_abort(cli_file *f);

#endif
