/* lb_fhir.c - the record as a FHIR R4 Bundle (see lb_fhir.h).
 *
 * The store's records are read once and grouped by person; each person's
 * records then become resources, kind by kind.  Codes with a published
 * system (SNOMED CT, HL7 terminology, LOINC) carry it; linkbook's own codes
 * (intervention categories, referral reasons and sources, roles) have none,
 * so they travel as text with a readable label.  No resource holds an
 * empty string, an empty array or a null, as FHIR's JSON format requires.
 */
#include <string.h>
#include <sodium.h>
#include "lb_fhir.h"
#include "lb_hlc.h"
#include "lb_measure.h"
#include "lb_model.h"
#include "lb_record.h"
#include "lb_store_priv.h"
#include "lb_view.h"

#define SYS_SNOMED "http://snomed.info/sct"
#define SYS_NHS "https://fhir.nhs.uk/Id/nhs-number"
#define SYS_ODS "https://fhir.nhs.uk/Id/ods-organization-code"
#define SYS_ACT "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define SYS_PARTICIPATION "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#define SYS_ACHIEVEMENT "http://terminology.hl7.org/CodeSystem/goal-achievement"
#define SYS_OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"
#define SYS_CONSENT_SCOPE "http://terminology.hl7.org/CodeSystem/consentscope"
#define SYS_CONSENT_ACTION "http://terminology.hl7.org/CodeSystem/consentaction"
#define SYS_LOINC "http://loinc.org"
#define SYS_UCUM "http://unitsofmeasure.org"
#define EXT_INTERPRETER "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"

#define SCT_REFERRAL "871731000000106"
#define SCT_REFERRAL_TEXT "Referral to social prescribing service (procedure)"

#define UUID_LEN 36 /* 8-4-4-4-12 */

/* ---- labels of linkbook's own codes ------------------------------------------ */

typedef struct label {
    const char *code, *text;
} label;

static const label categories[] = {
    {"occupation", "Occupation-focused approaches"},
    {"health-coaching", "Health coaching"},
    {"psychosocial", "Psychosocial support"},
    {"mental-health", "Mental health guidance"},
    {"cognitive", "Interventions to improve cognitive functioning"},
    {"signposting", "Signposting to wider services"},
    {NULL, NULL}};

static const label reasons[] = {
    {"isolation", "Isolation"}, {"mental-health", "Mental health"}, {"housing", "Housing"},
    {"money", "Money"}, {"long-term-condition", "Long-term condition"},
    {"carer-support", "Carer support"}, {"physical-activity", "Physical activity"},
    {"bereavement", "Bereavement"}, {"other", "Other"}, {NULL, NULL}};

static const label sources[] = {
    {"gp", "GP"}, {"nurse", "Nurse"}, {"self", "Self-referral"},
    {"social-care", "Social care"}, {"voluntary", "Voluntary sector"},
    {"hospital", "Hospital"}, {"other", "Other"}, {NULL, NULL}};

static const label roles[] = {
    {"link-worker", "Social prescribing link worker"},
    {"health-coach", "Health and wellbeing coach"},
    {"occupational-therapist", "Occupational therapist"},
    {"care-coordinator", "Care coordinator"}, {"supervisor", "Supervisor"}, {NULL, NULL}};

static const label modes[] = {
    {"home", "Home visit"}, {"community", "Community venue"}, {"surgery", "GP surgery"},
    {"phone", "Telephone"}, {"video", "Video call"}, {NULL, NULL}};

static const char *label_of(const label *t, const char *code)
{
    for (; code && t->code; t++)
        if (strcmp(t->code, code) == 0)
            return t->text;
    return code;
}

/* ---- JSON helpers ------------------------------------------------------------- */

static const char *fstr(json_t *rec, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(rec, "fields"), key));
    return v && *v ? v : NULL;
}

static json_t *fget(json_t *rec, const char *key)
{
    return json_object_get(json_object_get(rec, "fields"), key);
}

static const char *rstr(json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

/* Set key to the string v, unless v is NULL or empty. */
static void put_str(json_t *o, const char *key, const char *v)
{
    if (o && v && *v)
        json_object_set_new(o, key, json_string(v));
}

/* Set key to arr, unless it is empty (consumed either way). */
static void put_array(json_t *o, const char *key, json_t *arr)
{
    if (o && json_array_size(arr) > 0)
        json_object_set_new(o, key, arr);
    else
        json_decref(arr);
}

static json_t *concept(const char *system, const char *code, const char *display)
{
    return json_pack("{s:[{s:s, s:s, s:s}]}", "coding", "system", system, "code", code,
                     "display", display);
}

static json_t *text_concept(const char *text)
{
    return json_pack("{s:s}", "text", text ? text : "unknown");
}

/* An array of {"text": label} for an array of codes. */
static json_t *texts_of(json_t *codes, const label *t)
{
    json_t *out = json_array(), *v;
    size_t i;
    json_array_foreach(codes, i, v)
        if (json_string_value(v))
            json_array_append_new(out, text_concept(label_of(t, json_string_value(v))));
    return out;
}

/* ---- UUIDs and entries -------------------------------------------------------- */

/* 32 hex digits as a UUID (8-4-4-4-12). */
static void uuid_of(const char *hex, char out[UUID_LEN + 1])
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i, o = 0;
    for (i = 0; i < 5; i++) {
        memcpy(out + o, hex, (size_t)groups[i]);
        hex += groups[i];
        o += (size_t)groups[i];
        out[o++] = i < 4 ? '-' : '\0';
    }
}

/* A UUID hashed from what a resource comes from and what it is. */
static void uuid_derived(const char *from, const char *what, char out[UUID_LEN + 1])
{
    unsigned char h[16];
    char hex[LB_ID_HEX + 1];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)from, strlen(from));
    crypto_generichash_update(&st, (const unsigned char *)"/", 1);
    crypto_generichash_update(&st, (const unsigned char *)what, strlen(what));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    uuid_of(hex, out);
}

static json_t *urn(const char *uuid)
{
    char u[9 + UUID_LEN + 1] = "urn:uuid:";
    memcpy(u + 9, uuid, UUID_LEN + 1);
    return json_string(u);
}

static json_t *ref(const char *uuid)
{
    return json_pack("{s:o}", "reference", urn(uuid));
}

typedef struct bundle {
    lb_store *s;
    json_t *entries;        /* Bundle.entry, or the entries not yet written */
    json_t *order;          /* person ids in order of registration */
    json_t *instruments;    /* instrument code -> definition */
    json_t *questionnaires; /* instrument codes whose Questionnaire is in */
    lb_err err;             /* a failure inside a record walk */
    lb_fhir_write_fn write; /* NULL: keep every entry in entries */
    void *ctx;
    size_t written;         /* entries written */
} bundle;

/* Append res as an entry with id uuid (written after its resourceType);
 * res is consumed. */
static lb_err add(bundle *b, const char *uuid, json_t *res)
{
    json_t *r = res ? json_pack("{s:O, s:s}", "resourceType", json_object_get(res, "resourceType"),
                                "id", uuid) : NULL, *e;
    if (r && json_object_update_missing(r, res) != 0) {
        json_decref(r);
        r = NULL;
    }
    json_decref(res);
    e = r ? json_pack("{s:o, s:o}", "fullUrl", urn(uuid), "resource", r) : NULL;
    return e && json_array_append_new(b->entries, e) == 0 ? LB_OK : LB_ERR_NOMEM;
}

/* ---- one person --------------------------------------------------------------- */

typedef struct subject {
    bundle *b;
    json_t *recs;        /* the person's records, in order of creation */
    json_t *person;      /* the person record */
    const char *discharged; /* date, or NULL */
    char patient[UUID_LEN + 1];
} subject;

static json_t *subject_ref(const subject *x)
{
    return ref(x->patient);
}

static json_t *patient_name(json_t *p)
{
    json_t *name = json_pack("{s:s}", "use", "official");
    put_str(name, "family", fstr(p, "family"));
    if (name && fstr(p, "given"))
        json_object_set_new(name, "given", json_pack("[s]", fstr(p, "given")));
    return name;
}

static lb_err patient(subject *x)
{
    json_t *p = x->person;
    json_t *r = json_pack("{s:s, s:[o]}", "resourceType", "Patient", "name", patient_name(p));
    if (r && fstr(p, "nhs"))
        json_object_set_new(r, "identifier", json_pack("[{s:s, s:s}]", "system", SYS_NHS,
                                                       "value", fstr(p, "nhs")));
    put_str(r, "birthDate", fstr(p, "dob"));
    if (r && fstr(p, "phone"))
        json_object_set_new(r, "telecom", json_pack("[{s:s, s:s}]", "system", "phone", "value",
                                                    fstr(p, "phone")));
    if (r && fstr(p, "postcode"))
        json_object_set_new(r, "address", json_pack("[{s:s}]", "postalCode", fstr(p, "postcode")));
    if (r && fstr(p, "gp_practice"))
        json_object_set_new(r, "generalPractitioner",
                            json_pack("[{s:s, s:{s:s, s:s}}]", "type", "Organization", "identifier",
                                      "system", SYS_ODS, "value", fstr(p, "gp_practice")));
    if (r && fstr(p, "language"))
        json_object_set_new(r, "communication", json_pack("[{s:{s:s}}]", "language", "text",
                                                          fstr(p, "language")));
    if (r && json_is_true(fget(p, "interpreter")))
        json_object_set_new(r, "extension", json_pack("[{s:s, s:b}]", "url", EXT_INTERPRETER,
                                                      "valueBoolean", 1));
    return add(x->b, x->patient, r);
}

static lb_err service_request(subject *x, json_t *rec)
{
    const char *status = fstr(rec, "status"), *source = fstr(rec, "source");
    char id[UUID_LEN + 1];
    json_t *r;
    if (!status || strcmp(status, "accepted") == 0)
        status = x->discharged ? "completed" : "active";
    else
        status = strcmp(status, "declined") == 0 ? "revoked" : "unknown";
    r = json_pack("{s:s, s:s, s:s, s:o, s:o}", "resourceType", "ServiceRequest", "status",
                  status, "intent", "order", "code",
                  concept(SYS_SNOMED, SCT_REFERRAL, SCT_REFERRAL_TEXT), "subject", subject_ref(x));
    put_str(r, "authoredOn", fstr(rec, "date"));
    if (r && source)
        json_object_set_new(r, "requester", strcmp(source, "self") == 0 ? subject_ref(x) :
                            json_pack("{s:s}", "display", label_of(sources, source)));
    put_array(r, "reasonCode", texts_of(fget(rec, "reasons"), reasons));
    uuid_of(rstr(rec, "id"), id);
    return add(x->b, id, r);
}

/* The referral a contact on date follows: the latest one on or before it. */
static json_t *referral_before(subject *x, const char *date)
{
    json_t *best = NULL, *rec;
    size_t i;
    json_array_foreach(x->recs, i, rec) {
        const char *d = fstr(rec, "date");
        if (strcmp(rstr(rec, "kind"), "referral") == 0 && d && date && strcmp(d, date) <= 0 &&
            (!best || strcmp(d, fstr(best, "date")) >= 0))
            best = rec;
    }
    return best;
}

typedef struct mode_class {
    const char *mode, *code, *display;
} mode_class;

static const mode_class classes[] = {
    {"home", "HH", "home health"}, {"community", "FLD", "field"},
    {"surgery", "AMB", "ambulatory"}, {"phone", "VR", "virtual"},
    {"video", "VR", "virtual"}, {NULL, "AMB", "ambulatory"}};

static json_t *encounter_class(const char *mode)
{
    const mode_class *c = classes;
    while (c->mode && (!mode || strcmp(c->mode, mode) != 0))
        c++;
    return json_pack("{s:s, s:s, s:s}", "system", SYS_ACT, "code", c->code, "display", c->display);
}

static json_t *encounter_participant(json_t *rec)
{
    json_t *p = json_pack("{s:[{s:[{s:s, s:s, s:s}], s:s}]}", "type", "coding", "system",
                          SYS_PARTICIPATION, "code", "PPRF", "display", "primary performer",
                          "text", label_of(roles, fstr(rec, "role") ? fstr(rec, "role") : "link-worker"));
    if (p && rstr(rec, "author") && *rstr(rec, "author"))
        json_object_set_new(p, "individual", json_pack("{s:s}", "display", rstr(rec, "author")));
    return p;
}

static json_t *encounter_types(json_t *rec)
{
    json_t *types = json_array(), *cats = texts_of(fget(rec, "categories"), categories);
    if (types && fstr(rec, "mode"))
        json_array_append_new(types, text_concept(label_of(modes, fstr(rec, "mode"))));
    if (types && cats)
        json_array_extend(types, cats);
    json_decref(cats);
    return types;
}

static lb_err encounter(subject *x, json_t *rec)
{
    char id[UUID_LEN + 1], rid[UUID_LEN + 1];
    json_t *referral = referral_before(x, fstr(rec, "date")), *r;
    json_int_t minutes = json_integer_value(fget(rec, "minutes"));
    r = json_pack("{s:s, s:s, s:o, s:o, s:[o]}", "resourceType", "Encounter", "status", "finished",
                  "class", encounter_class(fstr(rec, "mode")), "subject", subject_ref(x),
                  "participant", encounter_participant(rec));
    put_array(r, "type", encounter_types(rec));
    if (r && fstr(rec, "date"))
        json_object_set_new(r, "period", json_pack("{s:s, s:s}", "start", fstr(rec, "date"),
                                                   "end", fstr(rec, "date")));
    if (r && minutes > 0)
        json_object_set_new(r, "length", json_pack("{s:I, s:s, s:s, s:s}", "value", minutes,
                                                   "unit", "min", "system", SYS_UCUM, "code", "min"));
    if (r && referral) {
        uuid_of(rstr(referral, "id"), rid);
        json_object_set_new(r, "basedOn", json_pack("[o]", ref(rid)));
        put_array(r, "reasonCode", texts_of(fget(referral, "reasons"), reasons));
    }
    uuid_of(rstr(rec, "id"), id);
    return add(x->b, id, r);
}

/* ---- goals and the care plan ---------------------------------------------------- */

typedef struct goal_state {
    const char *status, *lifecycle, *achievement, *display;
} goal_state;

static const goal_state goal_states[] = {
    {"achieved", "completed", "achieved", "Achieved"},
    {"partly", "completed", NULL, "Partly achieved"},
    {"not-achieved", "completed", "not-achieved", "Not Achieved"},
    {"withdrawn", "cancelled", NULL, NULL},
    {NULL, "active", NULL, NULL}};

static void goal_status(json_t *r, const char *status)
{
    const goal_state *g = goal_states;
    while (g->status && (!status || strcmp(g->status, status) != 0))
        g++;
    json_object_set_new(r, "lifecycleStatus", json_string(g->lifecycle));
    if (g->achievement)
        json_object_set_new(r, "achievementStatus", concept(SYS_ACHIEVEMENT, g->achievement,
                                                            g->display));
    else if (g->display)
        json_object_set_new(r, "achievementStatus", text_concept(g->display));
}

static lb_err goal(subject *x, json_t *rec)
{
    char id[UUID_LEN + 1];
    json_t *r = json_pack("{s:s, s:o, s:o}", "resourceType", "Goal", "description",
                          text_concept(fstr(rec, "text")), "subject", subject_ref(x));
    if (r)
        goal_status(r, fstr(rec, "status"));
    if (r && fstr(rec, "domain"))
        json_object_set_new(r, "category", json_pack("[o]", text_concept(fstr(rec, "domain"))));
    put_str(r, "startDate", fstr(rec, "date"));
    if (r && fstr(rec, "target"))
        json_object_set_new(r, "target", json_pack("[{s:s}]", "dueDate", fstr(rec, "target")));
    put_str(r, "statusDate", fstr(rec, "status_date"));
    uuid_of(rstr(rec, "id"), id);
    return add(x->b, id, r);
}

static int has_code(json_t *codes, const char *code)
{
    json_t *v;
    size_t i;
    json_array_foreach(codes, i, v)
        if (json_string_value(v) && strcmp(json_string_value(v), code) == 0)
            return 1;
    return 0;
}

/* One activity per intervention category delivered, with its Encounters. */
static json_t *category_activity(subject *x, const label *cat)
{
    char id[UUID_LEN + 1];
    json_t *refs = json_array(), *rec;
    size_t i;
    json_array_foreach(x->recs, i, rec) {
        if (strcmp(rstr(rec, "kind"), "contact") != 0 || !has_code(fget(rec, "categories"), cat->code))
            continue;
        uuid_of(rstr(rec, "id"), id);
        json_array_append_new(refs, ref(id));
    }
    if (json_array_size(refs) == 0) {
        json_decref(refs);
        return NULL;
    }
    return json_pack("{s:o, s:{s:o, s:s}}", "outcomeReference", refs, "detail", "code",
                     text_concept(cat->text), "status", x->discharged ? "completed" : "in-progress");
}

static json_t *follow_up_activity(json_t *task)
{
    const char *status = "scheduled";
    if (json_is_true(fget(task, "done")))
        status = fstr(task, "closed_by") ? "stopped" : "completed";
    if (!fstr(task, "due"))
        return NULL;
    return json_pack("{s:{s:o, s:s, s:{s:[s]}}}", "detail", "code", text_concept("Follow-up"),
                     "status", status, "scheduledTiming", "event", fstr(task, "due"));
}

static json_t *care_activities(subject *x)
{
    json_t *acts = json_array(), *rec;
    const label *cat;
    size_t i;
    for (cat = categories; acts && cat->code; cat++) {
        json_t *a = category_activity(x, cat);
        if (a)
            json_array_append_new(acts, a);
    }
    json_array_foreach(x->recs, i, rec) {
        json_t *a = strcmp(rstr(rec, "kind"), "task") == 0 ? follow_up_activity(rec) : NULL;
        if (a)
            json_array_append_new(acts, a);
    }
    return acts;
}

/* The plan's goals, and the first date of the episode into *start. */
static json_t *care_goals(subject *x, const char **start)
{
    char id[UUID_LEN + 1];
    json_t *goals = json_array(), *rec;
    size_t i;
    json_array_foreach(x->recs, i, rec) {
        const char *kind = rstr(rec, "kind"), *d = fstr(rec, "date");
        if ((strcmp(kind, "referral") == 0 || strcmp(kind, "contact") == 0 ||
             strcmp(kind, "goal") == 0) && d && (!*start || strcmp(d, *start) < 0))
            *start = d;
        if (strcmp(kind, "goal") != 0)
            continue;
        uuid_of(rstr(rec, "id"), id);
        json_array_append_new(goals, ref(id));
    }
    return goals;
}

static lb_err care_plan(subject *x)
{
    char id[UUID_LEN + 1];
    const char *start = NULL;
    json_t *goals = care_goals(x, &start), *acts = care_activities(x), *r;
    if (json_array_size(goals) == 0 && json_array_size(acts) == 0) {
        json_decref(goals);
        json_decref(acts);
        return goals && acts ? LB_OK : LB_ERR_NOMEM;
    }
    r = json_pack("{s:s, s:s, s:s, s:s, s:o}", "resourceType", "CarePlan", "status",
                  x->discharged ? "completed" : "active", "intent", "plan", "title",
                  "Personalised care and support plan", "subject", subject_ref(x));
    if (r && start)
        json_object_set_new(r, "period", json_pack("{s:s, s:s*}", "start", start, "end",
                                                   x->discharged));
    put_array(r, "goal", goals);
    put_array(r, "activity", acts);
    uuid_derived(rstr(x->person, "id"), "careplan", id);
    return add(x->b, id, r);
}

/* ---- measures ------------------------------------------------------------------- */

static void questionnaire_uuid(const char *code, char out[UUID_LEN + 1])
{
    uuid_derived(code, "linkbook instrument", out);
}

/* The Questionnaire of an instrument, once per Bundle. */
static lb_err questionnaire(bundle *b, const char *code, json_t *def)
{
    char id[UUID_LEN + 1];
    json_t *items, *item, *r;
    size_t i;
    if (json_object_get(b->questionnaires, code))
        return LB_OK;
    items = json_array();
    json_array_foreach(json_object_get(def, "items"), i, item)
        json_array_append_new(items, json_pack("{s:O, s:O, s:s}", "linkId", json_object_get(item, "id"),
                                               "text", json_object_get(item, "label"), "type", "integer"));
    questionnaire_uuid(code, id);
    r = json_pack("{s:s, s:o, s:s, s:s, s:[s]}", "resourceType", "Questionnaire", "url", urn(id),
                  "status", "active", "title", json_string_value(json_object_get(def, "name")) ?
                  json_string_value(json_object_get(def, "name")) : code, "subjectType", "Patient");
    put_array(r, "item", items);
    if (json_object_set_new(b->questionnaires, code, json_true()) != 0)
        return LB_ERR_NOMEM;
    return add(b, id, r);
}

static json_t *response_items(json_t *rec, json_t *def)
{
    json_t *items = json_array(), *item, *answers = fget(rec, "answers");
    size_t i;
    json_array_foreach(json_object_get(def, "items"), i, item) {
        const char *linkid = json_string_value(json_object_get(item, "id"));
        json_t *v = linkid ? json_object_get(answers, linkid) : NULL;
        if (json_is_integer(v))
            json_array_append_new(items, json_pack("{s:s, s:O, s:[{s:O}]}", "linkId", linkid, "text",
                                                   json_object_get(item, "label"), "answer",
                                                   "valueInteger", v));
    }
    return items;
}

static lb_err questionnaire_response(subject *x, json_t *rec, json_t *def, const char *qr_id)
{
    char qid[UUID_LEN + 1];
    json_t *r;
    questionnaire_uuid(fstr(rec, "instrument"), qid);
    r = json_pack("{s:s, s:o, s:s, s:o}", "resourceType", "QuestionnaireResponse",
                  "questionnaire", urn(qid), "status", "completed", "subject", subject_ref(x));
    put_str(r, "authored", fstr(rec, "date"));
    if (r && rstr(rec, "author") && *rstr(rec, "author"))
        json_object_set_new(r, "author", json_pack("{s:s}", "display", rstr(rec, "author")));
    put_array(r, "item", response_items(rec, def));
    return add(x->b, qr_id, r);
}

/* Scores reported item by item (ONS4): one component each, with its band. */
static json_t *item_components(json_t *rec, json_t *def)
{
    json_t *comps = json_array(), *item, *scores = fget(rec, "scores");
    size_t i;
    json_array_foreach(json_object_get(def, "items"), i, item) {
        const char *code = json_string_value(json_object_get(item, "id"));
        json_t *sc = code ? json_object_get(scores, code) : NULL, *c;
        const char *text = json_string_value(json_object_get(item, "label"));
        if (!json_is_integer(json_object_get(sc, "value")))
            continue;
        c = json_pack("{s:o, s:O}", "code", text_concept(text ? text : code), "valueInteger",
                      json_object_get(sc, "value"));
        if (c && json_string_value(json_object_get(sc, "band")))
            json_object_set_new(c, "interpretation", json_pack("[o]", text_concept(
                                json_string_value(json_object_get(sc, "band")))));
        json_array_append_new(comps, c);
    }
    return comps;
}

/* A score from a conversion table (SWEMWBS): the metric value, the raw total
 * as a component. */
static void table_value(json_t *r, json_t *rec)
{
    json_t *scores = fget(rec, "scores");
    json_t *metric = json_object_get(scores, "metric"), *raw = json_object_get(scores, "raw");
    if (json_is_number(metric))
        json_object_set_new(r, "valueQuantity", json_pack("{s:f, s:s}", "value",
                                                          json_number_value(metric), "unit", "score"));
    if (json_is_integer(raw))
        json_object_set_new(r, "component", json_pack("[{s:o, s:O}]", "code",
                                                      text_concept("Raw score"), "valueInteger", raw));
}

static lb_err observation(subject *x, json_t *rec, json_t *def, const char *qr_id)
{
    char id[UUID_LEN + 1], what[256];
    const char *name = json_string_value(json_object_get(def, "name"));
    const char *when = fstr(rec, "when");
    const char *rule = json_string_value(json_object_get(def, "scoring"));
    int table = rule && strcmp(rule, "table") == 0;
    json_t *r;
    snprintf(what, sizeof what, "%s%s", name ? name : fstr(rec, "instrument"),
             table ? " (metric score)" : "");
    r = json_pack("{s:s, s:s, s:[o], s:o, s:o, s:[o]}", "resourceType", "Observation", "status",
                  "final", "category", concept(SYS_OBS_CATEGORY, "survey", "Survey"), "code",
                  text_concept(what), "subject", subject_ref(x), "derivedFrom", ref(qr_id));
    put_str(r, "effectiveDateTime", fstr(rec, "date"));
    if (r && table)
        table_value(r, rec);
    else
        put_array(r, "component", item_components(rec, def));
    if (r && when) {
        snprintf(what, sizeof what, "Timepoint: %s", when);
        json_object_set_new(r, "note", json_pack("[{s:s}]", "text", what));
    }
    uuid_derived(rstr(rec, "id"), "score", id);
    return add(x->b, id, r);
}

static lb_err measure(subject *x, json_t *rec)
{
    char qr_id[UUID_LEN + 1];
    const char *code = fstr(rec, "instrument");
    json_t *def = code ? json_object_get(x->b->instruments, code) : NULL;
    lb_err err;
    if (!def)
        return lb_store_fail(x->b->s, LB_ERR_CORRUPT, "measure %s: instrument '%s' is not "
                             "defined in this store", rstr(rec, "id"), code ? code : "");
    uuid_of(rstr(rec, "id"), qr_id);
    err = questionnaire(x->b, code, def);
    if (!err)
        err = questionnaire_response(x, rec, def, qr_id);
    return err ? err : observation(x, rec, def, qr_id);
}

/* ---- consent ---------------------------------------------------------------------- */

static json_t *consent_action(const char *what)
{
    if (strcmp(what, "record") == 0)
        return json_pack("{s:[{s:s, s:s}], s:s}", "coding", "system", SYS_CONSENT_ACTION,
                         "code", "collect", "text", "Record in the social prescribing record");
    return json_pack("{s:[{s:s, s:s}], s:s}", "coding", "system", SYS_CONSENT_ACTION, "code",
                     "disclose", "text", strcmp(what, "share-gp") == 0 ?
                     "Share with the GP practice" : "Share with the care team");
}

static lb_err consent(subject *x)
{
    char id[UUID_LEN + 1];
    json_t *given = fget(x->person, "consent"), *actions = json_array(), *v, *r;
    size_t i;
    if (json_array_size(given) == 0) {
        json_decref(actions);
        return LB_OK;
    }
    json_array_foreach(given, i, v)
        if (json_string_value(v))
            json_array_append_new(actions, consent_action(json_string_value(v)));
    r = json_pack("{s:s, s:s, s:o, s:[o], s:o, s:o, s:{s:s, s:o}}", "resourceType", "Consent",
                  "status", "active", "scope",
                  concept(SYS_CONSENT_SCOPE, "patient-privacy", "Privacy Consent"), "category",
                  concept(SYS_LOINC, "59284-0", "Patient Consent"), "patient", subject_ref(x),
                  "policyRule", concept(SYS_ACT, "OPTIN", "opt-in"), "provision", "type",
                  "permit", "action", actions);
    put_str(r, "dateTime", fstr(x->person, "consent_date"));
    uuid_derived(rstr(x->person, "id"), "consent", id);
    return add(x->b, id, r);
}

/* ---- one person's resources --------------------------------------------------------- */

typedef lb_err (*resource_fn)(subject *x, json_t *rec);

/* Every record of kind as a resource, in order of creation. */
static lb_err each_of_kind(subject *x, const char *kind, resource_fn fn)
{
    json_t *rec;
    size_t i;
    lb_err err = LB_OK;
    json_array_foreach(x->recs, i, rec) {
        if (strcmp(rstr(rec, "kind"), kind) == 0 && (err = fn(x, rec)) != LB_OK)
            break;
    }
    return err;
}

/* One person's records, in order of creation, as {"id", "kind", "author",
 * "fields"}. */
static int record_one(const lb_record *r, void *ctx)
{
    json_t *rec;
    if (strcmp(r->kind, "audit") == 0)
        return 0;
    rec = json_pack("{s:s, s:s, s:s*, s:O}", "id", r->id, "kind", r->kind, "author", r->author,
                    "fields", r->fields);
    return !rec || json_array_append_new(ctx, rec) != 0;
}

static lb_err subject_resources(subject *x)
{
    lb_err err = patient(x);
    if (!err)
        err = each_of_kind(x, "referral", service_request);
    if (!err)
        err = each_of_kind(x, "contact", encounter);
    if (!err)
        err = each_of_kind(x, "goal", goal);
    if (!err)
        err = care_plan(x);
    if (!err)
        err = each_of_kind(x, "measure", measure);
    return err ? err : consent(x);
}

static lb_err person_resources(bundle *b, const char *pid)
{
    subject x = {b, json_array(), NULL, NULL, ""};
    json_t *rec;
    size_t i;
    lb_err err = x.recs ? lb_record_each(b->s, NULL, pid, record_one, x.recs) : LB_ERR_NOMEM;
    json_array_foreach(x.recs, i, rec) {
        if (strcmp(rstr(rec, "kind"), "person") == 0)
            x.person = rec;
        else if (strcmp(rstr(rec, "kind"), "discharge") == 0)
            x.discharged = fstr(rec, "date");
    }
    if (!err && x.person) {
        if (!x.discharged && fstr(x.person, "status") &&
            strcmp(fstr(x.person, "status"), "discharged") == 0)
            x.discharged = fstr(x.person, "discharged");
        uuid_of(pid, x.patient);
        err = subject_resources(&x);
    }
    json_decref(x.recs);
    return err;
}

static int order_one(const lb_record *r, void *ctx)
{
    bundle *b = ctx;
    if (json_array_append_new(b->order, json_string(r->id)) == 0)
        return 0;
    b->err = LB_ERR_NOMEM;
    return 1;
}

static lb_err audit_exports(bundle *b)
{
    json_t *v;
    size_t i;
    int own;
    lb_err err = lb_store_write_begin(b->s, &own);
    if (err)
        return err;
    json_array_foreach(b->order, i, v) {
        if ((err = lb_view_audit(b->s, "export", json_string_value(v))) != LB_OK)
            break;
    }
    return lb_store_write_end(b->s, own, err);
}

/* ---- writing as text ---------------------------------------------------------------- */

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(12))
#define ENTRY_INDENT "    "

static lb_err emit(bundle *b, const char *text, size_t len)
{
    return b->write(text, len, b->ctx) == 0 ? LB_OK : LB_ERR_IO;
}

/* jansson's dump callback: an entry's text, each line indented to sit in
 * the Bundle's entry array (JSON strings hold no raw newline). */
static int indented(const char *buf, size_t len, void *data)
{
    bundle *b = data;
    const char *nl;
    while ((nl = memchr(buf, '\n', len)) != NULL) {
        size_t n = (size_t)(nl - buf) + 1;
        if (emit(b, buf, n) || emit(b, ENTRY_INDENT, sizeof ENTRY_INDENT - 1))
            return -1;
        buf += n;
        len -= n;
    }
    return emit(b, buf, len) ? -1 : 0;
}

/* Write the entries built so far and let them go. */
static lb_err flush_entries(bundle *b)
{
    static const char first[] = ",\n  \"entry\": [\n" ENTRY_INDENT, next[] = ",\n" ENTRY_INDENT;
    json_t *e;
    size_t i;
    json_array_foreach(b->entries, i, e) {
        lb_err err = b->written++ ? emit(b, next, sizeof next - 1) : emit(b, first, sizeof first - 1);
        if (err || json_dump_callback(e, indented, b, DUMP_FLAGS) != 0)
            return lb_store_fail(b->s, LB_ERR_IO, "the Bundle could not be written");
    }
    json_array_clear(b->entries);
    return LB_OK;
}

static lb_err write_head(bundle *b, const char *uuid, const char *now)
{
    char head[256];
    int n = snprintf(head, sizeof head, "{\n  \"resourceType\": \"Bundle\",\n  \"id\": \"%s\",\n"
                     "  \"type\": \"collection\",\n  \"timestamp\": \"%s\"", uuid, now);
    if (n < 0 || (size_t)n >= sizeof head || emit(b, head, (size_t)n))
        return lb_store_fail(b->s, LB_ERR_IO, "the Bundle could not be written");
    return LB_OK;
}

static lb_err write_tail(bundle *b)
{
    static const char with[] = "\n  ]\n}\n", without[] = "\n}\n";
    lb_err err = b->written ? emit(b, with, sizeof with - 1) : emit(b, without, sizeof without - 1);
    return err ? lb_store_fail(b->s, err, "the Bundle could not be written") : LB_OK;
}

/* ---- the bundle ------------------------------------------------------------------- */

static void bundle_stamp(bundle *b, char uuid[UUID_LEN + 1], char now[LB_HLC_TEXT + 1])
{
    char id[LB_ID_HEX + 1];
    lb_id_new(id);
    uuid_of(id, uuid);
    lb_hlc_format(lb_store_now_ms(b->s) << 16, now);
}

/* The resources of pid (NULL: of everyone), written out after each
 * person when writing. */
static lb_err build(bundle *b, const char *pid)
{
    json_t *v;
    size_t i;
    lb_err err = lb_measure_instruments(b->s, &b->instruments);
    if (!err && pid && json_array_append_new(b->order, json_string(pid)) != 0)
        err = LB_ERR_NOMEM;
    if (!err && !pid && (err = lb_record_each(b->s, "person", NULL, order_one, b)) == LB_OK)
        err = b->err;
    json_array_foreach(b->order, i, v) {
        if (err || (err = person_resources(b, json_string_value(v))) != LB_OK)
            break;
        if (b->write && (err = flush_entries(b)) != LB_OK)
            break;
    }
    return err;
}

/* Set b up for person (NULL: everyone), resolved into pid. */
static lb_err bundle_init(bundle *b, lb_store *s, const char *person, char pid[LB_ID_HEX + 1])
{
    *b = (bundle){s, json_array(), json_array(), NULL, json_object(), LB_OK, NULL, NULL, 0};
    if (!b->entries || !b->order || !b->questionnaires)
        return LB_ERR_NOMEM;
    return person ? lb_person_resolve(s, person, pid) : LB_OK;
}

static void bundle_free(bundle *b)
{
    json_decref(b->entries);
    json_decref(b->order);
    json_decref(b->instruments);
    json_decref(b->questionnaires);
}

lb_err lb_fhir_bundle(lb_store *s, const char *person, json_t **out)
{
    char pid[LB_ID_HEX + 1], uuid[UUID_LEN + 1], now[LB_HLC_TEXT + 1];
    bundle b;
    json_t *r = NULL;
    lb_err err = bundle_init(&b, s, person, pid);
    if (!err)
        err = build(&b, person ? pid : NULL);
    if (!err) {
        bundle_stamp(&b, uuid, now);
        r = json_pack("{s:s, s:s, s:s, s:s}", "resourceType", "Bundle", "id", uuid, "type",
                      "collection", "timestamp", now);
        if (r && json_array_size(b.entries) > 0)
            json_object_set(r, "entry", b.entries);
        err = r ? audit_exports(&b) : LB_ERR_NOMEM;
    }
    if (!err)
        *out = r;
    else
        json_decref(r);
    bundle_free(&b);
    return err;
}

lb_err lb_fhir_write(lb_store *s, const char *person, lb_fhir_write_fn write, void *ctx)
{
    char pid[LB_ID_HEX + 1], uuid[UUID_LEN + 1], now[LB_HLC_TEXT + 1];
    bundle b;
    lb_err err = bundle_init(&b, s, person, pid);
    b.write = write;
    b.ctx = ctx;
    if (!err) {
        bundle_stamp(&b, uuid, now);
        err = write_head(&b, uuid, now);
    }
    if (!err)
        err = build(&b, person ? pid : NULL);
    if (!err)
        err = write_tail(&b);
    if (!err)
        err = audit_exports(&b);
    bundle_free(&b);
    return err;
}
