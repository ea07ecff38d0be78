/* lb_view.c - reading the record (see lb_view.h).
 *
 * A timeline is built from every record about a person, decrypted once:
 * amendments are folded under the note they correct, goal reviews under
 * their goal, assignments into the person's caseloads; entries are ordered
 * by their date, then by when they were recorded.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lb_codes.h"
#include "lb_hlc.h"
#include "lb_model.h"
#include "lb_record.h"
#include "lb_store_priv.h"
#include "lb_view.h"

lb_err lb_view_audit(lb_store *s, const char *action, const char *person)
{
    char when[LB_HLC_TEXT + 1];
    json_t *f;
    lb_err err;
    lb_hlc_format(lb_store_now_ms(s) << 16, when);
    f = json_pack("{s:s, s:s}", "action", action, "when", when);
    if (!f)
        return LB_ERR_NOMEM;
    err = lb_change_write(s, "audit", NULL, person ? person : LB_NOBODY, f, NULL);
    json_decref(f);
    return err;
}

static long days_between(const char *from, const char *to)
{
    return lb_date_days(to) - lb_date_days(from);
}

/* A record as one JSON object: its fields plus id, kind, author, recorded. */
static json_t *entry_of(const lb_record *r)
{
    char when[LB_HLC_TEXT + 1];
    json_t *e = json_deep_copy(r->fields);
    if (!e)
        return NULL;
    lb_hlc_format(r->created, when);
    json_object_set_new(e, "id", json_string(r->id));
    json_object_set_new(e, "kind", json_string(r->kind));
    json_object_set_new(e, "author", json_string(r->author));
    json_object_set_new(e, "recorded", json_string(when));
    return e;
}

typedef struct collect {
    json_t *all;      /* id -> entry, every record of the person */
    json_t *order;    /* entries in creation order */
} collect;

static int collect_one(const lb_record *r, void *ctx)
{
    collect *c = ctx;
    json_t *e;
    if (strcmp(r->kind, "audit") == 0)
        return 0;
    e = entry_of(r);
    if (!e)
        return 1;
    json_object_set(c->all, r->id, e);
    json_array_append_new(c->order, e);
    return 0;
}

/* Append child to the array key of the entry named by parent_key. */
static int fold_under(json_t *all, json_t *child, const char *parent_key, const char *key)
{
    json_t *parent = json_object_get(all, json_string_value(json_object_get(child, parent_key)));
    json_t *list;
    if (!parent)
        return 0;
    list = json_object_get(parent, key);
    if (!list) {
        list = json_array();
        json_object_set_new(parent, key, list);
    }
    json_array_append(list, child);
    return 1;
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* Waiting time of each referral: days to the first contact on or after it. */
static void referral_waits(json_t *order)
{
    size_t i, j;
    json_t *r, *c;
    json_array_foreach(order, i, r) {
        const char *first = NULL;
        if (strcmp(str(r, "kind"), "referral") != 0)
            continue;
        json_array_foreach(order, j, c) {
            const char *d = str(c, "date");
            if (strcmp(str(c, "kind"), "contact") == 0 && strcmp(d, str(r, "date")) >= 0 &&
                (!first || strcmp(d, first) < 0))
                first = d;
        }
        if (first) {
            json_object_set_new(r, "first_contact", json_string(first));
            json_object_set_new(r, "waiting_days", json_integer(days_between(str(r, "date"), first)));
        }
    }
}

/* Where an entry stands in time: its date, else when an assignment began
 * or when a follow-up is due. */
static const char *entry_date(json_t *e)
{
    const char *d = str(e, "date");
    if (!*d)
        d = str(e, "from");
    if (!*d)
        d = str(e, "due");
    return d;
}

static int by_date(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(entry_date(x), entry_date(y));
    return c ? c : strcmp(str(x, "recorded"), str(y, "recorded"));
}

/* Split the person's entries into the person, caseloads and a timeline. */
static json_t *timeline_of(collect *c, json_t **person)
{
    json_t *timeline = json_array(), *e, *caseloads = json_array(), **v;
    size_t i, n = 0;
    v = calloc(json_array_size(c->order) + 1, sizeof *v);
    if (!v || !timeline || !caseloads) {
        free(v);
        json_decref(timeline);
        json_decref(caseloads);
        return NULL;
    }
    json_array_foreach(c->order, i, e) {
        const char *kind = str(e, "kind");
        if (strcmp(kind, "person") == 0)
            *person = e;
        else if (strcmp(kind, "note") == 0 && fold_under(c->all, e, "amends", "amendments"))
            continue;
        else if (strcmp(kind, "goal_review") == 0 && fold_under(c->all, e, "goal", "reviews"))
            continue;
        if (strcmp(kind, "assignment") == 0 && json_is_true(json_object_get(e, "active")))
            json_array_append(caseloads, json_object_get(e, "caseload"));
        if (strcmp(kind, "person") != 0)
            v[n++] = e;
    }
    qsort(v, n, sizeof *v, by_date);
    for (i = 0; i < n; i++)
        json_array_append(timeline, v[i]);
    free(v);
    if (*person)
        json_object_set_new(*person, "caseloads", caseloads);
    else
        json_decref(caseloads);
    return timeline;
}

lb_err lb_person_show(lb_store *s, const char *ref, json_t **out)
{
    char pid[LB_ID_HEX + 1];
    collect c = {json_object(), json_array()};
    json_t *person = NULL, *timeline = NULL;
    lb_err err = c.all && c.order ? lb_person_resolve(s, ref, pid) : LB_ERR_NOMEM;
    if (!err)
        err = lb_record_each(s, NULL, pid, collect_one, &c);
    if (!err) {
        referral_waits(c.order);
        timeline = timeline_of(&c, &person);
        if (!timeline || !person)
            err = timeline ? lb_store_fail(s, LB_ERR_NOTFOUND, "no person %s", pid) : LB_ERR_NOMEM;
    }
    if (!err)
        err = lb_view_audit(s, "view", pid);
    if (!err) {
        *out = json_pack("{s:O, s:o}", "person", person, "timeline", timeline);
        timeline = NULL;
        if (!*out)
            err = LB_ERR_NOMEM;
    }
    json_decref(timeline);
    json_decref(c.all);
    json_decref(c.order);
    return err;
}

/* ---- lists ------------------------------------------------------------------- */

typedef struct people {
    json_t *byid;     /* person id -> summary */
    const char *status;
} people;

static int person_one(const lb_record *r, void *ctx)
{
    people *p = ctx;
    json_t *e;
    const char *st = json_string_value(json_object_get(r->fields, "status"));
    if (p->status && (!st || strcmp(st, p->status) != 0))
        return 0;
    e = json_pack("{s:s, s:O, s:O, s:O, s:[]}", "id", r->id,
                  "given", json_object_get(r->fields, "given"),
                  "family", json_object_get(r->fields, "family"),
                  "status", json_object_get(r->fields, "status"), "caseloads");
    if (!e)
        return 1;
    json_object_set(e, "nhs", json_object_get(r->fields, "nhs"));
    json_object_set(e, "dob", json_object_get(r->fields, "dob"));
    json_object_set_new(p->byid, r->id, e);
    return 0;
}

static int assignment_one(const lb_record *r, void *ctx)
{
    people *p = ctx;
    json_t *e = json_object_get(p->byid, r->person);
    if (e && json_is_true(json_object_get(r->fields, "active")))
        json_array_append(json_object_get(e, "caseloads"), json_object_get(r->fields, "caseload"));
    return 0;
}

static int by_name(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcasecmp(str(x, "family"), str(y, "family"));
    if (!c)
        c = strcasecmp(str(x, "given"), str(y, "given"));
    return c ? c : strcmp(str(x, "id"), str(y, "id"));
}

/* The values of an object as an array sorted with cmp. */
static json_t *sorted_values(json_t *obj, int (*cmp)(const void *, const void *))
{
    json_t **v = calloc(json_object_size(obj) + 1, sizeof *v), *e, *arr = json_array();
    const char *key;
    size_t n = 0, i;
    if (!v || !arr) {
        free(v);
        json_decref(arr);
        return NULL;
    }
    json_object_foreach(obj, key, e)
        v[n++] = e;
    qsort(v, n, sizeof *v, cmp);
    for (i = 0; i < n; i++)
        json_array_append(arr, v[i]);
    free(v);
    return arr;
}

lb_err lb_person_list(lb_store *s, const char *status, json_t **out)
{
    char msg[256];
    people p = {json_object(), status};
    json_t *list = NULL;
    lb_err err = p.byid ? LB_OK : LB_ERR_NOMEM;
    if (!err && status && lb_codes_check(LB_CODES_PERSON_STATUS, "status", status, msg, sizeof msg))
        err = lb_store_fail(s, LB_ERR_INVALID, "%s", msg);
    if (!err)
        err = lb_record_each(s, "person", NULL, person_one, &p);
    if (!err)
        err = lb_record_each(s, "assignment", NULL, assignment_one, &p);
    if (!err && !(list = sorted_values(p.byid, by_name)))
        err = LB_ERR_NOMEM;
    if (!err)
        err = lb_view_audit(s, "list", NULL);
    if (!err && !(*out = json_pack("{s:o}", "people", list)))
        err = LB_ERR_NOMEM;
    else if (err)
        json_decref(list);
    json_decref(p.byid);
    return err;
}

typedef struct tasks {
    lb_store *s;
    json_t *list;
    json_t *names;    /* person id -> person fields, read once each */
    char today[11];
    int overdue_only;
    lb_err err;
} tasks;

static json_t *person_fields(tasks *t, const char *pid)
{
    json_t *f = json_object_get(t->names, pid);
    lb_record *r = NULL;
    if (f)
        return f;
    t->err = lb_record_get(t->s, pid, &r);
    if (t->err)
        return NULL;
    json_object_set(t->names, pid, r->fields);
    f = r->fields;
    lb_record_free(r);
    return f;
}

static int task_one(const lb_record *r, void *ctx)
{
    tasks *t = ctx;
    const char *due = str(r->fields, "due");
    long late = days_between(due, t->today);
    json_t *p, *e;
    if (json_is_true(json_object_get(r->fields, "done")) || (t->overdue_only && late <= 0))
        return 0;
    if (!(p = person_fields(t, r->person)))
        return 1;
    e = json_pack("{s:s, s:s, s:O, s:O, s:s, s:I, s:O}", "id", r->id, "person", r->person,
                  "given", json_object_get(p, "given"), "family", json_object_get(p, "family"),
                  "due", due, "overdue_days", (json_int_t)(late > 0 ? late : 0),
                  "text", json_object_get(r->fields, "text"));
    if (!e) {
        t->err = LB_ERR_NOMEM;
        return 1;
    }
    json_object_set(e, "contact", json_object_get(r->fields, "contact"));
    json_array_append_new(t->list, e);
    return 0;
}

static int by_due(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(str(x, "due"), str(y, "due"));
    return c ? c : strcmp(str(x, "id"), str(y, "id"));
}

lb_err lb_task_list(lb_store *s, int overdue_only, json_t **out)
{
    tasks t = {s, json_array(), json_object(), "", overdue_only, LB_OK};
    lb_err err = t.list && t.names ? LB_OK : LB_ERR_NOMEM;
    json_t **v = NULL, *sorted = json_array();
    size_t i, n;
    lb_store_today(s, t.today);
    if (!err)
        err = lb_record_each(s, "task", NULL, task_one, &t);
    if (!err)
        err = t.err;
    n = json_array_size(t.list);
    if (!err && (!sorted || !(v = calloc(n + 1, sizeof *v))))
        err = LB_ERR_NOMEM;
    if (!err) {
        for (i = 0; i < n; i++)
            v[i] = json_array_get(t.list, i);
        qsort(v, n, sizeof *v, by_due);
        for (i = 0; i < n; i++)
            json_array_append(sorted, v[i]);
        *out = json_pack("{s:s, s:O}", "today", t.today, "tasks", sorted);
        if (!*out)
            err = LB_ERR_NOMEM;
    }
    free(v);
    json_decref(sorted);
    json_decref(t.list);
    json_decref(t.names);
    return err;
}

/* ---- audit trail ------------------------------------------------------------- */

typedef struct trail {
    json_t *events;
    json_t *seen;      /* record ids met so far: a later change is an update */
    const char *person;
} trail;

/* The names of the fields a change set (never their values). */
static json_t *field_names(json_t *fields)
{
    json_t *names = json_array(), *v;
    const char *key;
    json_object_foreach(fields, key, v)
        json_array_append_new(names, json_string(key));
    return names;
}

/* What a caseload-wide read covered (review, report, export): its scope
 * ("team" or a caseload id) and period, when the event says. */
static void read_scope(json_t *e, json_t *fields)
{
    static const char *const keys[] = {"scope", "from", "to"};
    size_t i;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_is_string(json_object_get(fields, keys[i])))
            json_object_set(e, keys[i], json_object_get(fields, keys[i]));
}

static int trail_one(const lb_change *c, void *ctx)
{
    trail *t = ctx;
    char when[LB_HLC_TEXT + 1];
    const char *action;
    json_t *e;
    int first = !json_object_get(t->seen, c->record);
    json_object_set_new(t->seen, c->record, json_true());
    if (t->person && strcmp(c->person, t->person) != 0)
        return 0;
    if (strcmp(c->kind, "audit") == 0)
        action = str(c->fields, "action");
    else
        action = first ? "create" : "update";
    lb_hlc_format(c->hlc, when);
    e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "when", when, "device", c->device,
                  "author", c->author, "action", action, "kind", c->kind, "record", c->record,
                  "person", c->person, "change", c->id);
    if (e && strcmp(c->kind, "audit") != 0)
        json_object_set_new(e, "fields", field_names(c->fields));
    else if (e)
        read_scope(e, c->fields);
    return e ? json_array_append_new(t->events, e) != 0 : 1;
}

lb_err lb_audit_list(lb_store *s, const char *person, json_t **out)
{
    char pid[LB_ID_HEX + 1];
    trail t = {json_array(), json_object(), NULL};
    lb_err err = t.events && t.seen ? LB_OK : LB_ERR_NOMEM;
    if (!err && person) {
        err = lb_person_resolve(s, person, pid);
        t.person = pid;
    }
    if (!err)
        err = lb_change_each(s, trail_one, &t);
    if (!err && !(*out = json_pack("{s:O}", "events", t.events)))
        err = LB_ERR_NOMEM;
    json_decref(t.events);
    json_decref(t.seen);
    return err;
}
