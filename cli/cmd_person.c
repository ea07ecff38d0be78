/* cmd_person.c - commands about people: person add, person list, show,
 * discharge. */
#include <string.h>
#include "lb_model.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_print.h"
#include "cli_show.h"
#include "cli_store.h"

enum { PA_GIVEN, PA_FAMILY, PA_NHS, PA_DOB, PA_POSTCODE, PA_PHONE, PA_CASELOAD,
       PA_GP, PA_LANGUAGE, PA_INTERPRETER, PA_CARER, PA_CONSENT, PA_COUNT };

static int person_add_run(const cli_cmd *cmd, const cli_opt *o)
{
    lb_person_fields f = {
        .given = o[PA_GIVEN].value, .family = o[PA_FAMILY].value,
        .nhs = o[PA_NHS].value, .dob = o[PA_DOB].value,
        .postcode = o[PA_POSTCODE].value, .phone = o[PA_PHONE].value,
        .gp_practice = o[PA_GP].value, .language = o[PA_LANGUAGE].value,
        .interpreter = cli_opt_flag(&o[PA_INTERPRETER]),
        .carer = cli_opt_flag(&o[PA_CARER]),
        .caseload = o[PA_CASELOAD].value, .consent = o[PA_CONSENT].value,
    };
    char id[LB_ID_HEX + 1];
    lb_store *s = NULL;
    lb_err err;
    int rc = cli_store_unlocked(cmd, &s);
    if (rc != CLI_GO)
        return rc;
    err = lb_person_add(s, &f, id);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, "could not register the person");
    } else {
        cli_say("Registered %s %s.", f.given, f.family);
        printf("%s\n", id);
        rc = CLI_EXIT_OK;
    }
    lb_store_close(s);
    return rc;
}

int cmd_person_add(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[PA_COUNT] = {
        [PA_GIVEN] = {"given", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "G", NULL},
        [PA_FAMILY] = {"family", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "F", NULL},
        [PA_NHS] = {"nhs", CLI_OPT_VALUE, "N", NULL},
        [PA_DOB] = {"dob", CLI_OPT_VALUE, "YYYY-MM-DD", NULL},
        [PA_POSTCODE] = {"postcode", CLI_OPT_VALUE, "P", NULL},
        [PA_PHONE] = {"phone", CLI_OPT_VALUE, "T", NULL},
        [PA_CASELOAD] = {"caseload", CLI_OPT_VALUE, "C", NULL},
        [PA_GP] = {"gp", CLI_OPT_VALUE, "ODS", NULL},
        [PA_LANGUAGE] = {"language", CLI_OPT_VALUE, "L", NULL},
        [PA_INTERPRETER] = {"interpreter", 0, "", NULL},
        [PA_CARER] = {"carer", 0, "", NULL},
        [PA_CONSENT] = {"consent", CLI_OPT_VALUE, "LIST", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, PA_COUNT, NULL, &a);
    if (rc != CLI_GO)
        return rc;
    return person_add_run(cmd, o);
}

int cmd_person_list(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"status", CLI_OPT_VALUE, "S", NULL},
        {"json", 0, "", NULL},
    };
    cli_args a;
    lb_store *s = NULL;
    json_t *doc = NULL;
    lb_err err;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, NULL, &a);
    if (rc != CLI_GO || (rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        return rc;
    err = lb_person_list(s, o[0].value, &doc);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, "could not list people");
        goto out;
    }
    if (cli_opt_flag(&o[1])) {
        rc = cli_print_json(doc);
    } else {
        cli_print_people(doc);
        rc = CLI_EXIT_OK;
    }
out:
    json_decref(doc);
    lb_store_close(s);
    return rc;
}

int cmd_show(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"PERSON", NULL};
    cli_opt o[] = {{"json", 0, "", NULL}};
    char id[LB_ID_HEX + 1];
    cli_args a;
    lb_store *s = NULL;
    json_t *doc = NULL;
    lb_err err;
    int rc = cli_opts_parse(cmd, argc, argv, o, 1, pos, &a);
    if (rc != CLI_GO || (rc = cli_store_unlocked(cmd, &s)) != CLI_GO)
        return rc;
    rc = cli_store_person(s, cmd, a.pos[0], id, "could not find the person");
    if (rc != CLI_GO)
        goto out;
    err = lb_person_show(s, id, &doc);
    if (err != LB_OK) {
        rc = cli_err_report(s, err, cmd, "could not read the person's record");
        goto out;
    }
    if (cli_opt_flag(&o[0])) {
        rc = cli_print_json(doc);
    } else {
        cli_show_print(doc);
        rc = CLI_EXIT_OK;
    }
out:
    json_decref(doc);
    lb_store_close(s);
    return rc;
}

static lb_err discharge_op(lb_store *s, const char *person, const void *ctx,
                           char id[LB_ID_HEX + 1])
{
    return lb_discharge(s, person, ctx, id);
}

int cmd_discharge(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"PERSON", NULL};
    cli_opt o[] = {{"reason", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "R", NULL}};
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 1, pos, &a);
    if (rc != CLI_GO)
        return rc;
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, discharge_op, o[0].value,
                         "could not discharge the person", "Discharged.");
}
