/* lb_err.h - the one error convention of liblinkbook.
 *
 * Every function of the core that can fail returns an lb_err and writes its
 * results through out-parameters, which stay untouched on failure.  The
 * detail of the last failure on a store is kept by lb_store_errmsg().
 */
#ifndef LB_ERR_H
#define LB_ERR_H

typedef enum lb_err {
    LB_OK = 0,
    LB_ERR_NOMEM,       /* an allocation failed */
    LB_ERR_IO,          /* the file system refused (full disk, permissions) */
    LB_ERR_INVALID,     /* bad input: the message names the field */
    LB_ERR_PASSPHRASE,  /* wrong passphrase */
    LB_ERR_LOCKED,      /* the store is locked: unlock it first */
    LB_ERR_NOTFOUND,    /* no such record, or no store at that path */
    LB_ERR_AMBIGUOUS,   /* an id prefix matches more than one record */
    LB_ERR_EXISTS,      /* a store or record already exists */
    LB_ERR_TAMPERED,    /* a ciphertext failed authentication */
    LB_ERR_CORRUPT,     /* the store file is damaged or not a linkbook store */
    LB_ERR_VERSION,     /* the store was written by a newer linkbook */
    LB_ERR_BUSY,        /* another process holds the store */
    LB_ERR_CRYPTO,      /* libsodium could not be initialised */
    LB_ERR_INTERNAL     /* a bug: an invariant did not hold */
} lb_err;

/* A static, human-readable description of err; never NULL. */
const char *lb_strerror(lb_err err);

#endif
