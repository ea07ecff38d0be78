/* lb_srvcode.c - ids, enrolment codes, tokens and their hashes (see
 * lb_srvcode.h). */
#include <string.h>
#include "lb_srvcode.h"

static const char CODE_ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void lb_srvcode_id(char out[LB_SRV_ID_LEN + 1])
{
    unsigned char b[LB_SRV_ID_LEN / 2];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, LB_SRV_ID_LEN + 1, b, sizeof b);
}

void lb_srvcode_make(char out[LB_SRV_CODE_LEN + 1])
{
    size_t i;
    for (i = 0; i < LB_SRV_CODE_LEN; i++)
        out[i] = CODE_ALPHABET[randombytes_uniform(sizeof CODE_ALPHABET - 1)];
    out[LB_SRV_CODE_LEN] = '\0';
}

int lb_srvcode_normalise(const char *in, char out[LB_SRV_CODE_LEN + 1])
{
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        c = c == 'O' ? '0' : (c == 'I' || c == 'L') ? '1' : c;
        if (!strchr(CODE_ALPHABET, c) || n == LB_SRV_CODE_LEN)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == LB_SRV_CODE_LEN ? 0 : -1;
}

void lb_srvcode_token(char out[LB_SRV_TOKEN_LEN + 1])
{
    unsigned char raw[LB_SRV_TOKEN_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, LB_SRV_TOKEN_LEN + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

void lb_srvcode_hash(const char *text, unsigned char out[LB_SRVCODE_HASH_LEN])
{
    crypto_generichash(out, LB_SRVCODE_HASH_LEN, (const unsigned char *)text, strlen(text),
                       NULL, 0);
}
