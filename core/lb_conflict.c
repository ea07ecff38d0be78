/* lb_conflict.c - concurrent edits kept for a person to settle (see
 * lb_conflict.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "lb_buf.h"
#include "lb_change.h"
#include "lb_codes.h"
#include "lb_conflict.h"
#include "lb_hlc.h"
#include "lb_record.h"
#include "lb_store_priv.h"

#define AD_MAX 160

static const char SQL_PUT[] =
    "INSERT OR IGNORE INTO conflicts(id, record, field, body) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_ALL[] = "SELECT id, record, field, body FROM conflicts ORDER BY record, field";
static const char SQL_PREFIX[] =
    "SELECT id, record, field, body FROM conflicts WHERE id >= ?1 AND id < ?2 LIMIT 2";

static size_t conflict_ad(const char *id, const char *record, const char *field, char ad[AD_MAX])
{
    int n = snprintf(ad, AD_MAX, "lbx1|%s|%s|%.64s", id, record, field);
    return n > 0 && n < AD_MAX ? (size_t)n : 0;
}

/* The id of a conflict: a hash of record, field and its stamps in order. */
static void conflict_id(const char *record, const char *field, const char *a, const char *b,
                        char id[LB_ID_HEX + 1])
{
    unsigned char h[LB_ID_HEX / 2];
    crypto_generichash_state st;
    const char *lo = strcmp(a, b) < 0 ? a : b, *hi = lo == a ? b : a;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)record, strlen(record));
    crypto_generichash_update(&st, (const unsigned char *)"|", 1);
    crypto_generichash_update(&st, (const unsigned char *)field, strlen(field));
    crypto_generichash_update(&st, (const unsigned char *)"|", 1);
    crypto_generichash_update(&st, (const unsigned char *)lo, strlen(lo));
    crypto_generichash_update(&st, (const unsigned char *)"|", 1);
    crypto_generichash_update(&st, (const unsigned char *)hi, strlen(hi));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(id, LB_ID_HEX + 1, h, sizeof h);
}

static lb_err put_one(lb_store *s, const char *record, const json_t *one)
{
    const char *field = json_string_value(json_object_get(one, "field"));
    json_t *values = json_object_get(one, "values");
    const char *a = json_string_value(json_object_get(json_array_get(values, 0), "stamp"));
    const char *b = json_string_value(json_object_get(json_array_get(values, 1), "stamp"));
    char id[LB_ID_HEX + 1], ad[AD_MAX];
    unsigned char *sealed = NULL;
    sqlite3_stmt *st;
    lb_buf text;
    lb_err err = LB_OK;
    int rc;
    if (!field || !a || !b)
        return LB_ERR_INTERNAL;
    conflict_id(record, field, a, b, id);
    lb_buf_init(&text, LB_BODY_MAX);
    if (lb_buf_add_json(&text, values) || !(sealed = malloc(text.len + LB_SEAL_OVERHEAD)))
        err = LB_ERR_NOMEM;
    if (!err)
        err = lb_seal(s->keys, (unsigned char *)text.data, text.len, (unsigned char *)ad,
                      conflict_ad(id, record, field, ad), sealed);
    if (!err && !(st = lb_store_stmt(s, SQL_PUT)))
        err = LB_ERR_INTERNAL;
    if (!err) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, record, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, field, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, sealed, (int)(text.len + LB_SEAL_OVERHEAD), SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            err = lb_store_sqlfail(s, rc, "keeping a conflict");
    }
    lb_buf_wipe(&text);
    free(sealed);
    return err;
}

lb_err lb_conflict_note(lb_store *s, const char *record, const json_t *found)
{
    size_t i;
    json_t *one;
    lb_err err = LB_OK;
    json_array_foreach(found, i, one)
        if (!err)
            err = put_one(s, record, one);
    return err;
}

/* Open the sealed values of the current row of st (id, record, field, body). */
static lb_err row_values(lb_store *s, sqlite3_stmt *st, json_t **values)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *record = (const char *)sqlite3_column_text(st, 1);
    const char *field = (const char *)sqlite3_column_text(st, 2);
    size_t len = (size_t)sqlite3_column_bytes(st, 3);
    unsigned char *plain;
    char ad[AD_MAX];
    lb_err err;
    if (!id || !record || !field || len < LB_SEAL_OVERHEAD)
        return lb_store_fail(s, LB_ERR_CORRUPT, "the conflicts of store %s are damaged "
                             "(run 'linkbook check')", s->dir);
    if (!(plain = malloc(len - LB_SEAL_OVERHEAD + 1)))
        return LB_ERR_NOMEM;
    err = lb_open(s->keys, sqlite3_column_blob(st, 3), len, (unsigned char *)ad,
                  conflict_ad(id, record, field, ad), plain);
    if (!err) {
        *values = json_loadb((char *)plain, len - LB_SEAL_OVERHEAD, 0, NULL);
        sodium_memzero(plain, len - LB_SEAL_OVERHEAD);
        if (!json_is_array(*values) || json_array_size(*values) < 2) {
            json_decref(*values);
            err = LB_ERR_TAMPERED;
        }
    }
    free(plain);
    if (err == LB_ERR_TAMPERED)
        lb_store_fail(s, err, "conflict %s failed its integrity check (run 'linkbook check')", id);
    return err;
}

/* The values as shown: numbered, with when and which device, and which one
 * the record carries now; *open says whether that is one of them. */
static json_t *shown_values(json_t *values, const char *current, int *open)
{
    json_t *out = json_array(), *v;
    size_t i;
    *open = 0;
    json_array_foreach(values, i, v) {
        const char *stamp = json_string_value(json_object_get(v, "stamp"));
        const char *device = stamp && strlen(stamp) > 17 ? stamp + 17 : "";
        char when[LB_HLC_TEXT + 1], num[24];
        int cur = stamp && strcmp(stamp, current) == 0;
        lb_hlc_format(stamp ? strtoull(stamp, NULL, 16) : 0, when);
        snprintf(num, sizeof num, "%zu", i + 1);
        *open |= cur;
        json_array_append_new(out, json_pack("{s:s, s:O, s:s, s:s%, s:b}", "value_id", num,
                                             "value", json_object_get(v, "value"), "when", when,
                                             "device", device,
                                             strlen(device) < 8 ? strlen(device) : (size_t)8,
                                             "current", cur));
    }
    return out;
}

/* A conflict as listed, or NULL in *out when it is settled. */
static lb_err conflict_entry(lb_store *s, sqlite3_stmt *st, json_t **out)
{
    const char *record = (const char *)sqlite3_column_text(st, 1);
    const char *field = (const char *)sqlite3_column_text(st, 2);
    char current[LB_STAMP_LEN + 1];
    json_t *values = NULL, *shown;
    lb_record *r = NULL;
    int open;
    lb_err err = row_values(s, st, &values);
    if (!err)
        err = lb_record_field_stamp(s, record, field, current);
    if (!err)
        err = lb_record_get(s, record, &r);
    *out = NULL;
    if (!err) {
        shown = shown_values(values, current, &open);
        if (open)
            *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", sqlite3_column_text(st, 0),
                             "record", record, "kind", r->kind, "person", r->person,
                             "field", field, "values", shown);
        else
            json_decref(shown);
    }
    lb_record_free(r);
    json_decref(values);
    return err;
}

lb_err lb_conflict_list(lb_store *s, json_t **out)
{
    sqlite3_stmt *st;
    json_t *list = json_array(), *e;
    int rc;
    lb_err err = lb_store_need_keys(s);
    if (err || !list) {
        json_decref(list);
        return err ? err : LB_ERR_NOMEM;
    }
    rc = sqlite3_prepare_v2(s->db, SQL_ALL, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        json_decref(list);
        return lb_store_sqlfail(s, rc, "reading conflicts");
    }
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((err = conflict_entry(s, st, &e)) == LB_OK && e)
            json_array_append_new(list, e);
    if (!err && rc != SQLITE_DONE)
        err = lb_store_sqlfail(s, rc, "reading conflicts");
    sqlite3_finalize(st);
    if (!err && !(*out = json_pack("{s:o}", "conflicts", list)))
        err = LB_ERR_NOMEM;
    else if (err)
        json_decref(list);
    return err;
}

/* The one conflict whose id starts with prefix; the row stays on st. */
static lb_err find(lb_store *s, const char *prefix, sqlite3_stmt **out)
{
    char lo[LB_ID_HEX + 1], hi[LB_ID_HEX + 2];
    size_t n = prefix ? strlen(prefix) : 0, i;
    sqlite3_stmt *st;
    int rc;
    if (n < 4 || n > LB_ID_HEX)
        return lb_store_fail(s, LB_ERR_INVALID, "conflict id: give at least 4 of its hex digits");
    for (i = 0; i < n; i++)
        if (!isxdigit((unsigned char)(lo[i] = (char)tolower((unsigned char)prefix[i]))))
            return lb_store_fail(s, LB_ERR_INVALID, "conflict id: '%.40s' is not an id", prefix);
    lo[n] = '\0';
    memcpy(hi, lo, n);
    memcpy(hi + n, "g", 2);
    if (!(st = lb_store_stmt(s, SQL_PREFIX)))
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? lb_store_fail(s, LB_ERR_NOTFOUND, "no conflict %s", lo)
                                 : lb_store_sqlfail(s, rc, "reading conflicts");
    }
    *out = st;
    return LB_OK;
}

/* Write the kept value as a change that has seen every value. */
static lb_err keep_value(lb_store *s, json_t *entry, const char *value_id)
{
    json_t *values = json_object_get(entry, "values"), *v = NULL, *fields;
    size_t i;
    lb_err err;
    json_array_foreach(values, i, v)
        if (strcmp(json_string_value(json_object_get(v, "value_id")), value_id) == 0)
            break;
    if (i == json_array_size(values))
        return lb_store_fail(s, LB_ERR_INVALID, "value: '%.20s' is not one of this conflict's "
                             "values (1 to %zu)", value_id, json_array_size(values));
    fields = json_pack("{s:O}", json_string_value(json_object_get(entry, "field")),
                       json_object_get(v, "value"));
    if (!fields)
        return LB_ERR_NOMEM;
    /* The change replaces the value the record shows now, the later of the
     * two, so it has seen both: the conflict closes. */
    err = lb_change_write(s, json_string_value(json_object_get(entry, "kind")),
                          json_string_value(json_object_get(entry, "record")),
                          json_string_value(json_object_get(entry, "person")), fields, NULL);
    json_decref(fields);
    return err;
}

lb_err lb_conflict_resolve(lb_store *s, const char *conflict, const char *value_id)
{
    sqlite3_stmt *st = NULL;
    json_t *entry = NULL;
    int own;
    lb_err err = lb_store_write_begin(s, &own);
    if (!err)
        err = find(s, conflict, &st);
    if (!err && sqlite3_step(st) == SQLITE_ROW)
        err = lb_store_fail(s, LB_ERR_AMBIGUOUS, "conflict id: %s matches more than one "
                            "conflict (give more of its digits)", conflict);
    if (!err) {
        sqlite3_reset(st);
        sqlite3_step(st);
        err = conflict_entry(s, st, &entry);
    }
    if (st)
        sqlite3_reset(st);
    if (!err && !entry)
        err = lb_store_fail(s, LB_ERR_INVALID, "conflict %s is settled already", conflict);
    if (!err)
        err = keep_value(s, entry, value_id ? value_id : "");
    json_decref(entry);
    return lb_store_write_end(s, own, err);
}
