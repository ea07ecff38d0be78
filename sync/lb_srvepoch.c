/* lb_srvepoch.c - restore detection for linkbookd (see lb_srvepoch.h): the
 * high-water file, the startup check and the new epoch.  No record
 * content is ever written here: an epoch and a number.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sodium.h>
#include "lb_srvepoch.h"

#define MAGIC "linkbookd-epoch 1 "
#define LINE_MAX_LEN 128

struct lb_srvepoch {
    lb_srvstore *store;
    char *path;
    char epoch[LB_SRV_ID_LEN + 1];
    int64_t written;          /* high-water in the file */
    int failing;              /* the last write failed (logged once) */
    lb_srvepoch_log log;
    void *log_ctx;
    pthread_mutex_t mu;       /* guards dirty and stop */
    pthread_cond_t wake;      /* dirty or stop was set */
    pthread_t writer;         /* raises the file (started: has_writer) */
    int has_writer, dirty, stop;
};

/* What the file said: ok 0 when missing or unreadable. */
typedef struct state {
    int ok;
    char epoch[LB_SRV_ID_LEN + 1];
    int64_t high;
} state;

static void logf_epoch(lb_srvepoch_log log, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_epoch(lb_srvepoch_log log, void *ctx, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(ctx, line);
}

char *lb_srvepoch_path(const char *dir)
{
    size_t n = strlen(dir), size;
    char *p;
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size = n + sizeof LB_SRVEPOCH_SUFFIX;
    if (!(p = malloc(size)))
        return NULL;
    memcpy(p, dir, n);
    memcpy(p + n, LB_SRVEPOCH_SUFFIX, sizeof LB_SRVEPOCH_SUFFIX);
    return p;
}

/* Parse "linkbookd-epoch 1 EPOCH HIGH\n"; 0 or -1. */
static int parse_state(const char *text, state *st)
{
    const char *p = text + strlen(MAGIC);
    char *end = NULL;
    long long v;
    if (strncmp(text, MAGIC, strlen(MAGIC)) != 0 || strlen(p) < LB_SRV_ID_LEN + 2)
        return -1;
    memcpy(st->epoch, p, LB_SRV_ID_LEN);
    st->epoch[LB_SRV_ID_LEN] = '\0';
    p += LB_SRV_ID_LEN;
    if (!lb_proto_is_id(st->epoch) || *p++ != ' ' || *p < '0' || *p > '9')
        return -1;
    errno = 0;
    v = strtoll(p, &end, 10);
    if (errno || v < 0 || strcmp(end, "\n") != 0)
        return -1;
    st->high = (int64_t)v;
    st->ok = 1;
    return 0;
}

/* Read the file at path; st->ok 0 if missing or not a state file. */
static void read_state(const char *path, state *st)
{
    char buf[LINE_MAX_LEN + 1];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    memset(st, 0, sizeof *st);
    if (!f)
        return;
    n = fread(buf, 1, LINE_MAX_LEN, f);
    fclose(f);
    buf[n] = '\0';
    if (parse_state(buf, st) != 0)
        memset(st, 0, sizeof *st);
}

/* Write line to a new file at tmp; 0, or -1 with errno. */
static int write_new(const char *tmp, const char *line, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), saved;
    ssize_t w;
    if (fd < 0)
        return -1;
    w = write(fd, line, len);
    saved = errno;
    if (close(fd) != 0)
        return -1;
    if (w < 0 || (size_t)w != len) {
        errno = w < 0 ? saved : EIO;
        return -1;
    }
    return 0;
}

/* Write the file: PATH.tmp, then rename over PATH; 0, or -1 with errno. */
static int write_state(const char *path, const char *epoch, int64_t high)
{
    char line[LINE_MAX_LEN], *tmp;
    size_t plen = strlen(path);
    int n, rc, saved;
    n = snprintf(line, sizeof line, MAGIC "%s %" PRId64 "\n", epoch, high);
    if (n <= 0 || (size_t)n >= sizeof line || !(tmp = malloc(plen + 5))) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    rc = write_new(tmp, line, (size_t)n);
    if (rc == 0)
        rc = rename(tmp, path);
    saved = errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    errno = saved;
    return rc;
}

static void new_epoch(char out[LB_SRV_ID_LEN + 1])
{
    unsigned char b[LB_SRV_ID_LEN / 2];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, LB_SRV_ID_LEN + 1, b, sizeof b);
}

static lb_err store_fail(lb_srvstore *store, lb_err err, const char *what, char *msg,
                         size_t msglen)
{
    char detail[256];
    store->ops->errmsg(store, detail, sizeof detail);
    snprintf(msg, msglen, "%s: %s (%s)", what, lb_strerror(err), detail);
    return err;
}

/* Why the database counts as restored against st, or NULL if it does not. */
static const char *restored_why(const state *st, const char *epoch, int64_t high)
{
    if (!st->ok)
        return high > 0 ? "no readable high-water file beside a database with envelopes" : NULL;
    if (strcmp(st->epoch, epoch) != 0)
        return "the database's epoch is not the one last served";
    if (high < st->high)
        return "the database holds fewer envelopes than were committed before";
    return NULL;
}

lb_err lb_srvepoch_renew(lb_srvstore *store, const char *path,
                         char out[LB_SRV_ID_LEN + 1], char *msg, size_t msglen)
{
    char epoch[LB_SRV_ID_LEN + 1];
    int64_t high = 0;
    lb_err err = store->ops->high_water(store, &high);
    if (err)
        return store_fail(store, err, "reading the highest envelope number", msg, msglen);
    new_epoch(epoch);
    /* The database first: a crash before the file is written leaves them
     * disagreeing, which the next start takes for a restore (another new
     * epoch), never the other way round. */
    if ((err = store->ops->epoch_set(store, epoch)) != LB_OK)
        return store_fail(store, err, "saving the new epoch", msg, msglen);
    if (write_state(path, epoch, high) != 0) {
        snprintf(msg, msglen, "the new epoch is saved, but %s could not be written (%s)",
                 path, strerror(errno));
        memcpy(out, epoch, sizeof epoch);
        return LB_ERR_IO;
    }
    memcpy(out, epoch, sizeof epoch);
    return LB_OK;
}

/* The startup check; *renewed when a new epoch was made. */
static lb_err check(lb_srvepoch *e, int *renewed, char *msg, size_t msglen)
{
    state st;
    int64_t high = 0;
    const char *why;
    char old[LB_SRV_ID_LEN + 1];
    lb_err err = e->store->ops->epoch(e->store, e->epoch);
    if (!err)
        err = e->store->ops->high_water(e->store, &high);
    if (err)
        return store_fail(e->store, err, "reading the epoch", msg, msglen);
    read_state(e->path, &st);
    if (!(why = restored_why(&st, e->epoch, high))) {
        e->written = st.ok ? st.high : -1;
        return LB_OK;
    }
    memcpy(old, e->epoch, sizeof old);
    err = lb_srvepoch_renew(e->store, e->path, e->epoch, msg, msglen);
    if (err && err != LB_ERR_IO)
        return err;
    if (err)
        logf_epoch(e->log, e->log_ctx, "%s", msg);
    *renewed = 1;
    logf_epoch(e->log, e->log_ctx, "database restored or replaced (%s: file %s epoch %.8s "
               "high %" PRId64 ", database epoch %.8s high %" PRId64 "): new epoch %.8s; "
               "devices will push again what it lacks", why, e->path,
               st.ok ? st.epoch : "-", st.ok ? st.high : (int64_t)-1, old, high, e->epoch);
    e->written = err ? -1 : high;
    return LB_OK;
}

/* Raise the file to the store's committed high-water.  Only the writer
 * thread calls it while the thread runs (before: open; after: close). */
static void raise_file(lb_srvepoch *e)
{
    int64_t high = 0;
    if (e->store->ops->high_water(e->store, &high) != LB_OK)
        return;   /* the file stays behind: it claims less, which is safe */
    if (high <= e->written && e->written >= 0)
        return;
    if (write_state(e->path, e->epoch, high) == 0) {
        e->written = high;
        e->failing = 0;
    } else if (!e->failing) {
        e->failing = 1;
        logf_epoch(e->log, e->log_ctx, "cannot write %s (%s): a restore of the database "
                   "from a backup would not be detected", e->path, strerror(errno));
    }
}

/* Wait for notes and raise the file once for all the notes that came
 * while it was last written. */
static void *writer_main(void *arg)
{
    lb_srvepoch *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->dirty && !e->stop)
            pthread_cond_wait(&e->wake, &e->mu);
        if (!e->dirty)
            break;
        e->dirty = 0;
        pthread_mutex_unlock(&e->mu);
        raise_file(e);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

void lb_srvepoch_note(lb_srvepoch *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->mu);
    e->dirty = 1;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->mu);
}

lb_err lb_srvepoch_open(lb_srvstore *store, const char *path, lb_srvepoch_log log,
                        void *log_ctx, lb_srvepoch **out, int *renewed, char *msg,
                        size_t msglen)
{
    lb_srvepoch *e = calloc(1, sizeof *e);
    lb_err err;
    *out = NULL;
    *renewed = 0;
    if (!e || !(e->path = strdup(path))) {
        free(e);
        snprintf(msg, msglen, "out of memory");
        return LB_ERR_NOMEM;
    }
    e->store = store, e->log = log, e->log_ctx = log_ctx;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->wake, NULL);
    if ((err = check(e, renewed, msg, msglen)) != LB_OK) {
        e->epoch[0] = '\0';   /* nothing to note */
        lb_srvepoch_close(e);
        return err;
    }
    raise_file(e);   /* writes the file when missing or behind */
    if (pthread_create(&e->writer, NULL, writer_main, e) != 0) {
        e->epoch[0] = '\0';
        lb_srvepoch_close(e);
        snprintf(msg, msglen, "cannot start the high-water file's writer thread");
        return LB_ERR_NOMEM;
    }
    e->has_writer = 1;
    *out = e;
    return LB_OK;
}

void lb_srvepoch_close(lb_srvepoch *e)
{
    if (!e)
        return;
    if (e->has_writer) {
        pthread_mutex_lock(&e->mu);
        e->stop = 1;
        pthread_cond_signal(&e->wake);
        pthread_mutex_unlock(&e->mu);
        pthread_join(e->writer, NULL);
    }
    if (e->epoch[0])
        raise_file(e);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->mu);
    free(e->path);
    free(e);
}
