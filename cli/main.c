/* main.c - the linkbook command: the table of commands, dispatch, help and
 * the final exit code.
 *
 * A command is one or two words ("show", "person add").  Unknown commands
 * exit 2 with a pointer to 'linkbook help'.  After the command ran, a
 * failure to write stdout turns success into exit 1, so a full disk or a
 * closed pipe never passes for a complete answer.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "linkbook.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_repl.h"

#define H_PERSON "PERSON is an id (any unique prefix) or an NHS number.\n"
#define H_DATE "Dates are YYYY-MM-DD; an omitted date means today.\n"
#define H_REMOTE \
    "  --insecure        allow plain http to a host that is not loopback\n" \
    "  --ca-file F       verify the server with this PEM bundle ($LINKBOOK_CA_FILE)\n" \
    "  --pin KEY         pinned server key, sha256//BASE64 ($LINKBOOK_PINNED_KEY)\n"

static const cli_cmd commands[] = {
    {"init", NULL, "init", cmd_init, "[--name NAME] [--role ROLE] [--caseload C]",
     "create a store",
     "Creates an encrypted store in the store directory.  The passphrase is asked\n"
     "twice on a terminal, or taken from LINKBOOK_PASSPHRASE.\n"
     "  --name NAME       who records here (default: $USER)\n"
     "  --role ROLE       link-worker, health-coach, occupational-therapist,\n"
     "                    care-coordinator or supervisor (default link-worker)\n"
     "  --caseload C      the caseload new people join (default local)\n"},
    {"passwd", NULL, "passwd", cmd_passwd, "",
     "change the passphrase",
     "Asks for the old passphrase, then the new one twice.  For scripts:\n"
     "LINKBOOK_PASSPHRASE is the old one, LINKBOOK_NEW_PASSPHRASE the new one.\n"
     "The data key is rewrapped; records are not re-encrypted.\n"},
    {"person", "add", "person add", cmd_person_add,
     "--given G --family F [--nhs N] [--dob YYYY-MM-DD] [--postcode P] [--phone T]\n"
     "      [--caseload C] [--gp ODS] [--language L] [--interpreter] [--carer]\n"
     "      [--consent LIST]",
     "register a person; prints the new id",
     "  --nhs N           NHS number, ten digits (spaces allowed), Modulus 11 checked\n"
     "  --gp ODS          GP practice ODS code\n"
     "  --interpreter     needs an interpreter\n"
     "  --carer           is a carer\n"
     "  --consent LIST    consent given, e.g. record,share-team\n"},
    {"person", "list", "person list", cmd_person_list, "[--status S] [--json]",
     "list people",
     "  --status S        only referred, active, on-hold or discharged people\n"
     "  --json            print one JSON document\n"},
    {"show", NULL, "show", cmd_show, "PERSON [--json]",
     "one person's whole record, as a timeline",
     H_PERSON "  --json            print one JSON document\n"},
    {"referral", "add", "referral add", cmd_referral_add,
     "PERSON --source SRC --reason R[,R...] [--date D]",
     "record a referral",
     "  --source SRC      gp, nurse, self, social-care, voluntary, hospital, other\n"
     "  --reason R,...    isolation, mental-health, housing, money,\n"
     "                    long-term-condition, carer-support, physical-activity,\n"
     "                    bereavement, other\n" H_PERSON H_DATE},
    {"contact", "add", "contact add", cmd_contact_add,
     "PERSON --mode MODE --minutes N --category C[,C...] [--note TEXT]\n"
     "      [--signpost S[,S...]] [--follow-up D] [--date D]",
     "record a contact (visit, call)",
     "  --mode MODE       home, community, surgery, phone, video\n"
     "  --minutes N       1 to 1440\n"
     "  --category C,...  occupation, health-coaching, psychosocial, mental-health,\n"
     "                    cognitive, signposting\n"
     "  --note TEXT       a note on the contact\n"
     "  --signpost S,...  services signposted to\n"
     "  --follow-up D     date of a follow-up (becomes a task)\n" H_PERSON H_DATE},
    {"note", "add", "note add", cmd_note_add, "PERSON TEXT",
     "add a case note", H_PERSON "Notes are never changed: correct one with 'note amend'.\n"},
    {"note", "amend", "note amend", cmd_note_amend, "NOTE TEXT",
     "correct a note; the original stays readable",
     "NOTE is the id (or a unique prefix) of the note to correct.\n"},
    {"goal", "add", "goal add", cmd_goal_add, "PERSON TEXT [--domain D] [--target D]",
     "agree a goal",
     "  --domain D        life domain of the goal\n"
     "  --target D        target date\n" H_PERSON},
    {"goal", "review", "goal review", cmd_goal_review, "GOAL --score 0-10 [--note TEXT]",
     "review progress on a goal", "  --score N         progress, 0 to 10\n"},
    {"goal", "status", "goal status", cmd_goal_status,
     "GOAL achieved|partly|not-achieved|withdrawn|active",
     "set a goal's status", "GOAL is the id (or a unique prefix) of the goal.\n"},
    {"measure", "add", "measure add", cmd_measure_add,
     "PERSON ons4|swemwbs --answers A,B,... [--when baseline|review|discharge]",
     "score an outcome measure",
     "  --answers A,...   ons4: four answers 0-10; swemwbs: seven answers 1-5\n"
     "  --when W          baseline (default), review or discharge\n" H_PERSON},
    {"tasks", NULL, "tasks", cmd_tasks, "[--overdue] [--json]",
     "open follow-ups, by due date",
     "  --overdue         only those past their due date\n"
     "  --json            print one JSON document\n"},
    {"task", "done", "task done", cmd_task_done, "TASK",
     "mark a follow-up done", "TASK is the id (or a unique prefix) of the task.\n"},
    {"discharge", NULL, "discharge", cmd_discharge, "PERSON --reason R",
     "discharge a person", H_PERSON},
    {"story", "add", "story add", cmd_story_add,
     "PERSON TEXT [--domain D[,D...]] [--share-anonymised]",
     "record what changed, in the person's words",
     "  --domain D,...       impact domains\n"
     "  --share-anonymised   the person agrees to share it anonymised\n" H_PERSON},
    {"audit", NULL, "audit", cmd_audit, "[--person P] [--json]",
     "who viewed, exported or changed what",
     "  --person P        only events about one person\n"
     "  --json            print one JSON document\n"},
    {"review", NULL, "review", cmd_review, "[WORKER] [--from D] [--to D] [--json]",
     "review every caseload of the team, or one worker's",
     "Figures of the team and of each caseload: people by status, referrals,\n"
     "who waits for a first contact and how long, overdue follow-ups, contacts by\n"
     "category and mode, goals set and achieved, wellbeing change from baseline\n"
     "to latest (ONS4 per item, SWEMWBS metric score), open conflicts, and when\n"
     "each device of the team last synced.  WORKER (a name or user id prefix)\n"
     "shows one caseload, with the people waiting and overdue by name.\n"
     "  --from D, --to D  the period counted (default: everything, to today)\n"
     "  --json            print one JSON document\n"},
    {"report", NULL, "report", cmd_report,
     "--csv DIR | --html FILE [--from D] [--to D] [--worker W]",
     "the commissioner's dataset (CSV) or the team's report (HTML)",
     "  --csv DIR         write the dataset as CSV files into DIR (made if missing):\n"
     "                    demographics, needs, support, outcomes, by bands and\n"
     "                    counts, no names, NHS numbers or free text; counts under\n"
     "                    5 suppressed\n"
     "  --html FILE       write the report as one self-contained HTML file: charts\n"
     "                    with their tables (per month, by category, waiting,\n"
     "                    goals, wellbeing change); no names, NHS numbers or\n"
     "                    notes; it opens offline and fetches nothing\n"
     "  --from D, --to D  the period counted (default: everything, to today)\n"
     "  --worker W        one worker's caseload only\n"},
    {"export", "fhir", "export fhir", cmd_export_fhir, "[PERSON] [-o FILE]",
     "the record as a FHIR R4 Bundle",
     "Writes one FHIR R4 Bundle (type collection) of PERSON, or of everyone in the\n"
     "store: Patient, ServiceRequest (referral), Encounter (contacts), Goal,\n"
     "CarePlan, QuestionnaireResponse with its Questionnaire and the derived score\n"
     "Observation, and Consent.  Notes and stories stay out.  Every export is\n"
     "audited ('linkbook audit').\n"
     "  -o, --output FILE  write FILE (mode 0600) whole or not at all; default stdout\n"
     H_PERSON},
    {"enrol", NULL, "enrol", cmd_enrol,
     "URL CODE [--name DEVICE-NAME] [--insecure] [--ca-file F] [--pin KEY]",
     "join a team with a one-time enrolment code; prints the device id",
     "Makes this device's key pair, enrols it with the server at URL (CODE comes\n"
     "from 'linkbookd admin team-create' or a supervisor's 'team invite'), then\n"
     "syncs once.  People already in the store move to the worker's caseload.\n"
     H_REMOTE
     "  --name NAME       what the team sees this device as (default: host name)\n"},
    {"sync", NULL, "sync", cmd_sync, "[--insecure] [--ca-file F] [--pin KEY] [--json]",
     "push and pull now; prints what moved",
     "Pushes every change not yet on the server, pulls what the team recorded,\n"
     "and on a supervisor's device seals the team key to newly enrolled devices.\n"
     "What moved is told on stderr; stdout gets one summary line:\n"
     "  pushed N, pulled N, rejected N (N requests, N bytes up, N down)\n"
     "  --json            print the counts as one JSON document instead\n"
     H_REMOTE
     "Exit 5 when the server cannot be reached, or this device still waits for\n"
     "its team key: the work is kept and the next sync moves it.  Exit 3 when\n"
     "the server refuses this device (it was revoked).\n"},
    {"team", "invite", "team invite", cmd_team_invite, "--role ROLE --name NAME",
     "supervisor: an enrolment code for a new worker",
     "  --role ROLE       link-worker, health-coach, occupational-therapist,\n"
     "                    care-coordinator or supervisor\n"
     "  --name NAME       the worker's name\n"
     "Prints the one-time code alone as the last line of stdout.\n"},
    {"team", "devices", "team devices", cmd_team_devices, "[--json]",
     "supervisor: the team's devices",
     "  --json            print the server's list as one JSON document\n"},
    {"team", "revoke", "team revoke", cmd_team_revoke, "DEVICE",
     "supervisor: refuse a device and rotate the team key",
     "DEVICE is a device id (any unique prefix; see 'team devices').  The server\n"
     "refuses its token at once; a new team key is sealed to every other device,\n"
     "so changes made from now on are unreadable with what the revoked one holds.\n"},
    {"conflicts", NULL, "conflicts", cmd_conflicts, "[--json]",
     "edits of one field made without seeing each other",
     "Lists each open conflict with its values numbered; the record shows the later\n"
     "value meanwhile.  Settle one with 'linkbook resolve CONFLICT --keep N'.\n"
     "  --json            print one JSON document\n"},
    {"resolve", NULL, "resolve", cmd_resolve, "CONFLICT --keep VALUE-ID",
     "settle a conflict by keeping one of its values",
     "CONFLICT is the id (or a unique prefix) from 'linkbook conflicts'; VALUE-ID is\n"
     "the number of the value to keep.\n"},
    {"check", NULL, "check", cmd_check, "",
     "verify the store's integrity and every ciphertext",
     "Checks the database and decrypts and authenticates every change and record.\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_cmd_help(const cli_cmd *cmd, FILE *out)
{
    fprintf(out, "usage: linkbook %s%s%s\n\n%s.\n", cmd->name, cmd->usage[0] ? " " : "",
            cmd->usage, cmd->summary);
    if (cmd->help && cmd->help[0])
        fprintf(out, "\n%s", cmd->help);
}

static void help_overview(FILE *out)
{
    fputs("usage: linkbook COMMAND [ARGUMENTS] [OPTIONS]\n\nCommands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs("  help [COMMAND]  help on one command (or 'linkbook COMMAND --help')\n\n"
          "With no command on a terminal, linkbook starts an interactive session: the\n"
          "passphrase is asked once, Tab completes commands and ids, and the session\n"
          "locks after 10 idle minutes ($LINKBOOK_IDLE_LOCK seconds).\n\n"
          "Environment:\n"
          "  LINKBOOK_STORE       the store directory (default\n"
          "                       $XDG_DATA_HOME/linkbook or ~/.local/share/linkbook)\n"
          "  LINKBOOK_PASSPHRASE  the passphrase, for scripts (asked on a terminal)\n\n"
          "Exit codes: 0 done, 1 failure, 2 invalid usage or input, 3 wrong passphrase\n"
          "or credentials refused, 4 no such record or store, 5 offline (the work is\n"
          "kept and will sync later).\n", out);
}

static int has_subs(const char *group)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].group, group) == 0 && commands[i].sub)
            return 1;
    return 0;
}

static const cli_cmd *find_cmd(const char *group, const char *sub)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const cli_cmd *c = &commands[i];
        if (strcmp(c->group, group) != 0)
            continue;
        if (!c->sub || (sub && strcmp(c->sub, sub) == 0))
            return c;
    }
    return NULL;
}

/* "person needs one of: add, list". */
static int need_sub(const char *group, const char *sub)
{
    if (sub)
        fprintf(stderr, "linkbook: '%s %s' is not a linkbook command; '%s' takes:", group,
                sub, group);
    else
        fprintf(stderr, "linkbook: '%s' needs one of:", group);
    const char *sep = " ";
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].group, group) == 0) {
            fprintf(stderr, "%s%s", sep, commands[i].sub);
            sep = ", ";
        }
    }
    fprintf(stderr, " (see 'linkbook help %s')\n", group);
    return CLI_EXIT_USAGE;
}

static void help_group(const char *group, FILE *out)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].group, group) != 0)
            continue;
        cli_cmd_help(&commands[i], out);
        fputc('\n', out);
    }
}

static int help(int argc, char **argv)
{
    const cli_cmd *c;
    if (argc == 0) {
        help_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage(NULL, "'help' takes one command");
    if (has_subs(argv[0]) && argc == 1) {
        help_group(argv[0], stdout);
        return CLI_EXIT_OK;
    }
    c = find_cmd(argv[0], argc > 1 ? argv[1] : NULL);
    if (!c || (!c->sub && argc > 1))
        return cli_usage(NULL, "no help on '%s%s%s': not a linkbook command", argv[0],
                         argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
    cli_cmd_help(c, stdout);
    return CLI_EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
    const char *group = argv[0];
    const char *sub = argc > 1 ? argv[1] : NULL;
    const cli_cmd *c;
    if (strcmp(group, "--version") == 0) {
        printf("linkbook %s\n", LINKBOOK_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(group, "help") == 0 || strcmp(group, "--help") == 0 ||
        strcmp(group, "-h") == 0)
        return help(argc - 1, argv + 1);
    if (!has_subs(group)) {
        c = find_cmd(group, NULL);
        if (!c)
            return cli_usage(NULL, "'%s' is not a linkbook command", group);
        return c->run(c, argc - 1, argv + 1);
    }
    if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        help_group(group, stdout);
        return CLI_EXIT_OK;
    }
    c = sub ? find_cmd(group, sub) : NULL;
    if (!c)
        return need_sub(group, sub);
    return c->run(c, argc - 2, argv + 2);
}

int main(int argc, char **argv)
{
    int rc, session = argc < 2 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (argc < 2 && !session) {
        help_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (lb_crypto_init() != LB_OK)
        return cli_fail(CLI_EXIT_FAIL, "the cryptography library failed to start "
                        "(check the libsodium installation)");
    if (session)
        rc = cli_repl_run(commands, NCOMMANDS, dispatch);
    else
        rc = dispatch(argc - 1, argv + 1);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_EXIT_OK)
            rc = cli_fail(CLI_EXIT_FAIL, "could not write the output "
                          "(is the disk full or the pipe closed?)");
    }
    return rc;
}
