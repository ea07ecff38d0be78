/* linkbookd.c - the linkbook sync server's command line.
 *
 *   linkbookd serve --data DIR [--listen HOST:PORT] [--timeout SECONDS]
 *                   [--epoch-file FILE]
 *   linkbookd admin team-create NAME --data DIR [--name SUPERVISOR]
 *   linkbookd admin devices TEAM --data DIR
 *   linkbookd admin revoke TEAM DEVICE --data DIR
 *   linkbookd admin new-epoch --data DIR [--epoch-file FILE]
 *   linkbookd --help | --version
 *
 * serve prints "listening on HOST:PORT" (one line, flushed) once bound and
 * stops cleanly on SIGTERM or SIGINT: no new connections, requests in
 * flight finish (up to 10 s), the store is closed, exit 0.  The idle
 * connection timeout is --timeout, else $LINKBOOKD_TIMEOUT, else 10 s.
 * team-create prints the first supervisor's one-time enrolment code alone
 * on the last line of stdout; words for people go to stderr.
 *
 * Restore detection (lb_srvepoch.h): serve checks the database against the
 * high-water file (default DIR.epoch, beside the data directory) before it
 * listens, and makes a new epoch if the database was restored or replaced;
 * new-epoch forces one (run it with the server stopped).
 *
 * Exit codes: 0 done, 1 failure, 2 invalid usage or input.
 * Not yet: --tls-cert/--tls-key (put linkbookd behind a TLS proxy until
 * then) and --postgres (the PostgreSQL backend); both are refused clearly.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sodium.h>
#include "linkbook.h"
#include "lb_server.h"
#include "lb_srvstore.h"
#include "lb_srvepoch.h"

#define EXIT_USAGE 2
#define DEFAULT_LISTEN "127.0.0.1:8717"
#define STOP_GRACE_MS 10000u

static const char USAGE[] =
    "usage: linkbookd serve --data DIR [--listen HOST:PORT] [--timeout SECONDS]\n"
    "                       [--epoch-file FILE]\n"
    "       linkbookd admin team-create NAME --data DIR [--name SUPERVISOR]\n"
    "       linkbookd admin devices TEAM --data DIR\n"
    "       linkbookd admin revoke TEAM DEVICE --data DIR\n"
    "       linkbookd admin new-epoch --data DIR [--epoch-file FILE]\n"
    "       linkbookd --help | --version\n"
    "\n"
    "serve          run the sync server on DIR (created if missing); HOST:PORT defaults\n"
    "               to " DEFAULT_LISTEN ", port 0 picks a free port; prints\n"
    "               'listening on HOST:PORT' once bound; SIGTERM/SIGINT stop it cleanly\n"
    "--timeout S    close a connection idle for S seconds (default $LINKBOOKD_TIMEOUT or 10)\n"
    "team-create    make a team and its first supervisor (named 'supervisor' unless\n"
    "               --name); prints the one-time enrolment code as the last line\n"
    "devices        list the devices of team TEAM (its id, as team-create printed it)\n"
    "revoke         refuse DEVICE of TEAM from now on (its supervisor should then sync,\n"
    "               which rotates the team key)\n"
    "new-epoch      announce a new epoch from the next start (after restoring the database\n"
    "               by means serve cannot detect): devices push everything again; run it\n"
    "               with the server stopped\n"
    "--epoch-file F the restore-detection file (default DIR.epoch, beside DIR, not in it:\n"
    "               serve announces a new epoch when the database is behind it)\n"
    "\n"
    "Not yet in this build: --tls-cert/--tls-key (use a TLS proxy) and --postgres.\n"
    "Exit codes: 0 done, 1 failure, 2 invalid usage.\n";

typedef struct opts {
    const char *data, *listen, *name, *timeout, *epoch_file;
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
                          : !strcmp(a, "--epoch-file") ? &o->epoch_file : NULL;
        if (!strcmp(a, "--tls-cert") || !strcmp(a, "--tls-key"))
            return usage_error("%s: TLS is not built into linkbookd yet; serve on loopback "
                               "behind a TLS proxy", a);
        if (!strcmp(a, "--postgres"))
            return usage_error("%s: the PostgreSQL backend is not built yet; use --data DIR", a);
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

static int open_store(const char *dir, lb_srvstore **st)
{
    char msg[512];
    if (lb_srvstore_sqlite_open(dir, st, msg, sizeof msg) != LB_OK) {
        fprintf(stderr, "linkbookd: cannot open the server store in %s: %s\n", dir, msg);
        return 1;
    }
    return 0;
}

static void log_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "linkbookd: %s\n", line);
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
    if (open_store(o->data, st) != 0)
        return 1;
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
    lb_server_opts so = { NULL, 0, 0, NULL, NULL };
    lb_srvstore *st = NULL;
    lb_srvepoch *ep = NULL;
    lb_server *srv = NULL;
    char host[64], msg[512];
    sigset_t set;
    int sig = 0;
    if (parse_listen(o->listen ? o->listen : DEFAULT_LISTEN, host, sizeof host, &so.port) != 0)
        return usage_error("--listen %s: expected HOST:PORT, like 127.0.0.1:8717", o->listen);
    if (parse_timeout(o->timeout ? o->timeout : getenv("LINKBOOKD_TIMEOUT"), &so.timeout_s) != 0)
        return usage_error("timeout %s: expected whole seconds from 1 to 3600",
                           o->timeout ? o->timeout : getenv("LINKBOOKD_TIMEOUT"));
    so.host = host;
    /* Block the stop signals in every thread; this one waits for them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (open_checked(o, &st, &ep) != 0)
        return 1;
    so.epochs = ep;
    if (lb_server_start(st, &so, &srv, msg, sizeof msg) != LB_OK) {
        fprintf(stderr, "linkbookd: %s\n", msg);
        lb_srvepoch_close(ep);
        lb_srvstore_close(st);
        return 1;
    }
    printf(strchr(host, ':') ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host,
           lb_server_port(srv));
    fflush(stdout);
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
    if (open_store(o->data, &st) != 0)
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
    if (open_store(o->data, &st) != 0)
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
    if (open_store(o->data, &st) != 0)
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

/* admin new-epoch: a new epoch in the database and the file. */
static int admin_new_epoch(const opts *o)
{
    lb_srvstore *st = NULL;
    char epoch[LB_SRV_ID_LEN + 1], msg[512], *path = epoch_path(o);
    lb_err err;
    if (!path || open_store(o->data, &st) != 0) {
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
    if (!o.data)
        return usage_error("%s needs --data DIR", argv[1]);
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
