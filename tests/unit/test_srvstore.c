/* test_srvstore.c - linkbookd's SQLite store under concurrent pushes
 * (sync/lb_srvsql_sync.c): pushes that arrive while another commits are
 * stored together, in one transaction, and a push of such a group that
 * fails leaves nothing behind while the others of its group stand, with
 * sequence numbers that still run without a hole. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <pthread.h>
#include "lb_test.h"
#include "lb_srvsql.h"
#include "lb_srvstore.h"

#define BODY_LEN 48   /* >= nonce (24) + tag (16) */
#define MAX_ACKS 8

/* What a push's sink saw; gate: block in the first ack until opened;
 * fail_at: fail the ack with this number (1-based; 0: never). */
typedef struct sink_log {
    char id[MAX_ACKS][LB_SRV_ID_LEN + 1];
    int64_t seq[MAX_ACKS];
    int n, fail_at, gated;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *in_gate, *gate_open;
} sink_log;

static int on_ack(void *ctx, const char *id, const lb_srv_cursor *seqs, size_t n)
{
    sink_log *l = ctx;
    if (l->gated) {
        pthread_mutex_lock(l->mu);
        *l->in_gate = 1;
        pthread_cond_broadcast(l->cv);
        while (!*l->gate_open)
            pthread_cond_wait(l->cv, l->mu);
        pthread_mutex_unlock(l->mu);
        l->gated = 0;
    }
    if (l->n >= MAX_ACKS || ++l->n == l->fail_at)
        return 1;
    snprintf(l->id[l->n - 1], sizeof l->id[0], "%s", id);
    l->seq[l->n - 1] = n == 1 ? seqs[0].seq : -1;
    return 0;
}

static int on_reject(void *ctx, const char *id, const char *why)
{
    (void)ctx, (void)id, (void)why;
    return 1;   /* no envelope here is to be refused */
}

typedef struct pusher {
    lb_srvstore *s;
    const lb_srv_who *who;
    lb_envelope envs[2];
    sink_log log;
    lb_err err;
    pthread_t th;
} pusher;

static unsigned char body[BODY_LEN];

static void make_env(lb_envelope *e, int k, const char *person, const char *assign_to)
{
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%032x", 0xe000 + k);
    snprintf(e->person, sizeof e->person, "%s", person);
    e->key = 1;
    e->body = body;
    e->body_len = sizeof body;
    if (assign_to) {
        e->has_assign = 1;
        e->assign_active = 1;
        snprintf(e->assign_caseload, sizeof e->assign_caseload, "%s", assign_to);
    }
}

static void *push_main(void *arg)
{
    pusher *p = arg;
    lb_srv_push_sink sink = { on_ack, on_reject, &p->log };
    p->err = p->s->ops->push(p->s, p->who, NULL, p->envs, 2, &sink);
    return NULL;
}

static void wait_queued(lb_srvstore *s, int n)
{
    while (lb_srvsql_queued((lb_srvsql *)s) < n)
        usleep(1000);
}

typedef struct pulled {
    char id[16][LB_SRV_ID_LEN + 1];
    int n;
} pulled;

static int on_envelope(void *ctx, const lb_envelope *e)
{
    pulled *p = ctx;
    if (p->n == 16)
        return 1;
    snprintf(p->id[p->n++], sizeof p->id[0], "%s", e->id);
    return 0;
}

/* A store in dir with a team, its supervisor's device (who), and person
 * assigned to the supervisor's caseload with one change more: numbers 1
 * and 2. */
static lb_srvstore *team_store(const char *dir, lb_srv_who *who, char person[LB_SRV_ID_LEN + 1])
{
    char msg[256], code[LB_SRV_CODE_LEN + 1], token[LB_SRV_TOKEN_LEN + 1];
    unsigned char key[LB_SRV_DEVICE_KEY_LEN] = {1};
    lb_srvstore *s = NULL;
    pusher first;
    assert_int_equal(lb_srvstore_sqlite_open(dir, &s, msg, sizeof msg), LB_OK);
    memset(who, 0, sizeof *who);
    assert_int_equal(s->ops->team_create(s, "Team", "Sup", who, code), LB_OK);
    assert_int_equal(s->ops->enrol(s, code, key, "laptop", token, who), LB_OK);
    snprintf(person, LB_SRV_ID_LEN + 1, "%032x", 0xbeef);
    memset(&first, 0, sizeof first);
    first.s = s, first.who = who;
    make_env(&first.envs[0], 0, person, who->caseload);
    make_env(&first.envs[1], 1, person, NULL);
    push_main(&first);
    assert_int_equal(first.err, LB_OK);
    assert_int_equal(first.log.n, 2);
    assert_int_equal(first.log.seq[1], 2);
    return s;
}

static void test_group_with_a_failed_push(void **state)
{
    char *dir = lb_test_tmpdir(), person[LB_SRV_ID_LEN + 1];
    lb_srv_who who;
    lb_srvstore *s = team_store(dir, &who, person);
    pusher a, b, c;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    int in_gate = 0, gate_open = 0, more = 0;
    lb_srv_cursor cur;
    pulled got = {0};
    int64_t count = 0;
    (void)state;

    /* a commits alone and waits inside its group; b and c queue behind it,
     * then go together: b fails on its second envelope, c stands. */
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b), memset(&c, 0, sizeof c);
    a.s = b.s = c.s = s;
    a.who = b.who = c.who = &who;
    make_env(&a.envs[0], 2, person, NULL), make_env(&a.envs[1], 3, person, NULL);
    make_env(&b.envs[0], 4, person, NULL), make_env(&b.envs[1], 5, person, NULL);
    make_env(&c.envs[0], 6, person, NULL), make_env(&c.envs[1], 7, person, NULL);
    a.log.gated = 1, a.log.mu = &mu, a.log.cv = &cv;
    a.log.in_gate = &in_gate, a.log.gate_open = &gate_open;
    b.log.fail_at = 2;
    assert_int_equal(pthread_create(&a.th, NULL, push_main, &a), 0);
    pthread_mutex_lock(&mu);
    while (!in_gate)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    assert_int_equal(pthread_create(&b.th, NULL, push_main, &b), 0);
    wait_queued(s, 1);
    assert_int_equal(pthread_create(&c.th, NULL, push_main, &c), 0);
    wait_queued(s, 2);
    pthread_mutex_lock(&mu);
    gate_open = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(a.th, NULL), pthread_join(b.th, NULL), pthread_join(c.th, NULL);

    assert_int_equal(a.err, LB_OK);
    assert_int_equal(a.log.seq[0], 3);
    assert_int_equal(a.log.seq[1], 4);
    assert_int_equal(b.err, LB_ERR_NOMEM);
    assert_int_equal(c.err, LB_OK);
    assert_int_equal(c.log.seq[0], 5);   /* b's numbers went back: no hole */
    assert_int_equal(c.log.seq[1], 6);
    assert_int_equal(s->ops->count_envelopes(s, &count), LB_OK);
    assert_int_equal(count, 6);

    /* b again, alone: it gets the next numbers. */
    memset(&b.log, 0, sizeof b.log);
    push_main(&b);
    assert_int_equal(b.err, LB_OK);
    assert_int_equal(b.log.seq[0], 7);
    assert_int_equal(b.log.seq[1], 8);

    /* A fresh device pulls everything once, in order. */
    memset(&cur, 0, sizeof cur);
    snprintf(cur.caseload, sizeof cur.caseload, "%s", who.caseload);
    assert_int_equal(s->ops->pull(s, who.team, NULL, &cur, 1, 1 << 20, 100, on_envelope,
                                  &got, &more), LB_OK);
    assert_int_equal(got.n, 8);
    assert_int_equal(cur.seq, 8);
    assert_string_equal(got.id[4], c.envs[0].id);
    assert_string_equal(got.id[6], b.envs[0].id);
    s->ops->close(s);
    lb_test_rmtree(dir);
    free(dir);
}

/* Every pooled connection may grow the database to pages pages at most
 * (a full disk, as SQLite sees one). */
static void limit_pages(lb_srvstore *s, long pages)
{
    lb_srvsql *q = (lb_srvsql *)s;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %ld", pages);
    for (int i = 0; i < q->nconns; i++)
        assert_int_equal(sqlite3_exec(q->conns[i].db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static long page_count(lb_srvstore *s)
{
    sqlite3_stmt *st;
    long n;
    assert_int_equal(sqlite3_prepare_v2(((lb_srvsql *)s)->conns[0].db, "PRAGMA page_count", -1,
                                        &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A full disk mid-push: the push fails with an I/O error and leaves
 * nothing; once there is room, the same push is stored with the next
 * numbers, no hole where the failed one was. */
static void test_full_disk_push_leaves_nothing(void **state)
{
    static unsigned char big[16384];
    char *dir = lb_test_tmpdir(), person[LB_SRV_ID_LEN + 1];
    lb_srv_who who;
    lb_srvstore *s = team_store(dir, &who, person);
    pusher p;
    int64_t count = 0;
    (void)state;

    memset(&p, 0, sizeof p);
    p.s = s, p.who = &who;
    make_env(&p.envs[0], 2, person, NULL), make_env(&p.envs[1], 3, person, NULL);
    p.envs[0].body = p.envs[1].body = big;
    p.envs[0].body_len = p.envs[1].body_len = sizeof big;
    limit_pages(s, page_count(s));
    push_main(&p);
    assert_int_equal(p.err, LB_ERR_IO);
    assert_int_equal(s->ops->count_envelopes(s, &count), LB_OK);
    assert_int_equal(count, 2);

    limit_pages(s, 1L << 30);
    memset(&p.log, 0, sizeof p.log);
    push_main(&p);
    assert_int_equal(p.err, LB_OK);
    assert_int_equal(p.log.n, 2);
    assert_int_equal(p.log.seq[0], 3);
    assert_int_equal(p.log.seq[1], 4);
    s->ops->close(s);
    lb_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_with_a_failed_push),
        cmocka_unit_test(test_full_disk_push_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
