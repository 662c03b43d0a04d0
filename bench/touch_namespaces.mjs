#!/usr/bin/env node
// Memory scenario client for Quarry's benchmarks.
//
// Creates COUNT namespaces through the admin API
//   POST /admin/v1/namespaces {"name":"ns00001"}
// and touches each one with a small Hrana pipeline on
//   POST /db/<name>/v2/pipeline
// (create a table, insert a row, select 1), with bounded concurrency. Then it
// reads the server's VmRSS / VmHWM from /proc/<pid>/status.
//
// Only node built-ins are used, so this runs without `npm ci`.
//
// Usage:
//   node touch_namespaces.mjs --url http://127.0.0.1:8080 --pid 1234 \
//        [--count 10000] [--concurrency 16] [--prefix ns] [--token T] \
//        [--timeout-s 600] [--settle-ms 1000]
// The token (also QUARRY_TOKEN / AUTH_TOKEN) is sent as "Authorization:
// Bearer <token>"; with `quarry serve --no-auth` none is needed.
//
// Last line of output (machine-readable):
//   TOUCH_RESULT namespaces=N created=N touched=N errors=N seconds=S \
//     ns_per_s=R rss_kib=K hwm_kib=K aborted=0|1

import http from 'node:http';
import fs from 'node:fs';

function parseArgs(argv) {
  const o = {
    url: 'http://127.0.0.1:8080',
    pid: 0,
    count: 10000,
    concurrency: 16,
    prefix: 'ns',
    token: process.env.QUARRY_TOKEN || process.env.AUTH_TOKEN || '',
    timeoutS: 600,
    settleMs: 1000,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    switch (a) {
      case '--url': o.url = v(); break;
      case '--pid': o.pid = Number(v()); break;
      case '--count': o.count = Number(v()); break;
      case '--concurrency': o.concurrency = Number(v()); break;
      case '--prefix': o.prefix = v(); break;
      case '--token': o.token = v(); break;
      case '--timeout-s': o.timeoutS = Number(v()); break;
      case '--settle-ms': o.settleMs = Number(v()); break;
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const base = new URL(opts.url);
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(base.hostname) &&
    !base.hostname.startsWith('127.')) {
  // Benchmarks only ever target this machine.
  console.error(`refusing non-loopback target ${base.hostname}`);
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });

function post(path, obj) {
  const body = JSON.stringify(obj);
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  };
  if (opts.token) {
    headers.Authorization = /^(Bearer|Basic) /.test(opts.token) ? opts.token : `Bearer ${opts.token}`;
  }
  return new Promise((resolve) => {
    const req = http.request({
      host: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || 80,
      method: 'POST',
      path,
      headers,
      agent,
      timeout: 30_000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, body: String(e) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e.message || e) }));
    req.end(body);
  });
}

function readStatus(pid) {
  const out = { rss: 0, hwm: 0 };
  if (!pid) return out;
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(s);
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(s);
    if (rss) out.rss = Number(rss[1]);
    if (hwm) out.hwm = Number(hwm[1]);
  } catch { /* process gone */ }
  return out;
}

const touchBody = {
  baton: null,
  requests: [
    { type: 'execute', stmt: { sql: 'CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)' } },
    { type: 'execute', stmt: { sql: 'INSERT INTO t(v) VALUES (?)', args: [{ type: 'text', value: 'hello' }] } },
    { type: 'execute', stmt: { sql: 'SELECT 1' } },
    { type: 'close' },
  ],
};

let created = 0;
let touched = 0;
let errors = 0;
let firstErrors = [];
let aborted = false;
let next = 1;
const t0 = Date.now();
const deadline = t0 + opts.timeoutS * 1000;

function noteError(what) {
  errors++;
  if (firstErrors.length < 5) firstErrors.push(what);
  // Nothing works (e.g. admin API missing): stop early instead of hammering.
  if (created + touched === 0 && errors >= 50) aborted = true;
}

async function worker() {
  while (!aborted) {
    if (Date.now() > deadline) { aborted = true; break; }
    const i = next++;
    if (i > opts.count) break;
    const name = opts.prefix + String(i).padStart(5, '0');
    const c = await post('/admin/v1/namespaces', { name });
    if ((c.status >= 200 && c.status < 300) || c.status === 409) {
      created++;
    } else {
      noteError(`create ${name}: HTTP ${c.status} ${c.body.slice(0, 200)}`);
      continue;
    }
    const r = await post(`/db/${encodeURIComponent(name)}/v2/pipeline`, touchBody);
    if (r.status === 200 && !r.body.includes('"type":"error"')) {
      touched++;
    } else {
      noteError(`touch ${name}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    }
    if (i % 1000 === 0) {
      const st = readStatus(opts.pid);
      process.stdout.write(`  ${i} namespaces, ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
        `rss ${(st.rss / 1024).toFixed(1)} MiB\n`);
    }
  }
}

await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
const seconds = (Date.now() - t0) / 1000;
agent.destroy();
await new Promise((r) => setTimeout(r, opts.settleMs));
const st = readStatus(opts.pid);
for (const e of firstErrors) process.stdout.write(`  error: ${e}\n`);
if (aborted) process.stdout.write('  aborted: first requests all failed or time limit reached\n');
process.stdout.write(
  `TOUCH_RESULT namespaces=${opts.count} created=${created} touched=${touched} errors=${errors} ` +
  `seconds=${seconds.toFixed(2)} ns_per_s=${(touched / seconds).toFixed(1)} ` +
  `rss_kib=${st.rss} hwm_kib=${st.hwm} aborted=${aborted ? 1 : 0}\n`);
