/* cli_cmd.h - the commands of the linkbook command line.
 *
 * main.c holds the table of commands (name, usage, help) and dispatches to
 * the entry points declared here.  Each entry point receives the arguments
 * that follow its command words and returns the process exit code:
 * 0 done, 1 failure, 2 invalid usage or input, 3 wrong passphrase,
 * 4 no such record, 5 offline (see cli_err.h).  Commands never call exit().
 */
#ifndef CLI_CMD_H
#define CLI_CMD_H

#include <stdio.h>

typedef struct cli_cmd cli_cmd;
typedef int (*cli_run)(const cli_cmd *cmd, int argc, char **argv);

struct cli_cmd {
    const char *group;   /* first word: "person", "show" */
    const char *sub;     /* second word ("add"), or NULL */
    const char *name;    /* both words, for messages: "person add" */
    cli_run run;
    const char *usage;   /* arguments after the name */
    const char *summary; /* one line for 'linkbook help' */
    const char *help;    /* options and details for 'linkbook help CMD' */
};

/* Print the full help of one command to out (defined in main.c). */
void cli_cmd_help(const cli_cmd *cmd, FILE *out);

/* cmd_store.c */
int cmd_init(const cli_cmd *cmd, int argc, char **argv);
int cmd_passwd(const cli_cmd *cmd, int argc, char **argv);
int cmd_check(const cli_cmd *cmd, int argc, char **argv);

/* cmd_person.c */
int cmd_person_add(const cli_cmd *cmd, int argc, char **argv);
int cmd_person_list(const cli_cmd *cmd, int argc, char **argv);
int cmd_show(const cli_cmd *cmd, int argc, char **argv);
int cmd_discharge(const cli_cmd *cmd, int argc, char **argv);

/* cmd_care.c */
int cmd_referral_add(const cli_cmd *cmd, int argc, char **argv);
int cmd_contact_add(const cli_cmd *cmd, int argc, char **argv);
int cmd_note_add(const cli_cmd *cmd, int argc, char **argv);
int cmd_note_amend(const cli_cmd *cmd, int argc, char **argv);
int cmd_story_add(const cli_cmd *cmd, int argc, char **argv);
int cmd_measure_add(const cli_cmd *cmd, int argc, char **argv);

/* cmd_goal.c */
int cmd_goal_add(const cli_cmd *cmd, int argc, char **argv);
int cmd_goal_review(const cli_cmd *cmd, int argc, char **argv);
int cmd_goal_status(const cli_cmd *cmd, int argc, char **argv);

/* cmd_task.c */
int cmd_tasks(const cli_cmd *cmd, int argc, char **argv);
int cmd_task_done(const cli_cmd *cmd, int argc, char **argv);
int cmd_audit(const cli_cmd *cmd, int argc, char **argv);

/* cmd_export.c */
int cmd_export_fhir(const cli_cmd *cmd, int argc, char **argv);

/* cmd_sync.c */
int cmd_enrol(const cli_cmd *cmd, int argc, char **argv);
int cmd_sync(const cli_cmd *cmd, int argc, char **argv);

/* cmd_team.c */
int cmd_team_invite(const cli_cmd *cmd, int argc, char **argv);
int cmd_team_devices(const cli_cmd *cmd, int argc, char **argv);
int cmd_team_revoke(const cli_cmd *cmd, int argc, char **argv);

/* cmd_review.c, cmd_report.c */
int cmd_review(const cli_cmd *cmd, int argc, char **argv);
int cmd_report(const cli_cmd *cmd, int argc, char **argv);

/* cmd_sync.c, shared with cmd_team.c: an enrolled store with a client for
 * its server (token set).  Transport options: --insecure, a CA file and a
 * pinned key (NULL: from LINKBOOK_CA_FILE, LINKBOOK_PINNED_KEY). */
typedef struct cli_remote_opts {
    int insecure;
    const char *ca_file, *pin;
} cli_remote_opts;

typedef struct cli_remote {
    struct lb_store *s;     /* unlocked */
    struct lb_client *c;
    char device[40];        /* this device's id */
    int supervisor;
} cli_remote;

/* Open and unlock the store, check it is enrolled (else exit 2 with a
 * hint to run 'linkbook enrol'), make the client.  CLI_GO or the exit
 * code after reporting; close with cli_remote_close. */
int cli_remote_open(const cli_cmd *cmd, const cli_remote_opts *ro, cli_remote *out);
void cli_remote_close(cli_remote *r);

/* Report a failed client call (rc an lb_client_rc) while doing what;
 * returns the exit code: 5 offline (work kept), 3 credentials refused,
 * 2 bad URL, 1 other failures. */
int cli_remote_fail(const cli_cmd *cmd, const cli_remote *r, int rc, const char *what);
/* cmd_conflict.c */
int cmd_conflicts(const cli_cmd *cmd, int argc, char **argv);
int cmd_resolve(const cli_cmd *cmd, int argc, char **argv);

#endif
