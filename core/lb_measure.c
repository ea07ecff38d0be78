/* lb_measure.c - instrument definitions and scoring (see lb_measure.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_codes.h"
#include "lb_measure.h"
#include "lb_store_priv.h"

#define MAX_ITEMS 64

static const char SQL_DEF[] = "SELECT definition FROM instruments WHERE code = ?1";
static const char SQL_ALL[] = "SELECT code, definition FROM instruments ORDER BY code";

static lb_err definition(lb_store *s, const char *code, json_t **out)
{
    sqlite3_stmt *st = lb_store_stmt(s, SQL_DEF);
    json_t *def = NULL;
    int rc;
    if (!st)
        return LB_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        def = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        json_t *all = NULL;
        char list[256] = "";
        const char *key;
        json_t *v;
        if (lb_measure_instruments(s, &all) == LB_OK)
            json_object_foreach(all, key, v)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? ", " : "", key);
        json_decref(all);
        return lb_store_fail(s, LB_ERR_INVALID, "instrument: '%.40s' is not known (one of: %s)",
                             code, list);
    }
    if (rc != SQLITE_ROW)
        return lb_store_sqlfail(s, rc, "reading instrument definitions");
    if (!def)
        return lb_store_fail(s, LB_ERR_CORRUPT, "the definition of instrument %s is damaged", code);
    *out = def;
    return LB_OK;
}

/* Parse "a,b,c" into vals, each in [min, max]; exactly want of them. */
static lb_err parse_answers(lb_store *s, const char *code, const char *csv, long min, long max,
                            size_t want, long *vals)
{
    char item[32], msg[160];
    const char *p = csv ? csv : "";
    size_t n = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (n == MAX_ITEMS || len >= sizeof item)
            return lb_store_fail(s, LB_ERR_INVALID, "answers: %s takes %zu answers from %ld to %ld, "
                                 "comma-separated", code, want, min, max);
        memcpy(item, p, len);
        item[len] = '\0';
        if (lb_int_parse("answers", item, min, max, &vals[n], msg, sizeof msg) != LB_OK)
            return lb_store_fail(s, LB_ERR_INVALID, "answers: answer %zu of %s, '%s', is not a "
                                 "whole number from %ld to %ld", n + 1, code, item, min, max);
        n++;
        p += len;
        if (!*p)
            break;
        p++; /* past the comma: an answer must follow, even at the end */
    }
    if (n != want)
        return lb_store_fail(s, LB_ERR_INVALID, "answers: %s takes %zu answers, %zu given "
                             "(comma-separated, each %ld to %ld)", code, want, n, min, max);
    return LB_OK;
}

static const char *band_of(json_t *item, long v)
{
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(item, "bands"), i, b) {
        if (v >= json_integer_value(json_array_get(b, 0)) &&
            v <= json_integer_value(json_array_get(b, 1)))
            return json_string_value(json_array_get(b, 2));
    }
    return NULL;
}

static json_t *score_items(json_t *items, const long *vals)
{
    json_t *scores = json_object(), *item;
    size_t i;
    json_array_foreach(items, i, item) {
        const char *band = band_of(item, vals[i]);
        json_t *one = json_pack("{s:I}", "value", (json_int_t)vals[i]);
        if (band && one)
            json_object_set_new(one, "band", json_string(band));
        json_object_set_new(scores, json_string_value(json_object_get(item, "id")), one);
    }
    return scores;
}

static json_t *score_table(json_t *def, const long *vals, size_t n)
{
    long raw = 0;
    size_t i;
    json_int_t from = json_integer_value(json_object_get(def, "table_from"));
    json_t *metric;
    for (i = 0; i < n; i++)
        raw += vals[i];
    metric = json_array_get(json_object_get(def, "table"), (size_t)(raw - from));
    if (raw < from || !json_is_number(metric))
        return NULL;
    return json_pack("{s:I, s:f}", "raw", (json_int_t)raw, "metric", json_number_value(metric));
}

lb_err lb_measure_score(lb_store *s, const char *instrument, const char *answers,
                        json_t **answers_out, json_t **scores_out)
{
    json_t *def = NULL, *items, *ans = NULL, *scores = NULL, *item;
    long vals[MAX_ITEMS];
    const char *rule;
    size_t i, n;
    lb_err err = definition(s, instrument ? instrument : "", &def);
    if (err)
        return err;
    items = json_object_get(def, "items");
    n = json_array_size(items);
    rule = json_string_value(json_object_get(def, "scoring"));
    if (n == 0 || n > MAX_ITEMS || !rule)
        err = lb_store_fail(s, LB_ERR_CORRUPT, "the definition of instrument %s is damaged", instrument);
    if (!err)
        err = parse_answers(s, instrument, answers, (long)json_integer_value(json_object_get(def, "min")),
                            (long)json_integer_value(json_object_get(def, "max")), n, vals);
    if (!err) {
        ans = json_object();
        json_array_foreach(items, i, item)
            json_object_set_new(ans, json_string_value(json_object_get(item, "id")),
                                json_integer(vals[i]));
        scores = strcmp(rule, "table") == 0 ? score_table(def, vals, n) : score_items(items, vals);
        if (!scores)
            err = lb_store_fail(s, LB_ERR_CORRUPT, "instrument %s cannot score these answers "
                                "(its definition is incomplete)", instrument);
    }
    json_decref(def);
    if (err) {
        json_decref(ans);
        return err;
    }
    *answers_out = ans;
    *scores_out = scores;
    return LB_OK;
}

lb_err lb_measure_instruments(lb_store *s, json_t **out)
{
    sqlite3_stmt *st;
    json_t *all = json_object();
    int rc = sqlite3_prepare_v2(s->db, SQL_ALL, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        json_decref(all);
        return lb_store_sqlfail(s, rc, "reading instrument definitions");
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_object_set_new(all, (const char *)sqlite3_column_text(st, 0),
                            json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(all);
        return lb_store_sqlfail(s, rc, "reading instrument definitions");
    }
    *out = all;
    return LB_OK;
}
