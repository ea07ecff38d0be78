/* lb_dataset.c - the commissioner's dataset as CSV (see lb_dataset.h). */
#include <stdio.h>
#include <string.h>
#include "lb_codes.h"
#include "lb_dataset.h"

#define CSV_MAX (1u << 20)
#define PART_MAX 16

enum { DEMOGRAPHICS, NEEDS, SUPPORT, OUTCOMES };

static const char *const NAMES[LB_DATASET_FILES] = {
    "demographics.csv", "needs.csv", "support.csv", "outcomes.csv"
};
static const char *const GROUPS[LB_DATASET_FILES] = {
    "demographics", "needs and concerns", "support offered", "outcomes"
};
static const char *const ONS4_ITEMS[LB_REVIEW_ONS4_ITEMS] = {
    "satisfaction", "worthwhile", "happy", "anxious"
};
static const char SUPPRESSION[] =
    "counts from 1 to 4 are shown as * (small numbers could identify people) and so are "
    "means over fewer than 5 people; where one count of a breakdown is suppressed the next "
    "smallest is too";

typedef struct csv {
    lb_buf *b;
    int fail;
} csv;

/* One field, quoted when it holds a comma, quote or line break. */
static void field(csv *c, const char *s, int last)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (!quote)
        c->fail |= lb_buf_adds(c->b, s);
    else
        c->fail |= lb_buf_adds(c->b, "\"");
    for (; quote && *s; s++) {
        c->fail |= lb_buf_add(c->b, s, 1);
        if (*s == '"')
            c->fail |= lb_buf_add(c->b, "\"", 1);
    }
    if (quote)
        c->fail |= lb_buf_adds(c->b, "\"");
    c->fail |= lb_buf_adds(c->b, last ? "\r\n" : ",");
}

static void row(csv *c, const char *group, const char *measure, const char *category,
                const char *value)
{
    field(c, group, 0);
    field(c, measure, 0);
    field(c, category ? category : "", 0);
    field(c, value, 1);
}

static int suppressed(long n)
{
    return n > 0 && n < LB_DATASET_MIN;
}

static void count(csv *c, const char *group, const char *measure, const char *category, long n)
{
    char v[32];
    snprintf(v, sizeof v, "%ld", n);
    row(c, group, measure, category, suppressed(n) ? "*" : v);
}

/* A mean over n people: "*" when n is under the minimum, "" when 0. */
static void mean(csv *c, const char *group, const char *measure, const char *category,
                 double x, long n)
{
    char v[32];
    snprintf(v, sizeof v, "%.2f", x);
    row(c, group, measure, category, n == 0 ? "" : n < LB_DATASET_MIN ? "*" : v);
}

/* A breakdown of a total shown elsewhere: cells 1-4 suppressed, and when
 * exactly one is, the next smallest non-zero cell too. */
static void partition(csv *c, const char *group, const char *measure,
                      const char *const *cats, const long *n, size_t k)
{
    int hide[PART_MAX] = {0}, hidden = 0;
    size_t i, next = PART_MAX;
    char v[32];
    for (i = 0; i < k && i < PART_MAX; i++)
        hidden += hide[i] = suppressed(n[i]);
    for (i = 0; hidden == 1 && i < k && i < PART_MAX; i++)
        if (!hide[i] && n[i] > 0 && (next == PART_MAX || n[i] < n[next]))
            next = i;
    if (next < PART_MAX)
        hide[next] = 1;
    for (i = 0; i < k && i < PART_MAX; i++) {
        snprintf(v, sizeof v, "%ld", n[i]);
        row(c, group, measure, cats[i], hide[i] ? "*" : v);
    }
}

static void tally_rows(csv *c, const char *group, const char *measure,
                       const lb_review_tally *t, int is_partition)
{
    const char *const *l = lb_codes_list(t->set);
    const char *cats[PART_MAX];
    long n[PART_MAX];
    size_t k = 0;
    for (; l[k] && k < LB_REVIEW_TALLY_MAX && k < PART_MAX - 1; k++) {
        cats[k] = l[k];
        n[k] = t->n[k];
    }
    if (t->other) {
        cats[k] = "other";
        n[k++] = t->other;
    }
    if (is_partition) {
        partition(c, group, measure, cats, n, k);
        return;
    }
    for (size_t i = 0; i < k; i++)
        count(c, group, measure, cats[i], n[i]);
}

static void header(csv *c, int file, const lb_review *r, const lb_review_figures *f,
                   const char *made)
{
    c->fail |= lb_buf_adds(c->b, "group,measure,category,value\r\n");
    row(c, "dataset", "standard", NULL, "Social Prescribing Information Standard");
    row(c, "dataset", "group", NULL, GROUPS[file]);
    row(c, "dataset", "period_from", NULL, r->from[0] ? r->from : "start of records");
    row(c, "dataset", "period_to", NULL, r->to[0] ? r->to : r->as_of);
    row(c, "dataset", "as_of", NULL, r->as_of);
    row(c, "dataset", "scope", NULL, f->caseload[0] ? "one caseload" : "team");
    row(c, "dataset", "made", NULL, made);
    row(c, "dataset", "suppression", NULL, SUPPRESSION);
}

static void demographics(csv *c, const lb_review_figures *f)
{
    const char *bands[LB_REVIEW_AGE_BANDS], *yesno[] = {"yes", "no"};
    long flag[2];
    int i;
    count(c, "people", "total", NULL, f->people);
    tally_rows(c, "people", "status", &f->status, 1);
    for (i = 0; i < LB_REVIEW_AGE_BANDS; i++)
        bands[i] = lb_review_age_band_name(i);
    partition(c, "people", "age_band", bands, f->age, LB_REVIEW_AGE_BANDS);
    flag[0] = f->carers;
    flag[1] = f->people - f->carers;
    partition(c, "people", "carer", yesno, flag, 2);
    flag[0] = f->interpreters;
    flag[1] = f->people - f->interpreters;
    partition(c, "people", "interpreter_needed", yesno, flag, 2);
}

static void needs(csv *c, const lb_review_figures *f)
{
    count(c, "referrals", "total", NULL, f->referrals);
    tally_rows(c, "referrals", "source", &f->sources, 1);
    tally_rows(c, "referrals", "reason", &f->reasons, 0);
}

/* Referrals that had their first contact, by days waited. */
static void wait_bands(csv *c, const lb_review_figures *f)
{
    static const char *const names[] = {"0-7", "8-14", "15-28", "29-56", "57+"};
    static const long upper[] = {7, 14, 28, 56};
    long n[5] = {0};
    size_t i;
    int b;
    for (i = 0; i < f->n_waits; i++) {
        if (!f->waits[i].first_contact[0])
            continue;
        for (b = 0; b < 4 && f->waits[i].days > upper[b]; b++)
            ;
        n[b]++;
    }
    partition(c, "first_contact", "days_band", names, n, 5);
}

static void support(csv *c, const lb_review_figures *f)
{
    char v[32];
    count(c, "contacts", "total", NULL, f->contacts);
    snprintf(v, sizeof v, "%ld", f->contact_minutes);
    row(c, "contacts", "minutes", NULL, f->contacts == 0 ? "0" : suppressed(f->contacts) ? "*" : v);
    tally_rows(c, "contacts", "mode", &f->modes, 1);
    tally_rows(c, "contacts", "intervention_category", &f->categories, 0);
    count(c, "contacts", "signposts", NULL, f->signposts);
    count(c, "first_contact", "referrals", NULL, f->waited_n);
    mean(c, "first_contact", "mean_days", NULL, f->waited_mean, f->waited_n);
    mean(c, "first_contact", "median_days", NULL, f->waited_median, f->waited_n);
    wait_bands(c, f);
    count(c, "waiting", "people", NULL, f->waiting_people);
    count(c, "follow_ups", "overdue", NULL, (long)f->n_overdue);
}

/* ONS4 item k: means before, after and of the change; who is better
 * (higher, or for anxiety lower), the same, worse. */
static void ons4_item(csv *c, const lb_review_figures *f, int k)
{
    static const char *const dirs[] = {"better", "same", "worse"};
    double before = 0, after = 0;
    long n[3] = {0}, np = (long)f->n_ons4;
    size_t i;
    for (i = 0; i < f->n_ons4; i++) {
        int d = f->ons4[i].after[k] - f->ons4[i].before[k];
        before += f->ons4[i].before[k];
        after += f->ons4[i].after[k];
        if (k == 3)
            d = -d;   /* less anxious is better */
        n[d > 0 ? 0 : d == 0 ? 1 : 2]++;
    }
    mean(c, "ons4", "mean_baseline", ONS4_ITEMS[k], np ? before / (double)np : 0, np);
    mean(c, "ons4", "mean_latest", ONS4_ITEMS[k], np ? after / (double)np : 0, np);
    mean(c, "ons4", "mean_change", ONS4_ITEMS[k], f->ons4_mean_change[k], np);
    partition(c, "ons4", ONS4_ITEMS[k], dirs, n, 3);
}

static void outcomes(csv *c, const lb_review_figures *f)
{
    static const char *const dirs[] = {"better", "same", "worse"};
    double before = 0, after = 0;
    long n[3] = {0}, np = (long)f->n_swemwbs;
    size_t i;
    int k;
    count(c, "goals", "set", NULL, f->goals_set);
    tally_rows(c, "goals", "status", &f->goal_status, 1);
    count(c, "ons4", "people_paired", NULL, (long)f->n_ons4);
    for (k = 0; k < LB_REVIEW_ONS4_ITEMS; k++)
        ons4_item(c, f, k);
    count(c, "swemwbs", "people_paired", NULL, np);
    for (i = 0; i < f->n_swemwbs; i++) {
        double d = f->swemwbs[i].metric_after - f->swemwbs[i].metric_before;
        before += f->swemwbs[i].metric_before;
        after += f->swemwbs[i].metric_after;
        n[d > 0 ? 0 : d == 0 ? 1 : 2]++;
    }
    mean(c, "swemwbs", "mean_metric_baseline", NULL, np ? before / (double)np : 0, np);
    mean(c, "swemwbs", "mean_metric_latest", NULL, np ? after / (double)np : 0, np);
    mean(c, "swemwbs", "mean_metric_change", NULL, f->swemwbs_mean_change, np);
    partition(c, "swemwbs", "metric", dirs, n, 3);
}

lb_err lb_dataset_csv(const lb_review *r, const lb_review_figures *f, const char *made,
                      lb_dataset *out)
{
    static void (*const body[LB_DATASET_FILES])(csv *, const lb_review_figures *) = {
        demographics, needs, support, outcomes
    };
    int i, fail = 0;
    for (i = 0; i < LB_DATASET_FILES; i++) {
        out->names[i] = NAMES[i];
        lb_buf_init(&out->files[i], CSV_MAX);
    }
    for (i = 0; i < LB_DATASET_FILES && !fail; i++) {
        csv c = {&out->files[i], 0};
        header(&c, i, r, f, made);
        body[i](&c, f);
        fail = c.fail;
    }
    return fail ? LB_ERR_NOMEM : LB_OK;
}

void lb_dataset_clear(lb_dataset *d)
{
    int i;
    for (i = 0; d && i < LB_DATASET_FILES; i++)
        lb_buf_wipe(&d->files[i]);
}
