/* lb_err.c - text for every lb_err code. */
#include "lb_err.h"

const char *lb_strerror(lb_err err)
{
    switch (err) {
    case LB_OK: return "no error";
    case LB_ERR_NOMEM: return "out of memory";
    case LB_ERR_IO: return "input/output error (disk full or not writable?)";
    case LB_ERR_INVALID: return "invalid input";
    case LB_ERR_PASSPHRASE: return "wrong passphrase";
    case LB_ERR_LOCKED: return "store is locked";
    case LB_ERR_NOTFOUND: return "not found";
    case LB_ERR_AMBIGUOUS: return "ambiguous id prefix";
    case LB_ERR_EXISTS: return "already exists";
    case LB_ERR_TAMPERED: return "ciphertext failed authentication (tampered or damaged)";
    case LB_ERR_CORRUPT: return "store file is damaged or not a linkbook store";
    case LB_ERR_VERSION: return "store was written by a newer linkbook";
    case LB_ERR_BUSY: return "store is busy (another linkbook is writing)";
    case LB_ERR_CRYPTO: return "cryptography library failed to initialise";
    case LB_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
