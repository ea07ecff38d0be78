#!/bin/sh
# test_fhir.sh - linkbook export fhir: FHIR R4 Bundles of one person and of
# the whole store, checked by real validators (tests/fhir/validate.js: the
# FHIR R4 JSON Schema with ajv, FHIR.js over the R4 structure definitions,
# and terminology checks), the mapping of the record into resources,
# audit events of every export, and the unhappy paths: unknown person,
# unwritable path, wrong passphrase - no partial file, nothing replaced.
# The validators prove they can fail: broken bundles are rejected.
#
# The validators' npm packages are pinned in tests/fhir/package-lock.json
# and installed into tests/fhir/node_modules (git-ignored) on first use.
. "$(dirname "$0")/lib.sh"
need python3 node npm

FHIR_DIR=$(cd "$CLI_DIR/../fhir" && pwd)

# install_validators: npm ci once per lock file.
install_validators() {
    _stamp="$FHIR_DIR/node_modules/.linkbook-lock.json"
    if cmp -s "$FHIR_DIR/package-lock.json" "$_stamp"; then
        return 0
    fi
    (cd "$FHIR_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 &&
        cp "$FHIR_DIR/package-lock.json" "$_stamp"
}

if install_validators; then
    ok "the pinned validators are installed (npm ci)"
else
    fail "the pinned validators are installed (npm ci)" "$(tail -n 20 "$tmp/npm.log")"
    finish
fi

# validate NAME FILE...: every file passes every validator.
validate() {
    _name=$1
    shift
    if node "$FHIR_DIR/validate.js" "$@" >"$tmp/val.out" 2>"$tmp/val.err"; then
        ok "$_name"
    else
        fail "$_name" "$(head -n 30 "$tmp/val.err")"
    fi
}

# reject NAME PATTERN FILE: the validators refuse FILE, naming PATTERN.
reject() {
    if node "$FHIR_DIR/validate.js" "$3" >"$tmp/val.out" 2>"$tmp/val.err"; then
        fail "$1" "the validators accepted a broken bundle"
    elif grep -qE -- "$2" "$tmp/val.err"; then
        ok "$1"
    else
        fail "$1" "expected a problem matching /$2/" "$(head -n 20 "$tmp/val.err")"
    fi
}

# no_leftovers NAME DIR: no temporary export file is left in DIR.
no_leftovers() {
    if ls "$2" | grep -q '\.json\.'; then
        fail "$1" "left in $2: $(ls "$2")"
    else
        ok "$1"
    fi
}

# --- an empty store ------------------------------------------------------------
expect_exit 0 "init" -- lb init
expect_exit 0 "export fhir of an empty store" -- lb export fhir -o "$tmp/empty.json"
expect_json "an empty store gives a Bundle without entries" "$tmp/empty.json" \
    'doc["resourceType"] == "Bundle" and doc["type"] == "collection" and "entry" not in doc'

# --- a caseload ------------------------------------------------------------------
NOTE="Worried about the stairs at home; daughter visits on Sundays"
STORY="I go to the walking group every week now"

lb person add --given Zephyrine --family Quillfeather --nhs "943 476 5919" --dob 1957-03-14 \
    --postcode "S7 1QW" --phone "07700 900461" --gp C84001 --language Polish --interpreter \
    --consent record,share-gp >"$out" 2>"$err"
Z=$(last_id)
lb person add --given Aaron --family Abbott >"$out" 2>"$err"
A=$(last_id)
lb person add --given Bea --family Bramble --nhs 4010232137 --consent record >"$out" 2>"$err"
B=$(last_id)
[ -n "$Z" ] && [ -n "$A" ] && [ -n "$B" ] && ok "three people registered" ||
    fail "three people registered" "Z=$Z A=$A B=$B"

lb referral add "$Z" --source gp --reason isolation,money --date 2026-01-05 >/dev/null 2>&1
lb referral add "$Z" --source self --reason bereavement --date 2026-03-01 >/dev/null 2>&1
lb contact add "$Z" --mode home --minutes 45 --category health-coaching,signposting \
    --note "$NOTE" --follow-up 2026-01-20 --date 2026-01-10 >/dev/null 2>&1
lb contact add "$Z" --mode phone --minutes 15 --category psychosocial --date 2026-03-02 \
    >/dev/null 2>&1
lb goal add "$Z" "Walk to the shops twice a week" --domain mobility --target 2026-06-01 \
    >"$out" 2>/dev/null
G1=$(last_id)
lb goal add "$Z" "Join the lunch club" >"$out" 2>/dev/null
G2=$(last_id)
lb goal add "$Z" "Sort out the bills" >"$out" 2>/dev/null
G3=$(last_id)
lb goal status "$G1" achieved >/dev/null 2>&1
lb goal status "$G2" partly >/dev/null 2>&1
lb goal status "$G3" withdrawn >/dev/null 2>&1
lb measure add "$Z" ons4 --answers 4,5,3,7 >/dev/null 2>&1
lb measure add "$Z" ons4 --answers 7,8,7,2 --when review >/dev/null 2>&1
lb measure add "$Z" swemwbs --answers 3,3,3,3,3,3,3 --when review >/dev/null 2>&1
lb story add "$Z" "$STORY" --share-anonymised >/dev/null 2>&1
lb note add "$Z" "$NOTE" >/dev/null 2>&1
lb referral add "$B" --source hospital --reason mental-health --date 2026-02-01 >/dev/null 2>&1
lb contact add "$B" --mode video --minutes 30 --category mental-health --date 2026-02-03 \
    >/dev/null 2>&1
lb measure add "$B" swemwbs --answers 1,1,1,1,1,1,1 >/dev/null 2>&1
expect_exit 0 "discharge" -- lb discharge "$B" --reason "goals met"

# --- exports ------------------------------------------------------------------------
expect_exit 0 "export fhir PERSON prints a bundle on stdout" -- lb export fhir "$Z"
cp "$out" "$tmp/z-stdout.json"
expect_exit 0 "export fhir PERSON -o FILE" -- lb export fhir "$(prefix "$Z" 8)" -o "$tmp/z.json"
if [ ! -s "$out" ] && [ -s "$tmp/z.json" ]; then
    ok "with -o the bundle goes to the file, not stdout"
else
    fail "with -o the bundle goes to the file, not stdout" "$(_describe)"
fi
_mode=$(stat -c %a "$tmp/z.json" 2>/dev/null)
[ "$_mode" = 600 ] && ok "the export file is private (0600)" ||
    fail "the export file is private (0600)" "mode $_mode"
expect_exit 0 "export fhir by NHS number" -- lb export fhir 4010232137 --output "$tmp/b.json"
expect_exit 0 "export fhir of everyone" -- lb export fhir -o "$tmp/all.json"
expect_exit 0 "export fhir of a person with no record but a name" -- lb export fhir "$A" -o "$tmp/a.json"
no_leftovers "no temporary file is left beside the exports" "$tmp"

validate "every bundle validates (schema, structure, JSON rules, references, terminology)" \
    "$tmp/empty.json" "$tmp/z-stdout.json" "$tmp/z.json" "$tmp/b.json" "$tmp/all.json" "$tmp/a.json"
if [ "$(grep -c '^valid: ' "$tmp/val.out")" -eq 6 ]; then
    ok "the validators report six valid files"
else
    fail "the validators report six valid files" "$(cat "$tmp/val.out")"
fi

# --- what the bundle says -------------------------------------------------------------
# Python over a bundle: $RES is the list of its resources.
RES='[e["resource"] for e in doc["entry"]]'
expect_json "the whole store: three Patients" "$tmp/all.json" \
    "sorted(r['resourceType'] for r in $RES if r['resourceType'] == 'Patient') == ['Patient'] * 3"
expect_json "one person's bundle: only that person's resources" "$tmp/z.json" \
    "len([r for r in $RES if r['resourceType'] == 'Patient']) == 1"
expect_json "Patient: NHS number under the NHS system, name, birth date, GP, interpreter" "$tmp/z.json" \
    "[(p['identifier'], p['name'][0]['family'], p['name'][0]['given'], p['birthDate'], \
      p['generalPractitioner'][0]['identifier']['value'], p['extension'][0]['valueBoolean']) \
     for p in $RES if p['resourceType'] == 'Patient'] == \
    [([{'system': 'https://fhir.nhs.uk/Id/nhs-number', 'value': '9434765919'}], 'Quillfeather', \
      ['Zephyrine'], '1957-03-14', 'C84001', True)]"
expect_json "ServiceRequest: two referrals, SNOMED 871731000000106, dates, self-referral by the patient" \
    "$tmp/z.json" \
    "[(r['code']['coding'][0]['system'], r['code']['coding'][0]['code'], r['authoredOn'], \
       r['status'], 'reference' in r['requester']) \
      for r in $RES if r['resourceType'] == 'ServiceRequest'] == \
     [('http://snomed.info/sct', '871731000000106', '2026-01-05', 'active', False), \
      ('http://snomed.info/sct', '871731000000106', '2026-03-01', 'active', True)]"
expect_json "Encounter: each contact, class from the mode, minutes, based on the referral before it" \
    "$tmp/z.json" \
    "[(r['class']['code'], r['length']['value'], r['period']['start'], \
       [t['text'] for t in r['type']][1:], \
       [x['authoredOn'] for x in $RES if x['resourceType'] == 'ServiceRequest' and \
        'urn:uuid:' + x['id'] == r['basedOn'][0]['reference']]) \
      for r in $RES if r['resourceType'] == 'Encounter'] == \
     [('HH', 45, '2026-01-10', ['Health coaching', 'Signposting to wider services'], ['2026-01-05']), \
      ('VR', 15, '2026-03-02', ['Psychosocial support'], ['2026-03-01'])]"
expect_json "Goal: achieved, partly achieved and withdrawn map to lifecycle and achievement" "$tmp/z.json" \
    "[(g['description']['text'], g['lifecycleStatus'], g.get('achievementStatus', {}).get('text') or \
       g.get('achievementStatus', {}).get('coding', [{}])[0].get('code')) \
      for g in $RES if g['resourceType'] == 'Goal'] == \
     [('Walk to the shops twice a week', 'completed', 'achieved'), \
      ('Join the lunch club', 'completed', 'Partly achieved'), \
      ('Sort out the bills', 'cancelled', None)]"
expect_json "CarePlan: the goals, one activity per category delivered, the follow-up" "$tmp/z.json" \
    "[(len(c['goal']), [a['detail']['code']['text'] for a in c['activity']], c['period']['start']) \
      for c in $RES if c['resourceType'] == 'CarePlan'] == \
     [(3, ['Health coaching', 'Psychosocial support', 'Signposting to wider services', 'Follow-up'], \
       '2026-01-05')]"
expect_json "QuestionnaireResponse: three measures, answers by item, one Questionnaire per instrument" \
    "$tmp/z.json" \
    "[len(q['item']) for q in $RES if q['resourceType'] == 'QuestionnaireResponse'] == [4, 4, 7] and \
     len([q for q in $RES if q['resourceType'] == 'Questionnaire']) == 2"
expect_json "Observation: ONS4 items reported one by one, never summed" "$tmp/z.json" \
    "[[c['valueInteger'] for c in o['component']] for o in $RES \
      if o['resourceType'] == 'Observation' and 'valueQuantity' not in o] == [[4, 5, 3, 7], [7, 8, 7, 2]]"
expect_json "Observation: SWEMWBS metric score 19.25 from raw 21, derived from its response" "$tmp/z.json" \
    "[(o['valueQuantity']['value'], o['component'][0]['valueInteger'], \
       o['derivedFrom'][0]['reference'] in ['urn:uuid:' + q['id'] for q in $RES \
                                           if q['resourceType'] == 'QuestionnaireResponse']) \
      for o in $RES if o['resourceType'] == 'Observation' and 'valueQuantity' in o] == [(19.25, 21, True)]"
expect_json "Consent: what the person agreed to (record, share with the GP)" "$tmp/z.json" \
    "[[a['coding'][0]['code'] for a in c['provision']['action']] for c in $RES \
      if c['resourceType'] == 'Consent'] == [['collect', 'disclose']]"
expect_json "a discharged person: referral and care plan completed, SWEMWBS 7.0 from raw 7" "$tmp/b.json" \
    "[r['status'] for r in $RES if r['resourceType'] in ('ServiceRequest', 'CarePlan')] == \
     ['completed', 'completed'] and \
     [o['valueQuantity']['value'] for o in $RES if o['resourceType'] == 'Observation'] == [7.0]"
expect_json "a person with a name only: a Patient and nothing more" "$tmp/a.json" \
    "[r['resourceType'] for r in $RES] == ['Patient'] and 'identifier' not in doc['entry'][0]['resource']"
for _f in "$NOTE" "$STORY"; do
    if grep -qF "$_f" "$tmp/all.json"; then
        fail "notes and stories stay out of the export" "found: $_f"
    else
        ok "notes and stories stay out of the export"
    fi
done
if python3 -c 'import json, sys
urls = [[e["fullUrl"] for e in json.load(open(f))["entry"]] for f in sys.argv[1:]]
sys.exit(urls[0] != urls[1])' "$tmp/z.json" "$tmp/z-stdout.json"; then
    ok "the same record exported twice keeps its resource ids"
else
    fail "the same record exported twice keeps its resource ids"
fi

# --- audit ----------------------------------------------------------------------------
expect_exit 0 "audit of one person" -- lb audit --person "$Z" --json
cp "$out" "$tmp/audit-z.json"
expect_json "each export of a person is audited (stdout, file, whole store: three)" "$tmp/audit-z.json" \
    "len([e for e in doc['events'] if e['action'] == 'export']) == 3"
expect_exit 0 "audit of everyone" -- lb audit --json
cp "$out" "$tmp/audit.json"
expect_json "exporting everyone audits every person" "$tmp/audit.json" \
    "set(e['person'] for e in doc['events'] if e['action'] == 'export') == {'$Z', '$A', '$B'}"

# --- unhappy paths --------------------------------------------------------------------
printf 'an earlier export\n' >"$tmp/keep.json"
before=$(store_digest)
expect_exit 4 "an unknown person: exit 4" -- lb export fhir ffffffff -o "$tmp/none.json"
expect_stderr_has "no such record" "an unknown person is named as such"
check "an unknown person leaves no file" test ! -e "$tmp/none.json"
expect_exit 2 "a folder that does not exist: exit 2" -- lb export fhir -o "$tmp/nowhere/x.json"
expect_stderr_has "cannot write .*nowhere" "the unwritable path is named"
: >"$tmp/plain"
expect_exit 2 "a path under a plain file: exit 2" -- lb export fhir -o "$tmp/plain/x.json"
expect_exit 2 "a directory as the output file: exit 2" -- lb export fhir -o "$tmp"
expect_stderr_has "is a directory" "a directory is named as such"
expect_exit 2 "-o without a file: exit 2" -- lb export fhir -o
expect_exit 2 "two people: exit 2" -- lb export fhir "$Z" "$B"
expect_exit 2 "export without a format: exit 2" -- lb export
expect_stderr_has "fhir" "export names the formats it takes"
expect_exit 3 "a wrong passphrase: exit 3" -- \
    lbenv LINKBOOK_PASSPHRASE=wrong -- export fhir "$Z" -o "$tmp/keep.json"
if [ "$(cat "$tmp/keep.json")" = "an earlier export" ]; then
    ok "a failed export leaves the earlier file as it was"
else
    fail "a failed export leaves the earlier file as it was" "$(head -c 200 "$tmp/keep.json")"
fi
expect_unchanged "failed exports record nothing (not even an audit event)" "$before"
no_leftovers "failed exports leave no temporary file" "$tmp"

# --- the validators can fail --------------------------------------------------------
# break NAME PYTHON: a copy of z.json changed by PYTHON (r: the resources).
break_bundle() {
    python3 - "$tmp/z.json" "$tmp/broken-$1.json" "$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
r = [e["resource"] for e in doc["entry"]]
def first(t):
    return next(x for x in r if x["resourceType"] == t)
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"))
EOF
}
break_bundle unknown 'first("Encounter")["mood"] = "fine"'
reject "the schema refuses an element FHIR does not define" "schema: .*Encounter.*mood" \
    "$tmp/broken-unknown.json"
break_bundle status 'first("Goal")["lifecycleStatus"] = "finished"'
reject "a code outside a required value set is refused" "Goal.lifecycleStatus" \
    "$tmp/broken-status.json"
break_bundle missing 'del first("QuestionnaireResponse")["status"]'
reject "a missing required element is refused" "structure: .*QuestionnaireResponse.status" \
    "$tmp/broken-missing.json"
break_bundle date 'first("Patient")["birthDate"] = "14/03/1957"'
reject "a malformed date is refused" "schema: .*birthDate" "$tmp/broken-date.json"
break_bundle nhs 'first("Patient")["identifier"][0]["value"] = "9434765918"'
reject "an NHS number failing Modulus 11 is refused" "not a valid NHS number" "$tmp/broken-nhs.json"
break_bundle snomed 'first("ServiceRequest")["code"]["coding"][0]["code"] = "871711000000103"'
reject "a referral without SNOMED 871731000000106 is refused" "871731000000106" \
    "$tmp/broken-snomed.json"
break_bundle ref 'first("Encounter")["subject"]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"'
reject "a reference to nothing in the bundle is refused" "resolves to no entry" "$tmp/broken-ref.json"
break_bundle empty 'first("Goal")["target"] = []'
reject "an empty array is refused" "empty array" "$tmp/broken-empty.json"

finish
