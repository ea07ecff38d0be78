/* lb_srvpool.h - private to linkbookd's storage backends: which
 * connections of a backend's pool are taken.  Not for the server.
 *
 * A backend keeps its connections in an array and hands each to one
 * thread at a time: lb_srvpool_take() gives the index of a free one
 * (waiting until one is given back when all are taken), and
 * lb_srvpool_give() gives it back.  The flags are guarded by the
 * backend's own lock (which guards more than them: its error text).
 */
#ifndef LB_SRVPOOL_H
#define LB_SRVPOOL_H

#include <pthread.h>

#define LB_SRVPOOL_MAX 64         /* connections a pool may have */

typedef struct lb_srvpool {
    pthread_mutex_t *mu;          /* the backend's lock, not owned */
    pthread_cond_t freed;         /* a connection was given back */
    unsigned char busy[LB_SRVPOOL_MAX];
} lb_srvpool;

/* Start with every connection free, under the backend's lock mu. */
void lb_srvpool_init(lb_srvpool *p, pthread_mutex_t *mu);
void lb_srvpool_destroy(lb_srvpool *p);

/* The index of a free connection among the first n (at most
 * LB_SRVPOOL_MAX), marked taken. */
int lb_srvpool_take(lb_srvpool *p, int n);

/* Give connection i back and wake one thread waiting for a connection. */
void lb_srvpool_give(lb_srvpool *p, int i);

#endif
