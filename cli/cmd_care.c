/* cmd_care.c - recording care for a person: referral add, contact add,
 * note add/amend, measure add, story add.  Each parses its options, then
 * makes one write through cli_store_run (which prints the new id). */
#include "lb_model.h"
#include "cli_cmd.h"
#include "cli_err.h"
#include "cli_opts.h"
#include "cli_store.h"

static const char *const pos_person[] = {"PERSON", NULL};
static const char *const pos_person_text[] = {"PERSON", "TEXT", NULL};

static lb_err referral_op(lb_store *s, const char *person, const void *ctx,
                          char id[LB_ID_HEX + 1])
{
    return lb_referral_add(s, person, ctx, id);
}

int cmd_referral_add(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"source", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "SRC", NULL},
        {"reason", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "R[,R...]", NULL},
        {"date", CLI_OPT_VALUE, "DATE", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 3, pos_person, &a);
    if (rc != CLI_GO)
        return rc;
    lb_referral_fields f = {o[0].value, o[1].value, o[2].value};
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, referral_op, &f,
                         "could not record the referral", "Recorded the referral.");
}

static lb_err contact_op(lb_store *s, const char *person, const void *ctx,
                         char id[LB_ID_HEX + 1])
{
    return lb_contact_add(s, person, ctx, id);
}

int cmd_contact_add(const cli_cmd *cmd, int argc, char **argv)
{
    enum { MODE, MINUTES, CATEGORY, NOTE, SIGNPOST, FOLLOW_UP, DATE, N };
    cli_opt o[N] = {
        [MODE] = {"mode", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "MODE", NULL},
        [MINUTES] = {"minutes", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "N", NULL},
        [CATEGORY] = {"category", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "C[,C...]", NULL},
        [NOTE] = {"note", CLI_OPT_VALUE, "TEXT", NULL},
        [SIGNPOST] = {"signpost", CLI_OPT_VALUE, "S[,S...]", NULL},
        [FOLLOW_UP] = {"follow-up", CLI_OPT_VALUE, "DATE", NULL},
        [DATE] = {"date", CLI_OPT_VALUE, "DATE", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, N, pos_person, &a);
    if (rc != CLI_GO)
        return rc;
    lb_contact_fields f = {
        .mode = o[MODE].value, .minutes = o[MINUTES].value,
        .categories = o[CATEGORY].value, .note = o[NOTE].value,
        .signposts = o[SIGNPOST].value, .follow_up = o[FOLLOW_UP].value,
        .date = o[DATE].value,
    };
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, contact_op, &f,
                         "could not record the contact", "Recorded the contact.");
}

static lb_err note_add_op(lb_store *s, const char *person, const void *ctx,
                          char id[LB_ID_HEX + 1])
{
    return lb_note_add(s, person, ctx, id);
}

int cmd_note_add(const cli_cmd *cmd, int argc, char **argv)
{
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, pos_person_text, &a);
    if (rc != CLI_GO)
        return rc;
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, note_add_op, a.pos[1],
                         "could not add the note", "Added the note.");
}

static lb_err note_amend_op(lb_store *s, const char *note, const void *ctx,
                            char id[LB_ID_HEX + 1])
{
    return lb_note_amend(s, note, ctx, id);
}

int cmd_note_amend(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"NOTE", "TEXT", NULL};
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, NULL, 0, pos, &a);
    if (rc != CLI_GO)
        return rc;
    return cli_store_run(cmd, a.pos[0], CLI_REF_RECORD, note_amend_op, a.pos[1],
                         "could not amend the note",
                         "Amended the note; the original stays readable.");
}

typedef struct measure_args {
    const char *instrument, *answers, *when;
} measure_args;

static lb_err measure_op(lb_store *s, const char *person, const void *ctx,
                         char id[LB_ID_HEX + 1])
{
    const measure_args *m = ctx;
    return lb_measure_add(s, person, m->instrument, m->answers, m->when, id);
}

int cmd_measure_add(const cli_cmd *cmd, int argc, char **argv)
{
    static const char *const pos[] = {"PERSON", "INSTRUMENT", NULL};
    cli_opt o[] = {
        {"answers", CLI_OPT_VALUE | CLI_OPT_REQUIRED, "A,B,...", NULL},
        {"when", CLI_OPT_VALUE, "baseline|review|discharge", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, pos, &a);
    if (rc != CLI_GO)
        return rc;
    measure_args m = {a.pos[1], o[0].value, o[1].value};
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, measure_op, &m,
                         "could not record the measure", "Recorded the measure.");
}

typedef struct story_args {
    const char *text, *domains;
    int share;
} story_args;

static lb_err story_op(lb_store *s, const char *person, const void *ctx,
                       char id[LB_ID_HEX + 1])
{
    const story_args *st = ctx;
    return lb_story_add(s, person, st->text, st->domains, st->share, id);
}

int cmd_story_add(const cli_cmd *cmd, int argc, char **argv)
{
    cli_opt o[] = {
        {"domain", CLI_OPT_VALUE, "D[,D...]", NULL},
        {"share-anonymised", 0, "", NULL},
    };
    cli_args a;
    int rc = cli_opts_parse(cmd, argc, argv, o, 2, pos_person_text, &a);
    if (rc != CLI_GO)
        return rc;
    story_args st = {a.pos[1], o[0].value, cli_opt_flag(&o[1])};
    return cli_store_run(cmd, a.pos[0], CLI_REF_PERSON, story_op, &st,
                         "could not record the story", "Recorded the story.");
}
