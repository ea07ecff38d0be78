/* lb_srvapi.h - linkbookd's routes as functions: a parsed JSON request, or
 * for push the raw binary body (lb_proto.h), and the device it came from
 * in; a status and a JSON document, or for push and pull a binary body,
 * out.
 * The HTTP plumbing (lb_server.c) has already checked the method, the
 * content type, the size and the token; these check the documents against
 * lb_proto.h and apply the caseload rules, then ask lb_srvstore.
 *
 * No I/O but the store's; no content is logged.  Every answer is a new
 * JSON reference in res->doc (an lb_proto_error document on failure), or a
 * binary body in res->bin (malloc'd, the caller frees it) with doc NULL.
 */
#ifndef LB_SRVAPI_H
#define LB_SRVAPI_H

#include <jansson.h>
#include "lb_srvstore.h"
#include "lb_srvmetrics.h"
#include "lb_srvepoch.h"

typedef struct lb_srvapi {
    lb_srvstore *store;
    lb_srvmetrics *metrics;
    char epoch[LB_SRV_ID_LEN + 1];
    lb_srvepoch *epochs;      /* told after each push that stored (NULL: none) */
    void (*log)(void *ctx, const char *line);  /* refusals and storage failures */
    void *log_ctx;
} lb_srvapi;

typedef struct lb_srvapi_res {
    int status;
    json_t *doc;
    char *bin;          /* a binary answer (LB_PROTO_BIN_TYPE), or NULL */
    size_t bin_len;
} lb_srvapi_res;

/* who is NULL for routes without a token. */
typedef void (*lb_srvapi_fn)(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                             lb_srvapi_res *res);
/* A route whose request body is binary (body, len: as received). */
typedef void (*lb_srvapi_bin_fn)(const lb_srvapi *api, const lb_srv_who *who,
                                 const unsigned char *body, size_t len, lb_srvapi_res *res);

void lb_srvapi_enrol(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                     lb_srvapi_res *res);
void lb_srvapi_push(const lb_srvapi *api, const lb_srv_who *who, const unsigned char *body,
                    size_t len, lb_srvapi_res *res);
void lb_srvapi_pull(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                    lb_srvapi_res *res);
void lb_srvapi_keys_get(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                        lb_srvapi_res *res);
void lb_srvapi_keys_post(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                         lb_srvapi_res *res);
void lb_srvapi_invite(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                      lb_srvapi_res *res);
void lb_srvapi_devices(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                       lb_srvapi_res *res);
void lb_srvapi_revoke(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                      lb_srvapi_res *res);
void lb_srvapi_healthz(const lb_srvapi *api, const lb_srv_who *who, const json_t *req,
                       lb_srvapi_res *res);

/* Set res to an error document (dropping a binary answer). */
void lb_srvapi_error(lb_srvapi_res *res, int status, const char *code, const char *message);

/* Whether role is one linkbook knows (DESIGN.md: roles). */
int lb_srvapi_role_ok(const char *role);

#endif
