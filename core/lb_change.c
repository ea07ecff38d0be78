/* lb_change.c - the change log (see lb_change.h).
 *
 * A change row keeps its routing facts in clear (ids, kind, caseload, HLC,
 * device, schema) and its content sealed: {"a": author, "f": fields}.  The
 * associated data of the seal is every clear column, so neither the content
 * nor the facts beside it can be altered or swapped without detection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_buf.h"
#include "lb_change.h"
#include "lb_json.h"
#include "lb_record.h"
#include "lb_store_priv.h"

#define AD_MAX 256

static const char SQL_INSERT[] =
    "INSERT INTO changes(id, kind, record, person, caseload, hlc, device, schema, body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
/* A change that came from the server is on the server already: the sync
 * outbox (changes.pushed, schema/device/004_sync.sql) skips it. */
static const char SQL_INSERT_SYNCED[] =
    "INSERT INTO changes(id, kind, record, person, caseload, hlc, device, schema, body, pushed) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1) ON CONFLICT(id) DO NOTHING";
static const char SQL_EXISTS[] = "SELECT 1 FROM changes WHERE id = ?1";
static const char SQL_ALL[] =
    "SELECT id, kind, record, person, caseload, hlc, device, schema, body, seq "
    "FROM changes ORDER BY seq";
static const char SQL_ONE[] =
    "SELECT id, kind, record, person, caseload, hlc, device, schema, body, seq "
    "FROM changes WHERE seq = ?1";

/* "lbc1|ID|KIND|RECORD|PERSON|CASELOAD|HLC|DEVICE|SCHEMA" */
static size_t change_ad(const lb_change *c, char ad[AD_MAX])
{
    char hlc[LB_AD_NUM], schema[LB_AD_NUM];
    const char *f[] = {c->id, c->kind, c->record, c->person, c->caseload,
                       lb_ad_uint(hlc, c->hlc), c->device, lb_ad_int(schema, c->schema)};
    return lb_ad_join(ad, AD_MAX, "lbc1", f, sizeof f / sizeof f[0]);
}

void lb_change_clear(lb_change *c)
{
    if (!c)
        return;
    free(c->author);
    json_decref(c->fields);
    json_decref(c->prev);
    c->author = NULL;
    c->fields = NULL;
    c->prev = NULL;
}

/* What a change's content usually fits in (a contact with a long note). */
#define CONTENT_GUESS 1024

/* Build the content of c, {"a": author, "f": fields, "p": prev stamps
 * (when any)}, into b. */
static lb_err content_build(lb_store *s, const lb_change *c, lb_buf *b)
{
    json_t *author = json_string(c->author);
    lb_err err = LB_OK;
    if (!author || lb_buf_reserve(b, CONTENT_GUESS) || lb_buf_adds(b, "{\"a\":") ||
        lb_buf_add_json(b, author) || lb_buf_adds(b, ",\"f\":") || lb_buf_add_json(b, c->fields) ||
        (c->prev && (lb_buf_adds(b, ",\"p\":") || lb_buf_add_json(b, c->prev))) ||
        lb_buf_adds(b, "}"))
        err = lb_store_fail(s, LB_ERR_INVALID, "a change is too large (at most %u bytes)",
                            LB_BODY_MAX);
    json_decref(author);
    return err;
}

/* Seal text, the content of c, into a new buffer. */
static lb_err content_seal(lb_store *s, const lb_change *c, const char *text, size_t len,
                           unsigned char **out, size_t *outlen)
{
    char ad[AD_MAX];
    size_t adlen = change_ad(c, ad);
    lb_err err;
    if (len > LB_BODY_MAX)
        return lb_store_fail(s, LB_ERR_INVALID, "a change is too large (at most %u bytes)",
                             LB_BODY_MAX);
    if (!(*out = malloc(len + LB_SEAL_OVERHEAD)))
        return LB_ERR_NOMEM;
    err = lb_seal(s->keys, (const unsigned char *)text, len, (unsigned char *)ad, adlen, *out);
    *outlen = len + LB_SEAL_OVERHEAD;
    return err;
}

/* Write c with its content text into the log; *kept 0 when a synced change
 * was there already (nothing written then). */
static lb_err change_insert(lb_store *s, const lb_change *c, const char *text, size_t tlen,
                            int synced, int *kept)
{
    sqlite3_stmt *st = lb_store_stmt(s, synced ? SQL_INSERT_SYNCED : SQL_INSERT);
    unsigned char *body = NULL;
    size_t len = 0;
    int rc;
    lb_err err;
    if (!st)
        return LB_ERR_INTERNAL;
    err = content_seal(s, c, text, tlen, &body, &len);
    if (err) {
        free(body);
        return err;
    }
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c->record, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->person, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c->caseload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)c->hlc);
    sqlite3_bind_text(st, 7, c->device, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, c->schema);
    sqlite3_bind_blob(st, 9, body, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(body);
    *kept = rc == SQLITE_DONE && sqlite3_changes(s->db) > 0;
    return rc == SQLITE_DONE ? LB_OK : lb_store_sqlfail(s, rc, "writing the change log");
}

/* Keep c in the log, then merge it into its record (or create the record,
 * when c made its id just now: fresh); synced: c came from the server.
 * text: c's content as its writer made it (NULL: built from c).  *kept 0
 * when a synced change was in the log already: then nothing is done. */
static lb_err change_keep(lb_store *s, const lb_change *c, int fresh, int synced,
                          const char *text, size_t tlen, int *kept)
{
    lb_change k = *c;
    lb_buf b;
    lb_err err = LB_OK;
    lb_buf_init(&b, LB_BODY_MAX);
    if (!text && (err = content_build(s, c, &b)) == LB_OK) {
        text = b.data;
        tlen = b.len;
    }
    if (!err)
        err = change_insert(s, c, text, tlen, synced, kept);
    lb_buf_wipe(&b);
    if (err || !*kept)
        return err;
    k.seq = sqlite3_last_insert_rowid(s->db);
    return fresh ? lb_record_create(s, &k) : synced ? lb_record_apply(s, &k)
                 : lb_record_merge(s, &k);
}

static int valid_id(const char *id)
{
    size_t i;
    for (i = 0; i < LB_ID_HEX; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return id[LB_ID_HEX] == '\0';
}

static lb_err copy_text(lb_store *s, char *dst, size_t cap, const char *src, const char *what)
{
    size_t n = src ? strlen(src) : 0;
    if (!src || n == 0 || n >= cap)
        return lb_store_fail(s, LB_ERR_INVALID, "%s: missing or too long", what);
    memcpy(dst, src, n + 1);
    return LB_OK;
}

/* Fill the clear facts of a new local change. */
static lb_err change_stamp(lb_store *s, lb_change *c, const char *kind, const char *record,
                           const char *person)
{
    lb_err err = copy_text(s, c->kind, sizeof c->kind, kind, "record kind");
    lb_store_new_id(s, c->id);
    if (record && !valid_id(record))
        return lb_store_fail(s, LB_ERR_INVALID, "record id: not a full id");
    if (record)
        memcpy(c->record, record, LB_ID_HEX + 1);
    else
        lb_store_new_id(s, c->record);
    if (!person)
        person = c->record;
    if (!valid_id(person))
        return lb_store_fail(s, LB_ERR_INVALID, "person id: not a full id");
    memcpy(c->person, person, LB_ID_HEX + 1);
    if (!err)
        err = copy_text(s, c->caseload, sizeof c->caseload, s->caseload, "caseload");
    memcpy(c->device, s->device, LB_ID_HEX + 1);
    c->hlc = lb_hlc_tick(&s->hlc, lb_store_now_ms(s));
    c->schema = LB_CHANGE_SCHEMA;
    return err;
}

lb_err lb_change_write(lb_store *s, const char *kind, const char *record,
                       const char *person, json_t *fields, char record_out[LB_ID_HEX + 1])
{
    lb_change c;
    int own, kept = 0;
    lb_err err = lb_store_write_begin(s, &own);
    if (err)
        return err;
    memset(&c, 0, sizeof c);
    err = change_stamp(s, &c, kind, record, person);
    if (!err && !json_is_object(fields))
        err = lb_store_fail(s, LB_ERR_INVALID, "a change sets an object of fields");
    c.author = s->author;
    c.fields = fields;
    if (!err && record)
        err = lb_record_stamps(s, c.record, fields, &c.prev);
    if (!err)
        err = change_keep(s, &c, record == NULL, 0, NULL, 0, &kept);
    json_decref(c.prev);
    err = lb_store_write_end(s, own, err);
    if (!err && record_out)
        memcpy(record_out, c.record, LB_ID_HEX + 1);
    return err;
}

lb_err lb_change_known(lb_store *s, const char *id, int *known)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_EXISTS);
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return lb_store_sqlfail(s, rc, "reading the change log");
    *known = rc == SQLITE_ROW;
    return LB_OK;
}

/* Apply c; text: its content as its writer made it (synced only; NULL:
 * built from c).  A synced change is not looked up first: the log's
 * insert tells whether it was there. */
static lb_err change_apply(lb_store *s, const lb_change *c, int synced, const char *text,
                           size_t tlen, int *fresh)
{
    int own, known = 0, kept = 0;
    lb_err err = lb_store_write_begin(s, &own);
    if (err)
        return err;
    if (!valid_id(c->id) || !valid_id(c->record) || !valid_id(c->person) ||
        !valid_id(c->device) || !c->author || !json_is_object(c->fields))
        err = lb_store_fail(s, LB_ERR_INVALID, "change %.32s is malformed", c->id);
    if (!err && !synced)
        err = lb_change_known(s, c->id, &known);
    if (!err && !known) {
        lb_hlc_observe(&s->hlc, c->hlc);
        err = change_keep(s, c, 0, synced, text, tlen, &kept);
        known = !err && !kept;
    }
    err = lb_store_write_end(s, own, err);
    if (!err && fresh)
        *fresh = !known;
    return err;
}

lb_err lb_change_apply(lb_store *s, const lb_change *c)
{
    return change_apply(s, c, 0, NULL, 0, NULL);
}

lb_err lb_change_apply_synced(lb_store *s, const lb_change *c, const char *text, size_t len,
                              int *fresh)
{
    return change_apply(s, c, 1, text, len, fresh);
}

static lb_err row_text(lb_store *s, sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    size_t n = v ? strlen(v) : 0;
    if (!v || n >= cap)
        return lb_store_fail(s, LB_ERR_CORRUPT, "the change log of store %s is damaged "
                             "(run 'linkbook check')", s->dir);
    memcpy(dst, v, n + 1);
    return LB_OK;
}

lb_err lb_change_content(lb_store *s, const lb_change *c, const unsigned char *body,
                         size_t len, unsigned char **text, size_t *textlen)
{
    char ad[AD_MAX];
    size_t adlen = change_ad(c, ad);
    unsigned char *plain = len >= LB_SEAL_OVERHEAD ? malloc(len - LB_SEAL_OVERHEAD + 1) : NULL;
    lb_err err = len < LB_SEAL_OVERHEAD ? LB_ERR_TAMPERED : plain ? LB_OK : LB_ERR_NOMEM;
    if (!err)
        err = lb_open(s->keys, body, len, (unsigned char *)ad, adlen, plain);
    if (err == LB_ERR_TAMPERED)
        lb_store_fail(s, err, "change %s (record %s) failed its integrity check: the store "
                      "was altered or damaged (run 'linkbook check'; restore from a backup "
                      "or sync again)", c->id, c->record);
    if (err) {
        free(plain);
        return err;
    }
    plain[len - LB_SEAL_OVERHEAD] = '\0';
    *text = plain;
    *textlen = len - LB_SEAL_OVERHEAD;
    return LB_OK;
}

/* Decrypt the body of the current row of st (columns from base on, in the
 * order of SQL_ONE) into c's author and fields. */
static lb_err row_open(lb_store *s, sqlite3_stmt *st, int base, lb_change *c)
{
    size_t len = (size_t)sqlite3_column_bytes(st, base + 8), textlen = 0;
    const unsigned char *body = sqlite3_column_blob(st, base + 8);
    unsigned char *plain = NULL;
    const char *author;
    json_t *j = NULL;
    lb_err err = lb_change_content(s, c, body, len, &plain, &textlen);
    if (!err) {
        lb_err perr = lb_json_parse((char *)plain, textlen, 0, &j);
        sodium_memzero(plain, textlen);
        if (perr == LB_ERR_NOMEM)
            err = perr;
        else if (!j || json_unpack(j, "{s:s, s:o, s?o}", "a", &author, "f", &c->fields,
                                   "p", &c->prev) != 0 ||
                 (c->prev && !json_is_object(c->prev))) {
            c->fields = c->prev = NULL; /* borrowed from j, which goes */
            err = lb_store_fail(s, LB_ERR_TAMPERED, "change %s (record %s) failed its "
                                "integrity check: the store was altered or damaged (run "
                                "'linkbook check'; restore from a backup or sync again)",
                                c->id, c->record);
        }
    }
    if (!err) {
        json_incref(c->fields);
        json_incref(c->prev);
        c->author = strdup(author);
        if (!c->author)
            err = LB_ERR_NOMEM;
    }
    json_decref(j);
    free(plain);
    return err;
}

lb_err lb_change_from_row(lb_store *s, sqlite3_stmt *st, int base, lb_change *c)
{
    lb_err err;
    memset(c, 0, sizeof *c);
    err = row_text(s, st, base, c->id, sizeof c->id);
    if (!err)
        err = row_text(s, st, base + 1, c->kind, sizeof c->kind);
    if (!err)
        err = row_text(s, st, base + 2, c->record, sizeof c->record);
    if (!err)
        err = row_text(s, st, base + 3, c->person, sizeof c->person);
    if (!err)
        err = row_text(s, st, base + 4, c->caseload, sizeof c->caseload);
    if (!err)
        err = row_text(s, st, base + 6, c->device, sizeof c->device);
    c->hlc = (uint64_t)sqlite3_column_int64(st, base + 5);
    c->schema = sqlite3_column_int(st, base + 7);
    c->seq = sqlite3_column_int64(st, base + 9);
    if (!err)
        err = row_open(s, st, base, c);
    if (err)
        lb_change_clear(c);
    return err;
}

lb_err lb_change_read(lb_store *s, int64_t seq, lb_change *c)
{
    sqlite3_stmt *st;
    int rc;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    if (!(st = lb_store_stmt(s, SQL_ONE)))
        return LB_ERR_INTERNAL;
    sqlite3_bind_int64(st, 1, seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err = lb_change_from_row(s, st, 0, c);
    else if (rc == SQLITE_DONE)
        err = lb_store_fail(s, LB_ERR_NOTFOUND, "change %lld is not in the log", (long long)seq);
    else
        err = lb_store_sqlfail(s, rc, "reading the change log");
    sqlite3_reset(st);
    return err;
}

lb_err lb_change_each(lb_store *s, lb_change_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    lb_change c;
    int rc, stop = 0;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    /* Not cached: callbacks may use the cached statements meanwhile. */
    rc = sqlite3_prepare_v2(s->db, SQL_ALL, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return lb_store_sqlfail(s, rc, "reading the change log");
    while (!err && !stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        err = lb_change_from_row(s, st, 0, &c);
        if (!err)
            stop = cb(&c, ctx);
        lb_change_clear(&c);
    }
    if (!err && !stop && rc != SQLITE_DONE)
        err = lb_store_sqlfail(s, rc, "reading the change log");
    sqlite3_finalize(st);
    return err;
}

typedef struct replay {
    lb_store *s;
    lb_err err;
} replay;

static int replay_one(const lb_change *c, void *ctx)
{
    replay *r = ctx;
    lb_hlc_observe(&r->s->hlc, c->hlc);
    r->err = lb_record_merge(r->s, c);
    return r->err != LB_OK;
}

lb_err lb_change_rebuild(lb_store *s)
{
    replay r = {s, LB_OK};
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (err)
        return err;
    err = lb_record_clear_all(s);
    if (!err)
        err = lb_change_each(s, replay_one, &r);
    if (!err)
        err = r.err;
    return lb_store_write_end(s, own, err);
}
