/* lb_dataset.h - the commissioner's dataset: the figures of lb_review.h as
 * CSV texts, one per group of the Social Prescribing Information Standard:
 * demographics (people by status, age band, carer, interpreter), needs and
 * concerns (referral sources and reasons), support offered (contacts by
 * category and mode, minutes, signposting, waits for a first contact,
 * overdue follow-ups) and outcomes (goals by status, ONS4 and SWEMWBS change
 * from baseline to latest).
 *
 * Caldicott, minimum necessary: only counts, bands and means; no name, NHS
 * number, date of birth, id, note, goal text, signposted service or any
 * other free text.  Small numbers are suppressed: a count from 1 to
 * LB_DATASET_MIN - 1 is written "*", and so is a mean over fewer than
 * LB_DATASET_MIN people; where a breakdown that adds up to a total shown
 * (people by status, contacts by mode...) has exactly one suppressed cell,
 * the next smallest cell is suppressed too, so that it cannot be worked out.
 * Each file says so in its own rows.
 *
 * Every file has the columns group,measure,category,value and begins with
 * "dataset" rows: the standard's group, the period, the scope, the date it
 * was made and the suppression rule.
 */
#ifndef LB_DATASET_H
#define LB_DATASET_H

#include "lb_buf.h"
#include "lb_review.h"

#define LB_DATASET_FILES 4
#define LB_DATASET_MIN 5

typedef struct lb_dataset {
    const char *names[LB_DATASET_FILES];   /* "demographics.csv", ... (static) */
    lb_buf files[LB_DATASET_FILES];        /* the CSV text of each */
} lb_dataset;

/* Build the dataset of figures f (r->all, or one of r->caseloads) of
 * review r, made on date made (YYYY-MM-DD).  *out is initialised here;
 * release it with lb_dataset_clear (also after a failure). */
lb_err lb_dataset_csv(const lb_review *r, const lb_review_figures *f, const char *made,
                      lb_dataset *out);
void lb_dataset_clear(lb_dataset *d);

#endif
