/* lb_record.c - the materialised records (see lb_record.h).
 *
 * A record row keeps id, kind, person and creation stamp in clear and its
 * state sealed: {"f": fields, "c": creation stamp, "a": creator,
 * "h": {field: stamp}} where a stamp is "HLC(16 hex):device" so that text
 * order is (HLC, device) order, and a field missing from "h" carries the
 * creation stamp.  The associated data binds the seal to id, kind, person.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_buf.h"
#include "lb_conflict.h"
#include "lb_json.h"
#include "lb_record.h"
#include "lb_store_priv.h"

#define AD_MAX 128
#define STAMP_LEN LB_STAMP_LEN

static const char SQL_GET[] =
    "SELECT kind, person, created, body, change FROM records WHERE id = ?1";
static const char SQL_PUT[] =
    "INSERT INTO records(id, kind, person, created, body) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(id) DO UPDATE SET created = excluded.created, change = NULL, "
    "body = excluded.body";
static const char SQL_PUT_REF[] =
    "INSERT INTO records(id, kind, person, created, change) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_PUT_NEW[] =
    "INSERT INTO records(id, kind, person, created, change) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT(id) DO NOTHING";
static const char SQL_NHS_DEL[] = "DELETE FROM nhs_index WHERE person = ?1";
static const char SQL_NHS_PUT[] = "INSERT OR REPLACE INTO nhs_index(blind, person) VALUES (?1, ?2)";
static const char SQL_NHS_GET[] = "SELECT person FROM nhs_index WHERE blind = ?1";

static size_t record_ad(const char *id, const char *kind, const char *person, char ad[AD_MAX])
{
    int n = snprintf(ad, AD_MAX, "lbr1|%s|%s|%s", id, kind, person);
    return n > 0 && n < AD_MAX ? (size_t)n : 0;
}

static lb_err tampered(lb_store *s, const char *id)
{
    return lb_store_fail(s, LB_ERR_TAMPERED, "record %s failed its integrity check: the store "
                         "was altered or damaged (run 'linkbook check'; restore from a backup "
                         "or sync again)", id);
}

/* Open a sealed state; *out is a new reference. */
static lb_err state_open(lb_store *s, const char *id, const char *kind, const char *person,
                         const unsigned char *body, size_t len, json_t **out)
{
    char ad[AD_MAX];
    size_t adlen = record_ad(id, kind, person, ad);
    unsigned char *plain;
    json_t *j = NULL;
    lb_err err;
    if (len < LB_SEAL_OVERHEAD)
        return tampered(s, id);
    plain = malloc(len - LB_SEAL_OVERHEAD + 1);
    if (!plain)
        return LB_ERR_NOMEM;
    err = lb_open(s->keys, body, len, (unsigned char *)ad, adlen, plain);
    if (err) {
        free(plain);
        return err == LB_ERR_TAMPERED ? tampered(s, id) : err;
    }
    err = lb_json_parse((char *)plain, len - LB_SEAL_OVERHEAD, 0, &j);
    sodium_memzero(plain, len - LB_SEAL_OVERHEAD);
    free(plain);
    if (err == LB_ERR_NOMEM)
        return err;
    if (err || !json_is_object(json_object_get(j, "f")) || !json_is_string(json_object_get(j, "c"))) {
        json_decref(j);
        return tampered(s, id);
    }
    *out = j;
    return LB_OK;
}

/* Seal state text and write it as the record's row. */
static void stamp_of(const lb_change *c, char stamp[STAMP_LEN + 1])
{
    snprintf(stamp, STAMP_LEN + 1, "%016" PRIx64 ":%s", c->hlc, c->device);
}

/* The state of a record that one change made: that change's content,
 * which must name the same record, kind and person. */
static lb_err state_from_change(lb_store *s, const char *id, const char *kind,
                                const char *person, int64_t seq, json_t **out)
{
    char stamp[STAMP_LEN + 1];
    lb_change c;
    lb_err err = lb_change_read(s, seq, &c);
    if (err == LB_ERR_NOTFOUND)
        return tampered(s, id);
    if (err)
        return err;
    if (strcmp(c.record, id) != 0 || strcmp(c.kind, kind) != 0 || strcmp(c.person, person) != 0) {
        lb_change_clear(&c);
        return tampered(s, id);
    }
    stamp_of(&c, stamp);
    *out = json_pack("{s:O, s:s, s:s, s:{}}", "f", c.fields, "c", stamp, "a", c.author, "h");
    lb_change_clear(&c);
    return *out ? LB_OK : LB_ERR_NOMEM;
}

/* The state of a record row: its own sealed body, or its one change. */
static lb_err state_of_row(lb_store *s, const char *id, const char *kind, const char *person,
                           sqlite3_stmt *st, int body_col, json_t **out)
{
    if (sqlite3_column_type(st, body_col) == SQLITE_NULL)
        return state_from_change(s, id, kind, person, sqlite3_column_int64(st, body_col + 1), out);
    return state_open(s, id, kind, person, sqlite3_column_blob(st, body_col),
                      (size_t)sqlite3_column_bytes(st, body_col), out);
}

static lb_err state_put_text(lb_store *s, const char *id, const char *kind, const char *person,
                             uint64_t created, const char *text, size_t len)
{
    char ad[AD_MAX];
    size_t adlen = record_ad(id, kind, person, ad);
    unsigned char *sealed = malloc(len + LB_SEAL_OVERHEAD);
    sqlite3_stmt *st = NULL;
    lb_err err = sealed ? LB_OK : LB_ERR_NOMEM;
    int rc;
    if (!err)
        err = lb_seal(s->keys, (const unsigned char *)text, len, (unsigned char *)ad, adlen, sealed);
    if (!err && !(st = lb_store_stmt(s, SQL_PUT)))
        err = LB_ERR_INTERNAL;
    if (!err) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, person, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)created);
        sqlite3_bind_blob(st, 5, sealed, (int)(len + LB_SEAL_OVERHEAD), SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            err = lb_store_sqlfail(s, rc, "writing a record");
    }
    free(sealed);
    return err;
}

static lb_err state_put(lb_store *s, const char *id, const char *kind, const char *person,
                        uint64_t created, json_t *state)
{
    lb_buf b;
    lb_err err;
    lb_buf_init(&b, LB_BODY_MAX);
    if (lb_buf_add_json(&b, state) != 0)
        err = lb_store_fail(s, LB_ERR_INVALID, "record %s is too large (at most %u bytes)",
                            id, LB_BODY_MAX);
    else
        err = state_put_text(s, id, kind, person, created, b.data, b.len);
    lb_buf_wipe(&b);
    return err;
}

/* Load the state of record id, or NULL in *state if there is none yet. */
static lb_err state_load(lb_store *s, const char *id, const char *kind, const char *person,
                         json_t **state, uint64_t *created)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_GET);
    lb_err err = LB_OK;
    int rc;
    *state = NULL;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 0), kind) != 0 ||
            strcmp((const char *)sqlite3_column_text(st, 1), person) != 0)
            err = lb_store_fail(s, LB_ERR_INVALID, "a change for record %s names another "
                                "kind or person than the record has", id);
        else
            err = state_of_row(s, id, kind, person, st, 3, state);
        *created = (uint64_t)sqlite3_column_int64(st, 2);
    } else if (rc != SQLITE_DONE) {
        err = lb_store_sqlfail(s, rc, "reading a record");
    }
    sqlite3_reset(st);
    return err;
}

/* The stamp a field carries now, or NULL if it was never set. */
static const char *field_stamp(json_t *state, const char *field)
{
    json_t *h = json_object_get(json_object_get(state, "h"), field);
    if (h)
        return json_string_value(h);
    if (json_object_get(json_object_get(state, "f"), field))
        return json_string_value(json_object_get(state, "c"));
    return NULL;
}

/* Make stamp (older than the state's) its creation stamp, keeping every
 * field's own stamp explicit first. */
static int state_rebase(json_t *state, const char *stamp, const char *author)
{
    json_t *f = json_object_get(state, "f"), *h = json_object_get(state, "h"), *v;
    const char *key, *old = json_string_value(json_object_get(state, "c"));
    int rc = 0;
    if (old) {
        json_object_foreach(f, key, v)
            if (!json_object_get(h, key))
                rc |= json_object_set_new(h, key, json_string(old));
    }
    rc |= json_object_set_new(state, "c", json_string(stamp));
    rc |= json_object_set_new(state, "a", json_string(author));
    return rc;
}

/* Did the writer of a value whose replaced stamp was prev see the value
 * stamped other?  (It saw it, or something at least as new.) */
static int saw(const char *prev, const char *other)
{
    return prev && strcmp(prev, other) >= 0;
}

/* Note a conflict on field between the current value (stamp cur) and the
 * change's (stamp, v) when neither writer saw the other's value. */
static int note_conflict(json_t *state, json_t *prev, const char *key, const char *cur,
                         const char *stamp, json_t *v, json_t *conflicts)
{
    const char *cprev = json_string_value(json_object_get(prev, key));
    const char *xprev = json_string_value(json_object_get(json_object_get(state, "q"), key));
    if (!cur || strcmp(cur, stamp) == 0 || saw(cprev, cur) || saw(xprev, stamp) ||
        json_equal(json_object_get(json_object_get(state, "f"), key), v))
        return 0; /* one saw the other, or both wrote the same value */
    return json_array_append_new(conflicts, json_pack(
        "{s:s, s:[{s:s, s:O}, {s:s, s:O}]}", "field", key, "values",
        "stamp", cur, "value", json_object_get(json_object_get(state, "f"), key),
        "stamp", stamp, "value", v));
}

/* Set each field of the change whose stamp is newer than the state's,
 * keeping what stamp each new value replaced ("q"); concurrent edits are
 * added to conflicts. */
static int state_merge_fields(json_t *state, const lb_change *c, const char *stamp,
                              json_t *conflicts)
{
    json_t *f = json_object_get(state, "f"), *h = json_object_get(state, "h"), *v;
    json_t *q = json_object_get(state, "q");
    const char *key, *created = json_string_value(json_object_get(state, "c"));
    int rc = 0;
    if (!q && json_object_set_new(state, "q", q = json_object()))
        return -1;
    json_object_foreach(c->fields, key, v) {
        const char *old = field_stamp(state, key);
        const char *replaced = json_string_value(json_object_get(c->prev, key));
        rc |= note_conflict(state, c->prev, key, old, stamp, v, conflicts);
        if (old && strcmp(stamp, old) < 0)
            continue;
        rc |= json_object_set(f, key, v);
        if (strcmp(stamp, created) == 0)
            json_object_del(h, key);
        else
            rc |= json_object_set_new(h, key, json_string(stamp));
        if (replaced && *replaced)
            rc |= json_object_set_new(q, key, json_string(replaced));
        else
            json_object_del(q, key);
    }
    return rc;
}

static lb_err nhs_index_update(lb_store *s, const char *person, json_t *fields)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_NHS_DEL);
    const char *nhs = json_string_value(json_object_get(fields, "nhs"));
    unsigned char blind[LB_BLIND_LEN];
    int rc;
    lb_err err;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, person, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, "updating the NHS number index");
    if (!nhs || !*nhs)
        return LB_OK;
    err = lb_blind(s->keys, nhs, strlen(nhs), blind);
    if (err || !(st = lb_store_stmt(s, SQL_NHS_PUT)))
        return err ? err : LB_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, blind, sizeof blind, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LB_OK : lb_store_sqlfail(s, rc, "updating the NHS number index");
}

/* Merge c into an existing state (or a new one when state is NULL). */
static lb_err merge_state(lb_store *s, const lb_change *c, json_t *state, uint64_t created)
{
    char stamp[STAMP_LEN + 1];
    const char *cur = json_string_value(json_object_get(state, "c"));
    json_t *conflicts = json_array();
    lb_err err = conflicts ? LB_OK : LB_ERR_NOMEM;
    stamp_of(c, stamp);
    if (!err && (!cur || strcmp(stamp, cur) < 0)) {
        created = c->hlc;
        if (state_rebase(state, stamp, c->author))
            err = LB_ERR_NOMEM;
    }
    if (!err && state_merge_fields(state, c, stamp, conflicts))
        err = LB_ERR_NOMEM;
    if (!err)
        err = state_put(s, c->record, c->kind, c->person, created, state);
    if (!err && json_array_size(conflicts))
        err = lb_conflict_note(s, c->record, conflicts);
    json_decref(conflicts);
    if (!err && strcmp(c->kind, "person") == 0 && json_object_get(c->fields, "nhs"))
        err = nhs_index_update(s, c->person, json_object_get(state, "f"));
    return err;
}

/* A record that c creates: a row pointing at c, whose sealed body is the
 * record's whole state. */
static lb_err record_new(lb_store *s, const char *sql, const lb_change *c, int64_t seq)
{
    sqlite3_stmt *st = lb_store_stmt(s, sql);
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, c->record, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->hlc);
    sqlite3_bind_int64(st, 5, seq);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LB_OK : lb_store_sqlfail(s, rc, "writing a record");
}

lb_err lb_record_merge(lb_store *s, const lb_change *c)
{
    json_t *state = NULL;
    uint64_t created = c->hlc;
    lb_err err = state_load(s, c->record, c->kind, c->person, &state, &created);
    if (strcmp(c->kind, "person") == 0)
        lb_store_forget_active(s);
    if (err)
        return err;
    if (state) {
        err = merge_state(s, c, state, created);
        json_decref(state);
        return err;
    }
    return lb_record_create(s, c);
}

lb_err lb_record_apply(lb_store *s, const lb_change *c)
{
    int person = strcmp(c->kind, "person") == 0;
    lb_err err = record_new(s, SQL_PUT_NEW, c, c->seq);
    if (err || sqlite3_changes(s->db) == 0)
        return err ? err : lb_record_merge(s, c);
    if (person)
        lb_store_forget_active(s);
    if (person && json_object_get(c->fields, "nhs"))
        err = nhs_index_update(s, c->person, c->fields);
    return err;
}

lb_err lb_record_create(lb_store *s, const lb_change *c)
{
    lb_err err = record_new(s, SQL_PUT_REF, c, c->seq);
    if (!err && strcmp(c->kind, "person") == 0 && json_object_get(c->fields, "nhs"))
        err = nhs_index_update(s, c->person, c->fields);
    return err;
}

/* The state of record id whatever its kind; LB_ERR_NOTFOUND if none. */
static lb_err state_by_id(lb_store *s, const char *id, json_t **state)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_GET);
    char kind[LB_KIND_MAX + 1], person[LB_ID_HEX + 1];
    int rc;
    lb_err err = LB_OK;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(kind, sizeof kind, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(person, sizeof person, "%s", (const char *)sqlite3_column_text(st, 1));
        err = state_of_row(s, id, kind, person, st, 3, state);
    } else {
        err = rc == SQLITE_DONE ? lb_store_fail(s, LB_ERR_NOTFOUND, "no record %s", id)
                                : lb_store_sqlfail(s, rc, "reading a record");
    }
    sqlite3_reset(st);
    return err;
}

lb_err lb_record_stamps(lb_store *s, const char *id, const json_t *fields, json_t **prev)
{
    json_t *state = NULL, *out, *v;
    const char *key;
    lb_err err = state_by_id(s, id, &state);
    if (err == LB_ERR_NOTFOUND) {
        *prev = NULL;
        return LB_OK;
    }
    if (err)
        return err;
    out = json_object();
    json_object_foreach((json_t *)fields, key, v) {
        const char *stamp = field_stamp(state, key);
        json_object_set_new(out, key, json_string(stamp ? stamp : ""));
    }
    json_decref(state);
    if (!out)
        return LB_ERR_NOMEM;
    *prev = out;
    return LB_OK;
}

lb_err lb_record_field_stamp(lb_store *s, const char *id, const char *field,
                             char out[LB_STAMP_LEN + 1])
{
    json_t *state = NULL;
    const char *stamp;
    lb_err err = state_by_id(s, id, &state);
    if (err)
        return err;
    stamp = field_stamp(state, field);
    snprintf(out, LB_STAMP_LEN + 1, "%s", stamp ? stamp : "");
    json_decref(state);
    return LB_OK;
}

lb_err lb_record_clear_all(lb_store *s)
{
    lb_store_forget_active(s);
    int rc = sqlite3_exec(s->db, "DELETE FROM records; DELETE FROM nhs_index; "
                                 "DELETE FROM conflicts", NULL, NULL, NULL);
    return rc == SQLITE_OK ? LB_OK : lb_store_sqlfail(s, rc, "clearing records for a rebuild");
}

void lb_record_free(lb_record *r)
{
    if (!r)
        return;
    json_decref(r->fields);
    free(r->author);
    free(r);
}

/* Build a record from the columns (id, kind, person, created, body) of st. */
/* Records with, for those that one change made, that change in the same
 * row (no second lookup per record). */
#define EACH_COLS "SELECT r.id, r.kind, r.person, r.created, r.body, r.change, c.id, c.kind, " \
    "c.record, c.person, c.caseload, c.hlc, c.device, c.schema, c.body, c.seq " \
    "FROM records r LEFT JOIN changes c ON c.seq = r.change "
#define CHANGE_COLS 6

/* The fields and author of a record that one change made, from that
 * change read in the same row (columns from CHANGE_COLS on), which must
 * name the same record, kind and person: no state object is built. */
static lb_err fields_from_joined(lb_store *s, sqlite3_stmt *st, lb_record *r)
{
    lb_change c;
    lb_err err;
    if (sqlite3_column_type(st, CHANGE_COLS) == SQLITE_NULL)
        return tampered(s, r->id);
    if ((err = lb_change_from_row(s, st, CHANGE_COLS, &c)) != LB_OK)
        return err;
    if (strcmp(c.record, r->id) != 0 || strcmp(c.kind, r->kind) != 0 ||
        strcmp(c.person, r->person) != 0) {
        lb_change_clear(&c);
        return tampered(s, r->id);
    }
    r->fields = json_incref(c.fields);
    r->author = c.author;
    c.author = NULL;
    lb_change_clear(&c);
    return LB_OK;
}

/* The record in the current row of st (id, kind, person, created, body,
 * change; joined: then the columns of its change, see EACH_COLS). */
static lb_err record_from_row(lb_store *s, sqlite3_stmt *st, int joined, lb_record *r)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *kind = (const char *)sqlite3_column_text(st, 1);
    const char *person = (const char *)sqlite3_column_text(st, 2);
    json_t *state = NULL;
    lb_err err;
    if (!id || !kind || !person || strlen(id) != LB_ID_HEX || strlen(kind) > LB_KIND_MAX ||
        strlen(person) != LB_ID_HEX)
        return lb_store_fail(s, LB_ERR_CORRUPT, "the records of store %s are damaged "
                             "(run 'linkbook check')", s->dir);
    memcpy(r->id, id, LB_ID_HEX + 1);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    memcpy(r->person, person, LB_ID_HEX + 1);
    r->created = (uint64_t)sqlite3_column_int64(st, 3);
    if (joined && sqlite3_column_type(st, 4) == SQLITE_NULL)
        return fields_from_joined(s, st, r);
    err = state_of_row(s, id, kind, person, st, 4, &state);
    if (err)
        return err;
    r->author = strdup(json_string_value(json_object_get(state, "a")) ?
                       json_string_value(json_object_get(state, "a")) : "");
    r->fields = json_incref(json_object_get(state, "f"));
    json_decref(state);
    if (!r->author) {
        json_decref(r->fields);
        return LB_ERR_NOMEM;
    }
    return LB_OK;
}

static const char SQL_EACH_ALL[] = EACH_COLS "ORDER BY r.created, r.id";
static const char SQL_EACH_KIND[] = EACH_COLS "WHERE r.kind = ?1 ORDER BY r.created, r.id";
static const char SQL_EACH_PERSON[] = EACH_COLS "WHERE r.person = ?2 ORDER BY r.created, r.id";
static const char SQL_EACH_BOTH[] =
    EACH_COLS "WHERE r.kind = ?1 AND r.person = ?2 ORDER BY r.created, r.id";
static const char SQL_SCAN_KIND[] = EACH_COLS "WHERE r.kind = ?1";

static lb_err each(lb_store *s, const char *sql, const char *kind, const char *person,
                   lb_record_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    lb_record r;
    int rc, stop = 0;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return lb_store_sqlfail(s, rc, "reading records");
    if (kind)
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (person)
        sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
    while (!err && !stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        err = record_from_row(s, st, 1, &r);
        if (err)
            break;
        stop = cb(&r, ctx);
        json_decref(r.fields);
        free(r.author);
    }
    if (!err && !stop && rc != SQLITE_DONE)
        err = lb_store_sqlfail(s, rc, "reading records");
    sqlite3_finalize(st);
    return err;
}

lb_err lb_record_each(lb_store *s, const char *kind, const char *person,
                      lb_record_cb cb, void *ctx)
{
    return each(s, kind ? (person ? SQL_EACH_BOTH : SQL_EACH_KIND)
                        : (person ? SQL_EACH_PERSON : SQL_EACH_ALL), kind, person, cb, ctx);
}

lb_err lb_record_scan(lb_store *s, const char *kind, lb_record_cb cb, void *ctx)
{
    return each(s, SQL_SCAN_KIND, kind, NULL, cb, ctx);
}

static const char SQL_GET_ROW[] = "SELECT id, kind, person, created, body, change FROM records WHERE id = ?1";

lb_err lb_record_get(lb_store *s, const char *id, lb_record **out)
{
    sqlite3_stmt *st;
    lb_record *r;
    int rc;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    if (!(st = lb_store_stmt(s, SQL_GET_ROW)))
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        err = lb_store_fail(s, LB_ERR_NOTFOUND, "no record %s", id);
    else if (rc != SQLITE_ROW)
        err = lb_store_sqlfail(s, rc, "reading a record");
    else if (!(r = calloc(1, sizeof *r)))
        err = LB_ERR_NOMEM;
    else if ((err = record_from_row(s, st, 0, r)) != LB_OK)
        free(r);
    else
        *out = r;
    sqlite3_reset(st);
    return err;
}

static const char SQL_PREFIX[] =
    "SELECT id FROM records WHERE id >= ?1 AND id < ?2 AND (?3 IS NULL OR kind = ?3) LIMIT 2";

lb_err lb_record_resolve(lb_store *s, const char *prefix, const char *kind,
                         char out[LB_ID_HEX + 1])
{
    char lo[LB_ID_HEX + 1], hi[LB_ID_HEX + 2], found[LB_ID_HEX + 1];
    const char *what = kind ? kind : "record";
    size_t n = prefix ? strlen(prefix) : 0, i;
    sqlite3_stmt *st;
    int rc, matches = 0;
    if (n < 4 || n > LB_ID_HEX)
        return lb_store_fail(s, LB_ERR_INVALID, "%s id: '%.40s' is not an id (give at least "
                             "4 of its hex digits)", what, prefix ? prefix : "");
    for (i = 0; i < n; i++) {
        lo[i] = (char)tolower((unsigned char)prefix[i]);
        if (!isxdigit((unsigned char)lo[i]))
            return lb_store_fail(s, LB_ERR_INVALID, "%s id: '%.40s' is not an id (ids are "
                                 "hex digits 0-9, a-f)", what, prefix);
    }
    lo[n] = '\0';
    memcpy(hi, lo, n);
    hi[n] = 'g'; /* just past 'f' and '9': every id with this prefix sorts below */
    hi[n + 1] = '\0';
    if (!(st = lb_store_stmt(s, SQL_PREFIX)))
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    if (kind)
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (matches++ == 0)
            memcpy(found, sqlite3_column_text(st, 0), LB_ID_HEX + 1);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, "looking up an id");
    if (matches == 0)
        return lb_store_fail(s, LB_ERR_NOTFOUND, "no %s with id %s", what, lo);
    if (matches > 1)
        return lb_store_fail(s, LB_ERR_AMBIGUOUS, "%s id: %s matches more than one %s "
                             "(give more of its digits)", what, lo, what);
    memcpy(out, found, LB_ID_HEX + 1);
    return LB_OK;
}

lb_err lb_record_find_nhs(lb_store *s, const char *nhs, char out[LB_ID_HEX + 1])
{
    unsigned char blind[LB_BLIND_LEN];
    sqlite3_stmt *st;
    int rc;
    lb_err err = lb_store_need_keys(s);
    if (!err)
        err = lb_blind(s->keys, nhs, strlen(nhs), blind);
    if (err)
        return err;
    if (!(st = lb_store_stmt(s, SQL_NHS_GET)))
        return LB_ERR_INTERNAL;
    sqlite3_bind_blob(st, 1, blind, sizeof blind, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        memcpy(out, sqlite3_column_text(st, 0), LB_ID_HEX + 1);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return lb_store_fail(s, LB_ERR_NOTFOUND, "no person with that NHS number");
    return rc == SQLITE_ROW ? LB_OK : lb_store_sqlfail(s, rc, "looking up an NHS number");
}
