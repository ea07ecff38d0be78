/* cli_review.h - what `review` and `report` share: checking the period and
 * the worker, unlocking the store, computing the figures (lb_review.h) and
 * naming each caseload's worker from the team roster (lb_team.h).
 */
#ifndef CLI_REVIEW_H
#define CLI_REVIEW_H

#include "lb_review.h"
#include "lb_team.h"
#include "cli_cmd.h"

typedef struct cli_review {
    struct lb_store *s;         /* unlocked */
    lb_team_roster *roster;     /* n == 0 when this device keeps none */
    lb_review *r;
    char caseload[LB_CASELOAD_MAX + 1];   /* the worker's caseload, "" for the team */
    const char *from, *to;                /* the period asked for (NULL: open) */
} cli_review;

/* Check from and to (either may be NULL): CLI_GO, or 2 after saying what
 * is wrong (not a date, to before from). */
int cli_review_check_period(const cli_cmd *cmd, const char *from, const char *to);

/* Check the period, open and unlock the store, resolve worker (NULL: the
 * team; a name or user id prefix; an unknown one exits 2), compute the
 * figures and, when a period was given, refuse one that holds nothing
 * (exit 2).  Nothing is written to the store until cli_review_audit.
 * Returns CLI_GO with *out filled (release with cli_review_close), or the
 * exit code after reporting. */
int cli_review_open(const cli_cmd *cmd, const char *worker, const char *from,
                    const char *to, cli_review *out);

/* Record that the figures were read for purpose ("review", "report",
 * "export"): CLI_GO or the exit code after reporting. */
int cli_review_audit(const cli_cmd *cmd, cli_review *v, const char *purpose);
void cli_review_close(cli_review *v);

/* The name of the worker whose caseload this is: from the roster, or this
 * store's own author for its own caseload; NULL when unknown. */
const char *cli_review_worker(const cli_review *v, const char *caseload);

/* The roster entry of a caseload's worker (their newest device), or NULL. */
const lb_team_device *cli_review_member(const cli_review *v, const char *caseload);

#endif
