/* lb_chart.c - accessible SVG charts: grouped bars and paired dots (see
 * lb_chart.h).  Coordinates are in SVG user units; the page scales the
 * whole drawing to its width. */
#include <math.h>   /* isfinite only: no libm */
#include <string.h>
#include "lb_chart.h"

#define INK "#1a1a1a"          /* text and axes: 17:1 on white */
#define GRID "#d9d9d9"         /* decorative grid lines */
#define SERIES0 "#1f4e79"      /* dark blue: 8.6:1 */
#define SERIES1 "#a84b00"      /* burnt orange: 5.4:1, hatched */
#define BETTER SERIES0
#define WORSE SERIES1
#define SAME "#595959"         /* grey: 7:1 */
#define FONT "font-family=\"system-ui,-apple-system,'Segoe UI',Arial,sans-serif\""

/* Bars: plot area and sizes. */
#define BAR_W 16.0            /* the narrowest bar */
#define PLOT_W_MIN 360.0
#define GROUP_GAP 12.0
#define PLOT_H 220.0
#define MARGIN_L 64.0
#define MARGIN_R 16.0
#define MARGIN_T 34.0
#define CHAR_W 6.6             /* a character of 11-px text, roughly */
#define VALUE_LABELS_MAX 60    /* write each bar's count above it up to this */

/* Pairs: one panel. */
#define PANEL_W 210.0
#define PANEL_H 230.0
#define PANEL_TOP 64.0
#define AXIS_L 60.0            /* the before axis, from the panel's left */
#define AXIS_R 180.0           /* the after axis */

static int good_id(const char *id)
{
    if (!id || !*id || strlen(id) > 40)
        return 0;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= '0' && *id <= '9') || *id == '-'))
            return 0;
    return 1;
}

/* <svg ...><title/><desc/>, shared by both kinds. */
static void open_svg(lb_markup *m, const char *id, const char *title, const char *desc,
                     double w, double h)
{
    lb_markup_fmt(m, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
                  "role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" ",
                  w, h, w, h);
    lb_markup_raw(m, FONT " font-size=\"12\" fill=\"" INK "\" aria-labelledby=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "-t ");
    lb_markup_text(m, id);
    lb_markup_raw(m, "-d\" id=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "\"><title id=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "-t\">");
    lb_markup_text(m, title);
    lb_markup_raw(m, "</title><desc id=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "-d\">");
    lb_markup_text(m, desc);
    lb_markup_raw(m, "</desc>");
}

/* A tick distance of 1, 2 or 5 times a power of ten giving about four
 * intervals up to max; never below 1 (the bars are counts). */
static double nice_step(double max)
{
    static const double mult[] = {1.0, 2.0, 5.0};
    double raw = max / 4.0;
    for (double p = 1.0; p < 1e15; p *= 10.0)
        for (int i = 0; i < 3; i++)
            if (mult[i] * p >= raw)
                return mult[i] * p;
    return 1e15;
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

/* ---- grouped bars ---------------------------------------------------------- */

typedef struct bar_layout {
    double top;        /* the value at the top of the axis */
    double step;       /* between ticks */
    double group_w;    /* one category's width */
    double bar_w;      /* one bar's, with its 2-unit gap */
    double plot_w;
    double width, height;
    double label_h;    /* room under the axis for the category labels */
    int rotate;        /* category labels slanted */
    size_t label_every;   /* label one category in so many */
} bar_layout;

static lb_err check_bars(const lb_chart_bars *c, double *max)
{
    *max = 0;
    if (!good_id(c->id) || !c->ncat || !c->labels || !c->series || !c->nseries ||
        c->nseries > LB_CHART_SERIES_MAX)
        return LB_ERR_INVALID;
    for (size_t s = 0; s < c->nseries; s++) {
        for (size_t i = 0; i < c->ncat; i++) {
            double v = c->series[s].values[i];
            if (!(v >= 0) || !isfinite(v))
                return LB_ERR_INVALID;
            if (v > *max)
                *max = v;
        }
    }
    return LB_OK;
}

static void layout_bars(const lb_chart_bars *c, double max, bar_layout *l)
{
    size_t longest = 0;
    for (size_t i = 0; i < c->ncat; i++) {
        size_t n = strlen(c->labels[i]);
        if (n > longest)
            longest = n;
    }
    l->step = nice_step(max);
    l->top = l->step;
    while (l->top < max)
        l->top += l->step;
    /* Bars widen (to 3 times) when there are few categories to fill the plot. */
    l->bar_w = PLOT_W_MIN / (double)c->ncat - GROUP_GAP;
    l->bar_w = l->bar_w / (double)c->nseries;
    l->bar_w = l->bar_w < BAR_W ? BAR_W : l->bar_w > 3 * BAR_W ? 3 * BAR_W : l->bar_w;
    l->group_w = (double)c->nseries * l->bar_w + GROUP_GAP;
    l->plot_w = (double)c->ncat * l->group_w;
    l->label_every = c->ncat > 36 ? (c->ncat + 35) / 36 : 1;
    l->rotate = (double)longest * CHAR_W > l->group_w * (double)l->label_every - 4;
    l->label_h = l->rotate ? 16.0 + (double)longest * CHAR_W * 0.72 : 20.0;
    l->width = MARGIN_L + max2(l->plot_w, PLOT_W_MIN) + MARGIN_R;
    l->height = MARGIN_T + PLOT_H + l->label_h + 28.0;
}

static double bar_y(const bar_layout *l, double v)
{
    return MARGIN_T + PLOT_H - v / l->top * PLOT_H;
}

static void series_fill(lb_markup *m, const char *id, size_t s)
{
    if (s == 0)
        lb_markup_raw(m, " fill=\"" SERIES0 "\"");
    else {
        lb_markup_raw(m, " fill=\"url(#");
        lb_markup_text(m, id);
        lb_markup_raw(m, "-h)\" stroke=\"" SERIES1 "\" stroke-width=\"1.5\"");
    }
}

static void hatch_pattern(lb_markup *m, const char *id)
{
    lb_markup_raw(m, "<defs><pattern id=\"");
    lb_markup_text(m, id);
    lb_markup_raw(m, "-h\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\">"
                  "<rect width=\"6\" height=\"6\" fill=\"#f6dcc6\"/>"
                  "<path d=\"M-1 1L1 -1M0 6L6 0M5 7L7 5\" stroke=\"" SERIES1
                  "\" stroke-width=\"2\"/></pattern></defs>");
}

static void y_axis(lb_markup *m, const lb_chart_bars *c, const bar_layout *l)
{
    double x1 = MARGIN_L + l->plot_w;
    lb_markup_raw(m, "<g class=\"axis\" aria-hidden=\"true\">");
    for (double v = 0; v <= l->top + l->step / 2; v += l->step) {
        double y = bar_y(l, v);
        lb_markup_fmt(m, "<path d=\"M%.1f %.1fH%.1f\" stroke=\"%s\"/>", MARGIN_L, y, x1,
                      v == 0 ? INK : GRID);
        lb_markup_fmt(m, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", MARGIN_L - 6,
                      y + 4);
        lb_markup_num(m, v, 1);
        lb_markup_raw(m, "</text>");
    }
    lb_markup_fmt(m, "<path d=\"M%.1f %.1fV%.1f\" stroke=\"" INK "\"/>", MARGIN_L,
                  MARGIN_T, MARGIN_T + PLOT_H);
    lb_markup_fmt(m, "<text transform=\"translate(14 %.1f) rotate(-90)\" "
                  "text-anchor=\"middle\">", MARGIN_T + PLOT_H / 2);
    lb_markup_text(m, c->y_label);
    lb_markup_raw(m, "</text></g>");
}

static void x_labels(lb_markup *m, const lb_chart_bars *c, const bar_layout *l)
{
    double y = MARGIN_T + PLOT_H + 16;
    lb_markup_raw(m, "<g class=\"axis\" aria-hidden=\"true\" font-size=\"11\">");
    for (size_t i = 0; i < c->ncat; i += l->label_every) {
        double x = MARGIN_L + ((double)i + 0.5) * l->group_w;
        if (l->rotate)
            lb_markup_fmt(m, "<text transform=\"translate(%.1f %.1f) rotate(-40)\" "
                          "text-anchor=\"end\">", x + 4, y - 4);
        else
            lb_markup_fmt(m, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
        lb_markup_text(m, c->labels[i]);
        lb_markup_raw(m, "</text>");
    }
    lb_markup_fmt(m, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">",
                  MARGIN_L + l->plot_w / 2, MARGIN_T + PLOT_H + l->label_h + 18);
    lb_markup_text(m, c->x_label);
    lb_markup_raw(m, "</text></g>");
}

static void legend(lb_markup *m, const lb_chart_bars *c)
{
    double x = MARGIN_L;
    if (c->nseries < 2)
        return;
    lb_markup_raw(m, "<g class=\"legend\" aria-hidden=\"true\">");
    for (size_t s = 0; s < c->nseries; s++) {
        lb_markup_fmt(m, "<rect x=\"%.1f\" y=\"8\" width=\"14\" height=\"14\"", x);
        series_fill(m, c->id, s);
        lb_markup_fmt(m, "/><text x=\"%.1f\" y=\"19\">", x + 20);
        lb_markup_text(m, c->series[s].name);
        lb_markup_raw(m, "</text>");
        x += 40 + (double)strlen(c->series[s].name) * 7.2;
    }
    lb_markup_raw(m, "</g>");
}

/* One bar, its tooltip, and its count above it when there are few bars. */
static void bar(lb_markup *m, const lb_chart_bars *c, const bar_layout *l, size_t i,
                size_t s)
{
    double v = c->series[s].values[i];
    double x = MARGIN_L + (double)i * l->group_w + GROUP_GAP / 2 + (double)s * l->bar_w;
    double y = bar_y(l, v);
    lb_markup_fmt(m, "<rect class=\"mark\" data-value=\"%.0f\" x=\"%.1f\" y=\"%.1f\" "
                  "width=\"%.1f\" height=\"%.1f\"", v, x, y, l->bar_w - 2,
                  MARGIN_T + PLOT_H - y);
    series_fill(m, c->id, s);
    lb_markup_raw(m, "><title>");
    lb_markup_text(m, c->labels[i]);
    lb_markup_raw(m, ", ");
    lb_markup_text(m, c->series[s].name);
    lb_markup_raw(m, ": ");
    lb_markup_num(m, v, 1);
    lb_markup_raw(m, "</title></rect>");
    if (c->ncat * c->nseries > VALUE_LABELS_MAX)
        return;
    lb_markup_fmt(m, "<text aria-hidden=\"true\" x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"middle\" font-size=\"10\">", x + (l->bar_w - 2) / 2, y - 3);
    lb_markup_num(m, v, 1);
    lb_markup_raw(m, "</text>");
}

lb_err lb_chart_bars_svg(lb_markup *m, const lb_chart_bars *c)
{
    bar_layout l;
    double max;
    lb_err err = check_bars(c, &max);
    if (err != LB_OK)
        return err;
    layout_bars(c, max, &l);
    open_svg(m, c->id, c->title, c->desc, l.width, l.height);
    if (c->nseries > 1)
        hatch_pattern(m, c->id);
    y_axis(m, c, &l);
    x_labels(m, c, &l);
    legend(m, c);
    lb_markup_raw(m, "<g class=\"marks\">");
    for (size_t i = 0; i < c->ncat; i++)
        for (size_t s = 0; s < c->nseries; s++)
            bar(m, c, &l, i, s);
    lb_markup_raw(m, "</g></svg>");
    return lb_markup_status(m);
}

/* ---- paired dots ------------------------------------------------------------- */

enum { DIR_BETTER, DIR_WORSE, DIR_SAME, DIRS };

static const char *const dir_name[DIRS] = {"better", "worse", "no change"};
static const char *const dir_colour[DIRS] = {BETTER, WORSE, SAME};
static const char *const dir_dash[DIRS] = {"", " stroke-dasharray=\"5 3\"",
                                           " stroke-dasharray=\"1 3\""};

static lb_err check_pairs(const lb_chart_pairs *c)
{
    if (!good_id(c->id) || !c->panels || !c->npanels || !(c->min < c->max) ||
        !(c->tick > 0) || (c->max - c->min) / c->tick > 50)
        return LB_ERR_INVALID;
    for (size_t p = 0; p < c->npanels; p++) {
        if (c->n && (!c->panels[p].before || !c->panels[p].after))
            return LB_ERR_INVALID;
        for (size_t i = 0; i < c->n; i++) {
            double b = c->panels[p].before[i], a = c->panels[p].after[i];
            if (!(b >= c->min && b <= c->max && a >= c->min && a <= c->max))
                return LB_ERR_INVALID;
        }
    }
    return LB_OK;
}

static double pair_y(const lb_chart_pairs *c, double v)
{
    return PANEL_TOP + PANEL_H - (v - c->min) / (c->max - c->min) * PANEL_H;
}

/* A dot at each end of a line, in the direction's colour. */
static void dot_markers(lb_markup *m, const char *id)
{
    lb_markup_raw(m, "<defs>");
    for (int d = 0; d < DIRS; d++) {
        lb_markup_raw(m, "<marker id=\"");
        lb_markup_text(m, id);
        lb_markup_fmt(m, "-m%d\" viewBox=\"0 0 8 8\" refX=\"4\" refY=\"4\" "
                      "markerWidth=\"8\" markerHeight=\"8\" markerUnits=\"userSpaceOnUse\">"
                      "<circle cx=\"4\" cy=\"4\" r=\"3.5\" fill=\"%s\"/></marker>",
                      d, dir_colour[d]);
    }
    lb_markup_raw(m, "</defs>");
}

static void pairs_legend(lb_markup *m, const char *id)
{
    double x = AXIS_L - 40;
    lb_markup_raw(m, "<g class=\"legend\" aria-hidden=\"true\" fill=\"none\">");
    for (int d = 0; d < DIRS; d++) {
        lb_markup_fmt(m, "<path d=\"M%.1f 14H%.1f\" stroke=\"%s\" stroke-width=\"2\"%s "
                      "marker-start=\"url(#", x, x + 26, dir_colour[d], dir_dash[d]);
        lb_markup_text(m, id);
        lb_markup_fmt(m, "-m%d)\" marker-end=\"url(#", d);
        lb_markup_text(m, id);
        lb_markup_fmt(m, "-m%d)\"/><text x=\"%.1f\" y=\"18\" fill=\"" INK "\">%s</text>",
                      d, x + 34, dir_name[d]);
        x += 44 + (double)strlen(dir_name[d]) * 7.2;
    }
    lb_markup_raw(m, "</g>");
}

static void panel_axes(lb_markup *m, const lb_chart_pairs *c, const lb_chart_panel *p,
                       double x0)
{
    lb_markup_raw(m, "<g class=\"axis\" aria-hidden=\"true\">");
    lb_markup_fmt(m, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                  "font-weight=\"bold\">", x0 + (AXIS_L + AXIS_R) / 2, PANEL_TOP - 14);
    lb_markup_text(m, p->name);
    lb_markup_raw(m, "</text>");
    for (double v = c->min; v <= c->max + c->tick / 2; v += c->tick) {
        double y = pair_y(c, v);
        lb_markup_fmt(m, "<path d=\"M%.1f %.1fH%.1f\" stroke=\"" GRID "\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                      x0 + AXIS_L, y, x0 + AXIS_R, x0 + AXIS_L - 8, y + 4);
        lb_markup_num(m, v, 2);
        lb_markup_raw(m, "</text>");
    }
    lb_markup_fmt(m, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"" INK "\"/>",
                  x0 + AXIS_L, PANEL_TOP, PANEL_TOP + PANEL_H,
                  x0 + AXIS_R, PANEL_TOP, PANEL_TOP + PANEL_H);
    lb_markup_fmt(m, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x0 + AXIS_L,
                  PANEL_TOP + PANEL_H + 20);
    lb_markup_text(m, c->before_label);
    lb_markup_fmt(m, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                  x0 + AXIS_R, PANEL_TOP + PANEL_H + 20);
    lb_markup_text(m, c->after_label);
    lb_markup_raw(m, "</text></g>");
}

static int direction(const lb_chart_panel *p, size_t i)
{
    double b = p->before[i], a = p->after[i];
    if (a == b)
        return DIR_SAME;
    return (a > b) != (p->lower_is_better != 0) ? DIR_BETTER : DIR_WORSE;
}

/* The pairs of one direction, as one group whose lines inherit colour,
 * dash and end dots; fainter as they get many, so overlaps show. */
static void panel_marks(lb_markup *m, const lb_chart_pairs *c, const lb_chart_panel *p,
                        double x0, int d)
{
    double opacity = c->n <= 20 ? 0.9 : max2(0.2, 18.0 / (double)c->n);
    lb_markup_fmt(m, "<g class=\"pairs\" data-direction=\"%s\" fill=\"none\" stroke=\"%s\" "
                  "stroke-width=\"1.5\" stroke-opacity=\"%.2f\"%s marker-start=\"url(#",
                  dir_name[d], dir_colour[d], opacity, dir_dash[d]);
    lb_markup_text(m, c->id);
    lb_markup_fmt(m, "-m%d)\" marker-end=\"url(#", d);
    lb_markup_text(m, c->id);
    lb_markup_fmt(m, "-m%d)\">", d);
    for (size_t i = 0; i < c->n; i++) {
        if (direction(p, i) != d)
            continue;
        lb_markup_fmt(m, "<path class=\"mark\" d=\"M%.1f %.1fL%.1f %.1f\"/>",
                      x0 + AXIS_L, pair_y(c, p->before[i]), x0 + AXIS_R,
                      pair_y(c, p->after[i]));
    }
    lb_markup_raw(m, "</g>");
}

lb_err lb_chart_pairs_svg(lb_markup *m, const lb_chart_pairs *c)
{
    double w, h = PANEL_TOP + PANEL_H + 34;
    lb_err err = check_pairs(c);
    if (err != LB_OK)
        return err;
    w = max2((double)c->npanels * PANEL_W, 420);
    open_svg(m, c->id, c->title, c->desc, w, h);
    dot_markers(m, c->id);
    pairs_legend(m, c->id);
    for (size_t p = 0; p < c->npanels; p++) {
        double x0 = (double)p * PANEL_W;
        panel_axes(m, c, &c->panels[p], x0);
        for (int d = 0; d < DIRS; d++)
            panel_marks(m, c, &c->panels[p], x0, d);
    }
    lb_markup_raw(m, "</svg>");
    return lb_markup_status(m);
}
