/* test_fhir.c - the FHIR R4 Bundle: resources of a small record, the same
 * Bundle as a tree and as text written person by person, audit events only
 * for a complete export, unknown people and a refused write.  (The Bundles
 * are validated against the FHIR R4 definitions by tests/cli/test_fhir.sh.) */
#include "lb_test.h"

typedef struct text {
    char *buf;
    size_t len;
    size_t fail_after;   /* refuse the write once this many bytes came (0: never) */
} text;

static int collect(const char *buf, size_t len, void *ctx)
{
    text *t = ctx;
    char *p;
    if (t->fail_after && t->len + len > t->fail_after)
        return -1;
    p = realloc(t->buf, t->len + len + 1);
    assert_non_null(p);
    memcpy(p + t->len, buf, len);
    t->buf = p;
    t->len += len;
    t->buf[t->len] = '\0';
    return 0;
}

static size_t exports(lb_store *s)
{
    json_t *trail = NULL, *e;
    size_t i, n = 0;
    lb_test_ok(s, lb_audit_list(s, NULL, &trail));
    json_array_foreach(json_object_get(trail, "events"), i, e)
        n += strcmp(json_string_value(json_object_get(e, "action")), "export") == 0;
    json_decref(trail);
    return n;
}

/* The resourceType of every entry, joined by spaces, into out. */
static void types_of(json_t *bundle, char *out, size_t cap)
{
    json_t *e;
    size_t i;
    out[0] = '\0';
    json_array_foreach(json_object_get(bundle, "entry"), i, e) {
        const char *t = json_string_value(json_object_get(json_object_get(e, "resource"),
                                                          "resourceType"));
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", t);
    }
}

static lb_store *small_record(char *dir, char p[LB_ID_HEX + 1])
{
    lb_store *s = lb_test_store(dir);
    lb_person_fields f = {.given = "Ada", .family = "Fhir", .nhs = "9434765919",
                          .consent = "record"};
    lb_referral_fields r = {.source = "gp", .reasons = "isolation", .date = "2026-01-05"};
    lb_contact_fields c = {.mode = "phone", .minutes = "20", .categories = "signposting",
                           .date = "2026-01-07"};
    lb_test_ok(s, lb_person_add(s, &f, p));
    lb_test_ok(s, lb_referral_add(s, p, &r, NULL));
    lb_test_ok(s, lb_contact_add(s, p, &c, NULL));
    lb_test_ok(s, lb_measure_add(s, p, "swemwbs", "2,2,2,2,2,2,2", NULL, NULL));
    return s;
}

static void test_fhir_bundle_of_a_small_record(void **state)
{
    char *dir = lb_test_tmpdir(), p[LB_ID_HEX + 1], types[512];
    lb_store *s = small_record(dir, p);
    json_t *b = NULL, *sr;
    (void)state;
    lb_test_ok(s, lb_fhir_bundle(s, p, &b));
    assert_string_equal(json_string_value(json_object_get(b, "type")), "collection");
    types_of(b, types, sizeof types);
    assert_string_equal(types, "Patient ServiceRequest Encounter CarePlan Questionnaire "
                               "QuestionnaireResponse Observation Consent");
    sr = json_object_get(json_array_get(json_object_get(b, "entry"), 1), "resource");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
        json_object_get(sr, "code"), "coding"), 0), "code")), "871731000000106");
    assert_int_equal(exports(s), 1);
    json_decref(b);
    lb_store_close(s);
    lb_test_rmdir(dir);
    free(dir);
}

static void test_fhir_write_gives_the_bundle_as_text(void **state)
{
    char *dir = lb_test_tmpdir(), p[LB_ID_HEX + 1], a[512], b[512];
    lb_store *s = small_record(dir, p);
    text t = {NULL, 0, 0};
    json_t *tree = NULL, *parsed;
    (void)state;
    lb_test_person(s, "Bo", "Second", p);
    lb_test_ok(s, lb_fhir_bundle(s, NULL, &tree));
    lb_test_ok(s, lb_fhir_write(s, NULL, collect, &t));
    parsed = json_loads(t.buf, 0, NULL);
    assert_non_null(parsed);
    types_of(tree, a, sizeof a);
    types_of(parsed, b, sizeof b);
    assert_string_equal(a, b);
    assert_true(json_equal(json_object_get(tree, "entry"), json_object_get(parsed, "entry")));
    assert_int_equal(exports(s), 4); /* two people, twice */
    json_decref(tree);
    json_decref(parsed);
    free(t.buf);
    lb_store_close(s);
    lb_test_rmdir(dir);
    free(dir);
}

static void test_fhir_empty_store_and_unknown_person(void **state)
{
    char *dir = lb_test_tmpdir();
    lb_store *s = lb_test_store(dir);
    text t = {NULL, 0, 0};
    json_t *b = NULL, *parsed;
    (void)state;
    lb_test_ok(s, lb_fhir_write(s, NULL, collect, &t));
    parsed = json_loads(t.buf, 0, NULL);
    assert_non_null(parsed);
    assert_null(json_object_get(parsed, "entry")); /* FHIR: no empty arrays */
    json_decref(parsed);
    free(t.buf);
    t.buf = NULL;
    t.len = 0;
    assert_int_equal(lb_fhir_write(s, "abcdef12", collect, &t), LB_ERR_NOTFOUND);
    assert_int_equal(t.len, 0);
    assert_int_equal(lb_fhir_bundle(s, "abcdef12", &b), LB_ERR_NOTFOUND);
    assert_null(b);
    assert_int_equal(exports(s), 0);
    lb_store_close(s);
    lb_test_rmdir(dir);
    free(dir);
}

static void test_fhir_refused_write_is_not_audited(void **state)
{
    char *dir = lb_test_tmpdir(), p[LB_ID_HEX + 1];
    lb_store *s = small_record(dir, p);
    text t = {NULL, 0, 600};
    (void)state;
    assert_int_equal(lb_fhir_write(s, p, collect, &t), LB_ERR_IO);
    assert_int_equal(exports(s), 0);
    free(t.buf);
    lb_store_close(s);
    lb_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fhir_bundle_of_a_small_record),
        cmocka_unit_test(test_fhir_write_gives_the_bundle_as_text),
        cmocka_unit_test(test_fhir_empty_store_and_unknown_person),
        cmocka_unit_test(test_fhir_refused_write_is_not_audited),
    };
    if (lb_crypto_init() != LB_OK)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
