/* test_sync.c - the device side of sync without a network: two stores, a
 * team key shared through a fake GET /v1/keys answer, the outbox of one
 * applied as a fake pull answer on the other; tampering, missing keys,
 * cursors, acknowledgements, enrolment, secrets at rest, server epochs. */
#include <sodium.h>
#include "lb_test.h"
#include "lb_sync.h"
#include "lb_store_priv.h"

typedef struct pair {
    char *dir;
    lb_store *a, *b;
} pair;

static lb_store *store_in(const char *dir, const char *name)
{
    char sub[600];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    return lb_test_store(sub);
}

static void pair_open(pair *p)
{
    p->dir = lb_test_tmpdir();
    p->a = store_in(p->dir, "a");
    p->b = store_in(p->dir, "b");
}

static void pair_close(pair *p)
{
    lb_store_close(p->a);
    lb_store_close(p->b);
    lb_test_rmdir(p->dir);
    free(p->dir);
}

/* Seal team key id of from to to's device key and give it to to, as a
 * supervisor and GET /v1/keys would. */
static void share_key(lb_store *from, lb_store *to, int64_t id)
{
    unsigned char pk[LB_SYNC_PK_LEN];
    char pk64[sodium_base64_ENCODED_LEN(LB_SYNC_PK_LEN, sodium_base64_VARIANT_ORIGINAL)];
    char *sealed = NULL;
    json_t *resp;
    int added = -1;
    lb_test_ok(to, lb_sync_device_key(to, pk));
    sodium_bin2base64(pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    lb_test_ok(from, lb_sync_key_seal_for(from, id, pk64, &sealed));
    resp = json_pack("{s:[{s:I, s:s}]}", "keys", "key", (json_int_t)id, "sealed", sealed);
    assert_non_null(resp);
    lb_test_ok(to, lb_sync_keys_add(to, resp, &added));
    assert_int_equal(added, 1);
    lb_test_ok(to, lb_sync_keys_add(to, resp, &added));   /* again: nothing new */
    assert_int_equal(added, 0);
    json_decref(resp);
    free(sealed);
}

/* A person, a contact with a note, a goal. */
static void record_some(lb_store *s, const char *given, char person[LB_ID_HEX + 1])
{
    lb_contact_fields cf = {"home", "45", "psychosocial", "Talked about the lunch club",
                            NULL, NULL, NULL};
    lb_test_person(s, given, "Okafor", person);
    lb_test_ok(s, lb_contact_add(s, person, &cf, NULL));
    lb_test_ok(s, lb_goal_add(s, person, "Join the walking group", NULL, NULL, NULL));
}

static json_t *outbox(lb_store *s, size_t *pending)
{
    json_t *envs = NULL;
    lb_test_ok(s, lb_sync_outbox(s, 1000, 8u << 20, &envs, pending));
    return envs;
}

/* A pull answer: envelopes (a reference is taken) and cursors. */
static json_t *answer(json_t *envs, json_t *cursors)
{
    json_t *r = json_pack("{s:O, s:o, s:b}", "envelopes", envs, "cursors", cursors, "more", 0);
    assert_non_null(r);
    return r;
}

static void apply(lb_store *s, json_t *resp, size_t want_applied, size_t want_rejected)
{
    size_t applied = 99, rejected = 99;
    lb_test_ok(s, lb_sync_apply_pull(s, resp, &applied, &rejected));
    assert_int_equal(applied, want_applied);
    assert_int_equal(rejected, want_rejected);
}

static void assert_same_records(lb_store *a, lb_store *b)
{
    char *x = lb_test_dump(a), *y = lb_test_dump(b);
    assert_string_equal(x, y);
    assert_true(strlen(x) > 200);
    free(x);
    free(y);
}

static json_t *acks_of(json_t *envs)
{
    json_t *acks = json_array(), *e;
    size_t i;
    json_array_foreach(envs, i, e)
        json_array_append_new(acks, json_pack("{s:O, s:{s:I}}", "id", json_object_get(e, "id"),
                                              "seq", "c1", (json_int_t)i + 1));
    return json_pack("{s:o, s:[]}", "acks", acks, "rejected");
}

static long sql_count(lb_store *s, const char *sql)
{
    return lb_test_sql_int(lb_store_dir(s), sql);
}

static void test_sync_outbox_reaches_the_other_device(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1], *text;
    json_t *envs, *resp, *cursors = NULL, *acks;
    size_t pending = 0, n, count = 0;
    int64_t key = 0;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    assert_int_equal(key, 1);
    share_key(p.a, p.b, 1);
    record_some(p.a, "Margaret", person);
    envs = outbox(p.a, &pending);
    n = json_array_size(envs);
    assert_true(n >= 5);
    assert_int_equal(pending, n);
    text = json_dumps(envs, JSON_COMPACT);
    assert_null(strstr(text, "Margaret"));     /* sealed, not in clear */
    assert_null(strstr(text, "lunch club"));
    free(text);
    resp = answer(envs, json_pack("{s:I}", "c1", (json_int_t)n));
    apply(p.b, resp, n, 0);
    assert_same_records(p.a, p.b);
    apply(p.b, resp, 0, 0);                   /* the same answer again: nothing */
    assert_same_records(p.a, p.b);
    lb_test_ok(p.b, lb_sync_pending(p.b, &count));
    assert_int_equal(count, 0);                /* pulled changes are on the server */
    lb_test_ok(p.b, lb_sync_cursors(p.b, &cursors));
    assert_int_equal(json_integer_value(json_object_get(cursors, "c1")), (json_int_t)n);
    json_decref(cursors);
    acks = acks_of(envs);
    lb_test_ok(p.a, lb_sync_acked(p.a, acks, &count));
    assert_int_equal(count, n);
    lb_test_ok(p.a, lb_sync_acked(p.a, acks, &count));
    assert_int_equal(count, 0);
    json_decref(envs);
    envs = outbox(p.a, &pending);
    assert_int_equal(json_array_size(envs), 0);
    assert_int_equal(pending, 0);
    json_decref(envs);
    json_decref(acks);
    json_decref(resp);
    pair_close(&p);
}

/* The outbox keeps to its count and byte bounds, oldest first. */
static void test_sync_outbox_is_bounded(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1];
    json_t *all, *some = NULL;
    size_t pending = 0;
    int64_t key = 0;
    (void)state;
    pair_open(&p);
    assert_int_equal(lb_sync_outbox(p.a, 10, 1000, &some, &pending), LB_ERR_LOCKED);
    assert_null(some);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    record_some(p.a, "Bounded", person);
    all = outbox(p.a, &pending);
    lb_test_ok(p.a, lb_sync_outbox(p.a, 2, 8u << 20, &some, &pending));
    assert_int_equal(json_array_size(some), 2);
    assert_int_equal(pending, json_array_size(all));
    assert_true(json_equal(json_object_get(json_array_get(some, 1), "id"),
                           json_object_get(json_array_get(all, 1), "id")));
    json_decref(some);
    lb_test_ok(p.a, lb_sync_outbox(p.a, 100, 1, &some, &pending));
    assert_int_equal(json_array_size(some), 1);  /* at least one, however small the cap */
    json_decref(some);
    json_decref(all);
    pair_close(&p);
}

static void flip_body(json_t *env)
{
    char *body = strdup(json_string_value(json_object_get(env, "body")));
    assert_non_null(body);
    body[30] = body[30] == 'A' ? 'B' : 'A';
    json_object_set_new(env, "body", json_string(body));
    free(body);
}

/* Tampered envelopes are rejected and noted; the others still apply. */
static void test_sync_tampered_envelopes_are_rejected(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1], other[LB_ID_HEX + 1];
    json_t *envs, *bad, *resp, *e, *assign = NULL;
    size_t pending = 0, n, i;
    int64_t key = 0;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    assert_int_equal(key, 2);
    share_key(p.a, p.b, 1);
    share_key(p.a, p.b, 2);
    record_some(p.a, "Tamsin", person);
    envs = outbox(p.a, &pending);
    n = json_array_size(envs);
    bad = json_deep_copy(envs);
    json_array_foreach(bad, i, e)
        if (!assign && json_object_get(e, "assign"))
            assign = json_object_get(e, "assign");
    assert_non_null(assign);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(bad, 0), "key")), 2);
    json_object_set_new(assign, "active", json_false());           /* routing facts */
    flip_body(json_array_get(bad, 2));                               /* ciphertext */
    lb_id_new(other);
    json_object_set_new(json_array_get(bad, 3), "person", json_string(other));
    json_object_set_new(json_array_get(bad, 4), "key", json_integer(1)); /* another key */
    json_array_append_new(bad, json_pack("{s:s}", "id", "not an envelope"));
    resp = answer(bad, json_pack("{s:I}", "c1", (json_int_t)n));
    apply(p.b, resp, n - 4, 5);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected"), 5);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected WHERE reason LIKE "
                                    "'failed authentication%'"), 4);
    json_decref(resp);
    resp = answer(envs, json_pack("{s:I}", "c1", (json_int_t)n));
    apply(p.b, resp, 4, 0);                   /* the genuine ones still apply */
    assert_same_records(p.a, p.b);
    lb_test_ok(p.b, lb_store_check(p.b));
    json_decref(resp);
    json_decref(bad);
    json_decref(envs);
    pair_close(&p);
}

static json_t *cursors_of(lb_store *s)
{
    json_t *c = NULL;
    lb_test_ok(s, lb_sync_cursors(s, &c));
    return c;
}

/* Say where each envelope sits in caseload c1, from first on. */
static void number(json_t *envs, json_int_t first)
{
    json_t *e;
    size_t i;
    json_array_foreach(envs, i, e)
        json_object_set_new(e, "seq", json_pack("{s:I}", "c1", first + (json_int_t)i));
}

/* An envelope sealed with a key the device lacks is not applied and no
 * cursor moves past it; once the key comes, the same answer applies. */
static void test_sync_missing_key_holds_the_cursor(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1];
    json_t *old, *newer, *both, *resp, *c, *acks;
    size_t pending = 0, n1, n2, count = 0;
    int64_t key = 0;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    share_key(p.a, p.b, 1);
    record_some(p.a, "Keyless", person);
    old = outbox(p.a, &pending);
    n1 = json_array_size(old);
    acks = acks_of(old);
    lb_test_ok(p.a, lb_sync_acked(p.a, acks, &count));
    json_decref(acks);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));       /* rotated: B lacks key 2 */
    lb_test_ok(p.a, lb_goal_add(p.a, person, "Cook for friends", NULL, NULL, NULL));
    newer = outbox(p.a, &pending);
    n2 = json_array_size(newer);
    assert_true(n2 >= 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(newer, 0), "key")), 2);
    both = json_deep_copy(old);
    json_array_extend(both, newer);
    /* Without positions: no cursor of the answer is saved. */
    resp = answer(both, json_pack("{s:I, s:I}", "c1", (json_int_t)(n1 + n2), "c2", 9));
    apply(p.b, resp, n1, n2);
    c = cursors_of(p.b);
    assert_int_equal(json_object_size(c), 0);
    json_decref(c);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected WHERE reason = "
                                    "'no team key 2 yet'"), (long)n2);
    json_decref(resp);
    /* With positions: c1 stops before the first missing one, c2 moves. */
    number(both, 1);
    resp = answer(both, json_pack("{s:I, s:I}", "c1", (json_int_t)(n1 + n2), "c2", 9));
    apply(p.b, resp, 0, n2);
    c = cursors_of(p.b);
    assert_int_equal(json_integer_value(json_object_get(c, "c1")), (json_int_t)n1);
    assert_int_equal(json_integer_value(json_object_get(c, "c2")), 9);
    json_decref(c);
    share_key(p.a, p.b, 2);
    apply(p.b, resp, n2, 0);
    c = cursors_of(p.b);
    assert_int_equal(json_integer_value(json_object_get(c, "c1")), (json_int_t)(n1 + n2));
    json_decref(c);
    assert_same_records(p.a, p.b);
    json_decref(resp);
    json_decref(both);
    json_decref(old);
    json_decref(newer);
    pair_close(&p);
}

/* The raw bytes of team key id held by s, as a device of the team would
 * get them (sealed to a key pair made here, then opened). */
static void raw_team_key(lb_store *s, int64_t id, unsigned char key[LB_SYNC_TEAM_KEY_LEN])
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    unsigned char sealed[crypto_box_SEALBYTES + LB_SYNC_TEAM_KEY_LEN];
    char pk64[sodium_base64_ENCODED_LEN(crypto_box_PUBLICKEYBYTES,
                                        sodium_base64_VARIANT_ORIGINAL)];
    char *b64 = NULL;
    size_t len = 0;
    crypto_box_keypair(pk, sk);
    sodium_bin2base64(pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    lb_test_ok(s, lb_sync_key_seal_for(s, id, pk64, &b64));
    assert_int_equal(sodium_base642bin(sealed, sizeof sealed, b64, strlen(b64), NULL, &len,
                                       NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    assert_int_equal(len, sizeof sealed);
    assert_int_equal(crypto_box_seal_open(key, sealed, len, pk, sk), 0);
    sodium_memzero(sk, sizeof sk);
    free(b64);
}

/* Open an envelope's body with a raw team key, its associated data naming
 * key ad_key (the lb_proto.h format "lbe1|id|person|key|-" of an envelope
 * without assignment facts).  0 when it opens; the plaintext in plain. */
static int open_with(const json_t *env, const unsigned char key[LB_SYNC_TEAM_KEY_LEN],
                     int64_t ad_key, char *plain, size_t cap)
{
    const char *b64 = json_string_value(json_object_get(env, "body"));
    unsigned char *body;
    unsigned long long plen = 0;
    size_t blen = 0;
    char ad[256];
    int n, rc;
    assert_non_null(b64);
    assert_null(json_object_get(env, "assign"));
    body = malloc(strlen(b64) + 1);
    assert_non_null(body);
    assert_int_equal(sodium_base642bin(body, strlen(b64) + 1, b64, strlen(b64), NULL, &blen,
                                       NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    assert_true(blen > crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                           crypto_aead_xchacha20poly1305_ietf_ABYTES);
    assert_true(blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES < cap);
    n = snprintf(ad, sizeof ad, "lbe1|%s|%s|%lld|-",
                 json_string_value(json_object_get(env, "id")),
                 json_string_value(json_object_get(env, "person")), (long long)ad_key);
    assert_true(n > 0 && (size_t)n < sizeof ad);
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        (unsigned char *)plain, &plen, NULL,
        body + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
        blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, (unsigned char *)ad, (size_t)n,
        body, key);
    plain[rc == 0 ? plen : 0] = '\0';
    free(body);
    return rc;
}

/* Changes sealed after a key rotation are unreadable with the old key: a
 * store holding only key 1 does not apply them (counted rejected, "no
 * team key 2 yet", its cursor held), nor when they are relabelled as
 * sealed with key 1 (failed authentication); key 1's bytes do not open
 * them; once key 2 comes they apply. */
static void test_sync_old_key_cannot_open_after_rotation(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1], plain[8192], *before, *after;
    unsigned char k1[LB_SYNC_TEAM_KEY_LEN], k2[LB_SYNC_TEAM_KEY_LEN];
    json_t *envs, *relabelled, *resp, *e, *plainenv = NULL, *c;
    size_t pending = 0, n, i;
    int64_t key = 0;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    share_key(p.a, p.b, 1);                              /* B holds key 1 only */
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));         /* the rotation */
    assert_int_equal(key, 2);
    record_some(p.a, "Rotated", person);
    envs = outbox(p.a, &pending);
    n = json_array_size(envs);
    assert_true(n >= 3);
    json_array_foreach(envs, i, e) {
        assert_int_equal(json_integer_value(json_object_get(e, "key")), 2);
        if (!plainenv && !json_object_get(e, "assign"))
            plainenv = e;
    }
    assert_non_null(plainenv);

    /* The raw keys: key 2 opens the envelope, key 1 does not, whichever
     * key id the associated data names. */
    raw_team_key(p.a, 1, k1);
    raw_team_key(p.a, 2, k2);
    assert_memory_not_equal(k1, k2, sizeof k1);
    assert_int_equal(open_with(plainenv, k2, 2, plain, sizeof plain), 0);
    assert_non_null(strstr(plain, "\"kind\""));          /* the AD format is right */
    assert_int_equal(open_with(plainenv, k1, 2, plain, sizeof plain), -1);
    assert_int_equal(open_with(plainenv, k1, 1, plain, sizeof plain), -1);
    assert_string_equal(plain, "");

    /* B, with key 1 only: nothing applied, all counted, no cursor moved. */
    before = lb_test_dump(p.b);
    number(envs, 1);
    resp = answer(envs, json_pack("{s:I}", "c1", (json_int_t)n));
    apply(p.b, resp, 0, n);
    after = lb_test_dump(p.b);
    assert_string_equal(before, after);
    free(after);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM changes"), 0);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected WHERE reason = "
                                    "'no team key 2 yet'"), (long)n);
    c = cursors_of(p.b);
    assert_true(json_integer_value(json_object_get(c, "c1")) == 0);   /* absent or 0 */
    json_decref(c);
    json_decref(resp);

    /* Relabelled as sealed with key 1 (which B holds): key 1 is tried and
     * fails; still nothing applied. */
    relabelled = json_deep_copy(envs);
    json_array_foreach(relabelled, i, e)
        json_object_set_new(e, "key", json_integer(1));
    resp = answer(relabelled, json_pack("{s:I}", "c1", (json_int_t)n));
    apply(p.b, resp, 0, n);
    after = lb_test_dump(p.b);
    assert_string_equal(before, after);
    free(after);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM changes"), 0);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected WHERE reason LIKE "
                                    "'failed authentication%'"), (long)n);
    json_decref(resp);

    /* Key 2 arrives: the genuine envelopes apply. */
    share_key(p.a, p.b, 2);
    resp = answer(envs, json_pack("{s:I}", "c1", (json_int_t)n));
    apply(p.b, resp, n, 0);
    assert_same_records(p.a, p.b);
    lb_test_ok(p.b, lb_store_check(p.b));
    json_decref(resp);
    json_decref(relabelled);
    json_decref(envs);
    free(before);
    sodium_memzero(k1, sizeof k1);
    sodium_memzero(k2, sizeof k2);
    pair_close(&p);
}

static json_t *enrol_answer(const char *team, const char *epoch)
{
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "device", "0123456789abcdef0123456789abcdef",
                          "token", "tok-SECRET-7f3a9c1e5b2d4f6a8c0e", "team", team,
                          "team_name", "North Riverside PCN", "user", "u-jo",
                          "name", "Jo Quintrell-Worker", "role", "health-coach",
                          "caseload", "c-jo", "epoch", epoch);
    assert_non_null(r);
    return r;
}

/* Does the file hold needle? */
static int file_has(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long size;
    int found = 0;
    size_t i;
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    for (i = 0; !found && i + len <= (size_t)size; i++)
        found = memcmp(buf + i, needle, len) == 0;
    free(buf);
    return found;
}

/* Is any 32-byte window of the file the secret key of public key pk? */
static int file_has_secret_of(const char *path, const unsigned char pk[32])
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf, q[32];
    long size;
    int found = 0;
    size_t i;
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    for (i = 0; !found && i + 32 <= (size_t)size; i++)
        found = crypto_scalarmult_base(q, buf + i) == 0 && memcmp(q, pk, 32) == 0;
    free(buf);
    return found;
}

static void assert_secrets_sealed(const char *store_dir, const unsigned char pk[32])
{
    static const char *const needles[] = {"tok-SECRET-7f3a9c1e5b2d4f6a8c0e",
                                          "Jo Quintrell-Worker", "North Riverside PCN"};
    char path[700];
    size_t i;
    snprintf(path, sizeof path, "%s/%s", store_dir, LB_STORE_FILE);
    for (i = 0; i < 3; i++) {
        assert_false(file_has(path, needles[i], strlen(needles[i])));
        snprintf(path, sizeof path, "%s/%s-wal", store_dir, LB_STORE_FILE);
        assert_false(file_has(path, needles[i], strlen(needles[i])));
        snprintf(path, sizeof path, "%s/%s", store_dir, LB_STORE_FILE);
    }
    assert_true(file_has(path, "u-jo", 4));   /* the search does find what is clear */
    assert_false(file_has_secret_of(path, pk));
}

/* The secret-key search finds a secret key written in clear. */
static void assert_secret_search_works(const char *dir)
{
    unsigned char pk[32], sk[32];
    char path[700];
    FILE *f;
    snprintf(path, sizeof path, "%s/clear", dir);
    crypto_box_keypair(pk, sk);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite("padding", 1, 7, f), 7);
    assert_int_equal(fwrite(sk, 1, sizeof sk, f), sizeof sk);
    fclose(f);
    assert_true(file_has_secret_of(path, pk));
    sodium_memzero(sk, sizeof sk);
    unlink(path);
}

static lb_store *reopen(const char *dir)
{
    lb_store *s = NULL;
    lb_test_ok(s, lb_store_open(dir, &s));
    lb_test_ok(s, lb_store_unlock(s, LB_TEST_PASS, strlen(LB_TEST_PASS)));
    return s;
}

static void check_info(lb_store *s)
{
    lb_sync_info info;
    char *token = NULL;
    lb_test_ok(s, lb_sync_info_get(s, &info));
    assert_string_equal(info.url, "https://sync.example.org");
    assert_string_equal(info.name, "Jo Quintrell-Worker");
    assert_string_equal(info.team_name, "North Riverside PCN");
    assert_string_equal(info.caseload, "c-jo");
    assert_string_equal(info.epoch, "e1");
    assert_int_equal(info.insecure, 0);
    lb_sync_info_clear(&info);
    lb_test_ok(s, lb_sync_token(s, &token));
    assert_string_equal(token, "tok-SECRET-7f3a9c1e5b2d4f6a8c0e");
    lb_sync_token_free(token);
    assert_string_equal(lb_store_author(s), "Jo Quintrell-Worker");
    assert_string_equal(lb_store_role(s), "health-coach");
    assert_string_equal(lb_store_caseload(s), "c-jo");
}

/* Enrolment keeps the facts, seals the secrets, takes the user's identity
 * and moves the people on "local" to the user's caseload. */
static void test_sync_enrolment(void **state)
{
    char *dir = lb_test_tmpdir(), path[600], person[LB_ID_HEX + 1], *token = NULL;
    unsigned char pk[LB_SYNC_PK_LEN], pk2[LB_SYNC_PK_LEN];
    lb_store *s = store_in(dir, "a");
    lb_sync_info info;
    json_t *resp, *list = NULL, *cl;
    (void)state;
    snprintf(path, sizeof path, "%s/a/store", dir);
    lb_test_ok(s, lb_sync_info_get(s, &info));
    assert_null(info.url);
    assert_int_equal(lb_sync_token(s, &token), LB_ERR_NOTFOUND);
    lb_test_person(s, "Local", "Person", person);
    lb_test_ok(s, lb_sync_device_key(s, pk));
    resp = enrol_answer("t-1", "e1");
    lb_test_ok(s, lb_sync_enrolled(s, "https://sync.example.org", 0, resp));
    check_info(s);
    lb_test_ok(s, lb_person_list(s, NULL, &list));
    cl = json_object_get(json_array_get(json_object_get(list, "people"), 0), "caseloads");
    assert_int_equal(json_array_size(cl), 1);
    assert_string_equal(json_string_value(json_array_get(cl, 0)), "c-jo");
    json_decref(list);
    json_decref(resp);
    resp = enrol_answer("t-other", "e1");
    assert_int_equal(lb_sync_enrolled(s, "https://sync.example.org", 0, resp), LB_ERR_EXISTS);
    json_decref(resp);
    lb_store_close(s);
    s = reopen(path);
    check_info(s);
    lb_test_ok(s, lb_sync_device_key(s, pk2));
    assert_memory_equal(pk, pk2, sizeof pk);
    lb_store_close(s);
    assert_secrets_sealed(path, pk);
    assert_secret_search_works(dir);
    lb_test_rmdir(dir);
    free(dir);
}

/* A server restored from a backup (new epoch): everything goes back into
 * the outbox and the cursors start again. */
static void test_sync_new_epoch_pushes_again(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1];
    json_t *envs, *acks, *resp, *c;
    size_t pending = 0, n, count = 0;
    int64_t key = 0;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &key));
    share_key(p.a, p.b, 1);
    record_some(p.a, "Epoch", person);
    envs = outbox(p.a, &pending);
    n = json_array_size(envs);
    acks = acks_of(envs);
    json_object_set_new(acks, "epoch", json_string("e1"));
    lb_test_ok(p.a, lb_sync_acked(p.a, acks, &count));
    lb_test_ok(p.a, lb_sync_pending(p.a, &pending));
    assert_int_equal(pending, 0);
    resp = answer(envs, json_pack("{s:I}", "c1", (json_int_t)n));
    json_object_set_new(resp, "epoch", json_string("e1"));
    apply(p.b, resp, n, 0);
    json_decref(resp);
    /* The restored server has only the first envelope. */
    c = json_pack("[O]", json_array_get(envs, 0));
    resp = answer(c, json_pack("{s:I}", "c1", 1));
    json_decref(c);
    json_object_set_new(resp, "epoch", json_string("e2"));
    apply(p.b, resp, 0, 0);
    c = cursors_of(p.b);
    assert_int_equal(json_object_size(c), 0);     /* start again from 0 */
    json_decref(c);
    lb_test_ok(p.b, lb_sync_pending(p.b, &pending));
    assert_int_equal(pending, n - 1);              /* refill the restored server */
    json_object_set_new(acks, "epoch", json_string("e2"));
    lb_test_ok(p.a, lb_sync_acked(p.a, acks, &count));
    assert_int_equal(count, n);                    /* reset, then acknowledged again */
    json_decref(resp);
    json_decref(acks);
    json_decref(envs);
    pair_close(&p);
}

/* Bad answers are refused whole and change nothing. */
static void test_sync_bad_answers(void **state)
{
    pair p;
    size_t a = 7, r = 7, count = 7;
    char *sealed = NULL;
    int added = 7;
    json_t *bad = json_pack("{s:[], s:{s:I}}", "envelopes", "cursors", "c1", (json_int_t)-1);
    json_t *no_list = json_pack("{s:{}}", "cursors");
    (void)state;
    pair_open(&p);
    assert_int_equal(lb_sync_apply_pull(p.b, bad, &a, &r), LB_ERR_INVALID);
    assert_int_equal(lb_sync_apply_pull(p.b, no_list, &a, &r), LB_ERR_INVALID);
    assert_int_equal(a, 7);
    assert_int_equal(lb_sync_acked(p.b, no_list, &count), LB_ERR_INVALID);
    assert_int_equal(lb_sync_keys_add(p.b, no_list, &added), LB_ERR_INVALID);
    assert_int_equal(added, 7);
    assert_int_equal(lb_sync_key_seal_for(p.a, 1, "AAAA", &sealed), LB_ERR_INVALID);
    assert_null(sealed);
    json_decref(bad);
    json_decref(no_list);
    pair_close(&p);
}

/* An lb_sync_envelope of a JSON envelope; its body in buf (freed by the
 * caller). */
static void view_of(const json_t *j, lb_sync_envelope *e, unsigned char **buf)
{
    const char *b64 = json_string_value(json_object_get(j, "body"));
    size_t len = 0;
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", json_string_value(json_object_get(j, "id")));
    snprintf(e->person, sizeof e->person, "%s", json_string_value(json_object_get(j, "person")));
    e->key = (int64_t)json_integer_value(json_object_get(j, "key"));
    if (json_object_get(j, "assign")) {
        const json_t *a = json_object_get(j, "assign");
        e->has_assign = 1;
        snprintf(e->caseload, sizeof e->caseload, "%s",
                 json_string_value(json_object_get(a, "caseload")));
        e->active = json_is_true(json_object_get(a, "active"));
    }
    *buf = malloc(strlen(b64) + 1);
    assert_non_null(*buf);
    assert_int_equal(sodium_base642bin(*buf, strlen(b64) + 1, b64, strlen(b64), NULL, &len,
                                       NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    e->body = *buf;
    e->body_len = len;
}

/* An envelope sealing plain (n bytes) under key 1, for person. */
static void seal_plain(const unsigned char key[LB_SYNC_TEAM_KEY_LEN], const char *plain,
                       size_t n, const char *person, lb_sync_envelope *e,
                       unsigned char body[1024])
{
    char ad[256];
    unsigned long long clen = 0;
    assert_true(n + 64 < 1024);
    memset(e, 0, sizeof *e);
    lb_id_new(e->id);
    memcpy(e->person, person, LB_ID_HEX + 1);
    e->key = 1;
    snprintf(ad, sizeof ad, "lbe1|%s|%s|1|-", e->id, e->person);
    randombytes_buf(body, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(body + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               &clen, (const unsigned char *)plain, n,
                                               (unsigned char *)ad, strlen(ad), NULL, body, key);
    e->body = body;
    e->body_len = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + (size_t)clen;
}

/* A well-sealed envelope whose change the log refuses: it names record (a
 * person's record) as a note. */
static void sealed_misfit(const unsigned char key[LB_SYNC_TEAM_KEY_LEN], const char *record,
                          lb_sync_envelope *e, unsigned char body[1024])
{
    char plain[512];
    int n = snprintf(plain, sizeof plain, "{\"kind\":\"note\",\"record\":\"%s\",\"caseload\":"
                     "\"local\",\"hlc\":65536,\"device\":\"%032d\",\"schema\":1,\"a\":\"M\","
                     "\"f\":{\"text\":\"not a note\"}}", record, 7);
    seal_plain(key, plain, (size_t)n, record, e, body);
}

typedef struct seen_change {
    const char *record;
    int found;
    char author[16];
    json_t *fields, *prev;
} seen_change;

static int find_change(const lb_change *c, void *ctx)
{
    seen_change *w = ctx;
    if (strcmp(c->record, w->record) != 0)
        return 0;
    w->found++;
    snprintf(w->author, sizeof w->author, "%s", c->author);
    w->fields = json_incref(c->fields);
    w->prev = json_incref(c->prev);
    return 0;
}

#define HEAD "\"kind\":\"note\",\"record\":\"%s\",\"caseload\":\"local\",\"hlc\":65536," \
    "\"device\":\"%032d\",\"schema\":1"
#define FIELDS "{\"text\":\"caf\\u00e9 \\\"q\\\"\", \"n\": [1, 2.5, null]}"

#define LAYOUTS 5

/* A note's plaintext for record, laid out in one of LAYOUTS ways. */
static int layout_plain(size_t layout, const char *record, char *out, size_t cap)
{
    if (layout == 3)    /* escapes in a routing fact and in the author */
        return snprintf(out, cap, "{\"kind\":\"no\\u0074e\",\"record\":\"%s\",\"caseload\":"
                        "\"local\",\"hlc\":65536,\"device\":\"%032d\",\"schema\":1,"
                        "\"a\":\"\\u0041nn\",\"f\":" FIELDS ",\"p\":{\"text\":\"\"}}", record, 9);
    if (layout == 4)    /* a key written with an escape */
        return snprintf(out, cap, "{\"\\u006bind\":\"note\",\"record\":\"%s\",\"caseload\":"
                        "\"local\",\"hlc\":65536,\"device\":\"%032d\",\"schema\":1,"
                        "\"a\":\"Ann\",\"f\":" FIELDS ",\"p\":{\"text\":\"\"}}", record, 9);
    if (layout == 0)    /* as written: the content last, white space */
        return snprintf(out, cap, "{" HEAD ", \"a\" : \"Ann\" ,\"f\":" FIELDS
                        ",\"p\":{\"text\":\"\"}}\n", record, 9);
    if (layout == 1)    /* the content first */
        return snprintf(out, cap, "{\"a\":\"Ann\",\"f\":" FIELDS ",\"p\":{\"text\":\"\"},"
                        HEAD "}", record, 9);
    /* a member after the content */
    return snprintf(out, cap, "{" HEAD ",\"a\":\"Ann\",\"f\":" FIELDS
                    ",\"p\":{\"text\":\"\"},\"x\":1}", record, 9);
}

/* A pair with a team key on both (its raw bytes into key), a new person
 * id, and a pull begun on b: for envelopes sealed by hand. */
static void raw_pull_begin(pair *p, unsigned char key[LB_SYNC_TEAM_KEY_LEN],
                           char person[LB_ID_HEX + 1], lb_sync_pull **pull)
{
    int64_t kid = 0;
    pair_open(p);
    lb_test_ok(p->a, lb_sync_key_new(p->a, &kid));
    share_key(p->a, p->b, kid);
    raw_team_key(p->a, kid, key);
    lb_id_new(person);
    lb_test_ok(p->b, lb_sync_pull_begin(p->b, "epoch-1", pull));
}

/* A pulled change's content goes into the log as its writer sealed it when
 * it closes the plaintext ("a", "f", "p" last, white space and escapes as
 * written), and is written again when laid out otherwise (content first,
 * a member the log does not keep, escapes in facts or keys); either way
 * the log reads back the same change, and the records rebuilt from the log
 * are the same. */
static void test_sync_pulled_content_kept_as_sealed(void **state)
{
    pair p;
    char records[LAYOUTS][LB_ID_HEX + 1], person[LB_ID_HEX + 1], plain[768];
    unsigned char key[LB_SYNC_TEAM_KEY_LEN], body[1024];
    lb_sync_envelope e;
    lb_sync_pull *pull = NULL;
    size_t applied = 0, rejected = 0, i;
    (void)state;
    raw_pull_begin(&p, key, person, &pull);
    for (i = 0; i < LAYOUTS; i++) {
        int n;
        lb_id_new(records[i]);
        n = layout_plain(i, records[i], plain, sizeof plain);
        assert_true(n > 0 && (size_t)n < sizeof plain);
        seal_plain(key, plain, (size_t)n, person, &e, body);
        lb_test_ok(p.b, lb_sync_pull_envelope(pull, &e));
    }
    lb_test_ok(p.b, lb_sync_pull_end(pull, 1, &applied, &rejected));
    assert_int_equal(applied, LAYOUTS);
    assert_int_equal(rejected, 0);
    lb_test_ok(p.b, lb_change_rebuild(p.b));
    for (i = 0; i < LAYOUTS; i++) {
        seen_change w = {records[i], 0, "", NULL, NULL};
        json_t *want = json_pack("{s:s, s:[i, f, n]}", "text", "caf\xc3\xa9 \"q\"", "n", 1, 2.5);
        lb_record *r = NULL;
        lb_test_ok(p.b, lb_change_each(p.b, find_change, &w));
        assert_int_equal(w.found, 1);
        assert_string_equal(w.author, "Ann");
        assert_true(json_equal(w.fields, want));
        assert_string_equal(json_string_value(json_object_get(w.prev, "text")), "");
        lb_test_ok(p.b, lb_record_get(p.b, records[i], &r));
        assert_true(json_equal(r->fields, want));
        lb_record_free(r);
        json_decref(want);
        json_decref(w.fields);
        json_decref(w.prev);
    }
    sodium_memzero(key, sizeof key);
    pair_close(&p);
}

/* The binary path applies without a savepoint per change; a change the
 * log refuses in the middle of an answer makes it apply again from the
 * start, carefully: the others apply once, the misfit is rejected with a
 * reason, the cursors are saved, and the stores agree. */
static void test_sync_refused_change_mid_answer(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1];
    unsigned char key[LB_SYNC_TEAM_KEY_LEN], misfit_body[1024], *bufs[64];
    lb_sync_envelope e;
    lb_sync_pull *pull = NULL;
    size_t pending = 0, applied = 0, rejected = 0, i, n;
    int64_t kid = 0;
    json_t *envs, *j;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &kid));
    share_key(p.a, p.b, kid);
    record_some(p.a, "Misfit", person);
    envs = outbox(p.a, &pending);
    n = json_array_size(envs);
    assert_true(n >= 3 && n < 64);
    raw_team_key(p.a, kid, key);
    lb_test_ok(p.b, lb_sync_pull_begin(p.b, "epoch-1", &pull));
    json_array_foreach(envs, i, j) {
        view_of(j, &e, &bufs[i]);
        lb_test_ok(p.b, lb_sync_pull_envelope(pull, &e));
        if (i == 0) {   /* after the person: a change naming it as a note */
            sealed_misfit(key, person, &e, misfit_body);
            lb_test_ok(p.b, lb_sync_pull_envelope(pull, &e));
        }
    }
    lb_test_ok(p.b, lb_sync_pull_cursor(pull, "c1", 42));
    lb_test_ok(p.b, lb_sync_pull_end(pull, 1, &applied, &rejected));
    assert_int_equal(applied, n);
    assert_int_equal(rejected, 1);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected WHERE reason = "
                                    "'its change is malformed'"), 1);
    assert_int_equal(sql_count(p.b, "SELECT seq FROM cursors WHERE caseload = 'c1'"), 42);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM changes WHERE pushed = 0"), 0);
    assert_same_records(p.a, p.b);
    for (i = 0; i < n; i++)
        free(bufs[i]);
    sodium_memzero(key, sizeof key);
    json_decref(envs);
    pair_close(&p);
}

/* Rows SQLite stepped through in full scans (table or whole index), summed
 * over the statements a store finishes while counted. */
static int full_scan_steps(unsigned type, void *ctx, void *stmt, void *x)
{
    (void)type, (void)x;
    *(long *)ctx += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
    return 0;
}

/* A valid NHS number (Modulus 11) made from n. */
static void nhs_number(unsigned n, char out[11])
{
    for (;;) {
        unsigned sum = 0, check;
        snprintf(out, 11, "4%08u", n++ % 100000000u);
        for (int i = 0; i < 9; i++)
            sum += (unsigned)(out[i] - '0') * (unsigned)(10 - i);
        check = (11 - sum % 11) % 11;
        if (check < 10) {
            out[9] = (char)('0' + check);
            out[10] = '\0';
            return;
        }
    }
}

/* Applying a pull finds every row it touches through an index: what a
 * pulled change costs must not grow with the records, people or NHS
 * numbers the device holds.  Many people with NHS numbers, their contacts
 * and goals, a goal edited: no full scan on the pulling device. */
static void test_sync_apply_scans_nothing(void **state)
{
    pair p;
    char person[LB_ID_HEX + 1], goal[LB_ID_HEX + 1], nhs[11];
    lb_contact_fields cf = {"home", "45", "psychosocial", "Talked about the lunch club",
                            NULL, NULL, NULL};
    size_t pending = 0, n;
    int64_t kid = 0;
    long steps = 0;
    json_t *envs, *resp;
    (void)state;
    pair_open(&p);
    lb_test_ok(p.a, lb_sync_key_new(p.a, &kid));
    share_key(p.a, p.b, kid);
    for (unsigned i = 0; i < 40; i++) {
        lb_person_fields f = {0};
        nhs_number(1000 + 37 * i, nhs);
        f.given = "Nasreen";
        f.family = "Begum";
        f.nhs = nhs;
        lb_test_ok(p.a, lb_person_add(p.a, &f, person));
        lb_test_ok(p.a, lb_contact_add(p.a, person, &cf, NULL));
    }
    lb_test_ok(p.a, lb_goal_add(p.a, person, "Join the walking group", NULL, NULL, goal));
    lb_test_ok(p.a, lb_goal_status(p.a, goal, "achieved"));
    envs = outbox(p.a, &pending);
    n = json_array_size(envs);
    assert_true(n >= 120);
    resp = answer(envs, json_pack("{s:I}", "c1", (json_int_t)n));
    sqlite3_trace_v2(p.b->db, SQLITE_TRACE_PROFILE, full_scan_steps, &steps);
    apply(p.b, resp, n, 0);
    sqlite3_trace_v2(p.b->db, 0, NULL, NULL);
    assert_int_equal(steps, 0);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM nhs_index"), 40);
    assert_same_records(p.a, p.b);
    json_decref(envs);
    json_decref(resp);
    pair_close(&p);
}

/* The routing facts of a note's plaintext for record, with fact number
 * which (kind, record, caseload, hlc, device, schema) written as fact. */
static void head_with(const char *record, size_t which, const char *fact, char *out, size_t cap)
{
    char rec[64], dev[64];
    const char *parts[6] = {"\"kind\":\"note\"", rec, "\"caseload\":\"local\"", "\"hlc\":65536",
                            dev, "\"schema\":1"};
    size_t i;
    snprintf(rec, sizeof rec, "\"record\":\"%s\"", record);
    snprintf(dev, sizeof dev, "\"device\":\"%032d\"", 9);
    if (fact)
        parts[which] = fact;
    out[0] = '\0';
    for (i = 0; i < 6; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", parts[i]);
}

/* Well sealed, but not a change: each is rejected with a reason, and
 * nothing of it is kept. */
static void test_sync_sealed_non_changes_are_rejected(void **state)
{
    static const char *const tails[] = {
        ",\"a\":\"Ann\",\"f\":[]}", ",\"a\":\"Ann\"}", ",\"a\":7,\"f\":{}}",
        ",\"a\":\"Ann\",\"f\":{},\"p\":null}", ",\"a\":\"Ann\",\"f\":{},\"kind\":\"note\"}",
        ",\"a\":\"Ann\",\"f\":{\"x\":1,\"x\":2}}", ",\"a\":\"Ann\",\"f\":{}",
        ",\"a\":\"Ann\",\"f\":{}} x", ",\"a\":\"Ann\",\"f\":{},\"\\u0061\":\"Bo\"}",
    };
    static const struct { size_t which; const char *fact; } facts[] = {
        {3, "\"hlc\":65536.0"}, {3, "\"hlc\":-1"}, {3, "\"hlc\":\"65536\""}, {5, "\"schema\":0"},
        {5, "\"schema\":65536"}, {5, "\"schema\":1e0"}, {0, "\"kind\":\"a|b\""},
        {0, "\"kind\":\"\""}, {0, "\"kind\":7"}, {1, "\"record\":\"abc\""},
        {4, "\"device\":\"0000000000000000000000000000009\""}, {2, "\"caseload\":\"\\u0001\""},
        {2, "\"cl\":\"local\""},
    };
    pair p;
    char record[LB_ID_HEX + 1], person[LB_ID_HEX + 1], plain[768], head[512];
    unsigned char key[LB_SYNC_TEAM_KEY_LEN], body[1024];
    lb_sync_envelope e;
    lb_sync_pull *pull = NULL;
    size_t applied = 0, rejected = 0, i, want = 0;
    int n;
    (void)state;
    raw_pull_begin(&p, key, person, &pull);
    for (i = 0; i < sizeof tails / sizeof tails[0] + sizeof facts / sizeof facts[0]; i++) {
        int by_tail = i < sizeof tails / sizeof tails[0];
        size_t k = by_tail ? i : i - sizeof tails / sizeof tails[0];
        lb_id_new(record);
        head_with(record, by_tail ? 0 : facts[k].which, by_tail ? NULL : facts[k].fact,
                  head, sizeof head);
        n = snprintf(plain, sizeof plain, "{%s%s", head,
                     by_tail ? tails[k] : ",\"a\":\"Ann\",\"f\":{}}");
        seal_plain(key, plain, (size_t)n, person, &e, body);
        lb_test_ok(p.b, lb_sync_pull_envelope(pull, &e));
        want++;
    }
    lb_id_new(record);      /* and a good one, to show the rest is sound */
    head_with(record, 0, NULL, head, sizeof head);
    n = snprintf(plain, sizeof plain, "{%s,\"a\":\"Ann\",\"f\":{}}", head);
    seal_plain(key, plain, (size_t)n, person, &e, body);
    lb_test_ok(p.b, lb_sync_pull_envelope(pull, &e));
    lb_test_ok(p.b, lb_sync_pull_end(pull, 1, &applied, &rejected));
    assert_int_equal(applied, 1);
    assert_int_equal(rejected, want);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM rejected WHERE reason = "
                                    "'its sealed content is not a change'"), (long)want);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM changes"), 1);
    assert_int_equal(sql_count(p.b, "SELECT count(*) FROM records"), 1);
    sodium_memzero(key, sizeof key);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_outbox_reaches_the_other_device),
        cmocka_unit_test(test_sync_outbox_is_bounded),
        cmocka_unit_test(test_sync_tampered_envelopes_are_rejected),
        cmocka_unit_test(test_sync_missing_key_holds_the_cursor),
        cmocka_unit_test(test_sync_old_key_cannot_open_after_rotation),
        cmocka_unit_test(test_sync_enrolment),
        cmocka_unit_test(test_sync_new_epoch_pushes_again),
        cmocka_unit_test(test_sync_bad_answers),
        cmocka_unit_test(test_sync_refused_change_mid_answer),
        cmocka_unit_test(test_sync_apply_scans_nothing),
        cmocka_unit_test(test_sync_pulled_content_kept_as_sealed),
        cmocka_unit_test(test_sync_sealed_non_changes_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
