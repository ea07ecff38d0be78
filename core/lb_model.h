/* lb_model.h - the link worker's record: people, referrals, contacts, notes,
 * goals, measures, tasks, discharge and stories.
 *
 * Each operation checks its input (LB_ERR_INVALID, with lb_store_errmsg()
 * naming the field and what is accepted), resolves id prefixes
 * (LB_ERR_NOTFOUND / LB_ERR_AMBIGUOUS), and writes its changes in one
 * transaction: either everything is recorded or nothing is.  Record ids are
 * returned through id_out (LB_ID_HEX + 1 bytes, may be NULL).
 *
 * Strings may be NULL where marked optional.  Dates are YYYY-MM-DD; an
 * omitted date means today by the store's clock.
 *
 * Reading (timelines, lists, the audit trail) is declared in lb_view.h,
 * included here.
 */
#ifndef LB_MODEL_H
#define LB_MODEL_H

#include <jansson.h>
#include "lb_store.h"
#include "lb_crypto.h"
#include "lb_view.h"

typedef struct lb_person_fields {
    const char *given;      /* required */
    const char *family;     /* required */
    const char *nhs;        /* optional, Modulus 11 checked */
    const char *dob;        /* optional */
    const char *postcode;   /* optional */
    const char *phone;      /* optional */
    const char *gp_practice;/* optional ODS code */
    const char *language;   /* optional */
    int interpreter;        /* 0/1 */
    int carer;              /* 0/1 */
    const char *caseload;   /* optional: default the store's caseload */
    const char *consent;    /* optional: "record", "record,share-team", ... */
} lb_person_fields;

lb_err lb_person_add(lb_store *s, const lb_person_fields *f, char id_out[LB_ID_HEX + 1]);

/* Resolve a person by id prefix or by NHS number. */
lb_err lb_person_resolve(lb_store *s, const char *ref, char id_out[LB_ID_HEX + 1]);

typedef struct lb_referral_fields {
    const char *source;   /* required: gp, nurse, self, ... */
    const char *reasons;  /* required: comma-separated reason codes */
    const char *date;     /* optional */
} lb_referral_fields;

lb_err lb_referral_add(lb_store *s, const char *person, const lb_referral_fields *f,
                       char id_out[LB_ID_HEX + 1]);

typedef struct lb_contact_fields {
    const char *mode;        /* required: home, community, surgery, phone, video */
    const char *minutes;     /* required: 1..1440, as text */
    const char *categories;  /* required: comma-separated category codes */
    const char *note;        /* optional: becomes a note on the contact */
    const char *signposts;   /* optional: comma-separated free service names */
    const char *follow_up;   /* optional: date; becomes a task */
    const char *date;        /* optional */
} lb_contact_fields;

lb_err lb_contact_add(lb_store *s, const char *person, const lb_contact_fields *f,
                      char id_out[LB_ID_HEX + 1]);

/* Notes are append-only: amend adds a note that points at the one it
 * corrects; the original stays. */
lb_err lb_note_add(lb_store *s, const char *person, const char *text,
                   char id_out[LB_ID_HEX + 1]);
lb_err lb_note_amend(lb_store *s, const char *note, const char *text,
                     char id_out[LB_ID_HEX + 1]);

lb_err lb_goal_add(lb_store *s, const char *person, const char *text,
                   const char *domain, const char *target, char id_out[LB_ID_HEX + 1]);
/* score is text "0".."10"; note optional. */
lb_err lb_goal_review(lb_store *s, const char *goal, const char *score,
                      const char *note, char id_out[LB_ID_HEX + 1]);
/* status: active, achieved, partly, not-achieved, withdrawn. */
lb_err lb_goal_status(lb_store *s, const char *goal, const char *status);

/* answers: comma-separated integers; when: baseline, review, discharge
 * (optional, default baseline).  The instrument is looked up in the store's
 * instrument definitions (schema data). */
lb_err lb_measure_add(lb_store *s, const char *person, const char *instrument,
                      const char *answers, const char *when,
                      char id_out[LB_ID_HEX + 1]);

lb_err lb_task_done(lb_store *s, const char *task);

lb_err lb_discharge(lb_store *s, const char *person, const char *reason,
                    char id_out[LB_ID_HEX + 1]);

/* domains: optional comma-separated impact domains. */
lb_err lb_story_add(lb_store *s, const char *person, const char *text,
                    const char *domains, int share_anonymised,
                    char id_out[LB_ID_HEX + 1]);

#endif
