/* lb_codes.h - the coded values of the command-line contract and checks of
 * free input (NHS number, dates, ODS-like codes).
 *
 * Pure functions, no store.  On failure they return LB_ERR_INVALID and, if
 * msg is not NULL, write a message naming the field and what is accepted.
 */
#ifndef LB_CODES_H
#define LB_CODES_H

#include <stddef.h>
#include "lb_err.h"

typedef enum lb_codeset {
    LB_CODES_CATEGORY,    /* intervention categories */
    LB_CODES_MODE,        /* contact modes */
    LB_CODES_SOURCE,      /* referral sources */
    LB_CODES_REASON,      /* referral reasons */
    LB_CODES_ROLE,        /* worker roles */
    LB_CODES_GOAL_STATUS, /* goal statuses */
    LB_CODES_WHEN,        /* measure occasions */
    LB_CODES_PERSON_STATUS,
    LB_CODES_CONSENT,     /* what a person consented to */
    LB_CODES_COUNT
} lb_codeset;

/* NULL-terminated list of the accepted codes of a set. */
const char *const *lb_codes_list(lb_codeset set);

/* Check one value against a set.  field names the field in the message. */
lb_err lb_codes_check(lb_codeset set, const char *field, const char *value,
                      char *msg, size_t msglen);

/* Check a comma-separated list ("a,b") against a set; empty items and
 * duplicates are refused.  On success *count is the number of items. */
lb_err lb_codes_check_list(lb_codeset set, const char *field, const char *csv,
                           size_t *count, char *msg, size_t msglen);

/* NHS number: ten digits, spaces or dashes allowed between them, Modulus 11
 * check.  norm receives the ten digits. */
lb_err lb_nhs_check(const char *field, const char *text, char norm[11],
                    char *msg, size_t msglen);

/* A real calendar date YYYY-MM-DD between 1900-01-01 and 2199-12-31. */
lb_err lb_date_check(const char *field, const char *text, char *msg, size_t msglen);

/* Days since 1970-01-01 of a date that lb_date_check accepts (the civil
 * calendar), so that differences of two are days between them. */
long lb_date_days(const char *date);

/* Parse a whole decimal integer in [min, max] (no sign games, no trailing
 * junk). */
lb_err lb_int_parse(const char *field, const char *text, long min, long max,
                    long *out, char *msg, size_t msglen);

/* Free text: not empty after trimming and at most maxlen bytes of valid
 * UTF-8 without control characters other than newline and tab. */
lb_err lb_text_check(const char *field, const char *text, size_t maxlen,
                     char *msg, size_t msglen);

#endif
