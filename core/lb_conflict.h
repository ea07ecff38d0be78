/* lb_conflict.h - concurrent edits of one field, kept for a person to
 * settle.
 *
 * Merge (lb_record) keeps the value with the greater stamp, as every
 * device does, and notes here each pair of values whose writers did not
 * see each other.  A conflict is open while the field still carries one of
 * its values; lb_conflict_resolve closes it with a change that has seen
 * them all.  Conflict ids are derived from what conflicts (record, field,
 * stamps), so every device names the same conflict alike.  Values are
 * sealed like records; field names are in clear.
 */
#ifndef LB_CONFLICT_H
#define LB_CONFLICT_H

#include <jansson.h>
#include "lb_store.h"

/* Keep the conflicts merge found on record: [{"field", "values": [{"stamp",
 * "value"}, ...]}, ...].  Called by lb_record inside the merge's
 * transaction; a conflict already kept is not kept twice. */
lb_err lb_conflict_note(lb_store *s, const char *record, const json_t *found);

/* The open conflicts: {"conflicts": [{"id", "record", "kind", "person",
 * "field", "values": [{"value_id": "1", "value", "when", "device",
 * "current": true|false}, ...]}, ...]}.  "current" marks the value the
 * record shows meanwhile (the later stamp). */
lb_err lb_conflict_list(lb_store *s, json_t **out);

/* Settle a conflict (id or unique prefix) by keeping the value numbered
 * value_id ("1", "2", ...): a new change sets the field to it.
 * LB_ERR_INVALID when the value id is not one of its values, or the
 * conflict is settled already; LB_ERR_NOTFOUND / LB_ERR_AMBIGUOUS for the id. */
lb_err lb_conflict_resolve(lb_store *s, const char *conflict, const char *value_id);

#endif
