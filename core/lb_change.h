/* lb_change.h - the change log: every mutation of the store.
 *
 * A change sets some fields of one record: change id, record kind and id,
 * the person it concerns, the writer's caseload, a hybrid logical clock
 * stamp, device id, author and the fields set (a JSON object).  The change
 * is sealed with the data key and written in the same transaction as the
 * materialised record it updates.  Local tables are a view of the log:
 * lb_change_rebuild() throws them away and replays the log.
 *
 * Merge: each field of a record keeps the stamp (HLC, device) of the change
 * that set it; a change sets a field only if its stamp is greater.  So
 * applying changes in any order, or twice, gives the same state.  Each
 * change also says which stamp of each field it replaced; two values of one
 * field neither of whose writers saw the other are kept both and raised as
 * a conflict (lb_conflict.h) until someone settles it.
 */
#ifndef LB_CHANGE_H
#define LB_CHANGE_H

#include <stdint.h>
#include <jansson.h>
#include "lb_crypto.h"
#include "lb_store.h"

#define LB_KIND_MAX 24
#define LB_CASELOAD_MAX 64

/* The person id of changes that concern no single person (an audit event
 * of a caseload-wide read, say). */
#define LB_NOBODY "00000000000000000000000000000000"

/* The largest content (JSON text) of one change or record, in bytes. */
#define LB_BODY_MAX (4u << 20)

/* The change-log schema version written into every change. */
#define LB_CHANGE_SCHEMA 1

typedef struct lb_change {
    char id[LB_ID_HEX + 1];
    char kind[LB_KIND_MAX + 1];
    char record[LB_ID_HEX + 1];
    char person[LB_ID_HEX + 1];
    char caseload[LB_CASELOAD_MAX + 1];
    uint64_t hlc;
    char device[LB_ID_HEX + 1];
    char *author;   /* owned */
    json_t *fields; /* owned reference */
    json_t *prev;   /* owned reference or NULL: for each field set, the stamp
                     * of the value it replaced as its writer saw it ("" for
                     * none); how merge tells concurrent edits from later ones */
    int schema;
    int64_t seq;    /* position in this store's log; 0 when not kept yet */
} lb_change;

/* Record a change that sets fields on a record of kind.  record NULL makes
 * a new record (its id goes to record_out, which may be NULL); person is the
 * person it concerns (for a new person record, NULL: the new id is used).
 * Runs in the caller's transaction, or in its own if there is none.
 * fields is not consumed. */
lb_err lb_change_write(lb_store *s, const char *kind, const char *record,
                       const char *person, json_t *fields,
                       char record_out[LB_ID_HEX + 1]);

/* Is the change with this id in the log already? */
lb_err lb_change_known(lb_store *s, const char *id, int *known);

/* Apply a change (from this device or another) to the materialised tables
 * and keep it in the log; a change already in the log is a no-op. */
lb_err lb_change_apply(lb_store *s, const lb_change *c);

/* The same for a change that came from the server: kept as on the server
 * already (the sync outbox skips it); *fresh 1 if the log did not have it
 * (a change it had is left as it was: the log's insert tells, nothing is
 * looked up first).  text: the change's content as its writer sealed it
 * (len bytes), the JSON object {"a": author, "f": fields, "p": prev
 * stamps} that c's author, fields and prev were read from, sealed into the
 * log as it is; NULL: written from c. */
lb_err lb_change_apply_synced(lb_store *s, const lb_change *c, const char *text, size_t len,
                              int *fresh);

/* Read the change at log position seq, decrypted, into *c (release with
 * lb_change_clear).  LB_ERR_NOTFOUND, or LB_ERR_TAMPERED naming it. */
lb_err lb_change_read(lb_store *s, int64_t seq, lb_change *c);

/* The sealed content of a change row, decrypted as its writer made it: the
 * compact JSON {"a": author, "f": fields, "p": prev stamps (when any)}.  c
 * holds the row's clear facts (id, kind, record, person, caseload, hlc,
 * device, schema; author and fields unused), body and len its sealed body.
 * *text is a new NUL-terminated buffer of *textlen bytes; the caller wipes
 * and frees it.  LB_ERR_TAMPERED (message set) when it fails to open.  For
 * readers that pass the content on without parsing it (the sync outbox). */
lb_err lb_change_content(lb_store *s, const lb_change *c, const unsigned char *body,
                         size_t len, unsigned char **text, size_t *textlen);

/* Visit every change in log order, decrypted.  cb returns non-zero to stop. */
typedef int (*lb_change_cb)(const lb_change *c, void *ctx);
lb_err lb_change_each(lb_store *s, lb_change_cb cb, void *ctx);

/* Drop every materialised row and rebuild them from the change log alone. */
lb_err lb_change_rebuild(lb_store *s);

/* Release what a change owns (not c itself); NULL is fine. */
void lb_change_clear(lb_change *c);

#endif
