/* cli_outfile.h - an output file written whole or not at all.
 *
 * The content goes to a temporary file beside the target (same directory,
 * mode 0600: exports hold personal data), which is flushed, synced and
 * renamed over the target only when everything was written.  A failure
 * leaves no partial file behind: the temporary file is removed and the
 * target, if it existed, is untouched.
 */
#ifndef CLI_OUTFILE_H
#define CLI_OUTFILE_H

#include <stdio.h>
#include "cli_store.h"

typedef struct cli_outfile {
    char path[CLI_PATH_MAX];
    char tmp[CLI_PATH_MAX];
    FILE *f;                /* write here between open and commit */
} cli_outfile;

/* Create the temporary file for path.  Returns CLI_GO, or 2 after saying
 * why the path cannot be written (a directory, a missing or read-only
 * folder, a name too long). */
int cli_outfile_open(cli_outfile *o, const char *path);

/* Flush, sync and close the temporary file, then rename it to the target.
 * Returns 0, or 1 after saying what failed (the temporary file removed). */
int cli_outfile_commit(cli_outfile *o);

/* Close and remove the temporary file; safe after commit or a failed open. */
void cli_outfile_abort(cli_outfile *o);

#endif
