/* lb_fhir.h - the record as a FHIR R4 Bundle, for the GP record and other
 * systems that read FHIR.
 *
 * One Bundle of type "collection" holds, for each person exported:
 *   Patient                NHS number (system https://fhir.nhs.uk/Id/nhs-number),
 *                          name, birth date, phone, postcode, GP practice (ODS
 *                          code), language and the interpreter flag;
 *   ServiceRequest         each referral, SNOMED CT 871731000000106
 *                          (referral to social prescribing service), its
 *                          source as requester and its reasons;
 *   Encounter              each contact: class from the mode, intervention
 *                          categories as type, the worker as participant,
 *                          the referral it follows as basedOn and reasonCode;
 *   Goal                   each goal (lifecycle and achievement status,
 *                          life domain, target date);
 *   CarePlan               one per person with goals or contacts: the goals,
 *                          the interventions delivered (each pointing at its
 *                          Encounters) and the follow-ups;
 *   QuestionnaireResponse  each outcome measure, with the Questionnaire of
 *                          its instrument (once per Bundle, built from the
 *                          instrument's definition) and
 *   Observation            the scores derived from it (ONS4: one component
 *                          per item, never summed; SWEMWBS: the metric score
 *                          with the raw total as a component);
 *   Consent                what the person consented to, when recorded.
 * Notes, stories and assignments stay out: free text is not sent on.
 * Gender is not recorded by linkbook, so Patient has none.
 *
 * Every resource's id is a UUID and every entry's fullUrl "urn:uuid:" and
 * that id; references between entries use the fullUrl.  A record's UUID is
 * its record id; resources derived from a record (a score, a person's
 * CarePlan and Consent) and Questionnaires have UUIDs hashed from what they
 * come from, so exporting the same record twice gives the same ids.
 */
#ifndef LB_FHIR_H
#define LB_FHIR_H

#include <jansson.h>
#include "lb_store.h"

/* The Bundle of one person (an id prefix or an NHS number), or of every
 * person in the store when person is NULL (the caseloads this device
 * holds), in order of registration.  Each person exported is audited as
 * an "export" (lb_view.h) in the same transaction, so a Bundle is never
 * returned without its audit events.  *out is the caller's (json_decref).
 * LB_ERR_NOTFOUND / LB_ERR_AMBIGUOUS for a person that does not resolve. */
lb_err lb_fhir_bundle(lb_store *s, const char *person, json_t **out);

/* Receives the Bundle's JSON text in pieces, as jansson's
 * json_dump_callback_t: 0 to go on, -1 to stop (the export then fails). */
typedef int (*lb_fhir_write_fn)(const char *buf, size_t len, void *ctx);

/* The same Bundle written as JSON text (indented by two spaces), person by
 * person: memory holds one person's records and resources at a time, never
 * the whole Bundle.  Each person is audited as with lb_fhir_bundle, once
 * the last byte was accepted.  LB_ERR_IO when write refused a piece; an
 * unknown person fails before anything is written. */
lb_err lb_fhir_write(lb_store *s, const char *person, lb_fhir_write_fn write, void *ctx);

#endif
