/* lb_srvmetrics.h - linkbookd's counters, served as Prometheus text on
 * /metrics: requests by route and status, a latency histogram by route,
 * envelopes accepted and rejected by push, envelopes served by pull.
 * Thread-safe (one mutex); counts only, never content.
 */
#ifndef LB_SRVMETRICS_H
#define LB_SRVMETRICS_H

#include <stddef.h>
#include <stdint.h>

#define LB_SRVMETRICS_ROUTES 11   /* route indexes 0..10; the last is "other" */

typedef struct lb_srvmetrics lb_srvmetrics;

/* NULL on allocation failure.  names: LB_SRVMETRICS_ROUTES route labels
 * (static strings). */
lb_srvmetrics *lb_srvmetrics_new(const char *const *names);
void lb_srvmetrics_free(lb_srvmetrics *m);

void lb_srvmetrics_request(lb_srvmetrics *m, int route, int status, double seconds);
void lb_srvmetrics_push(lb_srvmetrics *m, size_t accepted, size_t rejected);
void lb_srvmetrics_pull(lb_srvmetrics *m, size_t envelopes);

/* The exposition text (malloc'd, NUL-terminated; NULL when out of memory);
 * stored is the number of envelopes in storage (-1 if unknown). */
char *lb_srvmetrics_text(lb_srvmetrics *m, int64_t stored, size_t *len);

#endif
