/* lb_srvmetrics.c - linkbookd's counters and their Prometheus text (see
 * lb_srvmetrics.h).  Statuses are counted 100..599 per route; only those
 * seen are written out.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb_buf.h"
#include "lb_srvmetrics.h"

#define STATUS_MIN 100
#define STATUS_MAX 599
#define NBUCKETS 12
#define TEXT_MAX (1u << 20)

static const double BUCKETS[NBUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
};

struct lb_srvmetrics {
    pthread_mutex_t mu;
    const char *const *names;
    uint64_t status[LB_SRVMETRICS_ROUTES][STATUS_MAX - STATUS_MIN + 1];
    uint64_t bucket[LB_SRVMETRICS_ROUTES][NBUCKETS];
    uint64_t count[LB_SRVMETRICS_ROUTES];
    double sum[LB_SRVMETRICS_ROUTES];
    uint64_t pushes, pulls, accepted, rejected, served;
};

lb_srvmetrics *lb_srvmetrics_new(const char *const *names)
{
    lb_srvmetrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->names = names;
    return m;
}

void lb_srvmetrics_free(lb_srvmetrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void lb_srvmetrics_request(lb_srvmetrics *m, int route, int status, double seconds)
{
    int i;
    if (route < 0 || route >= LB_SRVMETRICS_ROUTES)
        route = LB_SRVMETRICS_ROUTES - 1;
    pthread_mutex_lock(&m->mu);
    if (status >= STATUS_MIN && status <= STATUS_MAX)
        m->status[route][status - STATUS_MIN]++;
    for (i = 0; i < NBUCKETS; i++)
        if (seconds <= BUCKETS[i])
            m->bucket[route][i]++;
    m->count[route]++;
    m->sum[route] += seconds;
    pthread_mutex_unlock(&m->mu);
}

void lb_srvmetrics_push(lb_srvmetrics *m, size_t accepted, size_t rejected)
{
    pthread_mutex_lock(&m->mu);
    m->pushes++;
    m->accepted += accepted;
    m->rejected += rejected;
    pthread_mutex_unlock(&m->mu);
}

void lb_srvmetrics_pull(lb_srvmetrics *m, size_t envelopes)
{
    pthread_mutex_lock(&m->mu);
    m->pulls++;
    m->served += envelopes;
    pthread_mutex_unlock(&m->mu);
}

static int addf(lb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int addf(lb_buf *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    return lb_buf_add(b, line, (size_t)n);
}

static int write_requests(lb_srvmetrics *m, lb_buf *b)
{
    int r, s, bad = 0;
    bad |= lb_buf_adds(b, "# HELP linkbookd_requests_total HTTP requests by route and status.\n"
                          "# TYPE linkbookd_requests_total counter\n");
    for (r = 0; r < LB_SRVMETRICS_ROUTES; r++)
        for (s = 0; s <= STATUS_MAX - STATUS_MIN; s++)
            if (m->status[r][s])
                bad |= addf(b, "linkbookd_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                            m->names[r], s + STATUS_MIN, (unsigned long long)m->status[r][s]);
    return bad;
}

static int write_latency(lb_srvmetrics *m, lb_buf *b)
{
    int r, i, bad = 0;
    bad |= lb_buf_adds(b, "# HELP linkbookd_request_duration_seconds Time to answer a request.\n"
                          "# TYPE linkbookd_request_duration_seconds histogram\n");
    for (r = 0; r < LB_SRVMETRICS_ROUTES; r++) {
        if (!m->count[r])
            continue;
        for (i = 0; i < NBUCKETS; i++)
            bad |= addf(b, "linkbookd_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                        "%llu\n", m->names[r], BUCKETS[i], (unsigned long long)m->bucket[r][i]);
        bad |= addf(b, "linkbookd_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                    "%llu\n", m->names[r], (unsigned long long)m->count[r]);
        bad |= addf(b, "linkbookd_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                    m->names[r], m->sum[r]);
        bad |= addf(b, "linkbookd_request_duration_seconds_count{route=\"%s\"} %llu\n",
                    m->names[r], (unsigned long long)m->count[r]);
    }
    return bad;
}

static int write_sync(lb_srvmetrics *m, lb_buf *b, int64_t stored)
{
    int bad = 0;
    bad |= addf(b, "# TYPE linkbookd_pushes_total counter\nlinkbookd_pushes_total %llu\n",
                (unsigned long long)m->pushes);
    bad |= addf(b, "# TYPE linkbookd_pulls_total counter\nlinkbookd_pulls_total %llu\n",
                (unsigned long long)m->pulls);
    bad |= addf(b, "# TYPE linkbookd_envelopes_accepted_total counter\n"
                "linkbookd_envelopes_accepted_total %llu\n", (unsigned long long)m->accepted);
    bad |= addf(b, "# TYPE linkbookd_envelopes_rejected_total counter\n"
                "linkbookd_envelopes_rejected_total %llu\n", (unsigned long long)m->rejected);
    bad |= addf(b, "# TYPE linkbookd_envelopes_served_total counter\n"
                "linkbookd_envelopes_served_total %llu\n", (unsigned long long)m->served);
    if (stored >= 0)
        bad |= addf(b, "# HELP linkbookd_envelopes_stored Envelopes in storage.\n"
                    "# TYPE linkbookd_envelopes_stored gauge\nlinkbookd_envelopes_stored %lld\n",
                    (long long)stored);
    return bad;
}

char *lb_srvmetrics_text(lb_srvmetrics *m, int64_t stored, size_t *len)
{
    lb_buf b;
    int bad;
    lb_buf_init(&b, TEXT_MAX);
    pthread_mutex_lock(&m->mu);
    bad = write_requests(m, &b) | write_latency(m, &b) | write_sync(m, &b, stored);
    pthread_mutex_unlock(&m->mu);
    if (bad) {
        lb_buf_wipe(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
