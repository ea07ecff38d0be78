/* lb_review.h - the figures of caseload review and reporting: what a
 * supervisor reviews (`linkbook review`), what the HTML report draws and
 * what the commissioner's CSV dataset counts, computed once, on the device,
 * from the decrypted records.
 *
 * Scope.  The team: every person this store holds (on a supervisor's
 * device, every caseload of the team; on a worker's, their own caseload).
 * A caseload: the people with an active assignment to it (a caseload id is
 * the worker's user id once the device is enrolled, see lb_team.h for the
 * names).  A person on two caseloads counts in both, and once in the team.
 * Everything recorded about a person in scope counts, whoever recorded it.
 *
 * Period.  from and to (YYYY-MM-DD, inclusive, both optional; to defaults
 * to today) select the events counted by their own date: referrals,
 * contacts, goals set (the goal's date), wellbeing pairs (the date of the
 * later measure), and the referrals whose waits are listed.  Figures that
 * describe a moment are taken "as of" to, or today when to is absent or
 * later: how long a referral has waited, which follow-ups are overdue (due
 * before as_of and not done by then), the age bands.  People by status and
 * open conflicts are as they stand now.
 *
 * Waiting.  A referral waits until the person's first contact dated on or
 * after the referral date (and no later than as_of); days are counted
 * between the dates.  Declined referrals never wait.
 *
 * Wellbeing.  Per person and instrument, a pair: the baseline is the
 * earliest measure recorded "--when baseline"; the latest is the most
 * recent measure of the same instrument after it (by date, then by when it
 * was recorded).  ONS4 items are paired item by item, never summed; SWEMWBS
 * is paired on the metric score (raw 7-35 converted with the instrument's
 * table, schema/device/002_instruments.sql).
 *
 * Counts by code.  An lb_review_tally counts values of one code set of
 * lb_codes.h: n[i] counts lb_codes_list(set)[i]; values outside the list
 * (from a newer version of linkbook) go to "other".
 *
 * Nothing here names anyone: people are their random ids.  Computing is a
 * read of personal data, so lb_review_compute records an audit event
 * (kind "audit", the purpose as its action, the scope and period as its
 * fields) through the change log, like lb_person_show.
 *
 * Ownership: lb_review_compute allocates *out; lb_review_free releases it
 * (NULL is a no-op).  All strings inside are owned by the lb_review.
 */
#ifndef LB_REVIEW_H
#define LB_REVIEW_H

#include <stddef.h>
#include <jansson.h>
#include "lb_change.h"
#include "lb_codes.h"
#include "lb_store.h"

#define LB_REVIEW_TALLY_MAX 16      /* more than any code set has */
#define LB_REVIEW_DATE 11           /* YYYY-MM-DD and NUL */
#define LB_REVIEW_MONTH 8           /* YYYY-MM and NUL */
#define LB_REVIEW_ONS4_ITEMS 4      /* satisfaction, worthwhile, happy, anxious */
#define LB_REVIEW_MONTHS_MAX 600    /* a period longer than 50 years is refused */

typedef struct lb_review_tally {
    lb_codeset set;
    long n[LB_REVIEW_TALLY_MAX];   /* n[i] counts lb_codes_list(set)[i] */
    long other;
} lb_review_tally;

/* Age bands as of the review date; index LB_REVIEW_AGE_UNKNOWN for people
 * without a date of birth.  lb_review_age_band_name() names them. */
enum {
    LB_REVIEW_AGE_0_17, LB_REVIEW_AGE_18_24, LB_REVIEW_AGE_25_34, LB_REVIEW_AGE_35_44,
    LB_REVIEW_AGE_45_54, LB_REVIEW_AGE_55_64, LB_REVIEW_AGE_65_74, LB_REVIEW_AGE_75_84,
    LB_REVIEW_AGE_85_UP, LB_REVIEW_AGE_UNKNOWN, LB_REVIEW_AGE_BANDS
};
const char *lb_review_age_band_name(int band);   /* "0-17", ..., "85+", "unknown" */

typedef struct lb_review_month {
    char month[LB_REVIEW_MONTH];   /* YYYY-MM */
    long referrals;                /* referrals dated in the month */
    long contacts;                 /* contacts dated in the month */
} lb_review_month;

/* One referral and its wait for a first contact. */
typedef struct lb_review_wait {
    char person[LB_ID_HEX + 1];
    char referral[LB_ID_HEX + 1];
    char date[LB_REVIEW_DATE];            /* referral date */
    char first_contact[LB_REVIEW_DATE];   /* "" while still waiting */
    long days;     /* referral to first contact; while waiting, to as_of */
} lb_review_wait;

/* One follow-up past its due date as of as_of and not done by then. */
typedef struct lb_review_overdue {
    char task[LB_ID_HEX + 1];
    char person[LB_ID_HEX + 1];
    char due[LB_REVIEW_DATE];
    long days;     /* as_of - due, >= 1 */
} lb_review_overdue;

typedef struct lb_review_ons4_pair {
    char person[LB_ID_HEX + 1];
    char baseline[LB_REVIEW_DATE], latest[LB_REVIEW_DATE];   /* dates */
    int before[LB_REVIEW_ONS4_ITEMS], after[LB_REVIEW_ONS4_ITEMS];
} lb_review_ons4_pair;

typedef struct lb_review_swemwbs_pair {
    char person[LB_ID_HEX + 1];
    char baseline[LB_REVIEW_DATE], latest[LB_REVIEW_DATE];
    int raw_before, raw_after;               /* 7-35 */
    double metric_before, metric_after;      /* 7.00-35.00 */
} lb_review_swemwbs_pair;

/* The figures of one scope: the whole team, or one caseload. */
typedef struct lb_review_figures {
    char caseload[LB_CASELOAD_MAX + 1];   /* "" for the team */
    long people;                          /* people in scope now */
    lb_review_tally status;               /* LB_CODES_PERSON_STATUS, now */
    long age[LB_REVIEW_AGE_BANDS];        /* people in scope by age band */
    long carers, interpreters;            /* people flagged as carer / needing one */

    long referrals, referrals_this_month; /* in the period; in as_of's month */
    lb_review_tally sources;              /* LB_CODES_SOURCE, of those referrals */
    lb_review_tally reasons;              /* LB_CODES_REASON (a referral may give several) */
    long contacts, contact_minutes, signposts;   /* in the period */
    lb_review_tally categories;           /* LB_CODES_CATEGORY (several per contact) */
    lb_review_tally modes;                /* LB_CODES_MODE */
    lb_review_month *months;              /* every month of the period, in order */
    size_t n_months;

    lb_review_wait *waits;                /* each referral of the period, by date */
    size_t n_waits;
    long waiting_people;                  /* people with a referral still waiting */
    long waited_n;                        /* referrals that had their first contact */
    double waited_mean, waited_median;    /* days to first contact over those */
    long waited_max, waiting_max;         /* longest wait met, longest still waiting */

    lb_review_overdue *overdue;           /* by due date, oldest first */
    size_t n_overdue;

    long goals_set;                       /* goals dated in the period */
    lb_review_tally goal_status;          /* LB_CODES_GOAL_STATUS of those, now */

    lb_review_ons4_pair *ons4;            /* by person id */
    size_t n_ons4;
    double ons4_mean_change[LB_REVIEW_ONS4_ITEMS];   /* after - before, 0 if none */
    lb_review_swemwbs_pair *swemwbs;
    size_t n_swemwbs;
    double swemwbs_mean_change;           /* metric, after - before */

    long conflicts;                       /* open conflicts about people in scope */
} lb_review_figures;

typedef struct lb_review {
    char from[LB_REVIEW_DATE], to[LB_REVIEW_DATE];   /* "" when open */
    char as_of[LB_REVIEW_DATE];           /* to, or today if to is later or absent */
    char first_month[LB_REVIEW_MONTH], last_month[LB_REVIEW_MONTH];
    lb_review_figures all;                /* the whole scope of the query */
    lb_review_figures *caseloads;         /* one per caseload in scope, by id */
    size_t n_caseloads;
} lb_review;

typedef struct lb_review_query {
    const char *caseload;  /* NULL: the team; else only this caseload's people */
    const char *from;      /* optional YYYY-MM-DD */
    const char *to;        /* optional YYYY-MM-DD, not before from */
    const char *purpose;   /* the audit action: "review" (NULL), "report", "export" */
    int defer_audit;       /* 1: not audited by lb_review_compute; the caller calls
                            * lb_review_audit once its input checks have passed */
} lb_review_query;

/* Compute the figures of q (NULL: the team, no period).  LB_ERR_INVALID
 * (the message names the field: "from", "to", "caseload") for a bad date,
 * to before from, from after today (an empty period), or a period of more
 * than LB_REVIEW_MONTHS_MAX months.  A caseload nobody is on gives zero
 * figures (the caller decides whether the worker exists: lb_team.h).
 * Months run from from's month (else the earliest referral or contact of
 * the period, else as_of's) to the month of to (else of today).  Records
 * the audit event in the same call. */
lb_err lb_review_compute(lb_store *s, const lb_review_query *q, lb_review **out);
void lb_review_free(lb_review *r);

/* Record the audit event of q for the figures r (kind "audit", action
 * q->purpose, fields scope, from, to), as lb_review_compute does unless
 * q->defer_audit. */
lb_err lb_review_audit(lb_store *s, const lb_review_query *q, const lb_review *r);

/* The caseload ids people in this store are on (active assignments), as a
 * NULL-terminated array of strings, sorted; free with lb_review_caseloads_free. */
lb_err lb_review_caseloads(lb_store *s, char ***out);
void lb_review_caseloads_free(char **list);

/* The figures as a JSON document (new reference in *out), keys documented
 * in README.md ("linkbook review --json").  The lists of people (waits,
 * overdue follow-ups, wellbeing pairs) are given for the whole scope
 * ("team") only; each caseload's arrays of them are empty. */
lb_err lb_review_json(const lb_review *r, json_t **out);

#endif
