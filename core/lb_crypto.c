/* lb_crypto.c - keys and ciphertext for the device store (see lb_crypto.h).
 *
 * The keyring holds the data key and two subkeys derived from it with
 * crypto_kdf: one seals records and changes, one keys the blind index.  All
 * three live in one sodium_malloc block (guard pages, mlocked, wiped on
 * free).
 */
#include <string.h>
#include <sodium.h>
#include "lb_crypto.h"

#define KDF_CONTEXT "linkbook"
#define SUBKEY_RECORD 1
#define SUBKEY_BLIND 2

struct lb_keyring {
    unsigned char data[LB_KEY_LEN];
    unsigned char record[LB_KEY_LEN];
    unsigned char blind[LB_KEY_LEN];
    int wiped;
};

lb_err lb_crypto_init(void)
{
    return sodium_init() < 0 ? LB_ERR_CRYPTO : LB_OK;
}

void lb_kdf_params_default(lb_kdf_params *p)
{
    p->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    p->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    randombytes_buf(p->salt, sizeof p->salt);
}

lb_err lb_kdf_derive(const lb_kdf_params *p, const char *pass, size_t passlen,
                     unsigned char kek[LB_KEY_LEN])
{
    if (p->opslimit < crypto_pwhash_OPSLIMIT_INTERACTIVE ||
        p->memlimit < crypto_pwhash_MEMLIMIT_INTERACTIVE ||
        p->opslimit > crypto_pwhash_OPSLIMIT_MAX)
        return LB_ERR_INVALID;
    if (crypto_pwhash(kek, LB_KEY_LEN, pass, passlen, p->salt, p->opslimit,
                      p->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return LB_ERR_NOMEM;
    return LB_OK;
}

static lb_keyring *keyring_alloc(void)
{
    lb_keyring *kr = sodium_malloc(sizeof *kr);
    if (kr)
        kr->wiped = 0;
    return kr;
}

static void keyring_derive(lb_keyring *kr)
{
    crypto_kdf_derive_from_key(kr->record, LB_KEY_LEN, SUBKEY_RECORD, KDF_CONTEXT, kr->data);
    crypto_kdf_derive_from_key(kr->blind, LB_KEY_LEN, SUBKEY_BLIND, KDF_CONTEXT, kr->data);
}

lb_err lb_keyring_generate(lb_keyring **out)
{
    lb_keyring *kr = keyring_alloc();
    if (!kr)
        return LB_ERR_NOMEM;
    crypto_aead_xchacha20poly1305_ietf_keygen(kr->data);
    keyring_derive(kr);
    *out = kr;
    return LB_OK;
}

size_t lb_keyring_wrapped_len(void)
{
    return LB_KEY_LEN + LB_SEAL_OVERHEAD;
}

static lb_err seal_with(const unsigned char *key, const unsigned char *msg, size_t len,
                        const unsigned char *ad, size_t adlen, unsigned char *out)
{
    unsigned char *nonce = out;
    randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, msg, len, ad, adlen,
        NULL, nonce, key);
    return LB_OK;
}

static lb_err open_with(const unsigned char *key, const unsigned char *in, size_t inlen,
                        const unsigned char *ad, size_t adlen, unsigned char *out)
{
    const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    if (inlen < LB_SEAL_OVERHEAD)
        return LB_ERR_TAMPERED;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + nb, inlen - nb,
                                                   ad, adlen, in, key) != 0) {
        sodium_memzero(out, inlen - LB_SEAL_OVERHEAD);
        return LB_ERR_TAMPERED;
    }
    return LB_OK;
}

lb_err lb_keyring_unwrap(const unsigned char kek[LB_KEY_LEN],
                         const unsigned char *wrapped, size_t wrapped_len,
                         const unsigned char *ad, size_t adlen, lb_keyring **out)
{
    lb_keyring *kr;
    if (wrapped_len != lb_keyring_wrapped_len())
        return LB_ERR_CORRUPT;
    kr = keyring_alloc();
    if (!kr)
        return LB_ERR_NOMEM;
    if (open_with(kek, wrapped, wrapped_len, ad, adlen, kr->data) != LB_OK) {
        sodium_free(kr);
        return LB_ERR_PASSPHRASE;
    }
    keyring_derive(kr);
    *out = kr;
    return LB_OK;
}

lb_err lb_keyring_wrap(const lb_keyring *kr, const unsigned char kek[LB_KEY_LEN],
                       const unsigned char *ad, size_t adlen, unsigned char *out)
{
    if (kr->wiped)
        return LB_ERR_LOCKED;
    return seal_with(kek, kr->data, LB_KEY_LEN, ad, adlen, out);
}

void lb_keyring_wipe(lb_keyring *kr)
{
    if (!kr)
        return;
    sodium_memzero(kr->data, sizeof kr->data);
    sodium_memzero(kr->record, sizeof kr->record);
    sodium_memzero(kr->blind, sizeof kr->blind);
    kr->wiped = 1;
}

void lb_keyring_free(lb_keyring *kr)
{
    if (!kr)
        return;
    lb_keyring_wipe(kr);
    sodium_free(kr);
}

const unsigned char *lb_keyring_bytes(const lb_keyring *kr, size_t *len)
{
    *len = 3 * LB_KEY_LEN;
    return kr->data;
}

size_t lb_ad_join(char *out, size_t cap, const char *tag, const char *const *fields, size_t n)
{
    size_t len = strlen(tag), i, k;
    if (len >= cap)
        return 0;
    memcpy(out, tag, len);
    for (i = 0; i < n; i++) {
        k = strlen(fields[i]);
        if (len + 1 + k >= cap)
            return 0;
        out[len] = '|';
        memcpy(out + len + 1, fields[i], k);
        len += 1 + k;
    }
    out[len] = '\0';
    return len;
}

/* The decimal text of v and a NUL at out (at most 21 bytes). */
static void put_uint(char *out, uint64_t v)
{
    char tmp[LB_AD_NUM];
    size_t n = 0, i = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out[i++] = tmp[--n];
    out[i] = '\0';
}

const char *lb_ad_uint(char out[LB_AD_NUM], uint64_t v)
{
    put_uint(out, v);
    return out;
}

const char *lb_ad_int(char out[LB_AD_NUM], int64_t v)
{
    if (v >= 0)
        return lb_ad_uint(out, (uint64_t)v);
    out[0] = '-';
    put_uint(out + 1, 0 - (uint64_t)v);
    return out;
}

lb_err lb_seal(const lb_keyring *kr, const unsigned char *msg, size_t len,
               const unsigned char *ad, size_t adlen, unsigned char *out)
{
    if (!kr || kr->wiped)
        return LB_ERR_LOCKED;
    return seal_with(kr->record, msg, len, ad, adlen, out);
}

lb_err lb_open(const lb_keyring *kr, const unsigned char *in, size_t inlen,
               const unsigned char *ad, size_t adlen, unsigned char *out)
{
    if (!kr || kr->wiped)
        return LB_ERR_LOCKED;
    return open_with(kr->record, in, inlen, ad, adlen, out);
}

lb_err lb_blind(const lb_keyring *kr, const char *value, size_t len,
                unsigned char out[LB_BLIND_LEN])
{
    if (!kr || kr->wiped)
        return LB_ERR_LOCKED;
    crypto_generichash(out, LB_BLIND_LEN, (const unsigned char *)value, len,
                       kr->blind, LB_KEY_LEN);
    return LB_OK;
}

void lb_id_new(char out[LB_ID_HEX + 1])
{
    unsigned char raw[LB_ID_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, LB_ID_HEX + 1, raw, sizeof raw);
}
