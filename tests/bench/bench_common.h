/* bench_common.h - what the benchmarks share: a monotonic clock, the
 * median (min-max) of a set of runs, and the visit notes they record (the
 * same generated 600-character text in every benchmark, so figures compare).
 * Header-only: each benchmark is one program.
 *
 * The notes are those of the reference data set (../shared/bench/
 * peer-pouchdb): the base64 text of 450 random bytes, here drawn from a
 * generator seeded by the record's number so that every run, and PouchDB's
 * side (tests/bench/pouch/bench.js), make the same notes.  Such text does
 * not compress beyond its alphabet (6 bits a character).  BENCH_NOTES=prose
 * makes English sentences instead, which gzip shrinks several times over.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#define NOTE_LEN 600

static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A whole number option from lo to hi, or a message from prog and exit 2. */
static inline long bench_arg_long(const char *prog, const char *opt, const char *v,
                                  long lo, long hi)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi) {
        fprintf(stderr, "%s: %s wants a number from %ld to %ld\n", prog, opt, lo, hi);
        exit(2);
    }
    return n;
}

/* Sorts v; median (mean of the middle two for even n), min and max. */
static inline void stats(double *v, int n, double *med, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *lo = v[0];
    *hi = v[n - 1];
}

static const char *const bench_phrases[] = {
    "Visited at home; she was dressed and had made tea before I arrived.",
    "Talked through the week: two days without leaving the flat because of the rain.",
    "Her daughter phones on Sundays but lives in Leeds and cannot visit often.",
    "Knee pain is worse on the stairs; she has not yet rung the surgery about it.",
    "We looked at the leaflet for the Tuesday walking group at the community centre.",
    "She would like someone to go with her the first time; I offered to meet her there.",
    "Money is tight since the pension credit review; agreed to refer to Citizens Advice.",
    "Sleeping badly, up at four most nights, naps in the afternoon in front of the TV.",
    "Said she feels 'a bit more like myself' since starting the coffee morning.",
    "Medication is in a dosette box the pharmacy fills; no missed doses this week.",
    "Discussed what matters to her: getting back to the allotment by the spring.",
    "Gave the number for the befriending service and wrote it on the fridge calendar.",
    "Her son is her carer on weekdays; he asked about a carers assessment.",
    "Mood brighter than last time; she laughed about the neighbour's cat.",
    "Hearing aid battery was flat; showed her where the spares are kept.",
    "Agreed next steps together and she repeated them back in her own words.",
    "Bus pass renewal is due next month; we filled in the form together.",
    "She is worried about the boiler; signposted to the council warm homes scheme.",
};
#define NPHRASES (sizeof bench_phrases / sizeof bench_phrases[0])

/* Exactly NOTE_LEN bytes of prose for record i, different per record. */
static inline void note_prose(unsigned i, char out[NOTE_LEN + 1])
{
    unsigned x = i * 2654435761u + 12345u;
    size_t len = (size_t)snprintf(out, NOTE_LEN + 1, "Contact %u. ", i);
    while (len < NOTE_LEN) {
        const char *p;
        size_t n;
        x = x * 1103515245u + 12345u;
        p = bench_phrases[(x >> 16) % NPHRASES];
        n = strlen(p);
        if (n + 1 > NOTE_LEN - len)
            n = NOTE_LEN - len - 1;
        memcpy(out + len, p, n);
        len += n;
        if (len < NOTE_LEN)
            out[len++] = ' ';
    }
    out[NOTE_LEN - 1] = '.';
    out[NOTE_LEN] = '\0';
}

/* Exactly NOTE_LEN characters of base64 for record i: the standard base64
 * of NOTE_LEN * 3 / 4 bytes from xorshift32 seeded by i (never 0), each
 * state giving its 4 bytes low byte first. */
static inline void note_random(unsigned i, char out[NOTE_LEN + 1])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[NOTE_LEN * 3 / 4];
    uint32_t x = (uint32_t)i * 2654435761u ^ 0x9e3779b9u;
    size_t k, o = 0;
    if (!x)
        x = 1;
    for (k = 0; k < sizeof raw; k++) {
        if (k % 4 == 0) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
        }
        raw[k] = (unsigned char)(x >> (8 * (k % 4)));
    }
    for (k = 0; k < sizeof raw; k += 3) {
        uint32_t v = (uint32_t)raw[k] << 16 | (uint32_t)raw[k + 1] << 8 | raw[k + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = b64[v >> 6 & 63];
        out[o++] = b64[v & 63];
    }
    out[o] = '\0';
}

/* 1 when BENCH_NOTES=prose asks for English notes. */
static inline int notes_prose(void)
{
    const char *v = getenv("BENCH_NOTES");
    return v && strcmp(v, "prose") == 0;
}

/* The note of record i: the reference data set's, or prose (above). */
static inline void note_text(unsigned i, char out[NOTE_LEN + 1])
{
    if (notes_prose())
        note_prose(i, out);
    else
        note_random(i, out);
}

#endif
