/* linkbookd.c - the linkbook sync server's command line.
 *
 *   linkbookd serve (--data DIR | --postgres CONNINFO [--pool N])
 *                   [--listen HOST:PORT] [--timeout SECONDS]
 *                   [--tls-cert FILE --tls-key FILE]
 *                   [--epoch-file FILE]
 *   linkbookd admin team-create NAME STORE [--name SUPERVISOR]
 *   linkbookd admin devices TEAM STORE
 *   linkbookd admin revoke TEAM DEVICE STORE
 *   linkbookd admin new-epoch STORE [--epoch-file FILE]
 *   linkbookd --help | --version
 * where STORE is --data DIR or --postgres CONNINFO.
 *
 * serve prints "listening on HOST:PORT" (one line, flushed) once bound, the
 * same with or without TLS (stderr says "serving https on ..."), and
 * stops cleanly on SIGTERM or SIGINT: no new connections, requests in
 * flight finish (up to 10 s), the store is closed, exit 0.  The idle
 * connection timeout is --timeout, else $LINKBOOKD_TIMEOUT, else 10 s.
 * team-create prints the first supervisor's one-time enrolment code alone
 * on the last line of stdout; words for people go to stderr.
 *
 * With --tls-cert and --tls-key (PEM files; the key unencrypted) it serves
 * https only; the key is read into locked memory and wiped as soon as
 * libmicrohttpd has loaded it.
 * Restore detection: with --data (lb_srvepoch.h) serve checks the database
 * against the high-water file (default DIR.epoch, beside the data
 * directory) before it listens, and makes a new epoch if the database was
 * restored or replaced; with --postgres the epoch lives in the database
 * and is checked against its identity (lb_srvstore_pg.c).  new-epoch
 * forces one (with --data, run it with the server stopped; with
 * --postgres, running servers take it up within seconds).
 *
 * --postgres takes a libpq connection string ("host=... dbname=..." or a
 * postgresql:// URI); a password is better kept in ~/.pgpass or
 * $PGPASSWORD than on the command line.  Several serve processes may share
 * one database.  serve fails at start if the database cannot be reached;
 * once serving, requests get 503 while it is unreachable.
 *
 * Exit codes: 0 done, 1 failure, 2 invalid usage or input.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <sodium.h>
#include "linkbook.h"
#include "lb_server.h"
#include "lb_srvstore.h"
#include "lb_srvepoch.h"

#define EXIT_USAGE 2
#define DEFAULT_LISTEN "127.0.0.1:8717"
#define STOP_GRACE_MS 10000u
#define PEM_MAX (1024 * 1024)   /* a certificate chain or key file larger than this is refused */

static const char USAGE[] =
    "usage: linkbookd serve STORE [--listen HOST:PORT] [--timeout SECONDS]\n"
    "                       [--tls-cert FILE --tls-key FILE]\n"
    "                       [--epoch-file FILE]\n"
    "       linkbookd admin team-create NAME STORE [--name SUPERVISOR]\n"
    "       linkbookd admin devices TEAM STORE\n"
    "       linkbookd admin revoke TEAM DEVICE STORE\n"
    "       linkbookd admin new-epoch STORE [--epoch-file FILE]\n"
    "       linkbookd --help | --version\n"
    "STORE is --data DIR (SQLite, one server) or --postgres CONNINFO [--pool N]\n"
    "(PostgreSQL, any number of servers on one database; with both, PostgreSQL).\n"
    "\n"
    "--data DIR     keep everything in DIR (created if missing)\n"
    "--postgres C   keep everything in the PostgreSQL database of libpq connection\n"
    "               string C ('host=db1 dbname=linkbook user=linkbookd' or a\n"
    "               postgresql:// URI; the password in ~/.pgpass or $PGPASSWORD);\n"
    "               the tables are created on first use\n"
    "--pool N       at most N database connections per process (default 8)\n"
    "serve          run the sync server on STORE; HOST:PORT defaults\n"
    "               to " DEFAULT_LISTEN ", port 0 picks a free port; prints\n"
    "               'listening on HOST:PORT' once bound; SIGTERM/SIGINT stop it cleanly\n"
    "--timeout S    close a connection idle for S seconds (default $LINKBOOKD_TIMEOUT or 10)\n"
    "--tls-cert F   serve https with the PEM certificate chain in F (the server's\n"
    "               certificate first); needs --tls-key\n"
    "--tls-key F    the certificate's PEM private key, unencrypted (chmod 600)\n"
    "team-create    make a team and its first supervisor (named 'supervisor' unless\n"
    "               --name); prints the one-time enrolment code as the last line\n"
    "devices        list the devices of team TEAM (its id, as team-create printed it)\n"
    "revoke         refuse DEVICE of TEAM from now on (its supervisor should then sync,\n"
    "               which rotates the team key)\n"
    "new-epoch      announce a new epoch (after restoring the database by means serve\n"
    "               cannot detect): devices push everything again; with --data run it\n"
    "               with the server stopped, with --postgres servers take it up within\n"
    "               seconds\n"
    "--epoch-file F with --data: the restore-detection file (default DIR.epoch, beside\n"
    "               DIR, not in it: serve announces a new epoch when the database is\n"
    "               behind it); with --postgres the epoch lives in the database\n"
    "\n"
    "Without TLS, serve on loopback only (or behind a TLS proxy): devices refuse plain\n"
    "http to any other host unless given --insecure.\n"
    "Exit codes: 0 done, 1 failure, 2 invalid usage.\n";

typedef struct opts {
    const char *data, *listen, *name, *timeout, *tls_cert, *tls_key, *epoch_file;
    const char *postgres, *pool;
    const char *args[3];
    int nargs;
} opts;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("linkbookd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see 'linkbookd --help')\n", stderr);
    return EXIT_USAGE;
}

/* Parse argv[from..]; 0, or an exit code. */
static int parse_opts(int argc, char **argv, int from, opts *o)
{
    int i;
    for (i = from; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--data") ? &o->data : !strcmp(a, "--listen") ? &o->listen
                          : !strcmp(a, "--name") ? &o->name : !strcmp(a, "--timeout") ? &o->timeout
                          : !strcmp(a, "--tls-cert") ? &o->tls_cert
                          : !strcmp(a, "--tls-key") ? &o->tls_key
                          : !strcmp(a, "--epoch-file") ? &o->epoch_file
                          : !strcmp(a, "--postgres") ? &o->postgres
                          : !strcmp(a, "--pool") ? &o->pool : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            *slot = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option %s", a);
        } else if (o->nargs < 3) {
            o->args[o->nargs++] = a;
        } else {
            return usage_error("unexpected argument %s", a);
        }
    }
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host (a copy in buf) and port. */
static int parse_listen(const char *s, char *buf, size_t buflen, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    char *end = NULL;
    unsigned long p;
    size_t hlen;
    if (!colon || !colon[1])
        return -1;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || *end || p > 65535 || colon[1] == '-' || colon[1] == '+')
        return -1;
    hlen = (size_t)(colon - s);
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']')
        s++, hlen -= 2;
    if (hlen == 0 || hlen >= buflen)
        return -1;
    memcpy(buf, s, hlen);
    buf[hlen] = '\0';
    *port = (unsigned)p;
    return 0;
}

static int parse_timeout(const char *s, unsigned *out)
{
    char *end = NULL;
    unsigned long v;
    if (!s)
        return 0;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 3600 || s[0] == '-')
        return -1;
    *out = (unsigned)v;
    return 0;
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "linkbookd: %s\n", line);
}

/* --pool N: 1 to 64, default 0 (the backend's). */
static int parse_pool(const char *s, int *out)
{
    char *end = NULL;
    long v;
    *out = 0;
    if (!s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 64)
        return -1;
    *out = (int)v;
    return 0;
}

/* Open --data DIR or --postgres CONNINFO; 0 or 1. */
static int open_store(const opts *o, lb_srvstore **st)
{
    char msg[512];
    int pool = 0;
    if (o->postgres) {
        parse_pool(o->pool, &pool);   /* checked in main */
        if (lb_srvstore_pg_open(o->postgres, pool, log_stderr, NULL, st, msg,
                                sizeof msg) != LB_OK) {
            fprintf(stderr, "linkbookd: cannot open the PostgreSQL store: %s (is the database "
                    "running, and --postgres right?)\n", msg);
            return 1;
        }
        return 0;
    }
    if (lb_srvstore_sqlite_open(o->data, st, msg, sizeof msg) != LB_OK) {
        fprintf(stderr, "linkbookd: cannot open the server store in %s: %s\n", o->data, msg);
        return 1;
    }
    return 0;
}

/* A PEM file and its text, NUL-terminated, in sodium_malloc'd memory. */
typedef struct pem {
    char *text;
    size_t len;
} pem;

static void pem_free(pem *p)
{
    if (p->text) {
        sodium_memzero(p->text, p->len + 1);
        sodium_free(p->text);
    }
    p->text = NULL;
    p->len = 0;
}

/* Read path (given as option opt) into p; 0, or an exit code after saying why. */
static int pem_read(const char *opt, const char *path, pem *p)
{
    struct stat sb;
    ssize_t got = 0;
    size_t have = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 1;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(stderr, "linkbookd: %s %s: cannot read it: %s\n", opt, path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 || sb.st_size > PEM_MAX) {
        fprintf(stderr, "linkbookd: %s %s: not a PEM file (a regular file of 1 byte to "
                "1 MiB)\n", opt, path);
        rc = EXIT_USAGE;
        goto out;
    }
    if (!(p->text = sodium_malloc((size_t)sb.st_size + 1))) {
        fprintf(stderr, "linkbookd: %s %s: out of memory\n", opt, path);
        goto out;
    }
    p->len = (size_t)sb.st_size;
    while (have < p->len && (got = read(fd, p->text + have, p->len - have)) > 0)
        have += (size_t)got;
    if (got < 0 || have != p->len) {
        fprintf(stderr, "linkbookd: %s %s: cannot read it: %s\n", opt, path,
                got < 0 ? strerror(errno) : "it changed while being read");
        goto out;
    }
    p->text[p->len] = '\0';
    rc = 0;
out:
    if (rc)
        pem_free(p);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The checks libmicrohttpd's message would not make clear; 0 or EXIT_USAGE. */
static int pem_check(const char *opt, const char *path, const pem *p, int is_key)
{
    const char *want = is_key ? "PRIVATE KEY-----" : "-----BEGIN CERTIFICATE-----";
    if (strlen(p->text) != p->len || !strstr(p->text, want) ||
        (is_key && !strstr(p->text, "-----BEGIN "))) {
        fprintf(stderr, "linkbookd: %s %s: not a PEM %s (expected a '%s' block)\n", opt, path,
                is_key ? "private key" : "certificate",
                is_key ? "-----BEGIN ... PRIVATE KEY-----" : want);
        return EXIT_USAGE;
    }
    if (is_key && (strstr(p->text, "ENCRYPTED PRIVATE KEY") || strstr(p->text, "ENCRYPTED\n"))) {
        fprintf(stderr, "linkbookd: %s %s: the key is encrypted with a passphrase; give it "
                "unencrypted ('openssl pkey -in KEY -out PLAIN', then chmod 600 PLAIN)\n",
                opt, path);
        return EXIT_USAGE;
    }
    return 0;
}

/* Load --tls-cert and --tls-key into cert and key (both or neither); 0 or an exit code. */
static int tls_load(const opts *o, pem *cert, pem *key)
{
    struct stat sb;
    int rc;
    if (!o->tls_cert != !o->tls_key)
        return usage_error("%s", "--tls-cert and --tls-key go together: give both (https), "
                           "or neither (plain http, for loopback or behind a TLS proxy)");
    if (!o->tls_cert)
        return 0;
    if (!lb_server_tls_supported()) {
        fprintf(stderr, "linkbookd: this libmicrohttpd was built without TLS (GnuTLS); "
                "install one with it, or serve on loopback behind a TLS proxy\n");
        return 1;
    }
    if (sodium_init() < 0)
        return fputs("linkbookd: libsodium could not be initialised\n", stderr), 1;
    if ((rc = pem_read("--tls-cert", o->tls_cert, cert)) != 0 ||
        (rc = pem_check("--tls-cert", o->tls_cert, cert, 0)) != 0 ||
        (rc = pem_read("--tls-key", o->tls_key, key)) != 0 ||
        (rc = pem_check("--tls-key", o->tls_key, key, 1)) != 0) {
        pem_free(cert);
        pem_free(key);
        return rc;
    }
    if (stat(o->tls_key, &sb) == 0 && (sb.st_mode & 077))
        fprintf(stderr, "linkbookd: warning: --tls-key %s can be read by other users "
                "(chmod 600 it)\n", o->tls_key);
    return 0;
}

/* Say how the server is reached, beside the "listening on" line. */
static void say_serving(const char *host, unsigned port, const opts *o)
{
    unsigned char a[16];
    int loopback = (inet_pton(AF_INET, host, a) == 1 && a[0] == 127) || !strcmp(host, "::1");
    char where[80];
    if (strchr(host, ':'))
        snprintf(where, sizeof where, "[%s]:%u", host, port);
    else
        snprintf(where, sizeof where, "%s:%u", host, port);
    if (o->tls_cert)
        fprintf(stderr, "linkbookd: serving https on %s (certificate %s)\n", where, o->tls_cert);
    else if (!loopback)
        fprintf(stderr, "linkbookd: warning: serving plain http on %s; devices refuse it "
                "without --insecure (use --tls-cert and --tls-key, or a TLS proxy)\n", where);
}

/* The restore-detection file: --epoch-file, else DIR.epoch (malloc'd). */
static char *epoch_path(const opts *o)
{
    char *p = o->epoch_file ? strdup(o->epoch_file) : lb_srvepoch_path(o->data);
    if (!p)
        fprintf(stderr, "linkbookd: out of memory\n");
    return p;
}

/* Open the store and check it for a restore (lb_srvepoch.h); 0 or 1. */
static int open_checked(const opts *o, lb_srvstore **st, lb_srvepoch **ep)
{
    char msg[512], *path;
    int renewed = 0;
    if (open_store(o, st) != 0)
        return 1;
    if (o->postgres)
        return 0;   /* the store checks its epoch itself (lb_srvstore_pg.c) */
    if (!(path = epoch_path(o)) ||
        lb_srvepoch_open(*st, path, log_stderr, NULL, ep, &renewed, msg, sizeof msg) != LB_OK) {
        if (path)
            fprintf(stderr, "linkbookd: cannot check %s for a restore: %s\n", o->data, msg);
        free(path);
        lb_srvstore_close(*st);
        *st = NULL;
        return 1;
    }
    free(path);
    return 0;
}

/* Serve until SIGTERM or SIGINT. */
static int serve(const opts *o)
{
    lb_server_opts so = { NULL, 0, 0, NULL, NULL, NULL, NULL };
    lb_srvstore *st = NULL;
    lb_srvepoch *ep = NULL;
    lb_server *srv = NULL;
    pem cert = { NULL, 0 }, key = { NULL, 0 };
    char host[64], msg[512];
    sigset_t set;
    int sig = 0, rc;
    if (parse_listen(o->listen ? o->listen : DEFAULT_LISTEN, host, sizeof host, &so.port) != 0)
        return usage_error("--listen %s: expected HOST:PORT, like 127.0.0.1:8717", o->listen);
    if (parse_timeout(o->timeout ? o->timeout : getenv("LINKBOOKD_TIMEOUT"), &so.timeout_s) != 0)
        return usage_error("timeout %s: expected whole seconds from 1 to 3600",
                           o->timeout ? o->timeout : getenv("LINKBOOKD_TIMEOUT"));
    if ((rc = tls_load(o, &cert, &key)) != 0)
        return rc;
    so.host = host;
    so.tls_cert = cert.text;
    so.tls_key = key.text;
    /* Block the stop signals in every thread; this one waits for them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = open_checked(o, &st, &ep);
    so.epochs = ep;
    if (rc == 0 && lb_server_start(st, &so, &srv, msg, sizeof msg) != LB_OK) {
        fprintf(stderr, "linkbookd: %s\n", msg);
        rc = 1;
    }
    pem_free(&key);     /* GnuTLS holds its own copy now */
    pem_free(&cert);
    if (rc != 0) {
        lb_srvepoch_close(ep);
        lb_srvstore_close(st);
        return rc;
    }
    printf(strchr(host, ':') ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host,
           lb_server_port(srv));
    fflush(stdout);
    say_serving(host, lb_server_port(srv), o);
    while (sigwait(&set, &sig) != 0)
        ;
    fprintf(stderr, "linkbookd: %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    lb_server_stop(srv, STOP_GRACE_MS);
    lb_srvepoch_close(ep);
    lb_srvstore_close(st);
    return 0;
}

static int admin_fail(lb_srvstore *st, lb_err err, const char *what)
{
    char detail[256];
    st->ops->errmsg(st, detail, sizeof detail);
    fprintf(stderr, "linkbookd: could not %s: %s (%s)\n", what, lb_strerror(err), detail);
    lb_srvstore_close(st);
    return 1;
}

static int team_create(const opts *o)
{
    lb_srvstore *st = NULL;
    lb_srv_who who;
    char code[LB_SRV_CODE_LEN + 1];
    const char *name = o->name ? o->name : "supervisor";
    lb_err err;
    if (!o->args[1][0])
        return usage_error("%s: team-create needs the team's NAME", "admin");
    if (strlen(o->args[1]) > LB_SRV_NAME_MAX || !name[0] || strlen(name) > LB_SRV_NAME_MAX)
        return usage_error("%s: names are 1 to 128 characters", "team-create");
    if (open_store(o, &st) != 0)
        return 1;
    if ((err = st->ops->team_create(st, o->args[1], name, &who, code)) != LB_OK)
        return admin_fail(st, err, "create the team");
    fprintf(stderr, "team \"%s\" created: %s\nfirst supervisor \"%s\": user %s\n"
            "enrolment code (single use; 'linkbook enrol URL CODE'):\n", o->args[1], who.team,
            name, who.user);
    printf("%s\n", code);
    fflush(stdout);
    sodium_memzero(code, sizeof code);
    lb_srvstore_close(st);
    return 0;
}

static int print_device(void *ctx, const lb_srv_device *d)
{
    (void)ctx;
    printf("%s  %-8s  %-22s  %s (%s)\n", d->device, d->revoked ? "revoked" : "active", d->role,
           d->name, d->device_name);
    return 0;
}

static int admin_devices(const opts *o)
{
    lb_srvstore *st = NULL;
    lb_err err;
    if (!lb_proto_is_id(o->args[1]))
        return usage_error("%s is not a team id (32 hex digits)", o->args[1]);
    if (open_store(o, &st) != 0)
        return 1;
    if ((err = st->ops->devices(st, o->args[1], print_device, NULL)) != LB_OK)
        return admin_fail(st, err, "list the devices");
    lb_srvstore_close(st);
    return 0;
}

static int admin_revoke(const opts *o)
{
    lb_srvstore *st = NULL;
    lb_err err;
    if (!lb_proto_is_id(o->args[1]) || !lb_proto_is_id(o->args[2]))
        return usage_error("%s", "revoke takes a team id and a device id (32 hex digits each)");
    if (open_store(o, &st) != 0)
        return 1;
    err = st->ops->revoke(st, o->args[1], o->args[2]);
    if (err == LB_ERR_NOTFOUND) {
        fprintf(stderr, "linkbookd: team %s has no device %s (see 'linkbookd admin devices')\n",
                o->args[1], o->args[2]);
        lb_srvstore_close(st);
        return EXIT_USAGE;
    }
    if (err)
        return admin_fail(st, err, "revoke the device");
    fprintf(stderr, "device revoked; a supervisor's next sync rotates the team key\n");
    printf("%s\n", o->args[2]);
    lb_srvstore_close(st);
    return 0;
}

/* admin new-epoch --postgres: a new epoch in the database. */
static int admin_new_epoch_pg(const opts *o)
{
    lb_srvstore *st = NULL;
    unsigned char b[LB_SRV_ID_LEN / 2];
    char epoch[LB_SRV_ID_LEN + 1];
    lb_err err;
    if (open_store(o, &st) != 0)
        return 1;
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(epoch, sizeof epoch, b, sizeof b);
    if ((err = st->ops->epoch_set(st, epoch)) != LB_OK)
        return admin_fail(st, err, "make a new epoch");
    lb_srvstore_close(st);
    fprintf(stderr, "new epoch; running servers announce it within seconds, and devices "
            "push everything again at their next sync\n");
    printf("%s\n", epoch);
    return 0;
}

/* admin new-epoch: a new epoch in the database and the file. */
static int admin_new_epoch(const opts *o)
{
    lb_srvstore *st = NULL;
    char epoch[LB_SRV_ID_LEN + 1], msg[512], *path;
    lb_err err;
    if (o->postgres)
        return admin_new_epoch_pg(o);
    if (!(path = epoch_path(o)) || open_store(o, &st) != 0) {
        free(path);
        return 1;
    }
    err = lb_srvepoch_renew(st, path, epoch, msg, sizeof msg);
    free(path);
    lb_srvstore_close(st);
    if (err && err != LB_ERR_IO) {
        fprintf(stderr, "linkbookd: could not make a new epoch: %s\n", msg);
        return 1;
    }
    if (err)
        fprintf(stderr, "linkbookd: %s\n", msg);
    fprintf(stderr, "new epoch; devices push everything again at their next sync\n");
    printf("%s\n", epoch);
    return err ? 1 : 0;
}

int main(int argc, char **argv)
{
    opts o;
    int rc;
    memset(&o, 0, sizeof o);
    if (argc < 2)
        return fputs(USAGE, stderr), EXIT_USAGE;
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return fputs(USAGE, stdout), 0;
    if (!strcmp(argv[1], "--version"))
        return printf("linkbookd %s (protocol %d)\n", LINKBOOK_VERSION, LB_PROTO_VERSION), 0;
    if ((rc = parse_opts(argc, argv, 2, &o)) != 0)
        return rc;
    if (strcmp(argv[1], "serve") && strcmp(argv[1], "admin"))
        return usage_error("unknown command %s", argv[1]);
    if (!o.data && !o.postgres)
        return usage_error("%s needs --data DIR or --postgres CONNINFO", argv[1]);
    if (o.data && o.postgres)   /* DESIGN's "serve --data DIR [--postgres CONNINFO]" */
        fprintf(stderr, "linkbookd: --postgres given: the store is PostgreSQL; --data %s is "
                "not used\n", o.data);
    if (o.postgres && o.epoch_file)
        return usage_error("%s", "--epoch-file goes with --data; with --postgres the epoch "
                           "lives in the database");
    if (o.pool && !o.postgres)
        return usage_error("%s", "--pool goes with --postgres");
    if (parse_pool(o.pool, &rc) != 0)
        return usage_error("--pool %s: expected a number of connections from 1 to 64", o.pool);
    if (!strcmp(argv[1], "serve")) {
        if (o.nargs)
            return usage_error("serve takes no argument %s", o.args[0]);
        return serve(&o);
    }
    if (o.nargs >= 1 && !strcmp(o.args[0], "team-create"))
        return o.nargs == 2 ? team_create(&o) : usage_error("%s", "team-create takes one NAME");
    if (o.nargs >= 1 && !strcmp(o.args[0], "devices"))
        return o.nargs == 2 ? admin_devices(&o) : usage_error("%s", "devices takes one TEAM id");
    if (o.nargs >= 1 && !strcmp(o.args[0], "revoke"))
        return o.nargs == 3 ? admin_revoke(&o) : usage_error("%s", "revoke takes TEAM and DEVICE ids");
    if (o.nargs >= 1 && !strcmp(o.args[0], "new-epoch"))
        return o.nargs == 1 ? admin_new_epoch(&o) : usage_error("%s", "new-epoch takes no argument");
    return usage_error("%s", "admin: unknown or missing subcommand (try team-create, devices, "
                       "revoke, new-epoch)");
}
