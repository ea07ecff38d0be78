/* lb_team.h - the team roster as this device last heard it: every enrolled
 * device of the team with its user (worker), name, role, caseload and when
 * the server last saw it.  A supervisor's sync brings it with the pull
 * answer (sync/lb_proto.h, "roster") and keeps it here, so that review
 * works offline and can name each caseload's worker.
 *
 * On disk (schema/device/005_team.sql) the ids, role, caseload and times
 * are clear, like the rest of the sync facts; the worker's name and the
 * device's name are sealed under the data key, bound to the device id.
 * A worker's device keeps no roster (it is never sent one).
 *
 * Ownership: lb_team_roster_get allocates *out, lb_team_roster_free
 * releases it (NULL is a no-op); the strings belong to the roster.
 */
#ifndef LB_TEAM_H
#define LB_TEAM_H

#include <stdint.h>
#include <jansson.h>
#include "lb_change.h"
#include "lb_store.h"

#define LB_TEAM_ROLE_MAX 32

typedef struct lb_team_device {
    char device[LB_ID_HEX + 1];
    char user[LB_ID_HEX + 1];              /* the worker's user id */
    char caseload[LB_CASELOAD_MAX + 1];    /* the worker's caseload (= user id) */
    char role[LB_TEAM_ROLE_MAX + 1];
    char *name;                            /* the worker's name */
    char *device_name;
    int64_t created_ms, last_seen_ms;      /* unix ms by the server; 0: never */
    int revoked;
} lb_team_device;

typedef struct lb_team_roster {
    lb_team_device *devices;   /* by name, then device id */
    size_t n;
    int64_t fetched_ms;        /* when this device received it; 0: never */
} lb_team_roster;

/* Replace the kept roster with list, the "roster" array of a pull answer
 * (or "devices" of GET /v1/team/devices): objects {"device", "user",
 * "name", "device_name", "role", "caseload", "created", "last_seen",
 * "revoked"}.  One transaction; LB_ERR_INVALID (nothing changed) if an
 * entry lacks a valid device or user id. */
lb_err lb_team_roster_save(lb_store *s, const json_t *list, int64_t fetched_ms);

/* The kept roster (n == 0 when none was received).  Needs the keys. */
lb_err lb_team_roster_get(lb_store *s, lb_team_roster **out);
void lb_team_roster_free(lb_team_roster *r);

/* The worker ref names: a user id prefix (at least 4 hex digits) or the
 * worker's name, case-insensitively, whole or a unique prefix.  *out
 * points at one of that worker's devices in r.  LB_ERR_NOTFOUND /
 * LB_ERR_AMBIGUOUS with a message that says so. */
lb_err lb_team_find_worker(lb_store *s, const lb_team_roster *r, const char *ref,
                           const lb_team_device **out);

#endif
