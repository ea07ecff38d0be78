/* lb_srvpool.c - the taken flags of a backend's connection pool
 * (lb_srvpool.h). */
#include <string.h>
#include "lb_srvpool.h"

void lb_srvpool_init(lb_srvpool *p, pthread_mutex_t *mu)
{
    p->mu = mu;
    pthread_cond_init(&p->freed, NULL);
    memset(p->busy, 0, sizeof p->busy);
}

void lb_srvpool_destroy(lb_srvpool *p)
{
    pthread_cond_destroy(&p->freed);
}

int lb_srvpool_take(lb_srvpool *p, int n)
{
    int i, got = -1;
    pthread_mutex_lock(p->mu);
    while (got < 0) {
        for (i = 0; i < n && got < 0; i++)
            if (!p->busy[i])
                got = i;
        if (got < 0)
            pthread_cond_wait(&p->freed, p->mu);
    }
    p->busy[got] = 1;
    pthread_mutex_unlock(p->mu);
    return got;
}

void lb_srvpool_give(lb_srvpool *p, int i)
{
    pthread_mutex_lock(p->mu);
    p->busy[i] = 0;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(p->mu);
}
