#!/usr/bin/env node
// tests/bench/pouch/bench.js - one run of PouchDB's side of `make bench`:
// PouchDB 9 replicating through pouchdb-server 4.2 on 127.0.0.1, with every
// byte and request counted by bench_proxy (tests/bench/bench_proxy.c), the
// same counting proxy that sits in front of linkbookd for linkbook's side.
//
//   node bench.js --proxy BENCH_PROXY --work DIR --n N [--changed 100]
//
// The data set is linkbook's: N visits, each a contact (home, 45 minutes,
// two categories, a date, the person) with its 600-character note, the text
// made by note_text() in tests/bench/bench_common.h (the same generator, and
// for prose the phrases read from that file, so both sides send the same
// notes): by default the reference data set's base64 of random bytes,
// with BENCH_NOTES=prose English sentences.  One PouchDB document per visit.
// Phases (client A and B on disk, leveldb; keep-alive connections, as a
// browser keeps them):
//   push      A holds N visits (written locally first, not timed) and
//             replicates to the server;
//   pull      a fresh B replicates from the server; then (not timed) B
//             replicates to and A from the server once, as devices in use have;
//   edits     100 of A's visits get a new note (local, not timed); A pushes,
//             B pulls: the round trip of 100 edits;
//   no-op     B replicates to and from the server with nothing new: what a
//             device's sync costs when nothing changed;
//   memory    a fresh node process pulls all N visits into a fresh database:
//             its peak RSS (VmHWM), the whole client process.
// Each phase: seconds, documents, requests, connections, bytes up and down
// (raw socket bytes: request lines, headers, bodies, compressed as sent).
// Prints one JSON object on stdout; progress on stderr.
//   node bench.js --pull-mem URL DIR   (the memory phase's child)
//   node bench.js --note I             (the note of visit I, to compare with note_text)
'use strict';
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const PouchDB = require('pouchdb');

function args() {
  const a = {};
  for (let i = 2; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  return a;
}

// The phrases of note_text(), read from bench_common.h so the texts cannot drift apart.
function phrases() {
  const src = fs.readFileSync(path.join(__dirname, '..', 'bench_common.h'), 'utf8');
  const block = src.match(/bench_phrases\[\] = \{([\s\S]*?)\};/);
  if (!block) throw new Error('bench_common.h: no bench_phrases');
  const list = [...block[1].matchAll(/"((?:[^"\\])*)"/g)].map((m) => m[1]);
  if (list.length < 2) throw new Error('bench_common.h: bench_phrases unreadable');
  return list;
}

const NOTE_LEN = 600;
const PROSE = process.env.BENCH_NOTES === 'prose';
const PHRASES = PROSE ? phrases() : null;

// note_random() of bench_common.h: base64 of 450 bytes from xorshift32.
function noteRandom(i) {
  const raw = Buffer.alloc((NOTE_LEN * 3) / 4);
  let x = (Math.imul(i >>> 0, 2654435761) ^ 0x9e3779b9) >>> 0;
  if (x === 0) x = 1;
  for (let k = 0; k < raw.length; k++) {
    if (k % 4 === 0) {
      x = (x ^ (x << 13)) >>> 0;
      x = (x ^ (x >>> 17)) >>> 0;
      x = (x ^ (x << 5)) >>> 0;
    }
    raw[k] = (x >>> (8 * (k % 4))) & 255;
  }
  return raw.toString('base64');
}

function noteText(i) {
  return PROSE ? noteProse(i) : noteRandom(i);
}

function noteProse(i) {
  let x = (Math.imul(i, 2654435761) + 12345) >>> 0;
  let s = `Contact ${i >>> 0}. `;
  while (s.length < NOTE_LEN) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    let p = PHRASES[(x >>> 16) % PHRASES.length];
    if (p.length + 1 > NOTE_LEN - s.length) p = p.slice(0, NOTE_LEN - s.length - 1);
    s += p;
    if (s.length < NOTE_LEN) s += ' ';
  }
  return s.slice(0, NOTE_LEN - 1) + '.';
}

const PEOPLE = Array.from({ length: 20 }, () => crypto.randomBytes(16).toString('hex'));
function visit(i) {
  return {
    _id: crypto.randomBytes(16).toString('hex'),
    type: 'contact',
    person: PEOPLE[i % PEOPLE.length],
    date: '2026-11-02',
    mode: 'home',
    minutes: 45,
    categories: 'health-coaching,signposting',
    note: noteText(i),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

function get(url) {
  return new Promise((resolve) => {
    http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); })
      .on('error', () => resolve(0));
  });
}

async function waitFor(what, fn, secs = 20) {
  const end = Date.now() + secs * 1000;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(what + ' did not start within ' + secs + ' s');
}

function vmHwmKb(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)/m);
    return m ? Number(m[1]) : 0;
  } catch (e) {
    return 0;
  }
}

const children = [];
function cleanup() { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); }

async function startServer(dir) {
  const port = await freePort();
  const bin = require.resolve('pouchdb-server/bin/pouchdb-server');
  const srv = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', String(port), '--dir', dir,
    '--no-stdout-logs', '--no-color'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(srv);
  await waitFor('pouchdb-server', async () => (await get(`http://127.0.0.1:${port}/`)) === 200);
  return { srv, port };
}

async function startProxy(proxy, port, counters) {
  const p = spawn(proxy, ['--to', `127.0.0.1:${port}`, '--counters', counters], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(p);
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const m = await waitFor('bench_proxy', async () => out.match(/listening on 127\.0\.0\.1:(\d+)/));
  return Number(m[1]);
}

function wire(counters) {
  const b = fs.readFileSync(counters);
  return {
    up: Number(b.readBigUInt64LE(0)), down: Number(b.readBigUInt64LE(8)),
    requests: Number(b.readBigUInt64LE(16)), connections: Number(b.readBigUInt64LE(24)),
  };
}

function remoteDb(url, agent) {
  return new PouchDB(url, { fetch: (u, o) => PouchDB.fetch(u, { ...o, agent }) });
}

async function pullMem(url, dir) {
  const agent = new http.Agent({ keepAlive: true });
  const db = new PouchDB(dir);
  const t0 = process.hrtime.bigint();
  const r = await db.replicate.from(remoteDb(url, agent));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = { docs: r.docs_written, secs, peak_kb: vmHwmKb('self') };
  await db.close();
  agent.destroy();
  process.stdout.write(JSON.stringify(out) + '\n');
}

async function main() {
  const a = args();
  if (a['pull-mem']) return pullMem(a['pull-mem'], process.argv[4]);
  if (a.note !== undefined) return void process.stdout.write(noteText(Number(a.note)) + '\n');
  const N = Number(a.n || 10000);
  const CHANGED = Number(a.changed || 100);
  if (!a.proxy || !a.work || !(N > CHANGED)) throw new Error('usage: bench.js --proxy PATH --work DIR --n N');
  const work = path.resolve(a.work);
  fs.mkdirSync(path.join(work, 'server'), { recursive: true });
  const { srv, port } = await startServer(path.join(work, 'server'));
  const counters = path.join(work, 'wire');
  const pport = await startProxy(a.proxy, port, counters);
  const agent = new http.Agent({ keepAlive: true });
  const url = `http://127.0.0.1:${pport}/visits`;
  const remote = remoteDb(url, agent);
  await remote.info(); // makes the database, before any phase
  const A = new PouchDB(path.join(work, 'A'));
  const B = new PouchDB(path.join(work, 'B'));
  const phases = {};
  async function phase(name, fn) {
    const w0 = wire(counters);
    const t0 = process.hrtime.bigint();
    const docs = await fn();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const w1 = wire(counters);
    phases[name] = {
      secs, docs, requests: w1.requests - w0.requests, connections: w1.connections - w0.connections,
      bytes_up: w1.up - w0.up, bytes_down: w1.down - w0.down,
    };
    process.stderr.write(`pouchdb: ${name}: ${docs} docs in ${secs.toFixed(3)} s, ` +
      `${phases[name].requests} requests, ${phases[name].bytes_up} B up, ${phases[name].bytes_down} B down\n`);
  }
  const docs = Array.from({ length: N }, (_, i) => visit(i));
  for (let i = 0; i < N; i += 1000) await A.bulkDocs(docs.slice(i, i + 1000));
  await phase('push', async () => (await A.replicate.to(remote)).docs_written);
  await phase('pull', async () => (await B.replicate.from(remote)).docs_written);
  if ((await B.info()).doc_count !== N) throw new Error('B does not hold all N visits');
  // Each device has now synced both ways once (not timed), as a device in use has.
  await B.replicate.to(remote);
  await A.replicate.from(remote);

  const ids = docs.slice(0, CHANGED).map((d) => d._id);
  const cur = (await A.allDocs({ keys: ids, include_docs: true })).rows.map((r) => r.doc);
  cur.forEach((d, k) => { d.note = noteText(N + k); });
  await A.bulkDocs(cur);
  await phase('edits_push', async () => (await A.replicate.to(remote)).docs_written);
  await phase('edits_pull', async () => (await B.replicate.from(remote)).docs_written);
  if ((await B.get(ids[0])).note !== cur[0].note) throw new Error('B did not see the edit');
  await B.replicate.to(remote); // B's push checkpoint passes the edits it pulled (not timed)
  await phase('noop', async () => (await B.replicate.to(remote)).docs_written +
    (await B.replicate.from(remote)).docs_written);

  const mem = spawnSync(process.execPath, [__filename, '--pull-mem', url, path.join(work, 'C')],
    { encoding: 'utf8', timeout: 600000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (mem.status !== 0) throw new Error('the memory child failed');
  const m = JSON.parse(mem.stdout.trim().split('\n').pop());
  if (m.docs !== N) throw new Error('the memory child pulled ' + m.docs + ' of ' + N);
  const out = {
    n: N, changed: CHANGED, node: process.version, pouchdb: require('pouchdb/package.json').version,
    pouchdb_server: require('pouchdb-server/package.json').version, keep_alive: true,
    phases, client_pull_peak_mb: m.peak_kb / 1024, client_pull_secs: m.secs,
    server_peak_mb: vmHwmKb(srv.pid) / 1024,
  };
  await A.close();
  await B.close();
  agent.destroy();
  cleanup();
  process.stdout.write(JSON.stringify(out) + '\n');
}

process.on('exit', cleanup);
main().catch((e) => { process.stderr.write('pouchdb bench: ' + (e && e.stack || e) + '\n'); cleanup(); process.exit(1); });
