/* linkbook.h - the public interface of liblinkbook, the portable core of
 * linkbook: an encrypted, offline-first case record for community health
 * workers.  Include this one header; link with -llinkbook (pkg-config
 * linkbook).
 *
 *   lb_err.h     one error enum and lb_strerror()
 *   lb_crypto.h  keys, sealing, blind index, random ids
 *   lb_store.h   the device store: create, open, unlock, lock, passwd
 *   lb_codes.h   coded values and input checks (NHS number, dates)
 *   lb_change.h  the change log that every mutation goes through
 *   lb_record.h  reading materialised records, id prefixes
 *   lb_model.h   recording: people, referrals, contacts, notes, goals...
 *   lb_view.h    reading: timelines, lists, tasks, the audit trail
 *   lb_measure.h outcome instruments defined as data
 *   lb_hlc.h     the hybrid logical clock
 *   lb_sync.h    the device side of sync: outbox, team keys, pull cursors
 *   lb_team.h    the team roster kept for review: workers, devices, last sync
 *   lb_review.h  review and report figures: caseloads, waits, outcomes
 *   lb_dataset.h the commissioner's dataset (CSV, small counts suppressed)
 *
 * The library never prints and never exits; every function returns an
 * lb_err, and lb_store_errmsg() tells the detail.
 */
#ifndef LINKBOOK_H
#define LINKBOOK_H

#define LINKBOOK_VERSION "0.1.0"

#include "lb_err.h"
#include "lb_crypto.h"
#include "lb_store.h"
#include "lb_codes.h"
#include "lb_change.h"
#include "lb_record.h"
#include "lb_model.h"
#include "lb_view.h"
#include "lb_fhir.h"
#include "lb_measure.h"
#include "lb_hlc.h"
#include "lb_sync.h"
#include "lb_team.h"
#include "lb_review.h"
#include "lb_dataset.h"

#endif
