/* lb_view.h - reading the link worker's record: one person's timeline,
 * the caseload list, follow-ups due, and the audit trail.
 *
 * Reads return JSON documents whose keys are documented in README.md
 * ("JSON output"); the caller owns them (json_decref).  Every read of
 * personal data (a timeline, the caseload list) is itself recorded as an
 * audit event through the change log, so it reaches the team like any
 * other change.
 */
#ifndef LB_VIEW_H
#define LB_VIEW_H

#include <jansson.h>
#include "lb_store.h"

/* People, optionally only those with status (referred, active, on-hold,
 * discharged): {"people":[{"id","given","family","nhs","dob","status",
 * "caseloads":[...]}, ...]} sorted by family then given name. */
lb_err lb_person_list(lb_store *s, const char *status, json_t **out);

/* Open follow-ups: {"today":"…","tasks":[{"id","person","given","family",
 * "due","overdue_days","text","contact"}, ...]} by due date ("contact" is
 * the contact that set the follow-up; overdue_only: due before today). */
lb_err lb_task_list(lb_store *s, int overdue_only, json_t **out);

/* One person's whole record as a timeline (audited as a view):
 * {"person":{...fields, "id", "caseloads":[...]}, "timeline":[entry...]}.
 * Every entry has "id", "kind", "author", "recorded" (when it was written,
 * ISO UTC) and its record's fields; entries stand in order of their "date"
 * (assignments by "from", follow-ups by "due"), then of recording.  Note
 * amendments are folded into their note's "amendments", goal reviews into
 * their goal's "reviews"; referrals gain "first_contact" and
 * "waiting_days" once a contact follows them. */
lb_err lb_person_show(lb_store *s, const char *person, json_t **out);

/* The audit trail: views and exports, and every change, newest last:
 * {"events":[{"when","device","author","action","kind","record","person",
 * "change", "fields":[names set]}]}; action is "create" or "update" for
 * changes, "view", "list", "review", "report" or "export" for reads (a
 * caseload-wide read adds "scope": "team" or the caseload, and "from",
 * "to" when it covered a period).  Field values are never listed.  person
 * may be NULL for all. */
lb_err lb_audit_list(lb_store *s, const char *person, json_t **out);

/* Record that this device's user viewed or exported something of person
 * (NULL: the whole caseload, recorded with person LB_NOBODY).  action:
 * "view", "list", "export". */
lb_err lb_view_audit(lb_store *s, const char *action, const char *person);

#endif
