/* test_change.c - the change log: rebuild, idempotent and commutative
 * apply, field-level last-writer-wins, tampering, clock going backwards. */
#include "lb_test.h"

typedef struct bag {
    lb_change *v;
    size_t n, cap;
} bag;

/* Deep copy of every change of a store, in log order. */
static int bag_add(const lb_change *c, void *ctx)
{
    bag *b = ctx;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->v = realloc(b->v, b->cap * sizeof *b->v);
        assert_non_null(b->v);
    }
    b->v[b->n] = *c;
    b->v[b->n].author = strdup(c->author);
    b->v[b->n].fields = json_deep_copy(c->fields);
    b->v[b->n].prev = c->prev ? json_deep_copy(c->prev) : NULL;
    b->n++;
    return 0;
}

static void bag_free(bag *b)
{
    size_t i;
    for (i = 0; i < b->n; i++)
        lb_change_clear(&b->v[i]);
    free(b->v);
}

/* A small but varied record: every kind the model writes. */
static void record_a_day(lb_store *s)
{
    char p[LB_ID_HEX + 1], g[LB_ID_HEX + 1], n[LB_ID_HEX + 1];
    lb_referral_fields rf = {"gp", "isolation,money", "2026-10-01"};
    lb_contact_fields cf = {"home", "50", "psychosocial,signposting", "Visited at home; talked "
                            "about the lunch club", "Age UK lunch club", "2026-10-20", "2026-10-06"};
    lb_test_person(s, "Margaret", "Okafor", p);
    lb_test_ok(s, lb_referral_add(s, p, &rf, NULL));
    lb_test_ok(s, lb_contact_add(s, p, &cf, NULL));
    lb_test_ok(s, lb_note_add(s, p, "Daughter visits on Sundays", n));
    lb_test_ok(s, lb_note_amend(s, n, "Daughter visits on Saturdays", NULL));
    lb_test_ok(s, lb_goal_add(s, p, "Join the walking group", "physical activity", "2027-01-31", g));
    lb_test_ok(s, lb_goal_review(s, g, "4", "went once", NULL));
    lb_test_ok(s, lb_goal_status(s, g, "partly"));
    lb_test_ok(s, lb_measure_add(s, p, "ons4", "5,6,4,7", "baseline", NULL));
    lb_test_ok(s, lb_story_add(s, p, "I have somewhere to go on Tuesdays", "connection", 1, NULL));
    lb_test_ok(s, lb_discharge(s, p, "goals met", NULL));
}

static void test_change_rebuild_gives_the_same_records(void **state)
{
    char *dir = lb_test_tmpdir(), *before, *after;
    lb_store *s = lb_test_store(dir);
    (void)state;
    record_a_day(s);
    before = lb_test_dump(s);
    lb_test_ok(s, lb_change_rebuild(s));
    after = lb_test_dump(s);
    assert_string_equal(before, after);
    assert_true(strlen(before) > 500);
    free(before);
    free(after);
    lb_store_close(s);
    lb_test_rmdir(dir);
    free(dir);
}

static void shuffle(lb_change *v, size_t n, unsigned seed)
{
    size_t i;
    srand(seed);
    for (i = n; i > 1; i--) {
        size_t j = (size_t)rand() % i;
        lb_change t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Another store fed the same changes in any order, twice, ends the same. */
static void test_change_apply_any_order_twice(void **state)
{
    char *dir = lb_test_tmpdir(), *want, *got, sub[600];
    lb_store *a = lb_test_store(dir), *b;
    bag changes = {0};
    unsigned seed;
    size_t i;
    (void)state;
    record_a_day(a);
    want = lb_test_dump(a);
    lb_test_ok(a, lb_change_each(a, bag_add, &changes));
    assert_true(changes.n >= 12);
    for (seed = 1; seed <= 3; seed++) {
        snprintf(sub, sizeof sub, "%s/b%u", dir, seed);
        b = lb_test_store(sub);
        shuffle(changes.v, changes.n, seed);
        for (i = 0; i < 2 * changes.n; i++)
            lb_test_ok(b, lb_change_apply(b, &changes.v[i % changes.n]));
        got = lb_test_dump(b);
        assert_string_equal(want, got);
        free(got);
        lb_store_close(b);
    }
    bag_free(&changes);
    free(want);
    lb_store_close(a);
    lb_test_rmdir(dir);
    free(dir);
}

/* A change setting one field of record rec at stamp (hlc, device). */
static lb_change make_change(const char *rec, const char *person, uint64_t hlc, char dev,
                             const char *field, const char *value)
{
    lb_change c;
    memset(&c, 0, sizeof c);
    lb_id_new(c.id);
    snprintf(c.kind, sizeof c.kind, "goal");
    snprintf(c.record, sizeof c.record, "%s", rec);
    snprintf(c.person, sizeof c.person, "%s", person);
    snprintf(c.caseload, sizeof c.caseload, "local");
    memset(c.device, dev, LB_ID_HEX);
    c.hlc = hlc;
    c.schema = LB_CHANGE_SCHEMA;
    c.author = strdup("tester");
    c.fields = json_pack("{s:s}", field, value);
    return c;
}

static const char *field_of(lb_store *s, const char *rec, const char *field, char *buf, size_t len)
{
    lb_record *r = NULL;
    lb_test_ok(s, lb_record_get(s, rec, &r));
    snprintf(buf, len, "%s", json_string_value(json_object_get(r->fields, field)) ?
             json_string_value(json_object_get(r->fields, field)) : "(none)");
    lb_record_free(r);
    return buf;
}

static void test_change_field_level_last_writer_wins(void **state)
{
    char *dir = lb_test_tmpdir(), rec[LB_ID_HEX + 1], person[LB_ID_HEX + 1], sub[600], buf[64];
    lb_change v[4];
    int order;
    (void)state;
    lb_id_new(rec);
    lb_id_new(person);
    v[0] = make_change(rec, person, 100 << 16, 'a', "text", "walk");
    v[1] = make_change(rec, person, 200 << 16, 'b', "status", "achieved");  /* other field */
    v[2] = make_change(rec, person, 300 << 16, 'a', "text", "walk daily");   /* newer text */
    v[3] = make_change(rec, person, 300 << 16, 'b', "target", "2027-01-01");
    for (order = 0; order < 2; order++) {
        lb_store *s;
        int i;
        snprintf(sub, sizeof sub, "%s/o%d", dir, order);
        s = lb_test_store(sub);
        for (i = 0; i < 4; i++)
            lb_test_ok(s, lb_change_apply(s, &v[order ? 3 - i : i]));
        assert_string_equal(field_of(s, rec, "text", buf, sizeof buf), "walk daily");
        assert_string_equal(field_of(s, rec, "status", buf, sizeof buf), "achieved");
        assert_string_equal(field_of(s, rec, "target", buf, sizeof buf), "2027-01-01");
        lb_store_close(s);
    }
    /* Same HLC on two devices: the greater device id wins, in either order. */
    lb_change_clear(&v[0]);
    lb_change_clear(&v[1]);
    v[0] = make_change(rec, person, 500 << 16, 'a', "status", "withdrawn");
    v[1] = make_change(rec, person, 500 << 16, 'b', "status", "active");
    for (order = 0; order < 2; order++) {
        lb_store *s;
        snprintf(sub, sizeof sub, "%s/t%d", dir, order);
        s = lb_test_store(sub);
        lb_test_ok(s, lb_change_apply(s, &v[order]));
        lb_test_ok(s, lb_change_apply(s, &v[1 - order]));
        assert_string_equal(field_of(s, rec, "status", buf, sizeof buf), "active");
        lb_store_close(s);
    }
    for (order = 0; order < 4; order++)
        lb_change_clear(&v[order]);
    lb_test_rmdir(dir);
    free(dir);
}

static uint64_t fixed_clock(void *ctx)
{
    return *(uint64_t *)ctx;
}

/* A wall clock set back a day still orders new edits after old ones. */
static void test_change_clock_backwards_still_orders(void **state)
{
    char *dir = lb_test_tmpdir(), g[LB_ID_HEX + 1], p[LB_ID_HEX + 1], buf[64];
    lb_store *s = lb_test_store(dir);
    uint64_t now = UINT64_C(1790000000000);
    (void)state;
    lb_store_set_clock(s, fixed_clock, &now);
    lb_test_person(s, "Ada", "Byron", p);
    lb_test_ok(s, lb_goal_add(s, p, "Garden again", NULL, NULL, g));
    lb_test_ok(s, lb_goal_status(s, g, "achieved"));
    now -= 86400000;
    lb_test_ok(s, lb_goal_status(s, g, "withdrawn"));
    assert_string_equal(field_of(s, g, "status", buf, sizeof buf), "withdrawn");
    lb_test_ok(s, lb_change_rebuild(s));
    assert_string_equal(field_of(s, g, "status", buf, sizeof buf), "withdrawn");
    lb_store_close(s);
    lb_test_rmdir(dir);
    free(dir);
}

static char *store_path(const char *dir)
{
    char *p = malloc(strlen(dir) + 8);
    assert_non_null(p);
    sprintf(p, "%s/store", dir); /* NOLINT: sized above */
    return p;
}

static lb_store *reopen(const char *path)
{
    lb_store *s = NULL;
    lb_test_ok(s, lb_store_open(path, &s));
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    return s;
}

/* Swap column col between the records with ids a and b, behind the
 * library's back. */
static void swap_column(const char *path, const char *col, const char *a, const char *b)
{
    char sql[800];
    snprintf(sql, sizeof sql,
             "CREATE TEMP TABLE old AS SELECT id, %s AS v FROM records WHERE id IN ('%s', '%s');"
             "UPDATE records SET %s = (SELECT v FROM old WHERE old.id = CASE records.id "
             "WHEN '%s' THEN '%s' ELSE '%s' END) WHERE id IN ('%s', '%s')",
             col, a, b, col, a, b, a, a, b);
    lb_test_sql(path, sql);
}

static void test_change_tampered_bodies_are_reported(void **state)
{
    char *dir = lb_test_tmpdir(), *path = store_path(dir), p[LB_ID_HEX + 1], q[LB_ID_HEX + 1];
    char np[LB_ID_HEX + 1], nq[LB_ID_HEX + 1];
    lb_contact_fields cf = {"home", "30", "psychosocial", NULL, NULL, NULL, NULL};
    lb_store *s = lb_test_store(dir);
    lb_record *r = NULL;
    json_t *j = NULL;
    (void)state;
    lb_test_person(s, "Alice", "Tamper", p);
    lb_test_person(s, "Bob", "Swap", q);
    /* A contact changes each person (a sealed merged state of their own);
     * each note is made by one change (its row points at that change). */
    lb_test_ok(s, lb_contact_add(s, p, &cf, NULL));
    lb_test_ok(s, lb_contact_add(s, q, &cf, NULL));
    lb_test_ok(s, lb_note_add(s, p, "Alice's note", np));
    lb_test_ok(s, lb_note_add(s, q, "Bob's note", nq));
    lb_store_close(s);
    swap_column(path, "body", p, q);
    swap_column(path, "change", np, nq);
    s = reopen(path);
    assert_int_equal(lb_record_get(s, p, &r), LB_ERR_TAMPERED);
    assert_null(r);
    assert_non_null(strstr(lb_store_errmsg(s), p));
    assert_int_equal(lb_record_get(s, nq, &r), LB_ERR_TAMPERED);
    assert_non_null(strstr(lb_store_errmsg(s), nq));
    assert_int_equal(lb_person_show(s, p, &j), LB_ERR_TAMPERED);
    assert_null(j);
    assert_int_equal(lb_store_check(s), LB_ERR_TAMPERED);
    /* The change log is intact, so a rebuild repairs the records. */
    lb_test_ok(s, lb_change_rebuild(s));
    lb_test_ok(s, lb_store_check(s));
    lb_test_ok(s, lb_record_get(s, q, &r));
    assert_string_equal(json_string_value(json_object_get(r->fields, "given")), "Bob");
    lb_record_free(r);
    lb_test_ok(s, lb_record_get(s, nq, &r));
    assert_string_equal(json_string_value(json_object_get(r->fields, "text")), "Bob's note");
    lb_record_free(r);
    lb_store_close(s);
    /* Flip one bit of a sealed change: reported by id, never returned. */
    lb_test_flip(path, "changes", "body", "seq = 1", 30);
    s = reopen(path);
    assert_int_equal(lb_store_check(s), LB_ERR_TAMPERED);
    assert_non_null(strstr(lb_store_errmsg(s), "change"));
    assert_int_equal(lb_change_rebuild(s), LB_ERR_TAMPERED);
    lb_test_ok(s, lb_record_get(s, nq, &r));   /* a failed rebuild changed nothing */
    lb_record_free(r);
    lb_store_close(s);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

/* Altering a clear column of a change (its kind) breaks its seal too. */
static void test_change_clear_metadata_is_bound(void **state)
{
    char *dir = lb_test_tmpdir(), *path = store_path(dir), p[LB_ID_HEX + 1];
    lb_store *s = lb_test_store(dir);
    (void)state;
    lb_test_person(s, "Carol", "Meta", p);
    lb_store_close(s);
    lb_test_sql(path, "UPDATE changes SET kind = 'goal' WHERE kind = 'person'");
    s = reopen(path);
    assert_int_equal(lb_store_check(s), LB_ERR_TAMPERED);
    lb_store_close(s);
    free(path);
    lb_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_rebuild_gives_the_same_records),
        cmocka_unit_test(test_change_apply_any_order_twice),
        cmocka_unit_test(test_change_field_level_last_writer_wins),
        cmocka_unit_test(test_change_clock_backwards_still_orders),
        cmocka_unit_test(test_change_tampered_bodies_are_reported),
        cmocka_unit_test(test_change_clear_metadata_is_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
