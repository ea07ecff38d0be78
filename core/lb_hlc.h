/* lb_hlc.h - hybrid logical clock.
 *
 * A timestamp is 64 bits: physical milliseconds since the epoch in the high
 * 48 bits, a counter in the low 16.  Ties between devices are broken by the
 * device id, compared by the caller.  The clock never goes backwards, even
 * when the wall clock does, and absorbs remote timestamps from devices whose
 * clocks run ahead.
 */
#ifndef LB_HLC_H
#define LB_HLC_H

#include <stdint.h>

#define LB_HLC_TEXT 24

typedef struct lb_hlc {
    uint64_t last;
} lb_hlc;

/* A new local timestamp, greater than every one seen before. */
uint64_t lb_hlc_tick(lb_hlc *c, uint64_t wall_ms);

/* Observe a remote timestamp so later local ones order after it. */
void lb_hlc_observe(lb_hlc *c, uint64_t remote);

/* Milliseconds part of a timestamp. */
uint64_t lb_hlc_ms(uint64_t t);

/* ISO-8601 UTC text of the physical part ("2026-11-25T09:30:00.123Z"). */
void lb_hlc_format(uint64_t t, char out[LB_HLC_TEXT + 1]);

#endif
