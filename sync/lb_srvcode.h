/* lb_srvcode.h - the secrets linkbookd hands out, shared by its storage
 * backends: random ids, one-time enrolment codes and device tokens, and the
 * BLAKE2b-256 hashes under which codes and tokens are kept (never the
 * secrets themselves).
 *
 * An enrolment code is 10 Crockford base32 characters (50 bits), read back
 * case-insensitively with O as 0 and I, L as 1, dashes and spaces ignored.
 * Needs sodium_init() first.
 */
#ifndef LB_SRVCODE_H
#define LB_SRVCODE_H

#include <sodium.h>
#include "lb_srvstore.h"

#define LB_SRVCODE_HASH_LEN crypto_generichash_BYTES

/* LB_SRV_ID_LEN random hex digits. */
void lb_srvcode_id(char out[LB_SRV_ID_LEN + 1]);

/* A fresh enrolment code. */
void lb_srvcode_make(char out[LB_SRV_CODE_LEN + 1]);

/* The canonical form of a typed code; -1 if it cannot be one. */
int lb_srvcode_normalise(const char *in, char out[LB_SRV_CODE_LEN + 1]);

/* A fresh device token (LB_SRV_TOKEN_LEN hex digits). */
void lb_srvcode_token(char out[LB_SRV_TOKEN_LEN + 1]);

/* The hash kept for a code (normalised) or a token. */
void lb_srvcode_hash(const char *text, unsigned char out[LB_SRVCODE_HASH_LEN]);

#endif
