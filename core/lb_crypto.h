/* lb_crypto.h - keys and ciphertext for the device store (libsodium).
 *
 * A random 256-bit data key encrypts every record and change with
 * XChaCha20-Poly1305; the associated data given by the caller binds each
 * ciphertext to its row (id, kind, field) so that ciphertexts cannot be
 * swapped.  The data key is wrapped by a key derived from the passphrase
 * with Argon2id, so a passphrase change rewraps one key and re-encrypts
 * nothing.  Keys live in an lb_keyring in guarded, locked sodium memory.
 *
 * Not here: where keys are stored (lb_store) or what is encrypted (lb_change).
 */
#ifndef LB_CRYPTO_H
#define LB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "lb_err.h"

#define LB_KEY_LEN 32
#define LB_SALT_LEN 16
#define LB_BLIND_LEN 16
/* Bytes a sealed message adds to its plaintext: nonce + tag. */
#define LB_SEAL_OVERHEAD (24 + 16)

/* Argon2id cost.  Recorded in the store beside the salt so it can be raised. */
typedef struct lb_kdf_params {
    uint64_t opslimit;
    size_t memlimit;
    unsigned char salt[LB_SALT_LEN];
} lb_kdf_params;

/* The unlocked keys of one store.  Opaque; created by lb_keyring_new. */
typedef struct lb_keyring lb_keyring;

/* Initialise libsodium; safe to call more than once. */
lb_err lb_crypto_init(void);

/* Fill p with INTERACTIVE limits (the minimum accepted) and a fresh salt. */
void lb_kdf_params_default(lb_kdf_params *p);

/* Derive the key-encryption key from a passphrase into kek (LB_KEY_LEN
 * bytes, caller wipes).  LB_ERR_INVALID if the limits are below INTERACTIVE. */
lb_err lb_kdf_derive(const lb_kdf_params *p, const char *pass, size_t passlen,
                     unsigned char kek[LB_KEY_LEN]);

/* A keyring holding a new random data key, or one unwrapped from wrapped
 * (nonce || ciphertext, lb_keyring_wrapped_len() bytes) with kek and ad.
 * LB_ERR_PASSPHRASE when the kek does not open the wrapped key.
 * Free with lb_keyring_free, which wipes it. */
lb_err lb_keyring_generate(lb_keyring **out);
lb_err lb_keyring_unwrap(const unsigned char kek[LB_KEY_LEN],
                         const unsigned char *wrapped, size_t wrapped_len,
                         const unsigned char *ad, size_t adlen, lb_keyring **out);

/* Size of a wrapped data key, and wrap the data key under kek into out. */
size_t lb_keyring_wrapped_len(void);
lb_err lb_keyring_wrap(const lb_keyring *kr, const unsigned char kek[LB_KEY_LEN],
                       const unsigned char *ad, size_t adlen, unsigned char *out);

/* Zero every key in kr in place (kr stays allocated; every later seal/open
 * fails with LB_ERR_LOCKED).  lb_keyring_free wipes and frees; NULL is fine. */
void lb_keyring_wipe(lb_keyring *kr);
void lb_keyring_free(lb_keyring *kr);

/* Raw bytes of the keyring's key material and their count, for tests that
 * prove wiping; never use for anything else. */
const unsigned char *lb_keyring_bytes(const lb_keyring *kr, size_t *len);

/* Seal msg (len bytes) with the record key; out receives len +
 * LB_SEAL_OVERHEAD bytes (nonce || ciphertext || tag). */
lb_err lb_seal(const lb_keyring *kr, const unsigned char *msg, size_t len,
               const unsigned char *ad, size_t adlen, unsigned char *out);

/* Open a sealed message; out receives inlen - LB_SEAL_OVERHEAD bytes.
 * LB_ERR_TAMPERED when authentication fails (out is wiped then). */
lb_err lb_open(const lb_keyring *kr, const unsigned char *in, size_t inlen,
               const unsigned char *ad, size_t adlen, unsigned char *out);

/* Associated data: tag and the n fields joined by '|' into out, as
 * snprintf(out, cap, "TAG|%s|%s...") writes them (a field with a '|' is
 * the caller's to refuse).  Its length, or 0 when it does not fit in cap
 * - 1 bytes (as callers of snprintf took it).  Numbers become fields with
 * lb_ad_int and lb_ad_uint: their decimal text (as "%lld", "%llu") in out,
 * which is returned. */
#define LB_AD_NUM 24
size_t lb_ad_join(char *out, size_t cap, const char *tag, const char *const *fields, size_t n);
const char *lb_ad_int(char out[LB_AD_NUM], int64_t v);
const char *lb_ad_uint(char out[LB_AD_NUM], uint64_t v);

/* Keyed blind index of a value (NHS number lookups): the same value gives
 * the same LB_BLIND_LEN bytes under the same store, and reveals nothing. */
lb_err lb_blind(const lb_keyring *kr, const char *value, size_t len,
                unsigned char out[LB_BLIND_LEN]);

/* A random id of 128 bits as 32 lowercase hex characters and a NUL. */
#define LB_ID_HEX 32
void lb_id_new(char out[LB_ID_HEX + 1]);

#endif
