/* lb_report.h - the team's report as one self-contained HTML page.
 *
 * The page draws the figures of lb_review_compute (lb_review.h) and
 * computes none of its own beyond putting them into classes for a chart
 * (waiting days into ranges, pairs into better / no change / worse):
 * referrals and contacts per month, contacts by intervention category,
 * waiting times for a first contact, goals by status, wellbeing change
 * (paired baseline -> latest per person, SWEMWBS and each ONS4 item),
 * and the figures of each caseload.  Each chart is inline SVG
 * (lb_chart.h) followed by the table of the same figures, its text
 * alternative.
 *
 * Self-contained: one file with its style inline; no script, no font, no
 * image, no link to anything outside it, and a Content-Security-Policy
 * that forbids the browser to fetch anything at all.  Aggregate: no
 * person's name, NHS number, id, note or other free text appears; pairs
 * are listed by value only, in order of value.  Caseloads appear under
 * the names the caller gives (a worker's name) or their ids.
 *
 * Chart ids and mark counts (one mark per datum, see lb_chart.h):
 *   "chart-months"      2 per month of the period (referrals, contacts)
 *   "chart-categories"  1 per intervention category
 *   "chart-waits"       2 per waiting range (LB_REPORT_WAIT_RANGES)
 *   "chart-goals"       1 per goal status
 *   "chart-swemwbs"     1 per SWEMWBS pair
 *   "chart-ons4"        4 per ONS4 pair (one per item)
 * A chart with no data is left out, and its section says so.
 */
#ifndef LB_REPORT_H
#define LB_REPORT_H

#include "lb_markup.h"
#include "lb_review.h"

#define LB_REPORT_WAIT_RANGES 5   /* 0-7, 8-14, 15-28, 29-56, 57+ days */

typedef struct lb_report_opts {
    const char *made;        /* the date it is made, YYYY-MM-DD, for the header */
    const char *version;     /* linkbook's version, for the footer */
    const char *const *caseload_names;   /* NULL, or one name (or NULL) per
                                            r->caseloads entry */
} lb_report_opts;

/* Write the page for r into m (initialised by the caller, who takes
 * m->buf.data).  LB_ERR_NOMEM when the writer ran out of room or memory,
 * LB_ERR_INVALID for figures that cannot be drawn (a bug upstream). */
lb_err lb_report_html(const lb_review *r, const lb_report_opts *o, lb_markup *m);

/* Whether r's period holds nothing to report: no referral, contact, goal
 * or wellbeing pair. */
int lb_report_empty(const lb_review *r);

#endif
