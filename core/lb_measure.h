/* lb_measure.h - outcome instruments defined as data, and their scoring.
 *
 * Definitions live in the store's instruments table (schema/device), as
 * JSON: items, answer range and a scoring rule ("items": each item is
 * reported on its own, never summed, with optional bands; "table": the sum
 * of the items is converted with a table, e.g. SWEMWBS raw to metric).
 */
#ifndef LB_MEASURE_H
#define LB_MEASURE_H

#include <jansson.h>
#include "lb_store.h"

/* Check answers (comma-separated whole numbers) against the definition of
 * instrument and score them.  *answers_out is {"item": value, ...} in item
 * order, *scores_out the instrument's scores: for "items" {"item":
 * {"value": v, "band": "…"}}, for "table" {"raw": n, "metric": x}.
 * LB_ERR_INVALID names the field ("instrument" or "answers"). */
lb_err lb_measure_score(lb_store *s, const char *instrument, const char *answers,
                        json_t **answers_out, json_t **scores_out);

/* Every instrument: {"code": definition, ...}. */
lb_err lb_measure_instruments(lb_store *s, json_t **out);

#endif
