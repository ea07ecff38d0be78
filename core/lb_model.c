/* lb_model.c - recording: the write operations of lb_model.h.
 *
 * Each operation checks all of its input before it writes anything, then
 * writes its changes in one transaction.  Reading (timelines, lists) is in
 * lb_view.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_codes.h"
#include "lb_change.h"
#include "lb_measure.h"
#include "lb_model.h"
#include "lb_record.h"
#include "lb_store_priv.h"

#define NAME_MAX_LEN 200
#define TEXT_MAX_LEN 100000
#define SHORT_MAX_LEN 200

/* Turn a check's message into the store's error. */
static lb_err invalid(lb_store *s, lb_err err, const char *msg)
{
    return err ? lb_store_fail(s, err, "%s", msg) : LB_OK;
}

static lb_err check_text(lb_store *s, const char *field, const char *text, size_t max)
{
    char msg[256];
    return invalid(s, lb_text_check(field, text, max, msg, sizeof msg), msg);
}

static lb_err check_date(lb_store *s, const char *field, const char *date)
{
    char msg[256];
    return date ? invalid(s, lb_date_check(field, date, msg, sizeof msg), msg) : LB_OK;
}

static lb_err check_code(lb_store *s, lb_codeset set, const char *field, const char *v)
{
    char msg[512];
    return invalid(s, lb_codes_check(set, field, v, msg, sizeof msg), msg);
}

static lb_err check_codes(lb_store *s, lb_codeset set, const char *field, const char *csv)
{
    char msg[512];
    size_t n;
    return invalid(s, lb_codes_check_list(set, field, csv, &n, msg, sizeof msg), msg);
}

/* Comma-separated text as a JSON array of strings (items trimmed; empty
 * items refused). */
static lb_err csv_array(lb_store *s, const char *field, const char *csv, json_t **out)
{
    json_t *a = json_array();
    const char *p = csv;
    while (a && p) {
        size_t len = strcspn(p, ",");
        while (len && (*p == ' ')) { p++; len--; }
        while (len && p[len - 1] == ' ')
            len--;
        if (!len || len > SHORT_MAX_LEN) {
            json_decref(a);
            return lb_store_fail(s, LB_ERR_INVALID, "%s: comma-separated names, none empty "
                                 "and none over %d characters", field, SHORT_MAX_LEN);
        }
        json_array_append_new(a, json_stringn(p, len));
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    if (!a)
        return LB_ERR_NOMEM;
    *out = a;
    return LB_OK;
}

/* A JSON string of text already checked by lb_text_check (valid UTF-8), so
 * not checked again: notes are the bulk of what is recorded. */
static json_t *checked_text(const char *text)
{
    return json_string_nocheck(text);
}

/* Today's date unless date is given (already checked). */
static json_t *date_or_today(lb_store *s, const char *date)
{
    char today[11];
    if (date)
        return json_string_nocheck(date);
    lb_store_today(s, today);
    return json_string_nocheck(today);
}

/* o with key set to v (consumed); when o or v is missing, o is released
 * and NULL returned, so that calls chain.  For the fields recorded most
 * often, built without json_pack's parsing of a format. */
static json_t *with(json_t *o, const char *key, json_t *v)
{
    if (!o) {
        json_decref(v);
        return NULL;
    }
    if (!v || json_object_set_new_nocheck(o, key, v) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Write one change in the caller's transaction; fields is consumed. */
static lb_err put(lb_store *s, const char *kind, const char *record, const char *person,
                  json_t *fields, char id_out[LB_ID_HEX + 1])
{
    lb_err err = fields ? lb_change_write(s, kind, record, person, fields, id_out) : LB_ERR_NOMEM;
    json_decref(fields);
    return err;
}

static void copy_id(char *dst, const char *src)
{
    if (dst)
        memcpy(dst, src, LB_ID_HEX + 1);
}

/* End a write begun with lb_store_write_begin; on success hand the new
 * record's id out. */
static lb_err finish(lb_store *s, int own, lb_err err, const char *id, char *id_out)
{
    err = lb_store_write_end(s, own, err);
    if (!err)
        copy_id(id_out, id);
    return err;
}

/* Begin a write about the person ref names (resolved into pid). */
static lb_err begin_for(lb_store *s, const char *ref, char pid[LB_ID_HEX + 1], int *own)
{
    lb_err err = lb_store_write_begin(s, own);
    return err ? err : lb_person_resolve(s, ref, pid);
}

/* A whole id as the store writes them: 32 lower-case hex digits. */
static int whole_id(const char *ref)
{
    size_t i;
    for (i = 0; i < LB_ID_HEX; i++)
        if (!((ref[i] >= '0' && ref[i] <= '9') || (ref[i] >= 'a' && ref[i] <= 'f')))
            return 0;
    return ref[LB_ID_HEX] == '\0';
}

lb_err lb_person_resolve(lb_store *s, const char *ref, char id_out[LB_ID_HEX + 1])
{
    char nhs[11], msg[160];
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    /* The whole id of a person this store saw recently (a run of contacts
     * for one caseload): that person is there, no need to look. */
    if (ref && whole_id(ref) && lb_store_known_active(s, ref)) {
        memcpy(id_out, ref, LB_ID_HEX + 1);
        return LB_OK;
    }
    if (ref && strlen(ref) >= 10 && lb_nhs_check("person", ref, nhs, msg, sizeof msg) == LB_OK &&
        lb_record_find_nhs(s, nhs, id_out) == LB_OK)
        return LB_OK;
    return lb_record_resolve(s, ref, "person", id_out);
}

/* The record a prefix names, of kind; *out to free with lb_record_free. */
static lb_err record_ref(lb_store *s, const char *ref, const char *kind, lb_record **out)
{
    char id[LB_ID_HEX + 1];
    lb_err err = lb_record_resolve(s, ref, kind, id);
    return err ? err : lb_record_get(s, id, out);
}

/* ---- person ---------------------------------------------------------------- */

static lb_err optional_text(lb_store *s, const char *field, const char *v, size_t max)
{
    return v ? check_text(s, field, v, max) : LB_OK;
}

static lb_err person_check(lb_store *s, const lb_person_fields *f, char nhs[11])
{
    char msg[256], today[11];
    lb_err err = check_text(s, "given", f->given, NAME_MAX_LEN);
    if (!err)
        err = check_text(s, "family", f->family, NAME_MAX_LEN);
    if (!err && f->nhs)
        err = invalid(s, lb_nhs_check("nhs", f->nhs, nhs, msg, sizeof msg), msg);
    if (!err)
        err = check_date(s, "dob", f->dob);
    lb_store_today(s, today);
    if (!err && f->dob && strcmp(f->dob, today) > 0)
        err = lb_store_fail(s, LB_ERR_INVALID, "dob: %s is in the future", f->dob);
    if (!err)
        err = optional_text(s, "postcode", f->postcode, 16);
    if (!err)
        err = optional_text(s, "phone", f->phone, 32);
    if (!err)
        err = optional_text(s, "gp", f->gp_practice, 16);
    if (!err)
        err = optional_text(s, "language", f->language, 64);
    if (!err)
        err = optional_text(s, "caseload", f->caseload, LB_CASELOAD_MAX);
    if (!err && f->consent)
        err = check_codes(s, LB_CODES_CONSENT, "consent", f->consent);
    return err;
}

static void set_opt(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static json_t *person_json(lb_store *s, const lb_person_fields *f, const char *nhs)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b}", "given", f->given, "family", f->family,
                          "status", "referred", "interpreter", f->interpreter != 0,
                          "carer", f->carer != 0);
    json_t *consent = NULL;
    if (!o)
        return NULL;
    set_opt(o, "nhs", f->nhs ? nhs : NULL);
    set_opt(o, "dob", f->dob);
    set_opt(o, "postcode", f->postcode);
    set_opt(o, "phone", f->phone);
    set_opt(o, "gp_practice", f->gp_practice);
    set_opt(o, "language", f->language);
    if (f->consent && csv_array(s, "consent", f->consent, &consent) == LB_OK) {
        json_object_set_new(o, "consent", consent);
        json_object_set_new(o, "consent_date", date_or_today(s, NULL));
    }
    return o;
}

static lb_err assign(lb_store *s, const char *person, const char *caseload, const char *reason)
{
    json_t *a = json_pack("{s:s, s:s, s:o, s:s, s:b}", "caseload", caseload, "role",
                          lb_store_role(s), "from", date_or_today(s, NULL), "reason", reason,
                          "active", 1);
    return put(s, "assignment", NULL, person, a, NULL);
}

lb_err lb_person_add(lb_store *s, const lb_person_fields *f, char id_out[LB_ID_HEX + 1])
{
    char nhs[11] = "", id[LB_ID_HEX + 1], other[LB_ID_HEX + 1];
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (err)
        return err;
    err = person_check(s, f, nhs);
    if (!err && f->nhs && lb_record_find_nhs(s, nhs, other) == LB_OK)
        err = lb_store_fail(s, LB_ERR_INVALID, "nhs: that NHS number is already registered "
                            "(person %s); nothing was added", other);
    if (!err)
        err = put(s, "person", NULL, NULL, person_json(s, f, nhs), id);
    if (!err)
        err = assign(s, id, f->caseload ? f->caseload : lb_store_caseload(s), "registered");
    return finish(s, own, err, id, id_out);
}

/* ---- referral, contact ------------------------------------------------------- */

lb_err lb_referral_add(lb_store *s, const char *person, const lb_referral_fields *f,
                       char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    json_t *reasons = NULL;
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err)
        err = check_code(s, LB_CODES_SOURCE, "source", f->source);
    if (!err)
        err = check_codes(s, LB_CODES_REASON, "reason", f->reasons);
    if (!err)
        err = check_date(s, "date", f->date);
    if (!err)
        err = csv_array(s, "reason", f->reasons, &reasons);
    if (!err)
        err = put(s, "referral", NULL, pid,
                  json_pack("{s:s, s:o, s:o, s:s}", "source", f->source, "reasons", reasons,
                            "date", date_or_today(s, f->date), "status", "accepted"), id);
    return finish(s, own, err, id, id_out);
}

static lb_err contact_check(lb_store *s, const lb_contact_fields *f, long *minutes)
{
    char msg[256];
    lb_err err = check_code(s, LB_CODES_MODE, "mode", f->mode);
    if (!err)
        err = invalid(s, lb_int_parse("minutes", f->minutes, 1, 1440, minutes, msg, sizeof msg), msg);
    if (!err)
        err = check_codes(s, LB_CODES_CATEGORY, "category", f->categories);
    if (!err && f->note)
        err = check_text(s, "note", f->note, TEXT_MAX_LEN);
    if (!err)
        err = check_date(s, "follow-up", f->follow_up);
    if (!err)
        err = check_date(s, "date", f->date);
    if (!err && f->follow_up && f->date && strcmp(f->follow_up, f->date) < 0)
        err = lb_store_fail(s, LB_ERR_INVALID, "follow-up: %s is before the contact (%s); "
                            "a follow-up is on or after it", f->follow_up, f->date);
    return err;
}

static json_t *contact_json(lb_store *s, const lb_contact_fields *f, long minutes,
                            json_t *categories, json_t *signposts)
{
    json_t *o = with(json_object(), "date", date_or_today(s, f->date));
    o = with(o, "minutes", json_integer((json_int_t)minutes));
    o = with(o, "mode", json_string(f->mode));
    o = with(o, "role", json_string(lb_store_role(s)));
    o = with(o, "categories", categories);
    if (o && signposts)
        json_object_set_new(o, "signposts", signposts);
    else
        json_decref(signposts);
    set_opt(o, "follow_up", f->follow_up);
    return o;
}

/* A first contact makes a referred person active. */
static lb_err person_activate(lb_store *s, const char *pid)
{
    lb_record *p = NULL;
    const char *status;
    lb_err err;
    if (lb_store_known_active(s, pid))
        return LB_OK;
    err = lb_record_get(s, pid, &p);
    status = err ? NULL : json_string_value(json_object_get(p->fields, "status"));
    if (!err && status && strcmp(status, "referred") == 0)
        err = put(s, "person", pid, pid, json_pack("{s:s}", "status", "active"), NULL);
    lb_record_free(p);
    if (!err)
        lb_store_note_active(s, pid);
    return err;
}

static lb_err contact_extras(lb_store *s, const char *pid, const char *cid,
                             const lb_contact_fields *f)
{
    lb_err err = LB_OK;
    if (f->note)
        err = put(s, "note", NULL, pid,
                  with(with(with(json_object(), "text", checked_text(f->note)), "contact",
                            json_string_nocheck(cid)), "date", date_or_today(s, f->date)),
                  NULL);
    if (!err && f->follow_up)
        err = put(s, "task", NULL, pid, json_pack("{s:s, s:s, s:s, s:b}", "due", f->follow_up,
                                                  "text", "follow-up after contact", "contact",
                                                  cid, "done", 0), NULL);
    if (!err)
        err = person_activate(s, pid);
    return err;
}

lb_err lb_contact_add(lb_store *s, const char *person, const lb_contact_fields *f,
                      char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    json_t *cats = NULL, *signs = NULL;
    long minutes = 0;
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err)
        err = contact_check(s, f, &minutes);
    if (!err)
        err = csv_array(s, "category", f->categories, &cats);
    if (!err && f->signposts && (err = csv_array(s, "signpost", f->signposts, &signs)) != LB_OK)
        json_decref(cats);
    if (!err)
        err = put(s, "contact", NULL, pid, contact_json(s, f, minutes, cats, signs), id);
    if (!err)
        err = contact_extras(s, pid, id, f);
    return finish(s, own, err, id, id_out);
}

/* ---- notes, goals ---------------------------------------------------------- */

lb_err lb_note_add(lb_store *s, const char *person, const char *text,
                   char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err)
        err = check_text(s, "text", text, TEXT_MAX_LEN);
    if (!err)
        err = put(s, "note", NULL, pid, json_pack("{s:o, s:o}", "text", checked_text(text),
                                                  "date", date_or_today(s, NULL)), id);
    return finish(s, own, err, id, id_out);
}

lb_err lb_note_amend(lb_store *s, const char *note, const char *text,
                     char id_out[LB_ID_HEX + 1])
{
    char id[LB_ID_HEX + 1];
    lb_record *orig = NULL;
    const char *root;
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (!err)
        err = record_ref(s, note, "note", &orig);
    if (!err)
        err = check_text(s, "text", text, TEXT_MAX_LEN);
    if (!err) {
        /* An amendment of an amendment still corrects the original note. */
        root = json_string_value(json_object_get(orig->fields, "amends"));
        err = put(s, "note", NULL, orig->person,
                  json_pack("{s:s, s:s, s:o}", "text", text, "amends", root ? root : orig->id,
                            "date", date_or_today(s, NULL)), id);
    }
    lb_record_free(orig);
    return finish(s, own, err, id, id_out);
}

lb_err lb_goal_add(lb_store *s, const char *person, const char *text,
                   const char *domain, const char *target, char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    json_t *g;
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err)
        err = check_text(s, "text", text, TEXT_MAX_LEN);
    if (!err)
        err = optional_text(s, "domain", domain, SHORT_MAX_LEN);
    if (!err)
        err = check_date(s, "target", target);
    if (!err) {
        g = json_pack("{s:s, s:s, s:o}", "text", text, "status", "active", "date",
                      date_or_today(s, NULL));
        set_opt(g, "domain", domain);
        set_opt(g, "target", target);
        err = put(s, "goal", NULL, pid, g, id);
    }
    return finish(s, own, err, id, id_out);
}

lb_err lb_goal_review(lb_store *s, const char *goal, const char *score,
                      const char *note, char id_out[LB_ID_HEX + 1])
{
    char id[LB_ID_HEX + 1], msg[256];
    lb_record *g = NULL;
    long v = 0;
    json_t *r;
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (!err)
        err = record_ref(s, goal, "goal", &g);
    if (!err)
        err = invalid(s, lb_int_parse("score", score, 0, 10, &v, msg, sizeof msg), msg);
    if (!err)
        err = optional_text(s, "note", note, TEXT_MAX_LEN);
    if (!err) {
        r = json_pack("{s:s, s:I, s:o}", "goal", g->id, "score", (json_int_t)v, "date",
                      date_or_today(s, NULL));
        set_opt(r, "note", note);
        err = put(s, "goal_review", NULL, g->person, r, id);
    }
    lb_record_free(g);
    return finish(s, own, err, id, id_out);
}

lb_err lb_goal_status(lb_store *s, const char *goal, const char *status)
{
    lb_record *g = NULL;
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (!err)
        err = check_code(s, LB_CODES_GOAL_STATUS, "status", status);
    if (!err)
        err = record_ref(s, goal, "goal", &g);
    if (!err)
        err = put(s, "goal", g->id, g->person, json_pack("{s:s, s:o}", "status", status,
                                                         "status_date", date_or_today(s, NULL)), NULL);
    lb_record_free(g);
    return lb_store_write_end(s, own, err);
}

/* ---- measures, tasks, discharge, stories ------------------------------------ */

lb_err lb_measure_add(lb_store *s, const char *person, const char *instrument,
                      const char *answers, const char *when, char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    json_t *ans = NULL, *scores = NULL;
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err && when)
        err = check_code(s, LB_CODES_WHEN, "when", when);
    if (!err)
        err = lb_measure_score(s, instrument, answers, &ans, &scores);
    if (!err)
        err = put(s, "measure", NULL, pid,
                  json_pack("{s:s, s:s, s:o, s:o, s:o}", "instrument", instrument, "when",
                            when ? when : "baseline", "answers", ans, "scores", scores,
                            "date", date_or_today(s, NULL)), id);
    return finish(s, own, err, id, id_out);
}

lb_err lb_task_done(lb_store *s, const char *task)
{
    lb_record *t = NULL;
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (!err)
        err = record_ref(s, task, "task", &t);
    if (!err)
        err = put(s, "task", t->id, t->person, json_pack("{s:b, s:o}", "done", 1, "done_date",
                                                         date_or_today(s, NULL)), NULL);
    lb_record_free(t);
    return lb_store_write_end(s, own, err);
}

typedef struct open_tasks {
    lb_store *s;
    lb_err err;
} open_tasks;

/* Close a follow-up left open at discharge. */
static int close_task(const lb_record *r, void *ctx)
{
    open_tasks *t = ctx;
    if (json_is_true(json_object_get(r->fields, "done")))
        return 0;
    t->err = put(t->s, "task", r->id, r->person,
                 json_pack("{s:b, s:o, s:s}", "done", 1, "done_date", date_or_today(t->s, NULL),
                           "closed_by", "discharge"), NULL);
    return t->err != LB_OK;
}

lb_err lb_discharge(lb_store *s, const char *person, const char *reason,
                    char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err)
        err = check_text(s, "reason", reason, TEXT_MAX_LEN);
    if (!err)
        err = put(s, "discharge", NULL, pid, json_pack("{s:s, s:o}", "reason", reason, "date",
                                                       date_or_today(s, NULL)), id);
    if (!err)
        err = put(s, "person", pid, pid, json_pack("{s:s, s:o}", "status", "discharged",
                                                   "discharged", date_or_today(s, NULL)), NULL);
    if (!err) {
        open_tasks t = {s, LB_OK};
        err = lb_record_each(s, "task", pid, close_task, &t);
        if (!err)
            err = t.err;
    }
    return finish(s, own, err, id, id_out);
}

lb_err lb_story_add(lb_store *s, const char *person, const char *text,
                    const char *domains, int share_anonymised, char id_out[LB_ID_HEX + 1])
{
    char pid[LB_ID_HEX + 1], id[LB_ID_HEX + 1];
    json_t *doms = NULL;
    int own;
    lb_err err = begin_for(s, person, pid, &own);
    if (!err)
        err = check_text(s, "text", text, TEXT_MAX_LEN);
    if (!err)
        err = domains ? csv_array(s, "domain", domains, &doms) : LB_OK;
    if (!err)
        err = put(s, "story", NULL, pid,
                  json_pack("{s:s, s:o, s:b, s:o}", "text", text, "domains",
                            doms ? doms : json_array(), "share_anonymised", share_anonymised != 0,
                            "date", date_or_today(s, NULL)), id);
    return finish(s, own, err, id, id_out);
}
