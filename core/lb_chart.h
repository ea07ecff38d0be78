/* lb_chart.h - accessible charts drawn as inline SVG.
 *
 * Two kinds of chart, each written as one <svg> element into an
 * lb_markup writer:
 *   - grouped bars: one bar per category and series (counts per month,
 *     per code), a y axis with ticks, a legend when there are two series;
 *   - paired dots: one line per pair from a "before" score to an "after"
 *     score, in one panel per measure (wellbeing from baseline to latest).
 *
 * Accessibility.  Each chart is <svg role="img" aria-labelledby="ID-t
 * ID-d"> whose first children are <title id="ID-t"> and <desc id="ID-d">;
 * the page puts the table of the same figures beside it as the text
 * alternative.  Series and directions differ in more than colour (a hatch,
 * a dash), and every colour has at least 3:1 contrast on white.
 *
 * Marks.  Every drawn datum has class "mark": a bar per category and
 * series, zeros included (as a bar of no height); a pair per panel.  A
 * page can be checked by counting them.
 *
 * All text (labels, titles) is escaped; ids must be [a-z0-9-] and unique
 * in the page.  The functions only write markup: they read no store and
 * keep nothing.  LB_ERR_INVALID for a spec they cannot draw (no
 * categories, a bad id, a negative count, an empty scale), LB_ERR_NOMEM
 * when the writer failed.
 */
#ifndef LB_CHART_H
#define LB_CHART_H

#include <stddef.h>
#include "lb_markup.h"

#define LB_CHART_SERIES_MAX 2

typedef struct lb_chart_series {
    const char *name;        /* for the legend: "referrals" */
    const double *values;    /* one count per category, >= 0 */
} lb_chart_series;

typedef struct lb_chart_bars {
    const char *id;          /* [a-z0-9-]+, prefixes the ids inside */
    const char *title;       /* short: the <title> */
    const char *desc;        /* what it shows and what stands out */
    const char *x_label;     /* axis titles */
    const char *y_label;
    const char *const *labels;   /* ncat category labels, in order */
    size_t ncat;
    const lb_chart_series *series;   /* 1 to LB_CHART_SERIES_MAX */
    size_t nseries;
} lb_chart_bars;

lb_err lb_chart_bars_svg(lb_markup *m, const lb_chart_bars *c);

typedef struct lb_chart_panel {
    const char *name;        /* above the panel: "life satisfaction" */
    const double *before;    /* n scores each */
    const double *after;
    int lower_is_better;     /* anxiety: a fall is the better direction */
} lb_chart_panel;

typedef struct lb_chart_pairs {
    const char *id, *title, *desc;
    const char *before_label;    /* under the left axis: "baseline" */
    const char *after_label;     /* under the right axis: "latest" */
    double min, max;             /* the scale of every panel, min < max */
    double tick;                 /* distance between ticks, > 0 */
    size_t n;                    /* pairs in every panel (0 draws none) */
    const lb_chart_panel *panels;
    size_t npanels;              /* 1 or more */
} lb_chart_pairs;

lb_err lb_chart_pairs_svg(lb_markup *m, const lb_chart_pairs *c);

#endif
