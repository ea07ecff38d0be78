/* test_conflict.c - two devices editing one field without seeing each
 * other: both values kept, the same conflict raised on each, settled by a
 * change that has seen both; edits that saw each other raise nothing. */
#include "lb_test.h"
#include "lb_conflict.h"

typedef struct two {
    char *dir;
    lb_store *a, *b;
    char goal[LB_ID_HEX + 1];
} two;

static int give_one(const lb_change *c, void *ctx)
{
    lb_store *to = ctx;
    lb_test_ok(to, lb_change_apply(to, c));
    return 0;
}

/* Everything from has reaches to (applying twice changes nothing). */
static void exchange(lb_store *from, lb_store *to)
{
    lb_test_ok(from, lb_change_each(from, give_one, to));
}

static int setup(void **state)
{
    two *t = calloc(1, sizeof *t);
    char sub[600], p[LB_ID_HEX + 1];
    assert_non_null(t);
    t->dir = lb_test_tmpdir();
    snprintf(sub, sizeof sub, "%s/a", t->dir);
    t->a = lb_test_store(sub);
    snprintf(sub, sizeof sub, "%s/b", t->dir);
    t->b = lb_test_store(sub);
    lb_test_person(t->a, "Nia", "Both", p);
    lb_test_ok(t->a, lb_goal_add(t->a, p, "Volunteer at the food bank", NULL, NULL, t->goal));
    exchange(t->a, t->b);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    two *t = *state;
    lb_store_close(t->a);
    lb_store_close(t->b);
    lb_test_rmdir(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

static json_t *open_conflicts(lb_store *s)
{
    json_t *j = NULL, *list;
    lb_test_ok(s, lb_conflict_list(s, &j));
    list = json_incref(json_object_get(j, "conflicts"));
    json_decref(j);
    return list;
}

static const char *status_of(lb_store *s, const char *goal, char *buf, size_t len)
{
    lb_record *r = NULL;
    lb_test_ok(s, lb_record_get(s, goal, &r));
    snprintf(buf, len, "%s", json_string_value(json_object_get(r->fields, "status")));
    lb_record_free(r);
    return buf;
}

static void test_conflict_concurrent_edits_raised_alike(void **state)
{
    two *t = *state;
    json_t *ca, *cb, *values;
    char sa[32], sb[32];
    lb_test_ok(t->a, lb_goal_status(t->a, t->goal, "achieved"));
    lb_test_ok(t->b, lb_goal_status(t->b, t->goal, "withdrawn"));
    exchange(t->a, t->b);
    exchange(t->b, t->a);
    assert_string_equal(status_of(t->a, t->goal, sa, sizeof sa), status_of(t->b, t->goal, sb, sizeof sb));
    ca = open_conflicts(t->a);
    cb = open_conflicts(t->b);
    assert_int_equal(json_array_size(ca), 1);
    assert_int_equal(json_array_size(cb), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ca, 0), "id")),
                        json_string_value(json_object_get(json_array_get(cb, 0), "id")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(ca, 0), "field")), "status");
    values = json_object_get(json_array_get(ca, 0), "values");
    assert_int_equal(json_array_size(values), 2);
    {
        const char *v0 = json_string_value(json_object_get(json_array_get(values, 0), "value"));
        const char *v1 = json_string_value(json_object_get(json_array_get(values, 1), "value"));
        assert_non_null(v0);
        assert_non_null(v1);
        assert_true((strcmp(v0, "achieved") == 0 && strcmp(v1, "withdrawn") == 0) ||
                    (strcmp(v0, "withdrawn") == 0 && strcmp(v1, "achieved") == 0));
    }
    /* A rebuild from the log raises it again. */
    lb_test_ok(t->a, lb_change_rebuild(t->a));
    json_decref(ca);
    ca = open_conflicts(t->a);
    assert_int_equal(json_array_size(ca), 1);
    json_decref(ca);
    json_decref(cb);
}

static void test_conflict_resolve_keeps_chosen_value_everywhere(void **state)
{
    two *t = *state;
    json_t *ca, *values, *loser = NULL, *v;
    size_t i;
    char buf[32], id[LB_ID_HEX + 1];
    lb_test_ok(t->a, lb_goal_status(t->a, t->goal, "achieved"));
    lb_test_ok(t->b, lb_goal_status(t->b, t->goal, "withdrawn"));
    exchange(t->a, t->b);
    exchange(t->b, t->a);
    ca = open_conflicts(t->a);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(json_array_get(ca, 0), "id")));
    values = json_object_get(json_array_get(ca, 0), "values");
    json_array_foreach(values, i, v)
        if (!json_is_true(json_object_get(v, "current")))
            loser = v;
    assert_non_null(loser);
    assert_int_equal(lb_conflict_resolve(t->a, id, "3"), LB_ERR_INVALID);
    lb_test_ok(t->a, lb_conflict_resolve(t->a, id,
                                          json_string_value(json_object_get(loser, "value_id"))));
    assert_string_equal(status_of(t->a, t->goal, buf, sizeof buf),
                        json_string_value(json_object_get(loser, "value")));
    exchange(t->a, t->b);
    assert_string_equal(status_of(t->b, t->goal, buf, sizeof buf),
                        json_string_value(json_object_get(loser, "value")));
    json_decref(ca);
    ca = open_conflicts(t->a);
    assert_int_equal(json_array_size(ca), 0);
    json_decref(ca);
    ca = open_conflicts(t->b);
    assert_int_equal(json_array_size(ca), 0);
    json_decref(ca);
    assert_int_equal(lb_conflict_resolve(t->a, id, "1"), LB_ERR_INVALID); /* settled */
}

static void test_conflict_sequential_edits_raise_nothing(void **state)
{
    two *t = *state;
    json_t *c;
    char buf[32];
    lb_test_ok(t->a, lb_goal_status(t->a, t->goal, "achieved"));
    exchange(t->a, t->b);
    lb_test_ok(t->b, lb_goal_status(t->b, t->goal, "partly"));
    exchange(t->b, t->a);
    lb_test_ok(t->a, lb_goal_status(t->a, t->goal, "active"));
    exchange(t->a, t->b);
    assert_string_equal(status_of(t->b, t->goal, buf, sizeof buf), "active");
    c = open_conflicts(t->a);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    c = open_conflicts(t->b);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_conflict_concurrent_edits_raised_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_resolve_keeps_chosen_value_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_sequential_edits_raise_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
