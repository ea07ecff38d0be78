/* test_proto.c - the sync protocol's documents (sync/lb_proto.c): an
 * envelope survives JSON and back, the strict parser refuses what the
 * wire contract does not allow (naming the field), the associated data
 * reads as documented, and base64 round-trips and refuses junk. */
#include "lb_test.h"
#include "lb_proto.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_P "fedcba9876543210fedcba9876543210"
#define ID_D "00112233445566778899aabbccddeeff"
#define BODY_LEN 64   /* >= nonce (24) + tag (16) */

/* An envelope with a patterned body (owned: clear it). */
static void make_env(lb_envelope *e, int assign)
{
    size_t i;
    memset(e, 0, sizeof *e);
    memcpy(e->id, ID_A, sizeof e->id);
    memcpy(e->person, ID_P, sizeof e->person);
    e->key = 3;
    e->body = malloc(BODY_LEN);
    assert_non_null(e->body);
    for (i = 0; i < BODY_LEN; i++)
        e->body[i] = (unsigned char)(i * 7 + 1);
    e->body_len = BODY_LEN;
    if (assign) {
        e->has_assign = 1;
        snprintf(e->assign_caseload, sizeof e->assign_caseload, "%s", "case-load_1.x");
        e->assign_active = 1;
    }
}

static void assert_same_env(const lb_envelope *a, const lb_envelope *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->person, b->person);
    assert_int_equal(a->key, b->key);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
    assert_int_equal(a->has_assign, b->has_assign);
    assert_string_equal(a->assign_caseload, b->assign_caseload);
    assert_int_equal(a->assign_active, b->assign_active);
    assert_string_equal(a->from, b->from);
}

static void round_trip(const lb_envelope *e)
{
    lb_envelope back;
    char msg[160] = "";
    json_t *j = lb_proto_envelope_json(e);
    assert_non_null(j);
    memset(&back, 0, sizeof back);
    if (lb_proto_envelope_parse(j, &back, msg, sizeof msg) != LB_OK)
        fail_msg("the envelope's own JSON does not parse: %s", msg);
    assert_same_env(e, &back);
    lb_proto_envelope_clear(&back);
    json_decref(j);
}

static void test_proto_envelope_round_trip(void **state)
{
    lb_envelope e;
    (void)state;
    make_env(&e, 0);
    round_trip(&e);
    lb_proto_envelope_clear(&e);
    make_env(&e, 1);
    round_trip(&e);
    e.assign_active = 0;                  /* an assignment that ends */
    round_trip(&e);
    memcpy(e.from, ID_D, sizeof e.from);  /* server to device: "from", "size" */
    round_trip(&e);
    lb_proto_envelope_clear(&e);
    assert_null(e.body);
    assert_int_equal(e.body_len, 0);
}

/* An envelope through a binary body and back: ids as their 16 bytes, the
 * rest as sent; an id that is not 32 lowercase hex digits is not written. */
static void test_proto_binary_round_trip(void **state)
{
    static const char *ids[] = { ID_A, "0000000000000000000000000000000f",
                                 "f0e1d2c3b4a5968778695a4b3c2d1e0f" };
    lb_envelope e, back;
    lb_buf b;
    lb_proto_reader r;
    lb_proto_frame f;
    char msg[128];
    size_t i;
    (void)state;
    lb_buf_init(&b, 1 << 16);
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        make_env(&e, (int)(i % 2));
        memcpy(e.id, ids[i], sizeof e.id);
        b.len = 0;
        assert_int_equal(lb_proto_bin_start(&b), 0);
        assert_int_equal(lb_proto_put_envelope(&b, &e), 0);
        assert_int_equal(lb_proto_bin_open(&r, b.data, b.len, msg, sizeof msg), LB_OK);
        assert_int_equal(lb_proto_next(&r, &f, msg, sizeof msg), 1);
        assert_int_equal(f.type, LB_PROTO_FRAME_ENVELOPE);
        assert_int_equal(lb_proto_envelope_view(&f, &back, msg, sizeof msg), LB_OK);
        assert_same_env(&e, &back);
        assert_int_equal(lb_proto_next(&r, &f, msg, sizeof msg), 0);
        lb_proto_envelope_clear(&e);
    }
    make_env(&e, 0);
    memcpy(e.id, "0123456789ABCDEF0123456789abcdef", sizeof e.id);   /* upper case */
    assert_int_equal(lb_proto_put_envelope(&b, &e), -1);
    memcpy(e.id, "0123456789abcdef0123456789abcdeg", sizeof e.id);
    assert_int_equal(lb_proto_put_envelope(&b, &e), -1);
    lb_proto_envelope_clear(&e);
    lb_buf_wipe(&b);
}

static void test_proto_envelope_json_shape(void **state)
{
    lb_envelope e;
    json_t *j;
    (void)state;
    make_env(&e, 0);
    j = lb_proto_envelope_json(&e);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 4);   /* id, person, key, body */
    assert_null(json_object_get(j, "from"));
    assert_null(json_object_get(j, "assign"));
    json_decref(j);
    memcpy(e.from, ID_D, sizeof e.from);
    j = lb_proto_envelope_json(&e);
    assert_string_equal(json_string_value(json_object_get(j, "from")), ID_D);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), BODY_LEN);
    json_decref(j);
    lb_proto_envelope_clear(&e);
}

/* A good envelope's JSON, changed by set (key -> value; NULL value
 * deletes); parse must refuse it, naming `names` in its message, and leave
 * the out-parameter untouched. */
static void refuse(const char *key, json_t *value, const char *names)
{
    lb_envelope e, out;
    char msg[160] = "";
    json_t *j;
    make_env(&e, 1);
    j = lb_proto_envelope_json(&e);
    assert_non_null(j);
    if (value)
        json_object_set_new(j, key, value);
    else
        json_object_del(j, key);
    memset(&out, 0xA5, sizeof out);
    assert_int_equal(lb_proto_envelope_parse(j, &out, msg, sizeof msg), LB_ERR_INVALID);
    if (!strstr(msg, names))
        fail_msg("refusing %s: message '%s' does not name %s", key, msg, names);
    assert_int_equal(((unsigned char *)&out)[0], 0xA5);
    json_decref(j);
    lb_proto_envelope_clear(&e);
}

static void test_proto_parse_refusals(void **state)
{
    char *b;
    unsigned char short_body[BODY_LEN / 2] = { 0 };
    char long_caseload[LB_PROTO_CASELOAD_MAX + 2];
    (void)state;
    refuse("id", json_string("0123456789ABCDEF0123456789ABCDEF"), "\"id\"");  /* upper case */
    refuse("id", json_string("0123456789abcdef0123456789abcdeg"), "\"id\"");  /* not hex */
    refuse("id", json_string("0123456789abcdef"), "\"id\"");                  /* short */
    refuse("id", json_integer(5), "\"id\"");
    refuse("id", NULL, "\"id\"");
    refuse("person", json_string("xyz"), "\"person\"");
    refuse("key", json_integer(0), "\"key\"");
    refuse("key", json_integer(-1), "\"key\"");
    refuse("key", json_string("1"), "\"key\"");
    refuse("body", json_string("not base64!"), "\"body\"");
    refuse("body", json_string("AAAA="), "\"body\"");                         /* bad length */
    refuse("body", json_string("AAA_AAAA"), "\"body\"");                      /* url-safe */
    refuse("body", json_integer(1), "\"body\"");
    b = lb_proto_b64(short_body, sizeof short_body);                          /* < nonce + tag */
    refuse("body", json_string(b), "\"body\"");
    free(b);
    refuse("surprise", json_true(), "field");
    refuse("size", json_integer(BODY_LEN + 1), "\"size\"");
    refuse("from", json_string("nope"), "\"from\"");
    memset(long_caseload, 'c', sizeof long_caseload - 1);
    long_caseload[sizeof long_caseload - 1] = '\0';
    refuse("assign", json_pack("{s:s, s:b}", "caseload", long_caseload, "active", 1),
           "assign.caseload");
    refuse("assign", json_pack("{s:s, s:b}", "caseload", "a|b", "active", 1), "assign.caseload");
    refuse("assign", json_pack("{s:s, s:i}", "caseload", "c1", "active", 1), "assign.active");
    refuse("assign", json_pack("{s:s, s:b, s:i}", "caseload", "c1", "active", 1, "x", 1),
           "\"assign\"");
}

static void test_proto_parse_caseload_at_limit(void **state)
{
    lb_envelope e, out;
    char msg[160] = "", caseload[LB_PROTO_CASELOAD_MAX + 1];
    json_t *j;
    (void)state;
    memset(caseload, 'c', LB_PROTO_CASELOAD_MAX);
    caseload[LB_PROTO_CASELOAD_MAX] = '\0';
    make_env(&e, 1);
    memcpy(e.assign_caseload, caseload, sizeof caseload);
    j = lb_proto_envelope_json(&e);
    memset(&out, 0, sizeof out);
    assert_int_equal(lb_proto_envelope_parse(j, &out, msg, sizeof msg), LB_OK);
    assert_string_equal(out.assign_caseload, caseload);
    lb_proto_envelope_clear(&out);
    json_decref(j);
    lb_proto_envelope_clear(&e);
}

static void test_proto_parse_not_an_object(void **state)
{
    lb_envelope out;
    char msg[160] = "";
    json_t *j = json_array();
    (void)state;
    memset(&out, 0, sizeof out);
    assert_int_equal(lb_proto_envelope_parse(j, &out, msg, sizeof msg), LB_ERR_INVALID);
    assert_true(msg[0] != '\0');
    json_decref(j);
}

static void test_proto_ad_strings(void **state)
{
    lb_envelope e;
    char ad[LB_PROTO_AD_MAX];
    size_t n;
    (void)state;
    make_env(&e, 0);
    n = lb_proto_envelope_ad(&e, ad);
    assert_string_equal(ad, "lbe1|" ID_A "|" ID_P "|3|-");
    assert_int_equal(n, strlen(ad));
    e.has_assign = 1;
    snprintf(e.assign_caseload, sizeof e.assign_caseload, "%s", "cl-9");
    e.assign_active = 1;
    n = lb_proto_envelope_ad(&e, ad);
    assert_string_equal(ad, "lbe1|" ID_A "|" ID_P "|3|cl-9|1");
    assert_int_equal(n, strlen(ad));
    e.assign_active = 0;
    lb_proto_envelope_ad(&e, ad);
    assert_string_equal(ad, "lbe1|" ID_A "|" ID_P "|3|cl-9|0");
    /* The longest metadata still fits. */
    memset(e.assign_caseload, 'z', LB_PROTO_CASELOAD_MAX);
    e.assign_caseload[LB_PROTO_CASELOAD_MAX] = '\0';
    e.key = INT64_MAX;
    assert_true(lb_proto_envelope_ad(&e, ad) > 0);
    lb_proto_envelope_clear(&e);
}

static void test_proto_b64_round_trip(void **state)
{
    unsigned char bin[300], *back = NULL;
    size_t len, got = 0, i;
    (void)state;
    for (i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(255 - i);
    for (len = 0; len <= sizeof bin; len += (len < 8 ? 1 : 97)) {
        char *t = lb_proto_b64(bin, len);
        assert_non_null(t);
        assert_int_equal(strlen(t) % 4, 0);
        assert_int_equal(lb_proto_unb64(t, &back, &got), LB_OK);
        assert_int_equal(got, len);
        if (len)
            assert_memory_equal(back, bin, len);
        free(back);
        free(t);
    }
    {
        char *t = lb_proto_b64((const unsigned char *)"foob", 4);
        assert_string_equal(t, "Zm9vYg==");
        free(t);
    }
    back = (unsigned char *)"untouched";
    assert_int_equal(lb_proto_unb64("Zm9vYg=", &back, &got), LB_ERR_INVALID);
    assert_int_equal(lb_proto_unb64("Zm9v Yg==", &back, &got), LB_ERR_INVALID);
    assert_int_equal(lb_proto_unb64("Zm9vYg-_", &back, &got), LB_ERR_INVALID);
    assert_string_equal((char *)back, "untouched");
}

static void test_proto_is_id_and_error(void **state)
{
    json_t *j;
    (void)state;
    assert_true(lb_proto_is_id(ID_A));
    assert_false(lb_proto_is_id(NULL));
    assert_false(lb_proto_is_id(""));
    assert_false(lb_proto_is_id(ID_A "0"));
    j = lb_proto_error("bad_json", "the body is not JSON (send JSON)");
    assert_string_equal(json_string_value(json_object_get(j, "code")), "bad_json");
    assert_string_equal(json_string_value(json_object_get(j, "error")),
                        "the body is not JSON (send JSON)");
    assert_int_equal(json_object_size(j), 2);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_envelope_round_trip),
        cmocka_unit_test(test_proto_binary_round_trip),
        cmocka_unit_test(test_proto_envelope_json_shape),
        cmocka_unit_test(test_proto_parse_refusals),
        cmocka_unit_test(test_proto_parse_caseload_at_limit),
        cmocka_unit_test(test_proto_parse_not_an_object),
        cmocka_unit_test(test_proto_ad_strings),
        cmocka_unit_test(test_proto_b64_round_trip),
        cmocka_unit_test(test_proto_is_id_and_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
