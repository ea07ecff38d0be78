/* lb_record.h - reading the materialised records of the device store.
 *
 * Every record has a random id (32 hex), a kind, the person it concerns and
 * its fields, decrypted on read.  Ids are accepted by any unique prefix.
 */
#ifndef LB_RECORD_H
#define LB_RECORD_H

#include <stdint.h>
#include <jansson.h>
#include "lb_change.h"

typedef struct lb_record {
    char id[LB_ID_HEX + 1];
    char kind[LB_KIND_MAX + 1];
    char person[LB_ID_HEX + 1];
    uint64_t created;   /* HLC of the change that made it */
    char *author;       /* who made it (owned) */
    json_t *fields;     /* owned reference: field -> value */
} lb_record;

/* Read one record by full id.  Free with lb_record_free. */
lb_err lb_record_get(lb_store *s, const char *id, lb_record **out);
void lb_record_free(lb_record *r);

/* Find the one record whose id starts with prefix (at least 4 hex digits),
 * of kind (NULL: any kind).  LB_ERR_NOTFOUND, LB_ERR_AMBIGUOUS or
 * LB_ERR_INVALID (not hex) with a message naming what was looked for. */
lb_err lb_record_resolve(lb_store *s, const char *prefix, const char *kind,
                         char out[LB_ID_HEX + 1]);

/* Visit records of kind (NULL: all) about person (NULL: everyone), in order
 * of creation.  The record is valid only during the callback; cb returns
 * non-zero to stop early. */
typedef int (*lb_record_cb)(const lb_record *r, void *ctx);
lb_err lb_record_each(lb_store *s, const char *kind, const char *person,
                      lb_record_cb cb, void *ctx);

/* Visit every record of kind in no particular order: for reading a whole
 * kind at once, faster than lb_record_each (no sort). */
lb_err lb_record_scan(lb_store *s, const char *kind, lb_record_cb cb, void *ctx);

/* Find the person whose NHS number (normalised, 10 digits) is nhs through
 * the blind index.  LB_ERR_NOTFOUND if none. */
lb_err lb_record_find_nhs(lb_store *s, const char *nhs, char out[LB_ID_HEX + 1]);

/* Merge one change, kept in the log at c->seq, into the materialised
 * record it concerns (field-level last-writer-wins by (HLC, device); see
 * lb_change.h).  A record the change creates just points at it.  Called by the change
 * log inside its transaction; front ends use lb_change_write instead. */
lb_err lb_record_merge(lb_store *s, const lb_change *c);

/* lb_record_merge for a change that most likely creates its record (one
 * pulled from the server): the record is inserted unless it exists, and
 * only then read and merged. */
lb_err lb_record_apply(lb_store *s, const lb_change *c);

/* The record that change c (kept at c->seq) creates under an id made just
 * now, so known to be new: no lookup before the insert. */
lb_err lb_record_create(lb_store *s, const lb_change *c);

/* A stamp: which change set a field, as text that sorts in (HLC, device)
 * order: 16 hex digits of the HLC, ':', the device id. */
#define LB_STAMP_LEN (16 + 1 + LB_ID_HEX)

/* For each field of fields, the stamp record id carries for it now ("" if
 * never set), as a new object in *prev; *prev is NULL when there is no such
 * record yet.  The change log keeps these with an update (lb_change.h). */
lb_err lb_record_stamps(lb_store *s, const char *id, const json_t *fields, json_t **prev);

/* The stamp of one field of record id now ("" if never set). */
lb_err lb_record_field_stamp(lb_store *s, const char *id, const char *field,
                             char out[LB_STAMP_LEN + 1]);

/* Delete every materialised record and index row (before a rebuild). */
lb_err lb_record_clear_all(lb_store *s);

#endif
