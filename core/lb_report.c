/* lb_report.c - the team's report as one self-contained HTML page (see
 * lb_report.h).  The page is written top to bottom: head and style, the
 * key figures, one section per chart with its table, the caseloads, and
 * how the figures are counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_chart.h"
#include "lb_codes.h"
#include "lb_report.h"

#define DESC_MAX 600

static const char STYLE[] =
    ":root{color-scheme:light}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;color:#1a1a1a;"
    "background:#fff;line-height:1.45;margin:0 auto;max-width:62rem;padding:1rem 1.5rem}"
    "h1{font-size:1.7rem;margin:.5rem 0}"
    "h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:2px solid #1f4e79;"
    "padding-bottom:.2rem}"
    "h3{font-size:1.1rem;margin-top:1.5rem}"
    "a{color:#1f4e79}"
    "dl.key{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));"
    "gap:.5rem;margin:1rem 0}"
    "dl.key div{border:1px solid #767676;border-radius:4px;padding:.4rem .6rem}"
    "dl.key dt{font-size:.9rem}"
    "dl.key dd{margin:0;font-size:1.4rem;font-weight:bold}"
    "figure{margin:1rem 0}"
    "svg.chart{max-width:100%;height:auto;display:block}"
    "figcaption{font-size:.9rem;margin-top:.3rem}"
    "table{border-collapse:collapse;margin:.8rem 0}"
    "caption{text-align:left;font-weight:bold;padding:.3rem 0}"
    "th,td{border:1px solid #767676;padding:.25rem .6rem;text-align:left}"
    ".n{text-align:right;font-variant-numeric:tabular-nums}"
    "thead th{background:#e8eef4}"
    "tfoot th,tfoot td{font-weight:bold}"
    ".none{font-style:italic}"
    "summary{cursor:pointer;color:#1f4e79}"
    "footer{margin-top:2.5rem;font-size:.9rem;border-top:1px solid #767676}"
    "@page{margin:15mm}"
    "@media print{"
    "body{max-width:none;padding:0;font-size:10pt}"
    "nav{display:none}"
    "h2,h3{break-after:avoid;page-break-after:avoid}"
    "figure,table,dl.key{break-inside:avoid;page-break-inside:avoid}"
    "a{color:inherit;text-decoration:none}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

static const char *const wait_ranges[LB_REPORT_WAIT_RANGES] = {
    "0-7 days", "8-14 days", "15-28 days", "29-56 days", "57 days or more"};

static const char *const ons4_items[LB_REVIEW_ONS4_ITEMS] = {
    "life satisfaction", "worthwhile", "happy yesterday", "anxious yesterday"};

/* ---- small pieces ------------------------------------------------------------ */

static size_t code_count(lb_codeset set)
{
    const char *const *list = lb_codes_list(set);
    size_t n = 0;
    while (list[n])
        n++;
    return n < LB_REVIEW_TALLY_MAX ? n : LB_REVIEW_TALLY_MAX;
}

static long tally_of(const lb_review_tally *t, const char *code)
{
    const char *const *list = lb_codes_list(t->set);
    for (size_t i = 0; i < code_count(t->set); i++)
        if (strcmp(list[i], code) == 0)
            return t->n[i];
    return 0;
}

static void element(lb_markup *m, const char *tag, const char *text)
{
    lb_markup_fmt(m, "<%s>", tag);
    lb_markup_text(m, text);
    lb_markup_fmt(m, "</%s>", tag);
}

static void td_num(lb_markup *m, double v, int decimals)
{
    lb_markup_raw(m, "<td class=\"n\">");
    lb_markup_num(m, v, decimals);
    lb_markup_raw(m, "</td>");
}

static void td_change(lb_markup *m, double v)
{
    lb_markup_raw(m, "<td class=\"n\">");
    if (v > 0)
        lb_markup_raw(m, "+");
    lb_markup_num(m, v, 2);
    lb_markup_raw(m, "</td>");
}

/* <table><caption/><thead><tr><th scope="col">...</tr></thead><tbody>; the
 * first heading is a text column, the others numbers. */
static void table_open(lb_markup *m, const char *caption, const char *const *heads)
{
    lb_markup_raw(m, "<table>");
    element(m, "caption", caption);
    lb_markup_raw(m, "<thead><tr>");
    for (size_t i = 0; heads[i]; i++) {
        lb_markup_raw(m, i ? "<th scope=\"col\" class=\"n\">" : "<th scope=\"col\">");
        lb_markup_text(m, heads[i]);
        lb_markup_raw(m, "</th>");
    }
    lb_markup_raw(m, "</tr></thead><tbody>");
}

static void row_head(lb_markup *m, const char *label)
{
    lb_markup_raw(m, "<tr><th scope=\"row\">");
    lb_markup_text(m, label);
    lb_markup_raw(m, "</th>");
}

static void section_open(lb_markup *m, const char *id, const char *title)
{
    lb_markup_raw(m, "<section aria-labelledby=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "\"><h2 id=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "\">");
    lb_markup_text(m, title);
    lb_markup_raw(m, "</h2>");
}

static void para(lb_markup *m, const char *cls, const char *text)
{
    if (cls)
        lb_markup_fmt(m, "<p class=\"%s\">", cls);
    else
        lb_markup_raw(m, "<p>");
    lb_markup_text(m, text);
    lb_markup_raw(m, "</p>");
}

/* A chart inside a figure with a visible caption that points at the table. */
static void figure_open(lb_markup *m)
{
    lb_markup_raw(m, "<figure>");
}

static void figure_close(lb_markup *m, const char *caption)
{
    element(m, "figcaption", caption);
    lb_markup_raw(m, "</figure>");
}

static const char *period_from(const lb_review *r)
{
    return r->from[0] ? r->from : r->first_month;
}

static const char *period_to(const lb_review *r)
{
    return r->to[0] ? r->to : r->as_of;
}

/* ---- head, key figures, contents ------------------------------------------------ */

static void page_head(lb_markup *m, const lb_review *r)
{
    lb_markup_raw(m, "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
                  "<meta name=\"referrer\" content=\"no-referrer\">"
                  "<meta name=\"generator\" content=\"linkbook\"><title>Caseload report, ");
    lb_markup_text(m, period_from(r));
    lb_markup_raw(m, " to ");
    lb_markup_text(m, period_to(r));
    lb_markup_raw(m, "</title><style>");
    lb_markup_raw(m, STYLE);
    lb_markup_raw(m, "</style></head>\n<body>");
}

static void key_figure(lb_markup *m, const char *label, double v, int decimals)
{
    lb_markup_raw(m, "<div>");
    element(m, "dt", label);
    lb_markup_raw(m, "<dd>");
    lb_markup_num(m, v, decimals);
    lb_markup_raw(m, "</dd></div>");
}

static void page_header(lb_markup *m, const lb_review *r, const lb_report_opts *o)
{
    const lb_review_figures *f = &r->all;
    char text[DESC_MAX];
    lb_markup_raw(m, "<header><h1>Caseload report</h1>");
    snprintf(text, sizeof text, "Period: %s to %s. Waiting times and overdue follow-ups as "
             "of %s; goals by the status they have on %s.", period_from(r), period_to(r),
             r->as_of, o->made ? o->made : r->as_of);
    para(m, NULL, text);
    para(m, NULL, "Aggregate figures for every caseload this device holds: no names, "
         "NHS numbers, notes or other free text.");
    lb_markup_raw(m, "<h2 id=\"key\">Key figures</h2>"
                  "<dl class=\"key\" aria-labelledby=\"key\">");
    key_figure(m, "people on the caseloads", (double)f->people, 0);
    key_figure(m, "referrals in the period", (double)f->referrals, 0);
    key_figure(m, "contacts in the period", (double)f->contacts, 0);
    key_figure(m, "hours of contact", (double)f->contact_minutes / 60.0, 1);
    key_figure(m, "people waiting for a first contact", (double)f->waiting_people, 0);
    key_figure(m, "overdue follow-ups", (double)f->n_overdue, 0);
    key_figure(m, "goals set in the period", (double)f->goals_set, 0);
    key_figure(m, "open conflicts", (double)f->conflicts, 0);
    lb_markup_raw(m, "</dl></header>");
}

static void contents(lb_markup *m)
{
    static const char *const links[][2] = {
        {"months", "Referrals and contacts per month"},
        {"categories", "Contacts by intervention category"},
        {"waits", "Waiting for a first contact"},
        {"goals", "Goals by status"},
        {"wellbeing", "Wellbeing change"},
        {"caseloads", "Caseloads"},
        {"counting", "How the figures are counted"}};
    lb_markup_raw(m, "<nav aria-label=\"Contents\"><h2 id=\"contents\">Contents</h2><ul>");
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        lb_markup_fmt(m, "<li><a href=\"#%s\">%s</a></li>", links[i][0], links[i][1]);
    lb_markup_raw(m, "</ul></nav>");
}

/* ---- referrals and contacts per month ------------------------------------------ */

static lb_err months_chart(lb_markup *m, const lb_review_figures *f, const char *desc)
{
    const char **labels = calloc(f->n_months, sizeof *labels);
    double *v = calloc(2 * f->n_months, sizeof *v);
    lb_err err = LB_ERR_NOMEM;
    if (labels && v) {
        lb_chart_series s[2] = {{"referrals", v}, {"contacts", v + f->n_months}};
        lb_chart_bars c = {"chart-months", "Referrals and contacts per month", desc,
                           "month", "count", labels, f->n_months, s, 2};
        for (size_t i = 0; i < f->n_months; i++) {
            labels[i] = f->months[i].month;
            v[i] = (double)f->months[i].referrals;
            v[f->n_months + i] = (double)f->months[i].contacts;
        }
        err = lb_chart_bars_svg(m, &c);
    }
    free(labels);
    free(v);
    return err;
}

static void months_table(lb_markup *m, const lb_review_figures *f)
{
    static const char *const heads[] = {"Month", "Referrals", "Contacts", NULL};
    table_open(m, "Referrals and contacts per month", heads);
    for (size_t i = 0; i < f->n_months; i++) {
        row_head(m, f->months[i].month);
        td_num(m, (double)f->months[i].referrals, 0);
        td_num(m, (double)f->months[i].contacts, 0);
        lb_markup_raw(m, "</tr>");
    }
    lb_markup_raw(m, "</tbody><tfoot>");
    row_head(m, "All months");
    td_num(m, (double)f->referrals, 0);
    td_num(m, (double)f->contacts, 0);
    lb_markup_raw(m, "</tr></tfoot></table>");
}

static lb_err section_months(lb_markup *m, const lb_review_figures *f)
{
    char desc[DESC_MAX];
    size_t busiest = 0;
    lb_err err = LB_OK;
    section_open(m, "months", "Referrals and contacts per month");
    if (!f->n_months || (!f->referrals && !f->contacts)) {
        para(m, "none", "No referrals or contacts in this period.");
        lb_markup_raw(m, "</section>");
        return LB_OK;
    }
    for (size_t i = 1; i < f->n_months; i++)
        if (f->months[i].contacts > f->months[busiest].contacts)
            busiest = i;
    snprintf(desc, sizeof desc, "Bar chart of referrals and contacts per month, %zu months "
             "from %s to %s. In all, referrals: %ld, contacts: %ld. Most contacts in one "
             "month: %ld, in %s.", f->n_months, f->months[0].month,
             f->months[f->n_months - 1].month,
             f->referrals, f->contacts, f->months[busiest].contacts,
             f->months[busiest].month);
    figure_open(m);
    err = months_chart(m, f, desc);
    figure_close(m, "Referrals (solid) and contacts (hatched) per month. The table below "
                 "gives the same figures.");
    months_table(m, f);
    lb_markup_raw(m, "</section>");
    return err;
}

/* ---- a tally of codes (categories, goal statuses) -------------------------------- */

typedef struct tally_view {
    const char *section, *title, *chart_id, *x_label, *y_label;
    const char *what;          /* "contacts", "goals" */
    const char *column;        /* its table heading: "Contacts" */
    const char *share;         /* "% of contacts" */
    const char *note;          /* under the table, or NULL */
    const lb_review_tally *t;
    long total;                /* what shares are taken of */
} tally_view;

static lb_err tally_chart(lb_markup *m, const tally_view *tv, const char *desc)
{
    const char *const *codes = lb_codes_list(tv->t->set);
    size_t n = code_count(tv->t->set), k = n + (tv->t->other > 0);
    const char *labels[LB_REVIEW_TALLY_MAX + 1];
    double v[LB_REVIEW_TALLY_MAX + 1];
    lb_chart_series s = {tv->what, v};
    lb_chart_bars c = {tv->chart_id, tv->title, desc, tv->x_label, tv->y_label, labels, k,
                       &s, 1};
    for (size_t i = 0; i < n; i++) {
        labels[i] = codes[i];
        v[i] = (double)tv->t->n[i];
    }
    if (k > n) {
        labels[n] = "other";
        v[n] = (double)tv->t->other;
    }
    return lb_chart_bars_svg(m, &c);
}

static void tally_row(lb_markup *m, const char *label, long n, long total)
{
    row_head(m, label);
    td_num(m, (double)n, 0);
    td_num(m, total > 0 ? 100.0 * (double)n / (double)total : 0.0, 1);
    lb_markup_raw(m, "</tr>");
}

static void tally_table(lb_markup *m, const tally_view *tv)
{
    const char *const *codes = lb_codes_list(tv->t->set);
    const char *heads[] = {"Code", tv->column, tv->share, NULL};
    table_open(m, tv->title, heads);
    for (size_t i = 0; i < code_count(tv->t->set); i++)
        tally_row(m, codes[i], tv->t->n[i], tv->total);
    if (tv->t->other > 0)
        tally_row(m, "other", tv->t->other, tv->total);
    lb_markup_raw(m, "</tbody></table>");
    if (tv->note)
        para(m, NULL, tv->note);
}

static lb_err section_tally(lb_markup *m, const tally_view *tv)
{
    const char *const *codes = lb_codes_list(tv->t->set);
    char desc[DESC_MAX];
    size_t top = 0;
    lb_err err;
    section_open(m, tv->section, tv->title);
    if (tv->total <= 0) {
        lb_markup_raw(m, "<p class=\"none\">No ");
        lb_markup_text(m, tv->what);
        lb_markup_raw(m, " in this period.</p></section>");
        return LB_OK;
    }
    for (size_t i = 1; i < code_count(tv->t->set); i++)
        if (tv->t->n[i] > tv->t->n[top])
            top = i;
    snprintf(desc, sizeof desc, "Bar chart of %s by code; in all: %ld. The largest: %ld, %s.",
             tv->what, tv->total, tv->t->n[top], codes[top]);
    figure_open(m);
    err = tally_chart(m, tv, desc);
    figure_close(m, "The table below gives the same figures.");
    tally_table(m, tv);
    lb_markup_raw(m, "</section>");
    return err;
}

/* ---- waiting for a first contact ------------------------------------------------ */

static size_t wait_range(long days)
{
    static const long upto[LB_REPORT_WAIT_RANGES - 1] = {7, 14, 28, 56};
    size_t i = 0;
    while (i < LB_REPORT_WAIT_RANGES - 1 && days > upto[i])
        i++;
    return i;
}

/* Referrals by range of days: seen[] waited that long for their first
 * contact, waiting[] have waited that long so far. */
static void wait_counts(const lb_review_figures *f, double *seen, double *waiting)
{
    memset(seen, 0, LB_REPORT_WAIT_RANGES * sizeof *seen);
    memset(waiting, 0, LB_REPORT_WAIT_RANGES * sizeof *waiting);
    for (size_t i = 0; i < f->n_waits; i++) {
        const lb_review_wait *w = &f->waits[i];
        if (w->first_contact[0])
            seen[wait_range(w->days)] += 1;
        else
            waiting[wait_range(w->days)] += 1;
    }
}

static void waits_table(lb_markup *m, const double *seen, const double *waiting)
{
    static const char *const heads[] = {"Days", "First contact made", "Still waiting", NULL};
    table_open(m, "Referrals by days waited for a first contact", heads);
    for (size_t i = 0; i < LB_REPORT_WAIT_RANGES; i++) {
        row_head(m, wait_ranges[i]);
        td_num(m, seen[i], 0);
        td_num(m, waiting[i], 0);
        lb_markup_raw(m, "</tr>");
    }
    lb_markup_raw(m, "</tbody></table>");
}

static void waits_summary(lb_markup *m, const lb_review *r, const lb_review_figures *f)
{
    char text[DESC_MAX];
    if (f->waited_n > 0)
        snprintf(text, sizeof text, "Of %zu referrals in the period, %ld had a first "
                 "contact: after a median of %.1f days (mean %.1f, longest %ld).",
                 f->n_waits, f->waited_n, f->waited_median, f->waited_mean, f->waited_max);
    else
        snprintf(text, sizeof text, "Of %zu referrals in the period, none has had a first "
                 "contact yet.", f->n_waits);
    para(m, NULL, text);
    snprintf(text, sizeof text, "%ld %s still waiting for a first contact on %s; the "
             "longest wait so far is %ld days.", f->waiting_people,
             f->waiting_people == 1 ? "person is" : "people are", r->as_of, f->waiting_max);
    para(m, NULL, text);
}

static lb_err section_waits(lb_markup *m, const lb_review *r, const lb_review_figures *f)
{
    static const char *const *labels = wait_ranges;
    double seen[LB_REPORT_WAIT_RANGES], waiting[LB_REPORT_WAIT_RANGES];
    lb_chart_series s[2] = {{"first contact made", seen}, {"still waiting", waiting}};
    char desc[DESC_MAX];
    lb_err err;
    section_open(m, "waits", "Waiting for a first contact");
    if (!f->n_waits) {
        para(m, "none", "No referrals in this period.");
        lb_markup_raw(m, "</section>");
        return LB_OK;
    }
    wait_counts(f, seen, waiting);
    snprintf(desc, sizeof desc, "Bar chart: referrals of the period by days waited, in five "
             "ranges from 0-7 days to 57 days or more, for those who had a first contact "
             "(referrals: %ld) and those still waiting (referrals: %zu).", f->waited_n,
             f->n_waits - (size_t)f->waited_n);
    {
        lb_chart_bars c = {"chart-waits", "Days waited for a first contact", desc,
                           "days from referral to first contact", "referrals", labels,
                           LB_REPORT_WAIT_RANGES, s, 2};
        figure_open(m);
        err = lb_chart_bars_svg(m, &c);
    }
    figure_close(m, "First contact made (solid) and still waiting (hatched), by days. The "
                 "table below gives the same figures.");
    waits_summary(m, r, f);
    waits_table(m, seen, waiting);
    lb_markup_raw(m, "</section>");
    return err;
}

/* ---- wellbeing change ------------------------------------------------------------- */

typedef struct directions {
    long better, same, worse;
} directions;

static directions count_directions(const double *before, const double *after, size_t n,
                                   int lower_is_better)
{
    directions d = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (after[i] == before[i])
            d.same++;
        else if ((after[i] > before[i]) != (lower_is_better != 0))
            d.better++;
        else
            d.worse++;
    }
    return d;
}

static void change_row(lb_markup *m, const char *label, size_t n, directions d,
                       double mean_change)
{
    row_head(m, label);
    td_num(m, (double)n, 0);
    td_num(m, (double)d.better, 0);
    td_num(m, (double)d.same, 0);
    td_num(m, (double)d.worse, 0);
    td_change(m, mean_change);
    lb_markup_raw(m, "</tr>");
}

static const char *const change_heads[] = {"Measure", "People", "Better", "No change",
                                           "Worse", "Mean change", NULL};

/* Both scores of every pair, in order of value (never of person). */
static int cmp_pair(const void *a, const void *b)
{
    const double *x = a, *y = b;
    for (size_t i = 0; i < 2 * LB_REVIEW_ONS4_ITEMS; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* The pairs as rows of k before/after columns: rows[i * 2k + 2j] is item
 * j's baseline of pair i, [.. + 1] its latest; sorted by value. */
static void pairs_table(lb_markup *m, const char *caption, const char *const *items,
                        size_t k, double *rows, size_t n, int decimals)
{
    size_t w = 2 * LB_REVIEW_ONS4_ITEMS;
    qsort(rows, n, w * sizeof *rows, cmp_pair);
    lb_markup_raw(m, "<details><summary>Every pair of scores</summary><table>");
    element(m, "caption", caption);
    lb_markup_raw(m, "<thead><tr>");
    for (size_t j = 0; j < k; j++) {
        lb_markup_raw(m, "<th scope=\"col\" class=\"n\">");
        lb_markup_text(m, items[j]);
        lb_markup_raw(m, ", baseline</th><th scope=\"col\" class=\"n\">");
        lb_markup_text(m, items[j]);
        lb_markup_raw(m, ", latest</th>");
    }
    lb_markup_raw(m, "</tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        lb_markup_raw(m, "<tr>");
        for (size_t j = 0; j < 2 * k; j++)
            td_num(m, rows[i * w + j], decimals);
        lb_markup_raw(m, "</tr>");
    }
    lb_markup_raw(m, "</tbody></table></details>");
}

/* Scores of n pairs: panels of before/after arrays, and the rows of
 * pairs_table. */
typedef struct pair_scores {
    size_t n;
    double *before[LB_REVIEW_ONS4_ITEMS], *after[LB_REVIEW_ONS4_ITEMS];
    double *rows;
} pair_scores;

static void scores_free(pair_scores *p)
{
    for (size_t j = 0; j < LB_REVIEW_ONS4_ITEMS; j++) {
        free(p->before[j]);
        free(p->after[j]);
    }
    free(p->rows);
}

static lb_err scores_alloc(pair_scores *p, size_t n, size_t items)
{
    size_t k = n ? n : 1;
    int ok = 1;
    memset(p, 0, sizeof *p);
    p->n = n;
    for (size_t j = 0; j < items; j++) {
        p->before[j] = calloc(k, sizeof(double));
        p->after[j] = calloc(k, sizeof(double));
        ok = ok && p->before[j] && p->after[j];
    }
    p->rows = calloc(k * 2 * LB_REVIEW_ONS4_ITEMS, sizeof(double));
    if (ok && p->rows)
        return LB_OK;
    scores_free(p);
    return LB_ERR_NOMEM;
}

static void set_score(pair_scores *p, size_t i, size_t j, double before, double after)
{
    p->before[j][i] = before;
    p->after[j][i] = after;
    p->rows[i * 2 * LB_REVIEW_ONS4_ITEMS + 2 * j] = before;
    p->rows[i * 2 * LB_REVIEW_ONS4_ITEMS + 2 * j + 1] = after;
}

static lb_err swemwbs_draw(lb_markup *m, const lb_review_figures *f, pair_scores *p)
{
    static const char *const item[] = {"SWEMWBS metric score"};
    lb_chart_panel panel = {item[0], p->before[0], p->after[0], 0};
    directions d = count_directions(p->before[0], p->after[0], p->n, 0);
    char desc[DESC_MAX];
    lb_chart_pairs c = {"chart-swemwbs", "SWEMWBS: baseline to latest", desc, "baseline",
                        "latest", 7, 35, 7, p->n, &panel, 1};
    lb_err err;
    snprintf(desc, sizeof desc, "Paired dots, one line per person (people: %zu): the "
             "SWEMWBS metric score (7 to 35, higher is better) at baseline joined to the "
             "latest. Better: %ld, no change: %ld, worse: %ld; mean change %+.2f.", p->n,
             d.better, d.same, d.worse, f->swemwbs_mean_change);
    figure_open(m);
    err = lb_chart_pairs_svg(m, &c);
    figure_close(m, "Each line is one person: better (solid), worse (dashed), no change "
                 "(dotted). The tables below give the same figures.");
    table_open(m, "SWEMWBS: change from baseline to latest", change_heads);
    change_row(m, item[0], p->n, d, f->swemwbs_mean_change);
    lb_markup_raw(m, "</tbody></table>");
    pairs_table(m, "SWEMWBS metric score of every pair", item, 1, p->rows, p->n, 2);
    return err;
}

static lb_err swemwbs_part(lb_markup *m, const lb_review_figures *f)
{
    pair_scores p;
    lb_err err;
    lb_markup_raw(m, "<h3 id=\"swemwbs\">SWEMWBS (short Warwick-Edinburgh)</h3>");
    if (!f->n_swemwbs) {
        para(m, "none", "No one has a baseline and a later SWEMWBS in this period.");
        return LB_OK;
    }
    if ((err = scores_alloc(&p, f->n_swemwbs, 1)) != LB_OK)
        return err;
    for (size_t i = 0; i < p.n; i++)
        set_score(&p, i, 0, f->swemwbs[i].metric_before, f->swemwbs[i].metric_after);
    err = swemwbs_draw(m, f, &p);
    scores_free(&p);
    return err;
}

static lb_err ons4_draw(lb_markup *m, const lb_review_figures *f, pair_scores *p)
{
    lb_chart_panel panel[LB_REVIEW_ONS4_ITEMS];
    directions d[LB_REVIEW_ONS4_ITEMS];
    char desc[DESC_MAX];
    lb_chart_pairs c = {"chart-ons4", "ONS4: baseline to latest, item by item", desc,
                        "baseline", "latest", 0, 10, 2, p->n, panel, LB_REVIEW_ONS4_ITEMS};
    lb_err err;
    for (size_t j = 0; j < LB_REVIEW_ONS4_ITEMS; j++) {
        int lower = j == LB_REVIEW_ONS4_ITEMS - 1;   /* anxious: lower is better */
        panel[j] = (lb_chart_panel){ons4_items[j], p->before[j], p->after[j], lower};
        d[j] = count_directions(p->before[j], p->after[j], p->n, lower);
    }
    snprintf(desc, sizeof desc, "Paired dots in four panels, one per ONS4 item (0 to 10; "
             "for anxiety lower is better), one line per person (people: %zu): the baseline "
             "answer joined to the latest. Better / worse: satisfaction %ld / %ld, worthwhile "
             "%ld / %ld, happy %ld / %ld, anxious %ld / %ld.", p->n, d[0].better, d[0].worse,
             d[1].better, d[1].worse, d[2].better, d[2].worse, d[3].better, d[3].worse);
    figure_open(m);
    err = lb_chart_pairs_svg(m, &c);
    figure_close(m, "Each line is one person: better (solid), worse (dashed), no change "
                 "(dotted). The tables below give the same figures.");
    table_open(m, "ONS4: change from baseline to latest, item by item", change_heads);
    for (size_t j = 0; j < LB_REVIEW_ONS4_ITEMS; j++)
        change_row(m, ons4_items[j], p->n, d[j], f->ons4_mean_change[j]);
    lb_markup_raw(m, "</tbody></table>");
    pairs_table(m, "ONS4 answers of every pair", ons4_items, LB_REVIEW_ONS4_ITEMS, p->rows,
                p->n, 0);
    return err;
}

static lb_err ons4_part(lb_markup *m, const lb_review_figures *f)
{
    pair_scores p;
    lb_err err;
    lb_markup_raw(m, "<h3 id=\"ons4\">ONS4 personal wellbeing</h3>");
    if (!f->n_ons4) {
        para(m, "none", "No one has a baseline and a later ONS4 in this period.");
        return LB_OK;
    }
    if ((err = scores_alloc(&p, f->n_ons4, LB_REVIEW_ONS4_ITEMS)) != LB_OK)
        return err;
    for (size_t i = 0; i < p.n; i++)
        for (size_t j = 0; j < LB_REVIEW_ONS4_ITEMS; j++)
            set_score(&p, i, j, f->ons4[i].before[j], f->ons4[i].after[j]);
    err = ons4_draw(m, f, &p);
    scores_free(&p);
    return err;
}

static lb_err section_wellbeing(lb_markup *m, const lb_review_figures *f)
{
    lb_err err;
    section_open(m, "wellbeing", "Wellbeing change");
    para(m, NULL, "Each person's first baseline measure paired with their latest measure "
         "of the same instrument, for pairs whose latest measure falls in the period.");
    err = swemwbs_part(m, f);
    if (err == LB_OK)
        err = ons4_part(m, f);
    lb_markup_raw(m, "</section>");
    return err;
}

/* ---- caseloads, counting, the page -------------------------------------------------- */

static void caseload_row(lb_markup *m, const char *name, const lb_review_figures *f)
{
    row_head(m, name);
    td_num(m, (double)f->people, 0);
    td_num(m, (double)f->referrals, 0);
    td_num(m, (double)f->contacts, 0);
    td_num(m, (double)f->waiting_people, 0);
    td_num(m, (double)f->n_overdue, 0);
    td_num(m, (double)f->goals_set, 0);
    td_num(m, (double)tally_of(&f->goal_status, "achieved"), 0);
    lb_markup_raw(m, "</tr>");
}

static void section_caseloads(lb_markup *m, const lb_review *r, const lb_report_opts *o)
{
    static const char *const heads[] = {"Caseload", "People", "Referrals", "Contacts",
                                        "Waiting now", "Overdue follow-ups", "Goals set",
                                        "Goals achieved", NULL};
    section_open(m, "caseloads", "Caseloads");
    if (!r->n_caseloads) {
        para(m, "none", "No one is on a caseload.");
        lb_markup_raw(m, "</section>");
        return;
    }
    para(m, NULL, "A person on two caseloads counts in both, and once in all caseloads.");
    table_open(m, "Figures of each caseload", heads);
    for (size_t i = 0; i < r->n_caseloads; i++) {
        const char *name = o->caseload_names && o->caseload_names[i] ? o->caseload_names[i]
                                                                   : r->caseloads[i].caseload;
        caseload_row(m, name, &r->caseloads[i]);
    }
    lb_markup_raw(m, "</tbody><tfoot>");
    caseload_row(m, "All caseloads", &r->all);
    lb_markup_raw(m, "</tfoot></table></section>");
}

static void section_counting(lb_markup *m, const lb_report_opts *o)
{
    static const char *const items[] = {
        "Referrals, contacts and goals count in the period by their own date; goals "
        "by the status they have now.",
        "A contact may name several intervention categories and counts once in each.",
        "A referral waits from its date to the person's first contact on or after it; "
        "one with no contact yet is still waiting, counted up to the end of the period "
        "or today.",
        "Wellbeing pairs a person's first baseline measure with their latest measure of "
        "the same instrument. ONS4 items are never added up; for anxiety a fall is "
        "better. SWEMWBS is the metric score converted from the raw total.",
        "Made on a device that holds the team key: the server never sees these figures."};
    lb_markup_raw(m, "<footer><h2 id=\"counting\">How the figures are counted</h2><ul>");
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        element(m, "li", items[i]);
    lb_markup_raw(m, "</ul><p>Made by linkbook ");
    lb_markup_text(m, o->version ? o->version : "");
    if (o->made) {
        lb_markup_raw(m, " on ");
        lb_markup_text(m, o->made);
    }
    lb_markup_raw(m, ".</p></footer>");
}

static lb_err page_body(lb_markup *m, const lb_review *r)
{
    const lb_review_figures *f = &r->all;
    tally_view cats = {"categories", "Contacts by intervention category", "chart-categories",
                       "intervention category", "contacts", "contacts", "Contacts",
                       "% of contacts", "A contact may name several categories, so the "
                       "shares add up to more than 100%.", &f->categories, f->contacts};
    tally_view goals = {"goals", "Goals by status", "chart-goals", "status now", "goals",
                        "goals", "Goals", "% of goals", "Goals set in the period, by the "
                        "status they have now.", &f->goal_status, f->goals_set};
    lb_err err = section_months(m, f);
    if (err == LB_OK)
        err = section_tally(m, &cats);
    if (err == LB_OK)
        err = section_waits(m, r, f);
    if (err == LB_OK)
        err = section_tally(m, &goals);
    if (err == LB_OK)
        err = section_wellbeing(m, f);
    return err;
}

lb_err lb_report_html(const lb_review *r, const lb_report_opts *o, lb_markup *m)
{
    lb_err err;
    page_head(m, r);
    page_header(m, r, o);
    contents(m);
    lb_markup_raw(m, "<main>");
    err = page_body(m, r);
    if (err != LB_OK)
        return err;
    section_caseloads(m, r, o);
    lb_markup_raw(m, "</main>");
    section_counting(m, o);
    lb_markup_raw(m, "</body></html>\n");
    return lb_markup_status(m);
}

int lb_report_empty(const lb_review *r)
{
    const lb_review_figures *f = &r->all;
    return !f->referrals && !f->contacts && !f->goals_set && !f->n_ons4 && !f->n_swemwbs;
}
