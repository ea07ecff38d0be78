/* lb_json.h - a fast JSON reader for the change log's own texts.
 *
 * jansson's reader takes a character at a time through a stream; reading a
 * change (a 600-byte note, say) spent most of a sync's time there.  This
 * one reads the same RFC 8259 grammar from a buffer, copies plain runs of
 * strings at once, and builds the same jansson values, so the rest of the
 * code keeps working on json_t.  What it accepts, jansson accepts too:
 * UTF-8 only (no overlong forms, no surrogates), no NUL in strings (not
 * even \u0000), integers that fit in json_int_t, at most LB_JSON_DEPTH
 * levels, one value and nothing but white space after it.  Real numbers are
 * handed to jansson.
 *
 * No global state; the input is not modified and need not be NUL-terminated.
 */
#ifndef LB_JSON_H
#define LB_JSON_H

#include <stddef.h>
#include <jansson.h>
#include "lb_err.h"

#define LB_JSON_DEPTH 64

/* Parse len bytes of text into *out (a new reference).  With no_dups, an
 * object that repeats a key is refused.  LB_ERR_INVALID when the text is
 * not one JSON value, LB_ERR_NOMEM when memory runs out; *out is untouched
 * then. */
lb_err lb_json_parse(const char *text, size_t len, int no_dups, json_t **out);

/* A member of the top object of a text, as written there. */
typedef struct lb_json_member {
    const char *key;    /* into the text: the key between its quotes, escapes
                         * as written (not NUL-terminated) */
    size_t keylen;
    size_t at;          /* offset of the key's opening quote in the text */
    const char *val;    /* into the text: the value as written (a string with
                         * its quotes); lb_json_parse_shallow only */
    size_t vallen;
    json_t *v;          /* the value made, when asked for (owned reference) */
} lb_json_member;

/* lb_json_parse, noting where the members of the top value (when it is an
 * object) start, in order: the first max of them into members, their
 * number into *count (which may exceed max).  For readers that pass a part
 * of a text on as it is, after it parsed. */
lb_err lb_json_parse_members(const char *text, size_t len, int no_dups, json_t **out,
                             lb_json_member *members, size_t max, size_t *count);

/* Read a text that is to be one JSON object (as lb_json_parse with
 * no_dups accepts it) without making it: its members in order into m, each
 * key and value as written; the value of a member whose key is written as
 * one of build[0..nbuild) is made too (m[i].v, a new reference the caller
 * releases; NULL for the others, which are only checked).  *count is the
 * number of members, or max + 1 when there are more than max or a key is
 * written with an escape: then the rest is not read, nothing is held, and
 * the text is to be read with lb_json_parse.
 * LB_ERR_INVALID when the text is not such an object (a repeated key, say),
 * LB_ERR_NOMEM; nothing is held then. */
lb_err lb_json_parse_shallow(const char *text, size_t len, const char *const *build,
                             size_t nbuild, lb_json_member *m, size_t max, size_t *count);

#endif
