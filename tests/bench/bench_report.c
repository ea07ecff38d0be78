/* bench_report.c - the one table of a `make bench` run: every figure that
 * the benchmarks wrote to bench.json, with its median, min-max, unit, goal
 * and whether the goal is met and by how much.
 *
 * usage: bench_report FILE [--markdown]
 *
 * "By how much" is the factor by which the median beats (>= 1) or misses
 * (< 1) its goal: median / goal for "at least" goals, goal / median for
 * "at most" ones.  A figure carries its goal either as "goal_op" and
 * "goal_value" or as text such as ">= 30,000/s", "<= 1.25", "< 64 MB" or
 * "1" (a bare number: at most that); text that names no number gives no
 * factor.  --markdown prints the table for README.md.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NONE, AT_LEAST, AT_MOST };

/* The goal of figure e: kind and target; NONE when it has none. */
static int goal_of(json_t *e, double *target)
{
    const char *op = json_string_value(json_object_get(e, "goal_op"));
    const char *g = json_string_value(json_object_get(e, "goal"));
    char digits[64];
    size_t n = 0;
    int kind = AT_MOST;
    if (op && json_is_number(json_object_get(e, "goal_value"))) {
        *target = json_number_value(json_object_get(e, "goal_value"));
        return strcmp(op, ">=") == 0 ? AT_LEAST : AT_MOST;
    }
    if (!g || !g[0] || strcmp(g, "-") == 0)
        return NONE;
    if (g[0] == '>')
        kind = AT_LEAST;
    while (*g && strchr("<>= ", *g))
        g++;
    for (; *g && n < sizeof digits - 1 && (strchr("0123456789.,", *g)); g++)
        if (*g != ',')
            digits[n++] = *g;
    digits[n] = '\0';
    if (n == 0)
        return NONE;
    *target = strtod(digits, NULL);
    return kind;
}

static void num(char *out, size_t cap, double v)
{
    double a = v < 0 ? -v : v;
    if (a >= 100 || a == 0 || v == (double)(long long)v)
        snprintf(out, cap, "%.0f", v);
    else if (a >= 10)
        snprintf(out, cap, "%.1f", v);
    else
        snprintf(out, cap, "%.3g", v);
}

static void met_text(json_t *e, double med, char *out, size_t cap)
{
    json_t *met = json_object_get(e, "met");
    double target = 0, k = 0;
    int kind = goal_of(e, &target);
    if (!json_is_boolean(met) || kind == NONE) {
        snprintf(out, cap, json_is_boolean(met) ? (json_is_true(met) ? "yes" : "NO") : "-");
        return;
    }
    if (kind == AT_LEAST)
        k = target > 0 ? med / target : 0;
    else
        k = med > 0 ? target / med : -1;
    if (k < 0)
        snprintf(out, cap, "%s", json_is_true(met) ? "yes" : "NO");
    else
        snprintf(out, cap, "%s, %.2fx", json_is_true(met) ? "yes" : "NO", k);
}

int main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *root, *figs, *e;
    size_t i;
    int md = argc > 2 && strcmp(argv[2], "--markdown") == 0;
    if (argc < 2) {
        fprintf(stderr, "usage: bench_report FILE [--markdown]\n");
        return 2;
    }
    if (!(root = json_load_file(argv[1], 0, &jerr)) ||
        !json_is_array(figs = json_object_get(root, "figures"))) {
        fprintf(stderr, "bench_report: %s: no figures (%s)\n", argv[1], jerr.text);
        return 1;
    }
    if (md)
        printf("| figure | median | min–max | unit | runs | goal | met?, by |\n"
               "|---|---|---|---|---|---|---|\n");
    else
        printf("\nall figures of this run (medians of the runs, min-max; \"by\": the factor "
               "by which the goal is beaten, > 1, or missed, < 1)\n%-62s %10s  %-20s %-11s "
               "%-4s %-12s %s\n", "figure", "median", "min-max", "unit", "runs", "goal",
               "met?, by");
    json_array_foreach(figs, i, e) {
        const char *name = json_string_value(json_object_get(e, "figure"));
        const char *unit = json_string_value(json_object_get(e, "unit"));
        const char *goal = json_string_value(json_object_get(e, "goal"));
        double med = json_number_value(json_object_get(e, "median"));
        int runs = (int)json_integer_value(json_object_get(e, "runs"));
        char m[32], lo[32], hi[32], range[80], met[48], nruns[16] = "-";
        num(m, sizeof m, med);
        num(lo, sizeof lo, json_number_value(json_object_get(e, "min")));
        num(hi, sizeof hi, json_number_value(json_object_get(e, "max")));
        snprintf(range, sizeof range, runs > 1 || (runs == 0 && strcmp(lo, hi) != 0)
                 ? "%s-%s" : "-", lo, hi);
        met_text(e, med, met, sizeof met);
        if (!goal || !goal[0])
            goal = "-";
        if (runs > 0)
            snprintf(nruns, sizeof nruns, "%d", runs);
        if (md)
            printf("| %s | %s | %s | %s | %s | %s | %s |\n", name ? name : "?", m, range,
                   unit ? unit : "", nruns, goal, met);
        else
            printf("%-62s %10s  %-20s %-11s %-4s %-12s %s\n", name ? name : "?", m, range,
                   unit ? unit : "", nruns, goal, met);
    }
    json_decref(root);
    return 0;
}
