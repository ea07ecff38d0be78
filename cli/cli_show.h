/* cli_show.h - the human view of one person's record (linkbook show):
 * a header with who they are, then the timeline, one block per entry.
 */
#ifndef CLI_SHOW_H
#define CLI_SHOW_H

#include <jansson.h>

/* Print the document of lb_person_show to stdout.  Unknown kinds and
 * fields are printed generically, never dropped. */
void cli_show_print(const json_t *doc);

#endif
