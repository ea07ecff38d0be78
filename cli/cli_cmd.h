/* cli_cmd.h - the commands of the linkbook command line.
 *
 * main.c holds the table of commands (name, usage, help) and dispatches to
 * the entry points declared here.  Each entry point receives the arguments
 * that follow its command words and returns the process exit code:
 * 0 done, 1 failure, 2 invalid usage or input, 3 wrong passphrase,
 * 4 no such record (see cli_err.h).  Commands never call exit().
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

/* cmd_conflict.c */
int cmd_conflicts(const cli_cmd *cmd, int argc, char **argv);
int cmd_resolve(const cli_cmd *cmd, int argc, char **argv);

#endif
