// Baseline for Quarry's benchmarks: the server people actually run when they
// want "SQLite over HTTP" without a dedicated engine — one Node.js process,
// node:http, better-sqlite3, one database file.
//
// It answers the Hrana-over-HTTP requests the benchmarks use
// (POST /v2/pipeline with execute / batch / sequence / close requests) with
// the same JSON shape Quarry returns, so wrk scripts and the seeding code are
// identical for both servers.
//
// Usage:
//   node server.mjs [--port N] [--host H] [--db PATH] [--durable]
// Environment fallbacks: PORT, HOST, BASELINE_DB, BASELINE_DURABLE=1.
//
// Durability: WAL mode with synchronous=NORMAL by default (a commit is not
// fsynced; the WAL is fsynced at checkpoints), synchronous=FULL with
// --durable (one fsync of the WAL per commit).
//
// Deliberate simplifications (none of them affect the benchmarked paths):
// * batons are not supported: every pipeline is its own stream, the response
//   baton is always null, and a transaction left open at the end of a
//   pipeline is rolled back;
// * stored SQL (store_sql / sql_id) and describe are not implemented;
// * rows_read counts rows returned and rows_written rows changed (as Quarry
//   reports them), not sqlite3_stmt_status counters.

import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

// ---------------------------------------------------------------- options --

function parseArgs(argv) {
  const opts = {
    port: Number(process.env.PORT || 8081),
    host: process.env.HOST || '127.0.0.1',
    db: process.env.BASELINE_DB || '',
    durable: process.env.BASELINE_DURABLE === '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--port') opts.port = Number(next());
    else if (a.startsWith('--port=')) opts.port = Number(a.slice(7));
    else if (a === '--host') opts.host = next();
    else if (a.startsWith('--host=')) opts.host = a.slice(7);
    else if (a === '--db') opts.db = next();
    else if (a.startsWith('--db=')) opts.db = a.slice(5);
    else if (a === '--durable') opts.durable = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node server.mjs [--port N] [--host H] [--db PATH] [--durable]\n');
      process.exit(0);
    } else if (/^\d+$/.test(a)) opts.port = Number(a);
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new Error(`bad port: ${opts.port}`);
  }
  if (!opts.db) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-baseline-'));
    opts.db = path.join(dir, 'baseline.db');
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// --------------------------------------------------------------- database --

const db = new Database(opts.db);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${opts.durable ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 5000');
db.defaultSafeIntegers(true); // INTEGER columns come back as BigInt

// Prepared-statement cache keyed by SQL text, bounded (insertion-ordered Map
// used as an LRU). Any reasonable hand-written server does this.
const STMT_CACHE_MAX = 256;
const stmtCache = new Map();

function prepare(sql) {
  let stmt = stmtCache.get(sql);
  if (stmt !== undefined) {
    stmtCache.delete(sql);
    stmtCache.set(sql, stmt);
    return stmt;
  }
  stmt = db.prepare(sql);
  stmtCache.set(sql, stmt);
  if (stmtCache.size > STMT_CACHE_MAX) {
    stmtCache.delete(stmtCache.keys().next().value);
  }
  return stmt;
}

// ------------------------------------------------------------ hrana values --

class ProtoError extends Error {}

function decodeValue(v) {
  if (v === null || typeof v !== 'object') {
    throw new ProtoError('value must be an object');
  }
  switch (v.type) {
    case 'null':
      return null;
    case 'integer': {
      const s = v.value;
      if (typeof s === 'string') {
        if (!/^-?\d+$/.test(s)) throw new ProtoError(`invalid integer: ${s}`);
        const b = BigInt(s);
        if (b > 9223372036854775807n || b < -9223372036854775808n) {
          throw new ProtoError(`integer out of range: ${s}`);
        }
        return b;
      }
      if (typeof s === 'number' && Number.isInteger(s)) return BigInt(s);
      throw new ProtoError('integer value must be a decimal string');
    }
    case 'float':
      if (typeof v.value !== 'number') throw new ProtoError('float value must be a number');
      return v.value;
    case 'text':
      if (typeof v.value !== 'string') throw new ProtoError('text value must be a string');
      return v.value;
    case 'blob':
      if (typeof v.base64 !== 'string') throw new ProtoError('blob value needs base64');
      return Buffer.from(v.base64, 'base64');
    default:
      throw new ProtoError(`unknown value type: ${v.type}`);
  }
}

function encodeValue(x) {
  if (x === null || x === undefined) return { type: 'null' };
  switch (typeof x) {
    case 'bigint':
      return { type: 'integer', value: x.toString() };
    case 'number':
      // REAL column values (integers come back as BigInt, see defaultSafeIntegers).
      return { type: 'float', value: Number.isFinite(x) ? x : null };
    case 'string':
      return { type: 'text', value: x };
    default:
      if (Buffer.isBuffer(x)) {
        return { type: 'blob', base64: x.toString('base64') };
      }
      return { type: 'text', value: String(x) };
  }
}

// ------------------------------------------------------------- statements --

function sqliteError(e) {
  const err = { message: String(e && e.message ? e.message : e) };
  if (e && typeof e.code === 'string') err.code = e.code;
  return err;
}

function bindParams(s) {
  const args = s.args;
  const named = s.named_args;
  const hasArgs = Array.isArray(args) && args.length > 0;
  const hasNamed = Array.isArray(named) && named.length > 0;
  if (!hasArgs && !hasNamed) return null;
  const positional = hasArgs ? args.map(decodeValue) : [];
  if (!hasNamed) return positional;
  const obj = {};
  for (const na of named) {
    if (!na || typeof na.name !== 'string') throw new ProtoError('named arg needs a name');
    // better-sqlite3 takes names without the prefix character (: @ $).
    const name = /^[:@$]/.test(na.name) ? na.name.slice(1) : na.name;
    obj[name] = decodeValue(na.value);
  }
  return positional.length ? [...positional, obj] : [obj];
}

// sqlite3_last_insert_rowid() of the connection, as Quarry reports it after
// every statement. better-sqlite3 returns it from run(); a read-only
// statement cannot change it.
let lastInsertRowid = 0n;

// Runs one Hrana statement; returns a StmtResult or throws.
function executeStmt(s) {
  if (!s || typeof s.sql !== 'string') {
    throw new ProtoError(s && s.sql_id !== undefined
      ? 'stored SQL (sql_id) is not supported by the baseline'
      : 'stmt.sql must be a string');
  }
  const t0 = performance.now();
  const stmt = prepare(s.sql);
  const params = bindParams(s);
  const wantRows = s.want_rows !== false;
  let cols = [];
  let rows = [];
  let affected = 0;
  if (stmt.reader) {
    stmt.raw(true);
    const raw = params ? stmt.all(...params) : stmt.all();
    stmt.raw(false);
    const colInfo = stmt.columns();
    cols = colInfo.map((c) => ({ name: c.name, decltype: c.type }));
    if (wantRows) {
      rows = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const r = raw[i];
        const out = new Array(r.length);
        for (let j = 0; j < r.length; j++) out[j] = encodeValue(r[j]);
        rows[i] = out;
      }
    }
    if (!stmt.readonly) {
      // e.g. INSERT ... RETURNING: one changed row per returned row.
      affected = raw.length;
      lastInsertRowid = prepare('SELECT last_insert_rowid()').pluck().get();
    }
    const dt = performance.now() - t0;
    return {
      cols,
      rows,
      affected_row_count: affected,
      last_insert_rowid: lastInsertRowid.toString(),
      rows_read: raw.length,
      rows_written: stmt.readonly ? 0 : raw.length,
      query_duration_ms: Math.round(dt * 1000) / 1000,
    };
  }
  const info = params ? stmt.run(...params) : stmt.run();
  affected = stmt.readonly ? 0 : info.changes;
  lastInsertRowid = info.lastInsertRowid;
  const dt = performance.now() - t0;
  return {
    cols,
    rows,
    affected_row_count: affected,
    last_insert_rowid: lastInsertRowid.toString(),
    rows_read: 0,
    rows_written: affected,
    query_duration_ms: Math.round(dt * 1000) / 1000,
  };
}

function evalCond(c, results, errors) {
  if (!c || typeof c !== 'object') throw new ProtoError('bad batch condition');
  switch (c.type) {
    case 'ok':
      return results[c.step] !== null && results[c.step] !== undefined;
    case 'error':
      return errors[c.step] !== null && errors[c.step] !== undefined;
    case 'not':
      return !evalCond(c.cond, results, errors);
    case 'and':
      return (c.conds || []).every((x) => evalCond(x, results, errors));
    case 'or':
      return (c.conds || []).some((x) => evalCond(x, results, errors));
    case 'is_autocommit':
      return !db.inTransaction;
    default:
      throw new ProtoError(`unknown condition type: ${c.type}`);
  }
}

function executeBatch(batch) {
  if (!batch || !Array.isArray(batch.steps)) throw new ProtoError('batch.steps must be an array');
  const n = batch.steps.length;
  const results = new Array(n).fill(null);
  const errors = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    const step = batch.steps[i];
    if (step.condition != null && !evalCond(step.condition, results, errors)) continue;
    try {
      results[i] = executeStmt(step.stmt);
    } catch (e) {
      if (e instanceof ProtoError) throw e;
      errors[i] = sqliteError(e);
    }
  }
  return { step_results: results, step_errors: errors };
}

function handleRequest(req) {
  if (!req || typeof req !== 'object') throw new ProtoError('request must be an object');
  switch (req.type) {
    case 'execute':
      return { type: 'execute', result: executeStmt(req.stmt) };
    case 'batch':
      return { type: 'batch', result: executeBatch(req.batch) };
    case 'sequence':
      if (typeof req.sql !== 'string') throw new ProtoError('sequence needs sql');
      db.exec(req.sql);
      return { type: 'sequence' };
    case 'get_autocommit':
      return { type: 'get_autocommit', is_autocommit: !db.inTransaction };
    case 'close':
      return { type: 'close' };
    default:
      throw new ProtoError(`unsupported request type: ${req.type}`);
  }
}

function runPipeline(body) {
  if (!body || typeof body !== 'object' || !Array.isArray(body.requests)) {
    throw new ProtoError('body must be {"baton":..., "requests":[...]}');
  }
  if (body.baton !== null && body.baton !== undefined) {
    throw new ProtoError('batons are not supported by the baseline');
  }
  const results = [];
  for (const r of body.requests) {
    try {
      results.push({ type: 'ok', response: handleRequest(r) });
    } catch (e) {
      if (e instanceof ProtoError) throw e;
      results.push({ type: 'error', error: sqliteError(e) });
    }
  }
  // No batons: a transaction must not outlive its pipeline.
  if (db.inTransaction) {
    try { db.exec('ROLLBACK'); } catch { /* already gone */ }
  }
  return { baton: null, base_url: null, results };
}

// ------------------------------------------------------------------- http --

const MAX_BODY = 16 * 1024 * 1024;

function send(res, status, obj) {
  const body = typeof obj === 'string' ? obj : JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': typeof obj === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

const PIPELINE_PATH = /^(?:\/db\/[^/]+)?\/v[23]\/pipeline$/;

const server = http.createServer((req, res) => {
  const url = req.url.split('?', 1)[0];
  if (req.method === 'GET' && (url === '/health' || url === '/v2' || url === '/v3')) {
    send(res, 200, 'ok');
    return;
  }
  if (req.method !== 'POST' || !PIPELINE_PATH.test(url)) {
    send(res, 404, { error: 'not found' });
    return;
  }
  const chunks = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) { tooBig = true; return; }
    chunks.push(c);
  });
  req.on('end', () => {
    if (tooBig) { send(res, 413, { error: 'request body too large' }); return; }
    let body;
    try {
      body = JSON.parse(chunks.length === 1 ? chunks[0].toString('utf8')
                                            : Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      send(res, 400, { error: `invalid JSON: ${e.message}` });
      return;
    }
    let out;
    try {
      out = runPipeline(body);
    } catch (e) {
      if (db.inTransaction) { try { db.exec('ROLLBACK'); } catch { /* ignore */ } }
      send(res, 400, { error: String(e.message || e) });
      return;
    }
    send(res, 200, out);
  });
});

server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

server.listen(opts.port, opts.host, () => {
  const addr = server.address();
  process.stdout.write(
    `baseline listening on ${addr.address}:${addr.port} db=${opts.db} ` +
    `synchronous=${opts.durable ? 'FULL' : 'NORMAL'} pid=${process.pid}\n`);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  try { db.close(); } catch { /* ignore */ }
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
