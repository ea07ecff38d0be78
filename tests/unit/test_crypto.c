/* test_crypto.c - unit tests of lb_crypto: sealing and opening, tamper
 * detection, key wrapping, Argon2id derivation, blind index, wiping, ids.
 *
 * Two keyrings are made once for the group; tests that wipe make their own.
 * Argon2id runs at INTERACTIVE cost (tens of milliseconds per derivation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "lb_crypto.h"

static const unsigned char MSG[] = "Ada Example, 12 Acacia Avenue; lives alone, misses choir";
#define MSG_LEN (sizeof MSG - 1)
static const unsigned char AD[] = "0123456789abcdef0123456789abcdef|person|name";
#define AD_LEN (sizeof AD - 1)
#define SEALED_LEN (MSG_LEN + LB_SEAL_OVERHEAD)
#define NONCE_LEN 24
#define TAG_LEN 16
#define POISON 0xA5

struct fixture {
    lb_keyring *a;
    lb_keyring *b;
};

static int setup(void **state)
{
    static struct fixture f;
    if (lb_crypto_init() != LB_OK)
        return -1;
    if (lb_keyring_generate(&f.a) != LB_OK || lb_keyring_generate(&f.b) != LB_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lb_keyring_free(f->a);
    lb_keyring_free(f->b);
    return 0;
}

static int all_zero(const unsigned char *p, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Does needle (len n) occur in hay (len h)? */
static int contains(const unsigned char *hay, size_t h, const char *needle, size_t n)
{
    size_t i;
    for (i = 0; i + n <= h; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

static void seal_msg(const lb_keyring *kr, unsigned char sealed[SEALED_LEN])
{
    assert_int_equal(lb_seal(kr, MSG, MSG_LEN, AD, AD_LEN, sealed), LB_OK);
}

static void test_crypto_seal_open_round_trip(void **state)
{
    struct fixture *f = *state;
    unsigned char sealed[SEALED_LEN], again[SEALED_LEN], out[MSG_LEN];
    seal_msg(f->a, sealed);
    /* the plaintext does not appear in the ciphertext */
    assert_false(contains(sealed, sizeof sealed, "Acacia", 6));
    memset(out, POISON, sizeof out);
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed, AD, AD_LEN, out), LB_OK);
    assert_memory_equal(out, MSG, MSG_LEN);
    /* a fresh nonce each time: the same message seals differently */
    seal_msg(f->a, again);
    assert_memory_not_equal(sealed, again, NONCE_LEN);
    assert_memory_not_equal(sealed + NONCE_LEN, again + NONCE_LEN, MSG_LEN);
}

static void test_crypto_seal_open_empty_message(void **state)
{
    struct fixture *f = *state;
    unsigned char sealed[LB_SEAL_OVERHEAD], out[1] = {POISON};
    assert_int_equal(lb_seal(f->a, (const unsigned char *)"", 0, AD, AD_LEN, sealed), LB_OK);
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed, AD, AD_LEN, out), LB_OK);
    sealed[sizeof sealed - 1] ^= 1;
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed, AD, AD_LEN, out), LB_ERR_TAMPERED);
}

/* Flip each bit pattern of each byte in [from, to) of a good seal: every
 * one must be refused as tampered, with out wiped to zero. */
static void flip_range(const lb_keyring *kr, size_t from, size_t to)
{
    static const unsigned char flips[] = {0x01, 0x80, 0xFF};
    unsigned char sealed[SEALED_LEN], out[MSG_LEN];
    size_t i, j;
    seal_msg(kr, sealed);
    for (i = from; i < to; i++) {
        for (j = 0; j < sizeof flips; j++) {
            lb_err err;
            sealed[i] ^= flips[j];
            memset(out, POISON, sizeof out);
            err = lb_open(kr, sealed, sizeof sealed, AD, AD_LEN, out);
            if (err != LB_ERR_TAMPERED)
                fail_msg("byte %zu ^ 0x%02x: lb_open gave %d, not LB_ERR_TAMPERED", i,
                         flips[j], (int)err);
            if (!all_zero(out, sizeof out))
                fail_msg("byte %zu ^ 0x%02x: output not wiped after a failed open", i, flips[j]);
            sealed[i] ^= flips[j];
        }
    }
    /* and restored, it opens again */
    assert_int_equal(lb_open(kr, sealed, sizeof sealed, AD, AD_LEN, out), LB_OK);
    assert_memory_equal(out, MSG, MSG_LEN);
}

static void test_crypto_open_flipped_nonce_tampered(void **state)
{
    struct fixture *f = *state;
    flip_range(f->a, 0, NONCE_LEN);
}

static void test_crypto_open_flipped_ciphertext_tampered(void **state)
{
    struct fixture *f = *state;
    flip_range(f->a, NONCE_LEN, NONCE_LEN + MSG_LEN);
}

static void test_crypto_open_flipped_tag_tampered(void **state)
{
    struct fixture *f = *state;
    flip_range(f->a, NONCE_LEN + MSG_LEN, SEALED_LEN);
}

static void test_crypto_open_other_ad_tampered(void **state)
{
    struct fixture *f = *state;
    static const unsigned char other[] = "0123456789abcdef0123456789abcdef|person|nhs";
    unsigned char sealed[SEALED_LEN], out[MSG_LEN];
    seal_msg(f->a, sealed);
    memset(out, POISON, sizeof out);
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed, other, sizeof other - 1, out),
                     LB_ERR_TAMPERED);
    assert_true(all_zero(out, sizeof out));
    memset(out, POISON, sizeof out);
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed, AD, AD_LEN - 1, out), LB_ERR_TAMPERED);
    assert_true(all_zero(out, sizeof out));
    memset(out, POISON, sizeof out);
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed, NULL, 0, out), LB_ERR_TAMPERED);
    assert_true(all_zero(out, sizeof out));
}

static void test_crypto_open_other_keyring_tampered(void **state)
{
    struct fixture *f = *state;
    unsigned char sealed[SEALED_LEN], out[MSG_LEN];
    seal_msg(f->a, sealed);
    memset(out, POISON, sizeof out);
    assert_int_equal(lb_open(f->b, sealed, sizeof sealed, AD, AD_LEN, out), LB_ERR_TAMPERED);
    assert_true(all_zero(out, sizeof out));
}

static void test_crypto_open_truncated_tampered(void **state)
{
    struct fixture *f = *state;
    unsigned char sealed[SEALED_LEN], out[MSG_LEN];
    seal_msg(f->a, sealed);
    assert_int_equal(lb_open(f->a, sealed, sizeof sealed - 1, AD, AD_LEN, out), LB_ERR_TAMPERED);
    assert_int_equal(lb_open(f->a, sealed, LB_SEAL_OVERHEAD - 1, AD, AD_LEN, out),
                     LB_ERR_TAMPERED);
    assert_int_equal(lb_open(f->a, sealed, 0, AD, AD_LEN, out), LB_ERR_TAMPERED);
}

/* ---- wrapping the data key ---------------------------------------------- */

static const unsigned char WRAP_AD[] = "linkbook data key|test";

static void fill_kek(unsigned char kek[LB_KEY_LEN], unsigned char seed)
{
    size_t i;
    for (i = 0; i < LB_KEY_LEN; i++)
        kek[i] = (unsigned char)(seed + 7 * i);
}

static void test_crypto_wrap_unwrap_right_kek(void **state)
{
    struct fixture *f = *state;
    unsigned char kek[LB_KEY_LEN], wrapped[LB_KEY_LEN + LB_SEAL_OVERHEAD];
    unsigned char sealed[SEALED_LEN], out[MSG_LEN];
    const unsigned char *b1, *b2;
    size_t n1, n2;
    lb_keyring *kr = NULL;
    assert_int_equal(lb_keyring_wrapped_len(), sizeof wrapped);
    fill_kek(kek, 1);
    assert_int_equal(lb_keyring_wrap(f->a, kek, WRAP_AD, sizeof WRAP_AD - 1, wrapped), LB_OK);
    assert_int_equal(lb_keyring_unwrap(kek, wrapped, sizeof wrapped, WRAP_AD,
                                       sizeof WRAP_AD - 1, &kr), LB_OK);
    assert_non_null(kr);
    /* the same keys: what one seals, the other opens */
    b1 = lb_keyring_bytes(f->a, &n1);
    b2 = lb_keyring_bytes(kr, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    seal_msg(f->a, sealed);
    assert_int_equal(lb_open(kr, sealed, sizeof sealed, AD, AD_LEN, out), LB_OK);
    assert_memory_equal(out, MSG, MSG_LEN);
    lb_keyring_free(kr);
}

static void test_crypto_unwrap_wrong_kek_passphrase(void **state)
{
    struct fixture *f = *state;
    unsigned char kek[LB_KEY_LEN], wrong[LB_KEY_LEN], wrapped[LB_KEY_LEN + LB_SEAL_OVERHEAD];
    static max_align_t mark;
    lb_keyring *const sentinel = (lb_keyring *)(void *)&mark; /* must stay in kr */
    lb_keyring *kr = sentinel;
    fill_kek(kek, 1);
    fill_kek(wrong, 1);
    wrong[LB_KEY_LEN - 1] ^= 1;
    assert_int_equal(lb_keyring_wrap(f->a, kek, WRAP_AD, sizeof WRAP_AD - 1, wrapped), LB_OK);
    assert_int_equal(lb_keyring_unwrap(wrong, wrapped, sizeof wrapped, WRAP_AD,
                                       sizeof WRAP_AD - 1, &kr), LB_ERR_PASSPHRASE);
    assert_ptr_equal(kr, sentinel);
    /* the right kek with other associated data does not open it either */
    assert_int_equal(lb_keyring_unwrap(kek, wrapped, sizeof wrapped, WRAP_AD,
                                       sizeof WRAP_AD - 2, &kr), LB_ERR_PASSPHRASE);
    assert_ptr_equal(kr, sentinel);
    /* nor a damaged wrapped key */
    wrapped[30] ^= 0x10;
    assert_int_equal(lb_keyring_unwrap(kek, wrapped, sizeof wrapped, WRAP_AD,
                                       sizeof WRAP_AD - 1, &kr), LB_ERR_PASSPHRASE);
    assert_ptr_equal(kr, sentinel);
    /* a wrapped key of the wrong size is damage, not a wrong passphrase */
    assert_int_equal(lb_keyring_unwrap(kek, wrapped, sizeof wrapped - 1, WRAP_AD,
                                       sizeof WRAP_AD - 1, &kr), LB_ERR_CORRUPT);
    assert_ptr_equal(kr, sentinel);
}

/* ---- Argon2id ------------------------------------------------------------ */

static void test_crypto_kdf_refuses_weak_limits(void **state)
{
    lb_kdf_params p;
    unsigned char kek[LB_KEY_LEN];
    (void)state;
    lb_kdf_params_default(&p);
    memset(kek, POISON, sizeof kek);
    p.opslimit -= 1;
    assert_int_equal(lb_kdf_derive(&p, "test", 4, kek), LB_ERR_INVALID);
    lb_kdf_params_default(&p);
    p.memlimit -= 1;
    assert_int_equal(lb_kdf_derive(&p, "test", 4, kek), LB_ERR_INVALID);
    lb_kdf_params_default(&p);
    p.opslimit = 0;
    p.memlimit = 0;
    assert_int_equal(lb_kdf_derive(&p, "test", 4, kek), LB_ERR_INVALID);
    {
        unsigned char poison[LB_KEY_LEN];
        memset(poison, POISON, sizeof poison);
        assert_memory_equal(kek, poison, sizeof kek);
    }
}

static void test_crypto_kdf_deterministic_per_salt(void **state)
{
    lb_kdf_params p, q;
    unsigned char k1[LB_KEY_LEN], k2[LB_KEY_LEN], k3[LB_KEY_LEN], k4[LB_KEY_LEN];
    (void)state;
    lb_kdf_params_default(&p);
    lb_kdf_params_default(&q);
    assert_memory_not_equal(p.salt, q.salt, LB_SALT_LEN); /* a fresh salt each time */
    assert_int_equal(lb_kdf_derive(&p, "correct horse", 13, k1), LB_OK);
    assert_int_equal(lb_kdf_derive(&p, "correct horse", 13, k2), LB_OK);
    assert_memory_equal(k1, k2, LB_KEY_LEN);
    assert_int_equal(lb_kdf_derive(&q, "correct horse", 13, k3), LB_OK);
    assert_memory_not_equal(k1, k3, LB_KEY_LEN);
    assert_int_equal(lb_kdf_derive(&p, "correct horsf", 13, k4), LB_OK);
    assert_memory_not_equal(k1, k4, LB_KEY_LEN);
}

/* ---- blind index --------------------------------------------------------- */

static void test_crypto_blind_per_keyring(void **state)
{
    struct fixture *f = *state;
    unsigned char a1[LB_BLIND_LEN], a2[LB_BLIND_LEN], b1[LB_BLIND_LEN], other[LB_BLIND_LEN];
    assert_int_equal(lb_blind(f->a, "9434765919", 10, a1), LB_OK);
    assert_int_equal(lb_blind(f->a, "9434765919", 10, a2), LB_OK);
    assert_memory_equal(a1, a2, LB_BLIND_LEN);
    assert_int_equal(lb_blind(f->b, "9434765919", 10, b1), LB_OK);
    assert_memory_not_equal(a1, b1, LB_BLIND_LEN);
    assert_int_equal(lb_blind(f->a, "4000000020", 10, other), LB_OK);
    assert_memory_not_equal(a1, other, LB_BLIND_LEN);
    /* it does not reveal the value */
    assert_memory_not_equal(a1, "9434765919", 10);
}

/* ---- wiping -------------------------------------------------------------- */

static void test_crypto_wipe_zeroes_and_locks(void **state)
{
    lb_keyring *kr = NULL;
    const unsigned char *bytes;
    size_t n = 0;
    unsigned char sealed[SEALED_LEN], out[MSG_LEN], blind[LB_BLIND_LEN];
    unsigned char kek[LB_KEY_LEN], wrapped[LB_KEY_LEN + LB_SEAL_OVERHEAD];
    (void)state;
    assert_int_equal(lb_keyring_generate(&kr), LB_OK);
    seal_msg(kr, sealed);
    bytes = lb_keyring_bytes(kr, &n);
    assert_true(n >= LB_KEY_LEN);
    assert_false(all_zero(bytes, n));
    lb_keyring_wipe(kr);
    bytes = lb_keyring_bytes(kr, &n);
    assert_true(n >= LB_KEY_LEN);
    assert_true(all_zero(bytes, n));
    assert_int_equal(lb_seal(kr, MSG, MSG_LEN, AD, AD_LEN, sealed), LB_ERR_LOCKED);
    assert_int_equal(lb_open(kr, sealed, sizeof sealed, AD, AD_LEN, out), LB_ERR_LOCKED);
    assert_int_equal(lb_blind(kr, "9434765919", 10, blind), LB_ERR_LOCKED);
    fill_kek(kek, 3);
    assert_int_equal(lb_keyring_wrap(kr, kek, WRAP_AD, sizeof WRAP_AD - 1, wrapped),
                     LB_ERR_LOCKED);
    lb_keyring_wipe(kr); /* twice is fine */
    lb_keyring_free(kr);
    lb_keyring_wipe(NULL);
    lb_keyring_free(NULL);
    assert_int_equal(lb_seal(NULL, MSG, MSG_LEN, AD, AD_LEN, sealed), LB_ERR_LOCKED);
}

/* ---- ids ----------------------------------------------------------------- */

static void assert_id(const char *id)
{
    size_t i;
    assert_int_equal(strlen(id), LB_ID_HEX);
    for (i = 0; i < LB_ID_HEX; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            fail_msg("id '%s' has '%c' at %zu, not lowercase hex", id, id[i], i);
}

static void test_crypto_id_new_hex_and_unique(void **state)
{
    char ids[64][LB_ID_HEX + 1];
    size_t i, j;
    (void)state;
    for (i = 0; i < 64; i++) {
        memset(ids[i], 'Z', sizeof ids[i]);
        lb_id_new(ids[i]);
        assert_int_equal(ids[i][LB_ID_HEX], '\0');
        assert_id(ids[i]);
    }
    for (i = 0; i < 64; i++)
        for (j = i + 1; j < 64; j++)
            assert_string_not_equal(ids[i], ids[j]);
}

/* Associated data joined as snprintf wrote it (stores sealed with that
 * must open): numbers at their limits; too long for the buffer gives 0. */
static void test_crypto_ad_join_as_snprintf(void **state)
{
    static const int64_t ints[] = {0, 1, -1, 9, 10, 65535, INT64_MAX, INT64_MIN, -1234567890};
    static const uint64_t uints[] = {0, 1, 10, 281474976710656ull, UINT64_MAX};
    char a[64], b[64], n1[LB_AD_NUM], n2[LB_AD_NUM];
    size_t i, len;
    (void)state;
    for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const char *f[] = {"x", lb_ad_int(n1, ints[i]), ""};
        snprintf(b, sizeof b, "lbt1|x|%" PRId64 "|", ints[i]);
        len = lb_ad_join(a, sizeof a, "lbt1", f, 3);
        assert_string_equal(a, b);
        assert_int_equal(len, strlen(b));
    }
    for (i = 0; i < sizeof uints / sizeof uints[0]; i++) {
        const char *f[] = {lb_ad_uint(n2, uints[i])};
        snprintf(b, sizeof b, "lbt1|%" PRIu64, uints[i]);
        assert_int_equal(lb_ad_join(a, sizeof a, "lbt1", f, 1), strlen(b));
        assert_string_equal(a, b);
    }
    {
        const char *f[] = {"0123456789", "0123456789"};
        assert_int_equal(lb_ad_join(a, 27, "lbt1", f, 2), 26);   /* 26 < 27: fits */
        assert_int_equal(lb_ad_join(a, 26, "lbt1", f, 2), 0);    /* as snprintf's n >= cap */
        assert_int_equal(lb_ad_join(a, 4, "lbt1", f, 0), 0);
        assert_int_equal(lb_ad_join(a, 5, "lbt1", f, 0), 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_seal_open_round_trip),
        cmocka_unit_test(test_crypto_seal_open_empty_message),
        cmocka_unit_test(test_crypto_open_flipped_nonce_tampered),
        cmocka_unit_test(test_crypto_open_flipped_ciphertext_tampered),
        cmocka_unit_test(test_crypto_open_flipped_tag_tampered),
        cmocka_unit_test(test_crypto_open_other_ad_tampered),
        cmocka_unit_test(test_crypto_open_other_keyring_tampered),
        cmocka_unit_test(test_crypto_open_truncated_tampered),
        cmocka_unit_test(test_crypto_wrap_unwrap_right_kek),
        cmocka_unit_test(test_crypto_unwrap_wrong_kek_passphrase),
        cmocka_unit_test(test_crypto_kdf_refuses_weak_limits),
        cmocka_unit_test(test_crypto_kdf_deterministic_per_salt),
        cmocka_unit_test(test_crypto_blind_per_keyring),
        cmocka_unit_test(test_crypto_wipe_zeroes_and_locks),
        cmocka_unit_test(test_crypto_id_new_hex_and_unique),
        cmocka_unit_test(test_crypto_ad_join_as_snprintf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
