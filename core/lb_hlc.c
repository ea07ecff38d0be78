/* lb_hlc.c - hybrid logical clock (see lb_hlc.h). */
#include <stdio.h>
#include <time.h>
#include "lb_hlc.h"

#define COUNTER_BITS 16
#define COUNTER_MASK ((UINT64_C(1) << COUNTER_BITS) - 1)

uint64_t lb_hlc_ms(uint64_t t)
{
    return t >> COUNTER_BITS;
}

uint64_t lb_hlc_tick(lb_hlc *c, uint64_t wall_ms)
{
    uint64_t wall = wall_ms << COUNTER_BITS;
    /* The wall clock ahead of everything seen: take it.  Otherwise count
     * on from the last stamp (the counter overflows into the next ms). */
    c->last = wall > c->last ? wall : c->last + 1;
    return c->last;
}

void lb_hlc_observe(lb_hlc *c, uint64_t remote)
{
    if (remote > c->last)
        c->last = remote;
}

void lb_hlc_format(uint64_t t, char out[LB_HLC_TEXT + 1])
{
    uint64_t ms = lb_hlc_ms(t);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char base[24];
    if (!gmtime_r(&secs, &tm) || !strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(out, LB_HLC_TEXT + 1, "invalid");
        return;
    }
    snprintf(out, LB_HLC_TEXT + 1, "%.19s.%03uZ", base, (unsigned)(ms % 1000));
}
