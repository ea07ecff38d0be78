/* lb_review.c - the figures of review and reporting (see lb_review.h).
 *
 * Each record kind that counts is read once (each record decrypted once)
 * into flat arrays of small facts: a person is an index into the people
 * array, sorted by id, found by binary search.  Each fact is then added to
 * every scope its person is in: the whole scope (scope 0) and each of
 * their caseloads.  Notes, stories and audit events are never read.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_codes.h"
#include "lb_conflict.h"
#include "lb_hlc.h"
#include "lb_record.h"
#include "lb_review.h"
#include "lb_store_priv.h"

#define NONE ((size_t)-1)

typedef struct rv_person {
    char id[LB_ID_HEX + 1];
    int status, age_band, carer, interpreter, discharged;
    size_t scope0, n_scopes;    /* its scopes: rv.pscope[scope0 .. scope0 + n_scopes) */
} rv_person;

typedef struct rv_link {         /* a person on a caseload */
    size_t person;
    char caseload[LB_CASELOAD_MAX + 1];
} rv_link;

typedef struct rv_day {          /* a contact: who, which day */
    size_t person;
    long day;
} rv_day;

typedef struct rv_referral {
    size_t person;
    long day;
    char id[LB_ID_HEX + 1];
    char date[LB_REVIEW_DATE];
    int declined, source;
    unsigned reasons;            /* bit i: lb_codes_list(LB_CODES_REASON)[i] */
    int other_reasons;           /* reasons outside the list */
} rv_referral;

typedef struct rv_measure {
    size_t person;
    int instrument;              /* 0 ONS4, 1 SWEMWBS */
    int baseline;
    long day;
    uint64_t created;
    char date[LB_REVIEW_DATE];
    int v[LB_REVIEW_ONS4_ITEMS]; /* ONS4 items; SWEMWBS: v[0] raw */
    double metric;
} rv_measure;

typedef struct rv_caps {
    size_t waits, overdue, ons4, swemwbs;
} rv_caps;

typedef struct rv {
    lb_store *s;
    const lb_review_query *q;
    lb_review *r;
    long from_day, end_day, asof_day;   /* the period [from_day, end_day] */
    rv_person *people;
    size_t n_people, cap_people;
    rv_link *links;
    size_t n_links, cap_links;
    size_t *pscope;
    lb_review_figures **figs;           /* figs[0] = &r->all, then caseloads */
    rv_caps *caps;                      /* capacity of each scope's arrays */
    size_t n_figs;
    rv_day *contacts;
    size_t n_contacts, cap_contacts;
    rv_referral *refs;
    size_t n_refs, cap_refs;
    rv_measure *measures;
    size_t n_measures, cap_measures;
    long first_mix;                     /* month index (year * 12 + month - 1) */
    lb_err err;
} rv;

static const char *const ONS4_ITEMS[LB_REVIEW_ONS4_ITEMS] = {
    "satisfaction", "worthwhile", "happy", "anxious"
};

static const char *const AGE_BANDS[LB_REVIEW_AGE_BANDS] = {
    "0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+", "unknown"
};

const char *lb_review_age_band_name(int band)
{
    return band >= 0 && band < LB_REVIEW_AGE_BANDS ? AGE_BANDS[band] : "unknown";
}

/* qsort, but never of a NULL array (undefined even with 0 items). */
static void sort_items(void *base, size_t n, size_t size,
                       int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* ---- small helpers ---------------------------------------------------------- */

/* Make room for one more element of size in *arr (doubling). */
static int grow(void *arr, size_t *cap, size_t n, size_t size)
{
    void **p = arr;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *q;
    if (n < *cap)
        return 0;
    if (ncap > SIZE_MAX / size)
        return -1;
    if (!(q = realloc(*p, ncap * size)))
        return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

static const char *fstr(const json_t *fields, const char *key)
{
    return json_string_value(json_object_get(fields, key));
}

/* The day number of a date field, or LONG_MIN when absent or not a date. */
static long fday(const json_t *fields, const char *key)
{
    const char *d = fstr(fields, key);
    return d && lb_date_check(key, d, NULL, 0) == LB_OK ? lb_date_days(d) : LONG_MIN;
}

static long month_ix(const char *date)
{
    long y = strtol(date, NULL, 10), m = strtol(date + 5, NULL, 10);
    return y * 12 + m - 1;
}

/* The civil date of a day number (the inverse of lb_date_days). */
static void civil(long day, long *y, long *m, long *d)
{
    long z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static long month_of_day(long day)
{
    long y, m, d;
    civil(day, &y, &m, &d);
    return y * 12 + m - 1;
}

/* Write n decimal digits of v (v >= 0) at out. */
static void digits(char *out, long v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void date_of_day(long day, char out[LB_REVIEW_DATE])
{
    long y, m, d;
    civil(day, &y, &m, &d);
    digits(out, y, 4);
    out[4] = out[7] = '-';
    digits(out + 5, m, 2);
    digits(out + 8, d, 2);
    out[10] = '\0';
}

/* YYYY-MM of a month index (year * 12 + month - 1, year 1900..2199). */
static void month_text(long mix, char out[LB_REVIEW_MONTH])
{
    digits(out, mix / 12, 4);
    out[4] = '-';
    digits(out + 5, mix % 12 + 1, 2);
    out[7] = '\0';
}

static int code_index(lb_codeset set, const char *code)
{
    const char *const *l = lb_codes_list(set);
    int i;
    for (i = 0; code && l[i] && i < LB_REVIEW_TALLY_MAX; i++)
        if (strcmp(l[i], code) == 0)
            return i;
    return -1;
}

static void tally(lb_review_tally *t, int ix)
{
    if (ix >= 0)
        t->n[ix]++;
    else
        t->other++;
}

static int in_period(const rv *v, long day)
{
    return day != LONG_MIN && day >= v->from_day && day <= v->end_day;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const rv_person *)a)->id, ((const rv_person *)b)->id);
}

static size_t find_person(const rv *v, const char *id)
{
    size_t lo = 0, hi = v->n_people;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v->people[mid].id, id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NONE;
}

/* The scopes of person p (indexes into figs and caps): *list, n of them. */
static size_t scopes_of(const rv *v, size_t p, const size_t **list)
{
    *list = &v->pscope[v->people[p].scope0];
    return v->people[p].n_scopes;
}

/* ---- people and their caseloads -------------------------------------------- */

static int age_band(const char *dob, const char *as_of)
{
    static const int lower[] = {18, 25, 35, 45, 55, 65, 75, 85};
    long age;
    int b = 0;
    if (!dob || lb_date_check("dob", dob, NULL, 0) != LB_OK || strcmp(dob, as_of) > 0)
        return LB_REVIEW_AGE_UNKNOWN;
    age = strtol(as_of, NULL, 10) - strtol(dob, NULL, 10);
    if (strcmp(as_of + 5, dob + 5) < 0)
        age--;
    while (b < 8 && age >= lower[b])
        b++;
    return b;
}

static int person_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    rv_person *p;
    const char *status = fstr(r->fields, "status");
    if (grow(&v->people, &v->cap_people, v->n_people, sizeof *v->people) != 0) {
        v->err = LB_ERR_NOMEM;
        return 1;
    }
    p = &v->people[v->n_people++];
    memset(p, 0, sizeof *p);
    memcpy(p->id, r->id, sizeof p->id);
    p->status = code_index(LB_CODES_PERSON_STATUS, status);
    p->discharged = status && strcmp(status, "discharged") == 0;
    p->age_band = age_band(fstr(r->fields, "dob"), v->r->as_of);
    p->carer = json_is_true(json_object_get(r->fields, "carer"));
    p->interpreter = json_is_true(json_object_get(r->fields, "interpreter"));
    return 0;
}

static int link_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    const char *cl = fstr(r->fields, "caseload");
    size_t p = find_person(v, r->person);
    if (p == NONE || !cl || !json_is_true(json_object_get(r->fields, "active")) ||
        strlen(cl) > LB_CASELOAD_MAX)
        return 0;
    if (grow(&v->links, &v->cap_links, v->n_links, sizeof *v->links) != 0) {
        v->err = LB_ERR_NOMEM;
        return 1;
    }
    v->links[v->n_links].person = p;
    memcpy(v->links[v->n_links].caseload, cl, strlen(cl) + 1);
    v->n_links++;
    return 0;
}

static int by_caseload(const void *a, const void *b)
{
    const rv_link *x = a, *y = b;
    int c = strcmp(x->caseload, y->caseload);
    return c ? c : (x->person > y->person) - (x->person < y->person);
}

static int by_person_link(const void *a, const void *b)
{
    const rv_link *x = a, *y = b;
    int c = (x->person > y->person) - (x->person < y->person);
    return c ? c : strcmp(x->caseload, y->caseload);
}

/* One lb_review_figures per caseload in scope, in r->caseloads. */
static lb_err make_caseloads(rv *v)
{
    lb_review *r = v->r;
    size_t i, n = 0;
    sort_items(v->links, v->n_links, sizeof *v->links, by_caseload);
    for (i = 0; i < v->n_links; i++)
        if ((i == 0 || strcmp(v->links[i].caseload, v->links[i - 1].caseload) != 0) &&
            (!v->q->caseload || strcmp(v->links[i].caseload, v->q->caseload) == 0))
            n++;
    if (!(r->caseloads = calloc(n + 1, sizeof *r->caseloads)) ||
        !(v->figs = calloc(n + 1, sizeof *v->figs)))
        return LB_ERR_NOMEM;
    v->figs[0] = &r->all;
    for (i = 0; i < v->n_links; i++) {
        const char *cl = v->links[i].caseload;
        if ((i > 0 && strcmp(cl, v->links[i - 1].caseload) == 0) ||
            (v->q->caseload && strcmp(cl, v->q->caseload) != 0))
            continue;
        memcpy(r->caseloads[r->n_caseloads].caseload, cl, strlen(cl) + 1);
        v->figs[1 + r->n_caseloads] = &r->caseloads[r->n_caseloads];
        r->n_caseloads++;
    }
    v->n_figs = 1 + r->n_caseloads;
    return LB_OK;
}

static size_t fig_index(const rv *v, const char *caseload)
{
    size_t i;
    for (i = 1; i < v->n_figs; i++)
        if (strcmp(v->figs[i]->caseload, caseload) == 0)
            return i;
    return NONE;
}

/* Each person's scopes: 0 (the whole scope) when in it, then each caseload.
 * With a caseload asked for, people not on it are in no scope. */
static lb_err person_scopes(rv *v)
{
    size_t i, j = 0, n = 0;
    sort_items(v->links, v->n_links, sizeof *v->links, by_person_link);
    if (!(v->pscope = calloc(v->n_people * 2 + v->n_links + 1, sizeof *v->pscope)))
        return LB_ERR_NOMEM;
    for (i = 0; i < v->n_people; i++) {
        rv_person *p = &v->people[i];
        size_t start = n, k;
        int on = !v->q->caseload;
        v->pscope[n++] = 0;
        for (; j < v->n_links && v->links[j].person == i; j++)
            if ((k = fig_index(v, v->links[j].caseload)) != NONE) {
                v->pscope[n++] = k;
                on = 1;
            }
        p->scope0 = start;
        p->n_scopes = on ? n - start : 0;
        if (!on)
            n = start;
    }
    return LB_OK;
}

/* Count people by status, age band and flags in each of their scopes. */
static void count_people(rv *v)
{
    const size_t *sc;
    size_t i, k, n;
    for (i = 0; i < v->n_people; i++) {
        const rv_person *p = &v->people[i];
        for (k = 0, n = scopes_of(v, i, &sc); k < n; k++) {
            lb_review_figures *f = v->figs[sc[k]];
            f->people++;
            tally(&f->status, p->status);
            f->age[p->age_band]++;
            f->carers += p->carer;
            f->interpreters += p->interpreter;
        }
    }
}

static lb_err load_people(rv *v)
{
    lb_err err = lb_record_scan(v->s, "person", person_one, v);
    if (!err)
        err = v->err;
    if (err)
        return err;
    sort_items(v->people, v->n_people, sizeof *v->people, by_id);
    err = lb_record_scan(v->s, "assignment", link_one, v);
    if (!err)
        err = v->err;
    if (!err)
        err = make_caseloads(v);
    if (!err)
        err = person_scopes(v);
    return err;
}

/* ---- contacts, referrals, follow-ups, goals ---------------------------------- */

static int contact_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    const size_t *sc;
    size_t p = find_person(v, r->person), i, k, n;
    long day = fday(r->fields, "date");
    json_t *cats = json_object_get(r->fields, "categories"), *c;
    json_t *signs = json_object_get(r->fields, "signposts");
    json_int_t minutes = json_integer_value(json_object_get(r->fields, "minutes"));
    int mode;
    if (p == NONE || !v->people[p].n_scopes || day == LONG_MIN)
        return 0;
    if (grow(&v->contacts, &v->cap_contacts, v->n_contacts, sizeof *v->contacts) != 0) {
        v->err = LB_ERR_NOMEM;
        return 1;
    }
    v->contacts[v->n_contacts].person = p;
    v->contacts[v->n_contacts++].day = day;
    if (!in_period(v, day))
        return 0;
    mode = code_index(LB_CODES_MODE, fstr(r->fields, "mode"));
    for (k = 0, n = scopes_of(v, p, &sc); k < n; k++) {
        lb_review_figures *f = v->figs[sc[k]];
        f->contacts++;
        f->contact_minutes += minutes > 0 ? (long)minutes : 0;
        f->signposts += (long)json_array_size(signs);
        tally(&f->modes, mode);
        json_array_foreach(cats, i, c)
            tally(&f->categories, code_index(LB_CODES_CATEGORY, json_string_value(c)));
    }
    return 0;
}

static int referral_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    rv_referral *x;
    json_t *reason;
    size_t p = find_person(v, r->person), i;
    const char *date = fstr(r->fields, "date"), *status = fstr(r->fields, "status");
    long day = fday(r->fields, "date");
    if (p == NONE || !v->people[p].n_scopes || day == LONG_MIN)
        return 0;
    if (grow(&v->refs, &v->cap_refs, v->n_refs, sizeof *v->refs) != 0) {
        v->err = LB_ERR_NOMEM;
        return 1;
    }
    x = &v->refs[v->n_refs++];
    x->person = p;
    x->day = day;
    memcpy(x->id, r->id, sizeof x->id);
    memcpy(x->date, date, LB_REVIEW_DATE);
    x->declined = status && strcmp(status, "declined") == 0;
    x->source = code_index(LB_CODES_SOURCE, fstr(r->fields, "source"));
    x->reasons = 0;
    x->other_reasons = 0;
    json_array_foreach(json_object_get(r->fields, "reasons"), i, reason) {
        int ix = code_index(LB_CODES_REASON, json_string_value(reason));
        if (ix >= 0)
            x->reasons |= 1u << ix;
        else
            x->other_reasons++;
    }
    return 0;
}

static void count_referral(lb_review_figures *f, const rv_referral *x)
{
    int i;
    f->referrals++;
    tally(&f->sources, x->source);
    for (i = 0; i < LB_REVIEW_TALLY_MAX; i++)
        if (x->reasons & (1u << i))
            f->reasons.n[i]++;
    f->reasons.other += x->other_reasons;
}

/* Referral counts: in the period, in as_of's month. */
static void count_referrals(rv *v)
{
    long this_month = month_ix(v->r->as_of);
    const size_t *sc;
    size_t i, k, n;
    for (i = 0; i < v->n_refs; i++) {
        const rv_referral *x = &v->refs[i];
        for (k = 0, n = scopes_of(v, x->person, &sc); k < n; k++) {
            lb_review_figures *f = v->figs[sc[k]];
            f->referrals_this_month += month_ix(x->date) == this_month;
            if (in_period(v, x->day))
                count_referral(f, x);
        }
    }
}

/* Room for one more element in a scope's array *arr of n elements. */
static void *push(void *arr, size_t *n, size_t *cap, size_t size)
{
    char **p = arr;
    if (grow(arr, cap, *n, size) != 0)
        return NULL;
    return *p + (*n)++ * size;
}

static int task_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    const size_t *sc;
    size_t p = find_person(v, r->person), k, n;
    const char *due = fstr(r->fields, "due");
    long due_day = fday(r->fields, "due"), done_day = fday(r->fields, "done_date");
    int done = json_is_true(json_object_get(r->fields, "done"));
    if (p == NONE || due_day == LONG_MIN || due_day >= v->asof_day ||
        (done && (done_day == LONG_MIN || done_day <= v->asof_day)))
        return 0;
    for (k = 0, n = scopes_of(v, p, &sc); k < n; k++) {
        lb_review_figures *f = v->figs[sc[k]];
        lb_review_overdue *o = push(&f->overdue, &f->n_overdue, &v->caps[sc[k]].overdue, sizeof *o);
        if (!o) {
            v->err = LB_ERR_NOMEM;
            return 1;
        }
        memcpy(o->task, r->id, sizeof o->task);
        memcpy(o->person, r->person, sizeof o->person);
        memcpy(o->due, due, LB_REVIEW_DATE);
        o->days = v->asof_day - due_day;
    }
    return 0;
}

static int goal_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    const size_t *sc;
    size_t p = find_person(v, r->person), k, n;
    int status = code_index(LB_CODES_GOAL_STATUS, fstr(r->fields, "status"));
    if (p == NONE || !in_period(v, fday(r->fields, "date")))
        return 0;
    for (k = 0, n = scopes_of(v, p, &sc); k < n; k++) {
        v->figs[sc[k]]->goals_set++;
        tally(&v->figs[sc[k]]->goal_status, status);
    }
    return 0;
}

/* ---- wellbeing pairs ---------------------------------------------------------- */

static int measure_values(const json_t *fields, rv_measure *m)
{
    const json_t *answers = json_object_get(fields, "answers");
    const json_t *scores = json_object_get(fields, "scores");
    int i;
    if (m->instrument == 0) {
        for (i = 0; i < LB_REVIEW_ONS4_ITEMS; i++) {
            const json_t *a = json_object_get(answers, ONS4_ITEMS[i]);
            if (!json_is_integer(a))
                return -1;
            m->v[i] = (int)json_integer_value(a);
        }
        return 0;
    }
    if (!json_is_integer(json_object_get(scores, "raw")) ||
        !json_is_number(json_object_get(scores, "metric")))
        return -1;
    m->v[0] = (int)json_integer_value(json_object_get(scores, "raw"));
    m->metric = json_number_value(json_object_get(scores, "metric"));
    return 0;
}

static int measure_one(const lb_record *r, void *ctx)
{
    rv *v = ctx;
    rv_measure m;
    const char *instrument = fstr(r->fields, "instrument"), *when = fstr(r->fields, "when");
    const char *date = fstr(r->fields, "date");
    memset(&m, 0, sizeof m);
    m.person = find_person(v, r->person);
    m.day = fday(r->fields, "date");
    if (m.person == NONE || !v->people[m.person].n_scopes || m.day == LONG_MIN ||
        m.day > v->end_day || !instrument)
        return 0;
    if (strcmp(instrument, "ons4") == 0)
        m.instrument = 0;
    else if (strcmp(instrument, "swemwbs") == 0)
        m.instrument = 1;
    else
        return 0;
    m.baseline = when && strcmp(when, "baseline") == 0;
    m.created = r->created;
    memcpy(m.date, date, LB_REVIEW_DATE);
    if (measure_values(r->fields, &m) != 0)
        return 0;
    if (grow(&v->measures, &v->cap_measures, v->n_measures, sizeof *v->measures) != 0) {
        v->err = LB_ERR_NOMEM;
        return 1;
    }
    v->measures[v->n_measures++] = m;
    return 0;
}

static int by_person_measure(const void *a, const void *b)
{
    const rv_measure *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    if (x->instrument != y->instrument)
        return x->instrument - y->instrument;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return (x->created > y->created) - (x->created < y->created);
}

static int pair_add(rv *v, const rv_measure *base, const rv_measure *last)
{
    const size_t *sc;
    size_t k, n, p = base->person;
    int i;
    for (k = 0, n = scopes_of(v, p, &sc); k < n; k++) {
        lb_review_figures *f = v->figs[sc[k]];
        if (base->instrument == 0) {
            lb_review_ons4_pair *o = push(&f->ons4, &f->n_ons4, &v->caps[sc[k]].ons4, sizeof *o);
            if (!o)
                return -1;
            memcpy(o->person, v->people[p].id, sizeof o->person);
            memcpy(o->baseline, base->date, LB_REVIEW_DATE);
            memcpy(o->latest, last->date, LB_REVIEW_DATE);
            for (i = 0; i < LB_REVIEW_ONS4_ITEMS; i++) {
                o->before[i] = base->v[i];
                o->after[i] = last->v[i];
            }
        } else {
            lb_review_swemwbs_pair *w = push(&f->swemwbs, &f->n_swemwbs,
                                             &v->caps[sc[k]].swemwbs, sizeof *w);
            if (!w)
                return -1;
            memcpy(w->person, v->people[p].id, sizeof w->person);
            memcpy(w->baseline, base->date, LB_REVIEW_DATE);
            memcpy(w->latest, last->date, LB_REVIEW_DATE);
            w->raw_before = base->v[0];
            w->raw_after = last->v[0];
            w->metric_before = base->metric;
            w->metric_after = last->metric;
        }
    }
    return 0;
}

/* For each person and instrument (measures sorted by person, instrument,
 * date, recording): the earliest baseline and the last measure after it. */
static lb_err make_pairs(rv *v)
{
    size_t i = 0, j, base;
    sort_items(v->measures, v->n_measures, sizeof *v->measures, by_person_measure);
    while (i < v->n_measures) {
        const rv_measure *m = &v->measures[i];
        for (j = i; j < v->n_measures && v->measures[j].person == m->person &&
                    v->measures[j].instrument == m->instrument; j++)
            ;
        for (base = i; base < j && !v->measures[base].baseline; base++)
            ;
        if (base + 1 < j && in_period(v, v->measures[j - 1].day) &&
            pair_add(v, &v->measures[base], &v->measures[j - 1]) != 0)
            return LB_ERR_NOMEM;
        i = j;
    }
    return LB_OK;
}

static void mean_changes(lb_review_figures *f)
{
    size_t i;
    int k;
    double sum[LB_REVIEW_ONS4_ITEMS] = {0}, ws = 0;
    for (i = 0; i < f->n_ons4; i++)
        for (k = 0; k < LB_REVIEW_ONS4_ITEMS; k++)
            sum[k] += f->ons4[i].after[k] - f->ons4[i].before[k];
    for (k = 0; k < LB_REVIEW_ONS4_ITEMS; k++)
        f->ons4_mean_change[k] = f->n_ons4 ? sum[k] / (double)f->n_ons4 : 0;
    for (i = 0; i < f->n_swemwbs; i++)
        ws += f->swemwbs[i].metric_after - f->swemwbs[i].metric_before;
    f->swemwbs_mean_change = f->n_swemwbs ? ws / (double)f->n_swemwbs : 0;
}

/* ---- waits -------------------------------------------------------------------- */

static int by_person_day(const void *a, const void *b)
{
    const rv_day *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

static int by_person_referral(const void *a, const void *b)
{
    const rv_referral *x = a, *y = b;
    if (x->person != y->person)
        return x->person < y->person ? -1 : 1;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The day of person p's first contact on or after day and not after as_of,
 * or LONG_MIN. */
static long first_contact(const rv *v, size_t p, long day)
{
    size_t lo = 0, hi = v->n_contacts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const rv_day *c = &v->contacts[mid];
        if (c->person < p || (c->person == p && c->day < day))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->n_contacts && v->contacts[lo].person == p && v->contacts[lo].day <= v->asof_day)
        return v->contacts[lo].day;
    return LONG_MIN;
}

static int wait_add(rv *v, const rv_referral *x, long first)
{
    const size_t *sc;
    size_t k, n;
    for (k = 0, n = scopes_of(v, x->person, &sc); k < n; k++) {
        lb_review_figures *f = v->figs[sc[k]];
        lb_review_wait *w = push(&f->waits, &f->n_waits, &v->caps[sc[k]].waits, sizeof *w);
        if (!w)
            return -1;
        memcpy(w->person, v->people[x->person].id, sizeof w->person);
        memcpy(w->referral, x->id, sizeof w->referral);
        memcpy(w->date, x->date, LB_REVIEW_DATE);
        w->first_contact[0] = '\0';
        if (first != LONG_MIN)
            date_of_day(first, w->first_contact);
        w->days = (first != LONG_MIN ? first : v->asof_day) - x->day;
    }
    return 0;
}

/* Each referral of the period (not declined, not after as_of) and its wait;
 * a discharged person's unanswered referral waits no more and is left out. */
static lb_err make_waits(rv *v)
{
    size_t i, k, n, counted = NONE;
    const size_t *sc;
    sort_items(v->contacts, v->n_contacts, sizeof *v->contacts, by_person_day);
    sort_items(v->refs, v->n_refs, sizeof *v->refs, by_person_referral);
    for (i = 0; i < v->n_refs; i++) {
        const rv_referral *x = &v->refs[i];
        long first;
        if (x->declined || !in_period(v, x->day) || x->day > v->asof_day)
            continue;
        first = first_contact(v, x->person, x->day);
        if (first == LONG_MIN && v->people[x->person].discharged)
            continue;
        if (wait_add(v, x, first) != 0)
            return LB_ERR_NOMEM;
        if (first != LONG_MIN || counted == x->person)
            continue;
        counted = x->person;
        for (k = 0, n = scopes_of(v, x->person, &sc); k < n; k++)
            v->figs[sc[k]]->waiting_people++;
    }
    return LB_OK;
}

static int by_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int by_wait(const void *a, const void *b)
{
    const lb_review_wait *x = a, *y = b;
    int c = strcmp(x->date, y->date);
    return c ? c : strcmp(x->referral, y->referral);
}

static int by_overdue(const void *a, const void *b)
{
    const lb_review_overdue *x = a, *y = b;
    int c = strcmp(x->due, y->due);
    return c ? c : strcmp(x->task, y->task);
}

/* Sort a scope's lists; the summary of its waits. */
static lb_err wait_summary(lb_review_figures *f)
{
    long *days = calloc(f->n_waits + 1, sizeof *days), sum = 0;
    size_t i, n = 0;
    if (!days)
        return LB_ERR_NOMEM;
    sort_items(f->waits, f->n_waits, sizeof *f->waits, by_wait);
    sort_items(f->overdue, f->n_overdue, sizeof *f->overdue, by_overdue);
    for (i = 0; i < f->n_waits; i++) {
        const lb_review_wait *w = &f->waits[i];
        if (!w->first_contact[0]) {
            if (w->days > f->waiting_max)
                f->waiting_max = w->days;
            continue;
        }
        days[n++] = w->days;
        sum += w->days;
    }
    sort_items(days, n, sizeof *days, by_long);
    f->waited_n = (long)n;
    f->waited_mean = n ? (double)sum / (double)n : 0;
    f->waited_median = !n ? 0 : n % 2 ? (double)days[n / 2]
                                      : (double)(days[n / 2 - 1] + days[n / 2]) / 2.0;
    f->waited_max = n ? days[n - 1] : 0;
    free(days);
    return LB_OK;
}

/* ---- months and conflicts ------------------------------------------------------ */

/* The months of the period: from from's month, else from the earliest
 * referral or contact of the period, to the month the period ends. */
static lb_err make_months(rv *v)
{
    lb_review *r = v->r;
    long first = LONG_MAX, last = month_of_day(v->end_day), m;
    size_t i, f;
    if (r->from[0])
        first = month_ix(r->from);
    for (i = 0; !r->from[0] && i < v->n_refs; i++)
        if (in_period(v, v->refs[i].day) && month_of_day(v->refs[i].day) < first)
            first = month_of_day(v->refs[i].day);
    for (i = 0; !r->from[0] && i < v->n_contacts; i++)
        if (in_period(v, v->contacts[i].day) && month_of_day(v->contacts[i].day) < first)
            first = month_of_day(v->contacts[i].day);
    if (first > last)
        first = last;
    if (last - first >= LB_REVIEW_MONTHS_MAX)
        first = last - LB_REVIEW_MONTHS_MAX + 1;
    v->first_mix = first;
    month_text(first, r->first_month);
    month_text(last, r->last_month);
    for (f = 0; f < v->n_figs; f++) {
        lb_review_figures *fig = v->figs[f];
        if (!(fig->months = calloc((size_t)(last - first + 1), sizeof *fig->months)))
            return LB_ERR_NOMEM;
        fig->n_months = (size_t)(last - first + 1);
        for (m = first; m <= last; m++)
            month_text(m, fig->months[m - first].month);
    }
    return LB_OK;
}

/* Count a referral (which 0) or a contact (1) of person p on day in its
 * month of each of p's scopes. */
static void month_count(rv *v, size_t p, long day, int which)
{
    const size_t *sc;
    size_t k, n;
    long m = month_of_day(day) - v->first_mix;
    if (!in_period(v, day) || m < 0 || (size_t)m >= v->figs[0]->n_months)
        return;
    for (k = 0, n = scopes_of(v, p, &sc); k < n; k++) {
        lb_review_month *mo = &v->figs[sc[k]]->months[m];
        if (which == 0)
            mo->referrals++;
        else
            mo->contacts++;
    }
}

static void count_months(rv *v)
{
    size_t i;
    for (i = 0; i < v->n_refs; i++)
        month_count(v, v->refs[i].person, v->refs[i].day, 0);
    for (i = 0; i < v->n_contacts; i++)
        month_count(v, v->contacts[i].person, v->contacts[i].day, 1);
}

static lb_err count_conflicts(rv *v)
{
    json_t *doc = NULL, *c;
    const size_t *sc;
    size_t i, k, n;
    lb_err err = lb_conflict_list(v->s, &doc);
    if (err)
        return err;
    json_array_foreach(json_object_get(doc, "conflicts"), i, c) {
        const char *pid = fstr(c, "person");
        size_t p = pid ? find_person(v, pid) : NONE;
        if (p == NONE)
            continue;
        for (k = 0, n = scopes_of(v, p, &sc); k < n; k++)
            v->figs[sc[k]]->conflicts++;
    }
    json_decref(doc);
    return LB_OK;
}

/* ---- the query ------------------------------------------------------------------ */

static lb_err check_query(lb_store *s, const lb_review_query *q, rv *v)
{
    lb_review *r = v->r;
    char msg[256], today[LB_REVIEW_DATE];
    lb_store_today(s, today);
    if (q->from && lb_date_check("from", q->from, msg, sizeof msg) != LB_OK)
        return lb_store_fail(s, LB_ERR_INVALID, "%s", msg);
    if (q->to && lb_date_check("to", q->to, msg, sizeof msg) != LB_OK)
        return lb_store_fail(s, LB_ERR_INVALID, "%s", msg);
    if (q->from && q->to && strcmp(q->to, q->from) < 0)
        return lb_store_fail(s, LB_ERR_INVALID, "to: the period ends (%s) before it begins "
                             "(%s); give the earlier date as from", q->to, q->from);
    if (q->from && strcmp(q->from, today) > 0)
        return lb_store_fail(s, LB_ERR_INVALID, "from: the period begins after today (%s), "
                             "so nothing can be recorded in it yet", today);
    if (q->from && month_ix(q->to ? q->to : today) - month_ix(q->from) >= LB_REVIEW_MONTHS_MAX)
        return lb_store_fail(s, LB_ERR_INVALID, "from: the period is longer than %d months",
                             LB_REVIEW_MONTHS_MAX);
    if (q->caseload && (!*q->caseload || strlen(q->caseload) > LB_CASELOAD_MAX))
        return lb_store_fail(s, LB_ERR_INVALID, "caseload: not a caseload id");
    snprintf(r->from, sizeof r->from, "%s", q->from ? q->from : "");
    snprintf(r->to, sizeof r->to, "%s", q->to ? q->to : "");
    snprintf(r->as_of, sizeof r->as_of, "%s", q->to && strcmp(q->to, today) < 0 ? q->to : today);
    v->from_day = q->from ? lb_date_days(q->from) : LONG_MIN + 1;
    v->end_day = lb_date_days(q->to ? q->to : today);
    v->asof_day = lb_date_days(r->as_of);
    return LB_OK;
}

lb_err lb_review_audit(lb_store *s, const lb_review_query *q, const lb_review *r)
{
    char when[LB_HLC_TEXT + 1];
    json_t *f;
    lb_err err;
    lb_hlc_format(lb_store_now_ms(s) << 16, when);
    f = json_pack("{s:s, s:s, s:s}", "action", q->purpose ? q->purpose : "review", "when", when,
                  "scope", q->caseload ? q->caseload : "team");
    if (f && r->from[0])
        json_object_set_new(f, "from", json_string(r->from));
    if (f && r->to[0])
        json_object_set_new(f, "to", json_string(r->to));
    if (!f)
        return LB_ERR_NOMEM;
    err = lb_change_write(s, "audit", NULL, LB_NOBODY, f, NULL);
    json_decref(f);
    return err;
}

static void init_figures(lb_review_figures *f)
{
    f->status.set = LB_CODES_PERSON_STATUS;
    f->sources.set = LB_CODES_SOURCE;
    f->reasons.set = LB_CODES_REASON;
    f->categories.set = LB_CODES_CATEGORY;
    f->modes.set = LB_CODES_MODE;
    f->goal_status.set = LB_CODES_GOAL_STATUS;
}

/* Read every kind that counts, then derive what needs all of them. */
static lb_err gather(rv *v)
{
    static const struct { const char *kind; lb_record_cb cb; } kinds[] = {
        {"contact", contact_one}, {"referral", referral_one}, {"task", task_one},
        {"goal", goal_one}, {"measure", measure_one},
    };
    size_t i;
    lb_err err = load_people(v);
    for (i = 0; !err && i < v->n_figs; i++)
        init_figures(v->figs[i]);
    if (!err)
        count_people(v);
    if (!err && !(v->caps = calloc(v->n_figs, sizeof *v->caps)))
        err = LB_ERR_NOMEM;
    for (i = 0; !err && i < sizeof kinds / sizeof kinds[0]; i++)
        if ((err = lb_record_scan(v->s, kinds[i].kind, kinds[i].cb, v)) == LB_OK)
            err = v->err;
    if (!err) {
        count_referrals(v);
        err = make_waits(v);
    }
    if (!err)
        err = make_months(v);
    if (!err) {
        count_months(v);
        err = make_pairs(v);
    }
    for (i = 0; !err && i < v->n_figs; i++) {
        mean_changes(v->figs[i]);
        err = wait_summary(v->figs[i]);
    }
    return err ? err : count_conflicts(v);
}

static void rv_clear(rv *v)
{
    free(v->people);
    free(v->links);
    free(v->pscope);
    free(v->figs);
    free(v->caps);
    free(v->contacts);
    free(v->refs);
    free(v->measures);
}

/* A review reads nearly every page of the store once: through SQLite's
 * bounded page cache rather than the memory map, so that the pages read do
 * not all stay mapped into the process (its resident memory would grow by
 * the size of the store).  The store's setting comes back afterwards. */
static sqlite3_int64 mmap_off(lb_store *s)
{
    sqlite3_stmt *st = NULL;
    sqlite3_int64 size = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA mmap_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (size > 0)
        sqlite3_exec(s->db, "PRAGMA mmap_size=0", NULL, NULL, NULL);
    return size;
}

static void mmap_back(lb_store *s, sqlite3_int64 size)
{
    char sql[64];
    if (size <= 0)
        return;
    snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", (long long)size);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

lb_err lb_review_compute(lb_store *s, const lb_review_query *q, lb_review **out)
{
    sqlite3_int64 mapped;
    static const lb_review_query none = {NULL, NULL, NULL, NULL, 0};
    rv v;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    memset(&v, 0, sizeof v);
    v.s = s;
    v.q = q ? q : &none;
    if (!(v.r = calloc(1, sizeof *v.r)))
        return LB_ERR_NOMEM;
    err = check_query(s, v.q, &v);
    if (!err) {
        mapped = mmap_off(s);
        err = gather(&v);
        mmap_back(s, mapped);
    }
    if (!err && !v.q->defer_audit)
        err = lb_review_audit(s, v.q, v.r);
    rv_clear(&v);
    if (err) {
        lb_review_free(v.r);
        return err;
    }
    *out = v.r;
    return LB_OK;
}

static void figures_clear(lb_review_figures *f)
{
    free(f->months);
    free(f->waits);
    free(f->overdue);
    free(f->ons4);
    free(f->swemwbs);
}

void lb_review_free(lb_review *r)
{
    size_t i;
    if (!r)
        return;
    figures_clear(&r->all);
    for (i = 0; i < r->n_caseloads; i++)
        figures_clear(&r->caseloads[i]);
    free(r->caseloads);
    free(r);
}

/* ---- caseloads ------------------------------------------------------------------ */

static int caseload_one(const lb_record *r, void *ctx)
{
    json_t *set = ctx;
    const char *cl = fstr(r->fields, "caseload");
    if (cl && json_is_true(json_object_get(r->fields, "active")))
        return json_object_set_new(set, cl, json_true()) != 0;
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

lb_err lb_review_caseloads(lb_store *s, char ***out)
{
    json_t *set = json_object(), *val;
    const char *key;
    char **list = NULL;
    size_t n = 0;
    lb_err err = set ? lb_record_each(s, "assignment", NULL, caseload_one, set) : LB_ERR_NOMEM;
    if (!err && !(list = calloc(json_object_size(set) + 1, sizeof *list)))
        err = LB_ERR_NOMEM;
    json_object_foreach(set, key, val) {
        if (err || !(list[n] = strdup(key))) {
            err = LB_ERR_NOMEM;
            break;
        }
        n++;
    }
    json_decref(set);
    if (err) {
        lb_review_caseloads_free(list);
        return err;
    }
    sort_items(list, n, sizeof *list, by_string);
    *out = list;
    return LB_OK;
}

void lb_review_caseloads_free(char **list)
{
    size_t i;
    for (i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *num2(double x)
{
    double c = x * 100.0 + (x >= 0 ? 0.5 : -0.5);
    return json_real((double)(long long)c / 100.0);
}

static json_t *tally_json(const lb_review_tally *t)
{
    const char *const *l = lb_codes_list(t->set);
    json_t *o = json_object();
    int i;
    for (i = 0; o && l[i] && i < LB_REVIEW_TALLY_MAX; i++)
        json_object_set_new(o, l[i], json_integer(t->n[i]));
    if (o && t->other)
        json_object_set_new(o, "other", json_integer(t->other));
    return o;
}

static json_t *people_json(const lb_review_figures *f)
{
    json_t *age = json_object();
    int i;
    for (i = 0; age && i < LB_REVIEW_AGE_BANDS; i++)
        json_object_set_new(age, AGE_BANDS[i], json_integer(f->age[i]));
    return json_pack("{s:I, s:o, s:o, s:I, s:I}", "total", (json_int_t)f->people,
                     "status", tally_json(&f->status), "age_bands", age,
                     "carers", (json_int_t)f->carers, "interpreters", (json_int_t)f->interpreters);
}

static json_t *months_json(const lb_review_figures *f)
{
    json_t *a = json_array();
    size_t i;
    for (i = 0; a && i < f->n_months; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "month", f->months[i].month,
                                           "referrals", (json_int_t)f->months[i].referrals,
                                           "contacts", (json_int_t)f->months[i].contacts));
    return a;
}

static json_t *waiting_json(const lb_review_figures *f, int lists)
{
    json_t *a = json_array();
    size_t i;
    for (i = 0; a && lists && i < f->n_waits; i++) {
        const lb_review_wait *w = &f->waits[i];
        json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:b}", "person", w->person, "referral",
                              w->referral, "date", w->date, "days", (json_int_t)w->days,
                              "waiting", !w->first_contact[0]);
        if (e && w->first_contact[0])
            json_object_set_new(e, "first_contact", json_string(w->first_contact));
        json_array_append_new(a, e);
    }
    return json_pack("{s:I, s:I, s:o, s:{s:I, s:o, s:o, s:I}}",
                     "people", (json_int_t)f->waiting_people,
                     "longest_waiting_days", (json_int_t)f->waiting_max, "referrals", a,
                     "first_contact", "count", (json_int_t)f->waited_n,
                     "mean_days", num2(f->waited_mean), "median_days", num2(f->waited_median),
                     "max_days", (json_int_t)f->waited_max);
}

static json_t *overdue_json(const lb_review_figures *f, int lists)
{
    json_t *a = json_array();
    size_t i;
    for (i = 0; a && lists && i < f->n_overdue; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "task", f->overdue[i].task,
                                           "person", f->overdue[i].person, "due",
                                           f->overdue[i].due, "days",
                                           (json_int_t)f->overdue[i].days));
    return a;
}

static json_t *ons4_items(const int *v)
{
    json_t *o = json_object();
    int k;
    for (k = 0; o && k < LB_REVIEW_ONS4_ITEMS; k++)
        json_object_set_new(o, ONS4_ITEMS[k], json_integer(v[k]));
    return o;
}

static json_t *wellbeing_json(const lb_review_figures *f, int lists)
{
    json_t *ons = json_array(), *sw = json_array(), *mean = json_object();
    size_t i;
    int k;
    for (k = 0; mean && k < LB_REVIEW_ONS4_ITEMS; k++)
        json_object_set_new(mean, ONS4_ITEMS[k], num2(f->ons4_mean_change[k]));
    for (i = 0; ons && lists && i < f->n_ons4; i++) {
        const lb_review_ons4_pair *o = &f->ons4[i];
        json_array_append_new(ons, json_pack("{s:s, s:s, s:s, s:o, s:o}", "person", o->person,
                                             "baseline", o->baseline, "latest", o->latest,
                                             "before", ons4_items(o->before),
                                             "after", ons4_items(o->after)));
    }
    for (i = 0; sw && lists && i < f->n_swemwbs; i++) {
        const lb_review_swemwbs_pair *w = &f->swemwbs[i];
        json_array_append_new(sw, json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:o}",
                                            "person", w->person, "baseline", w->baseline,
                                            "latest", w->latest, "raw_before", w->raw_before,
                                            "raw_after", w->raw_after,
                                            "metric_before", num2(w->metric_before),
                                            "metric_after", num2(w->metric_after),
                                            "metric_change",
                                            num2(w->metric_after - w->metric_before)));
    }
    return json_pack("{s:{s:I, s:o, s:o}, s:{s:I, s:o, s:o}}",
                     "ons4", "pairs", (json_int_t)f->n_ons4, "mean_change", mean, "people", ons,
                     "swemwbs", "pairs", (json_int_t)f->n_swemwbs, "mean_metric_change",
                     num2(f->swemwbs_mean_change), "people", sw);
}

/* The figures of one scope; lists: with the lists of people (waits,
 * overdue follow-ups, wellbeing pairs), else those arrays are empty. */
static json_t *figures_json(const lb_review_figures *f, int lists)
{
    json_t *j = json_pack(
        "{s:o, s:{s:I, s:I, s:o, s:o}, s:{s:I, s:I, s:I, s:o, s:o}, s:o, s:o, s:o,"
        " s:{s:I, s:o}, s:o, s:I}",
        "people", people_json(f),
        "referrals", "total", (json_int_t)f->referrals, "this_month",
        (json_int_t)f->referrals_this_month, "sources", tally_json(&f->sources),
        "reasons", tally_json(&f->reasons),
        "contacts", "total", (json_int_t)f->contacts, "minutes", (json_int_t)f->contact_minutes,
        "signposts", (json_int_t)f->signposts, "categories", tally_json(&f->categories),
        "modes", tally_json(&f->modes),
        "months", months_json(f), "waiting", waiting_json(f, lists), "overdue",
        overdue_json(f, lists),
        "goals", "set", (json_int_t)f->goals_set, "status", tally_json(&f->goal_status),
        "wellbeing", wellbeing_json(f, lists), "conflicts", (json_int_t)f->conflicts);
    if (j && f->caseload[0])
        json_object_set_new(j, "caseload", json_string(f->caseload));
    return j;
}

lb_err lb_review_json(const lb_review *r, json_t **out)
{
    json_t *cls = json_array(), *doc;
    size_t i;
    for (i = 0; cls && i < r->n_caseloads; i++)
        if (json_array_append_new(cls, figures_json(&r->caseloads[i], 0)) != 0) {
            json_decref(cls);
            return LB_ERR_NOMEM;
        }
    doc = json_pack("{s:s, s:o, s:o}", "as_of", r->as_of, "team", figures_json(&r->all, 1),
                    "caseloads", cls);
    if (!doc)
        return LB_ERR_NOMEM;
    if (r->from[0])
        json_object_set_new(doc, "from", json_string(r->from));
    if (r->to[0])
        json_object_set_new(doc, "to", json_string(r->to));
    *out = doc;
    return LB_OK;
}
