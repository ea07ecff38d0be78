/* bench_proxy.c - a counting TCP proxy for the benchmarks: every byte that
 * crosses the socket between an HTTP client and its server (request lines,
 * headers, bodies, chunk framing, compressed or not), and every HTTP
 * request, counted the same way whoever the client and server are.  Both
 * linkbook (libcurl -> linkbookd) and PouchDB (node -> pouchdb-server) are
 * measured through it, so their bytes and requests compare.
 *
 * usage: bench_proxy --to 127.0.0.1:PORT --counters FILE
 * Listens on 127.0.0.1 on an ephemeral port and prints
 * "listening on 127.0.0.1:PORT" on stdout.  FILE (made, 64 bytes) is
 * mapped shared and holds four little-endian 64-bit counters, updated as
 * bytes pass: bytes up (client to server), bytes down, requests,
 * connections.  A reader takes a snapshot before and after a phase; a
 * byte is counted before it is passed on, so when the client has its
 * answer, the answer is counted.  Requests are counted in the upward
 * stream by reading HTTP/1.1 framing (Content-Length or chunked bodies).
 *
 * One thread per direction of each connection; loopback only; stops on
 * SIGTERM, and when the process that started it ends (PR_SET_PDEATHSIG),
 * so it never outlives the benchmark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536
#define HEAD_MAX 65536

typedef struct counters {
    uint64_t up, down, requests, connections;
} counters;

static counters *cnt;
static struct sockaddr_in target;

static void add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* ---- HTTP request framing, upward stream ---------------------------------- */

enum { HEAD, BODY, CHUNK_LINE, CHUNK_DATA, TRAILER };

typedef struct framing {
    int state;
    char line[HEAD_MAX];
    size_t len;          /* bytes held in line */
    uint64_t remaining;  /* of BODY or CHUNK_DATA */
} framing;

/* The value of header name in the header block h (NUL-terminated), or NULL. */
static const char *header(const char *h, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(h, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            p += 3 + n;
            while (*p == ' ' || *p == '\t')
                p++;
            return p;
        }
    return NULL;
}

static void headers_done(framing *f)
{
    const char *te, *cl;
    f->line[f->len] = '\0';
    add(&cnt->requests, 1);
    te = header(f->line, "Transfer-Encoding");
    cl = header(f->line, "Content-Length");
    f->state = HEAD;
    if (te && strncasecmp(te, "chunked", 7) == 0)
        f->state = CHUNK_LINE;
    else if (cl && (f->remaining = strtoull(cl, NULL, 10)) > 0)
        f->state = BODY;
}

/* One byte of header or chunk-size text; returns 1 at the end of a line. */
static int take_line_byte(framing *f, char c)
{
    if (f->len < HEAD_MAX - 1)
        f->line[f->len++] = c;
    return c == '\n';
}

static void frame_line(framing *f)
{
    f->line[f->len] = '\0';
    if (f->state == HEAD) {
        if (f->len >= 4 && memcmp(f->line + f->len - 4, "\r\n\r\n", 4) == 0) {
            headers_done(f);
            f->len = 0;
        } else if (f->len == 2 && memcmp(f->line, "\r\n", 2) == 0) {
            f->len = 0;          /* a stray blank line between requests */
        }
        return;
    }
    if (f->state == CHUNK_LINE) {
        uint64_t size = strtoull(f->line, NULL, 16);
        f->state = size ? CHUNK_DATA : TRAILER;
        f->remaining = size + 2; /* data and its CRLF */
    } else if (f->state == TRAILER && f->len == 2) {
        f->state = HEAD;         /* the blank line after the last chunk */
    }
    f->len = 0;
}

static void frame(framing *f, const char *p, size_t n)
{
    while (n > 0) {
        if (f->state == BODY || f->state == CHUNK_DATA) {
            size_t k = f->remaining < n ? (size_t)f->remaining : n;
            f->remaining -= k;
            p += k;
            n -= k;
            if (f->remaining == 0)
                f->state = f->state == BODY ? HEAD : CHUNK_LINE;
            continue;
        }
        n--;
        if (take_line_byte(f, *p++))
            frame_line(f);
    }
}

/* ---- forwarding --------------------------------------------------------------- */

typedef struct pipe_dir {
    int from, to;
    int upward;
    framing *f;
} pipe_dir;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *forward(void *arg)
{
    pipe_dir *d = arg;
    char *buf = malloc(BUF);
    for (;;) {
        ssize_t n = buf ? read(d->from, buf, BUF) : -1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        add(d->upward ? &cnt->up : &cnt->down, (uint64_t)n);
        if (d->upward)
            frame(d->f, buf, (size_t)n);
        if (write_all(d->to, buf, (size_t)n) != 0)
            break;
    }
    shutdown(d->to, SHUT_WR);
    shutdown(d->from, SHUT_RD);
    free(buf);
    return NULL;
}

static void *connection(void *arg)
{
    int client = (int)(intptr_t)arg, one = 1;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    framing *f = calloc(1, sizeof *f);
    pthread_t up;
    pipe_dir u, d;
    if (server < 0 || !f || connect(server, (struct sockaddr *)&target, sizeof target) != 0)
        goto out;
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    u = (pipe_dir){client, server, 1, f};
    d = (pipe_dir){server, client, 0, NULL};
    if (pthread_create(&up, NULL, forward, &u) != 0)
        goto out;
    forward(&d);
    pthread_join(up, NULL);
out:
    if (server >= 0)
        close(server);
    close(client);
    free(f);
    return NULL;
}

/* ---- set-up -------------------------------------------------------------------- */

static int parse_target(const char *v)
{
    char host[64];
    int port;
    if (sscanf(v, "%63[^:]:%d", host, &port) != 2 || port <= 0 || port > 65535)
        return -1;
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &target.sin_addr) == 1 ? 0 : -1;
}

static counters *map_counters(const char *path)
{
    void *p;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 64) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    p = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

static int listen_here(void)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

int main(int argc, char **argv)
{
    const char *to = NULL, *path = NULL;
    pthread_attr_t attr;
    pthread_t th;
    int lfd;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
        else if (strcmp(argv[i], "--counters") == 0)
            path = argv[i + 1];
    }
    if (!to || !path || parse_target(to) != 0) {
        fprintf(stderr, "usage: bench_proxy --to 127.0.0.1:PORT --counters FILE\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
        return 1;
    if (!(cnt = map_counters(path)) || (lfd = listen_here()) < 0) {
        fprintf(stderr, "bench_proxy: cannot map %s or listen on 127.0.0.1: %s\n", path,
                strerror(errno));
        return 1;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
                continue;
            return 1;
        }
        add(&cnt->connections, 1);
        if (pthread_create(&th, &attr, connection, (void *)(intptr_t)c) != 0)
            close(c);
    }
}
