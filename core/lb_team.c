/* lb_team.c - the team roster kept for review (see lb_team.h).
 *
 * Each row's names are sealed as {"name", "device_name"} with associated
 * data "lbt1|DEVICE", so a sealed row cannot be moved to another device.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "lb_buf.h"
#include "lb_store_priv.h"
#include "lb_team.h"

#define AD_MAX 48

static const char SQL_CLEAR[] = "DELETE FROM team_roster";
static const char SQL_PUT[] =
    "INSERT OR REPLACE INTO team_roster(device, user, caseload, role, created, last_seen, "
    "revoked, fetched, names) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_ALL[] =
    "SELECT device, user, caseload, role, created, last_seen, revoked, fetched, names "
    "FROM team_roster ORDER BY device";

static size_t roster_ad(const char *device, char ad[AD_MAX])
{
    int n = snprintf(ad, AD_MAX, "lbt1|%s", device);
    return n > 0 && n < AD_MAX ? (size_t)n : 0;
}

static int is_hex_id(const char *s)
{
    size_t i;
    for (i = 0; s && i < LB_ID_HEX; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return s && s[i] == '\0';
}

static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : dflt;
}

static int64_t jint(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static lb_err check_entry(lb_store *s, const json_t *d)
{
    const char *cl = jstr(d, "caseload", jstr(d, "user", NULL));
    if (!json_is_object(d) || !is_hex_id(jstr(d, "device", NULL)) ||
        !is_hex_id(jstr(d, "user", NULL)) || !cl || strlen(cl) > LB_CASELOAD_MAX ||
        strlen(jstr(d, "role", "")) > LB_TEAM_ROLE_MAX)
        return lb_store_fail(s, LB_ERR_INVALID, "the team roster from the server has an entry "
                             "without a valid device or user id");
    return LB_OK;
}

/* Seal the names of entry d and write its row. */
static lb_err put_entry(lb_store *s, const json_t *d, int64_t fetched)
{
    char ad[AD_MAX];
    const char *device = jstr(d, "device", ""), *user = jstr(d, "user", "");
    json_t *names = json_pack("{s:s, s:s}", "name", jstr(d, "name", ""), "device_name",
                              jstr(d, "device_name", ""));
    char *text = names ? json_dumps(names, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0, adlen = roster_ad(device, ad);
    unsigned char *sealed = text ? malloc(len + LB_SEAL_OVERHEAD) : NULL;
    sqlite3_stmt *st = NULL;
    lb_err err = sealed ? LB_OK : LB_ERR_NOMEM;
    int rc;
    if (!err)
        err = lb_seal(s->keys, (unsigned char *)text, len, (unsigned char *)ad, adlen, sealed);
    if (!err && !(st = lb_store_stmt(s, SQL_PUT)))
        err = LB_ERR_INTERNAL;
    if (!err) {
        sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, jstr(d, "caseload", user), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, jstr(d, "role", ""), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, jint(d, "created"));
        sqlite3_bind_int64(st, 6, jint(d, "last_seen"));
        sqlite3_bind_int(st, 7, json_is_true(json_object_get(d, "revoked")) ||
                                    jint(d, "revoked") > 0);
        sqlite3_bind_int64(st, 8, fetched);
        sqlite3_bind_blob(st, 9, sealed, (int)(len + LB_SEAL_OVERHEAD), SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            err = lb_store_sqlfail(s, rc, "keeping the team roster");
    }
    if (text)
        sodium_memzero(text, len);
    free(text);
    free(sealed);
    json_decref(names);
    return err;
}

lb_err lb_team_roster_save(lb_store *s, const json_t *list, int64_t fetched_ms)
{
    const json_t *d;
    size_t i;
    int own = 0;
    lb_err err = lb_store_need_keys(s);
    if (!err && !json_is_array(list))
        err = lb_store_fail(s, LB_ERR_INVALID, "the team roster from the server is not a list");
    json_array_foreach(list, i, d)
        if (!err)
            err = check_entry(s, d);
    if (err)
        return err;
    if ((err = lb_store_write_begin(s, &own)) != LB_OK)
        return err;
    if (sqlite3_exec(s->db, SQL_CLEAR, NULL, NULL, NULL) != SQLITE_OK)
        err = lb_store_sqlfail(s, sqlite3_errcode(s->db), "clearing the team roster");
    json_array_foreach(list, i, d)
        if (!err)
            err = put_entry(s, d, fetched_ms);
    return lb_store_write_end(s, own, err);
}

static lb_err open_names(lb_store *s, const char *device, const void *sealed, size_t len,
                         lb_team_device *d)
{
    char ad[AD_MAX];
    size_t adlen = roster_ad(device, ad);
    unsigned char *plain;
    json_t *j = NULL;
    lb_err err;
    if (len < LB_SEAL_OVERHEAD)
        return lb_store_fail(s, LB_ERR_TAMPERED, "the kept team roster failed its integrity "
                             "check (sync again to fetch it anew)");
    if (!(plain = malloc(len - LB_SEAL_OVERHEAD + 1)))
        return LB_ERR_NOMEM;
    err = lb_open(s->keys, sealed, len, (unsigned char *)ad, adlen, plain);
    if (!err)
        j = json_loadb((char *)plain, len - LB_SEAL_OVERHEAD, 0, NULL);
    sodium_memzero(plain, len - LB_SEAL_OVERHEAD);
    free(plain);
    if (err == LB_ERR_TAMPERED || (!err && !j))
        err = lb_store_fail(s, LB_ERR_TAMPERED, "the kept team roster failed its integrity "
                            "check (sync again to fetch it anew)");
    if (!err && (!(d->name = strdup(jstr(j, "name", ""))) ||
                 !(d->device_name = strdup(jstr(j, "device_name", "")))))
        err = LB_ERR_NOMEM;
    json_decref(j);
    return err;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static lb_err read_row(lb_store *s, sqlite3_stmt *st, lb_team_device *d)
{
    copy_text(d->device, sizeof d->device, sqlite3_column_text(st, 0));
    copy_text(d->user, sizeof d->user, sqlite3_column_text(st, 1));
    copy_text(d->caseload, sizeof d->caseload, sqlite3_column_text(st, 2));
    copy_text(d->role, sizeof d->role, sqlite3_column_text(st, 3));
    d->created_ms = sqlite3_column_int64(st, 4);
    d->last_seen_ms = sqlite3_column_int64(st, 5);
    d->revoked = sqlite3_column_int(st, 6) != 0;
    return open_names(s, d->device, sqlite3_column_blob(st, 8),
                      (size_t)sqlite3_column_bytes(st, 8), d);
}

static int by_name(const void *a, const void *b)
{
    const lb_team_device *x = a, *y = b;
    int c = strcasecmp(x->name, y->name);
    return c ? c : strcmp(x->device, y->device);
}

lb_err lb_team_roster_get(lb_store *s, lb_team_roster **out)
{
    lb_team_roster *r;
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;
    lb_err err = lb_store_need_keys(s);
    if (err)
        return err;
    if (!(r = calloc(1, sizeof *r)))
        return LB_ERR_NOMEM;
    if (!(st = lb_store_stmt(s, SQL_ALL)))
        err = LB_ERR_INTERNAL;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n == cap) {
            lb_team_device *nd = realloc(r->devices, (cap = cap ? cap * 2 : 16) * sizeof *nd);
            if (!nd) {
                err = LB_ERR_NOMEM;
                break;
            }
            r->devices = nd;
        }
        memset(&r->devices[r->n], 0, sizeof r->devices[0]);
        err = read_row(s, st, &r->devices[r->n]);
        if (sqlite3_column_int64(st, 7) > r->fetched_ms)
            r->fetched_ms = sqlite3_column_int64(st, 7);
        r->n++;
    }
    if (!err && rc != SQLITE_DONE)
        err = lb_store_sqlfail(s, rc, "reading the team roster");
    if (st)
        sqlite3_reset(st);
    if (err) {
        lb_team_roster_free(r);
        return err;
    }
    if (r->n)     /* qsort of a NULL array is undefined, even of 0 items */
        qsort(r->devices, r->n, sizeof *r->devices, by_name);
    *out = r;
    return LB_OK;
}

void lb_team_roster_free(lb_team_roster *r)
{
    size_t i;
    if (!r)
        return;
    for (i = 0; i < r->n; i++) {
        free(r->devices[i].name);
        free(r->devices[i].device_name);
    }
    free(r->devices);
    free(r);
}

/* Does ref name device d's worker: 2 exactly, 1 as a prefix, 0 not. */
static int names_worker(const lb_team_device *d, const char *ref)
{
    size_t len = strlen(ref);
    int hex = len >= 4 && strspn(ref, "0123456789abcdef") == len;
    if (strcasecmp(d->name, ref) == 0 || strcmp(d->user, ref) == 0)
        return 2;
    if ((hex && strncmp(d->user, ref, len) == 0) || strncasecmp(d->name, ref, len) == 0)
        return 1;
    return 0;
}

lb_err lb_team_find_worker(lb_store *s, const lb_team_roster *r, const char *ref,
                           const lb_team_device **out)
{
    const lb_team_device *exact = NULL, *prefix = NULL;
    int exact_n = 0, prefix_n = 0;
    size_t i;
    if (!ref || !*ref)
        return lb_store_fail(s, LB_ERR_INVALID, "worker: a name or a user id is needed");
    for (i = 0; i < r->n; i++) {
        const lb_team_device *d = &r->devices[i];
        int m = names_worker(d, ref);
        if (m == 2 && (!exact || strcmp(exact->user, d->user) != 0)) {
            exact_n += !exact || strcmp(exact->user, d->user) != 0;
            exact = d;
        } else if (m == 1 && (!prefix || strcmp(prefix->user, d->user) != 0)) {
            prefix_n++;
            prefix = d;
        }
    }
    if (exact_n == 1 || (!exact_n && prefix_n == 1)) {
        *out = exact_n ? exact : prefix;
        return LB_OK;
    }
    if (exact_n > 1 || prefix_n > 1)
        return lb_store_fail(s, LB_ERR_AMBIGUOUS, "worker '%s' names more than one worker of "
                             "the team (give more of the name, or the user id)", ref);
    return lb_store_fail(s, LB_ERR_NOTFOUND, "no worker '%s' in the team", ref);
}
