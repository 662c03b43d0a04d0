// Test harness for the Quarry Node compatibility suite.
//
// Starts a Quarry server on a fresh temporary data directory and a free
// loopback port, mints tokens with the `quarry token create` CLI, and offers
// small helpers for the admin API and for raw Hrana-over-HTTP requests.
// Every server started here is killed when its test file ends (and, as a last
// resort, when the Node process exits).

import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { createClient } from '@libsql/client';

export const QUARRY_BIN =
  process.env.QUARRY_BIN || path.resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname,
    '../../build/src/cli/quarry');

const HOST = '127.0.0.1';
// The transport the suite's clients use: 'http' (Hrana over HTTP), 'ws' (Hrana over
// WebSocket), or over TLS 'https', 'wss' and 'libsql' (a libsql:// URL, which @libsql/client
// maps to https). `npm test` runs the client tests once with each (see package.json). The TLS
// transports are run through tls_run.mjs, which makes the certificate and trusts its CA.
export const TRANSPORT = process.env.QUARRY_COMPAT_TRANSPORT || 'http';
if (!['http', 'ws', 'https', 'wss', 'libsql'].includes(TRANSPORT)) {
  throw new Error(`QUARRY_COMPAT_TRANSPORT must be http, ws, https, wss or libsql, not ${TRANSPORT}`);
}
// The servers speak TLS: started with --tls-cert/--tls-key from tls_run.mjs.
export const TLS = ['https', 'wss', 'libsql'].includes(TRANSPORT);
// What @libsql/client reports as its `protocol` for TRANSPORT.
export const CLIENT_PROTOCOL = ['ws', 'wss'].includes(TRANSPORT) ? 'ws' : 'http';
const TLS_FILES = TLS ? {
  cert: process.env.QUARRY_COMPAT_TLS_CERT,
  key: process.env.QUARRY_COMPAT_TLS_KEY,
} : undefined;
if (TLS && (!TLS_FILES.cert || !TLS_FILES.key || !process.env.NODE_EXTRA_CA_CERTS)) {
  throw new Error(`QUARRY_COMPAT_TRANSPORT=${TRANSPORT} needs QUARRY_COMPAT_TLS_CERT, QUARRY_COMPAT_TLS_KEY and NODE_EXTRA_CA_CERTS: run it through tls_run.mjs`);
}
const liveServers = new Set();

process.on('exit', () => {
  for (const s of liveServers) {
    try { s.proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(bin, args, { timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/**
 * Starts `quarry serve`. Options:
 *   noAuth: pass --no-auth
 *   args: extra CLI arguments (e.g. ['--txn-timeout-ms', '500'])
 *   dataDir: reuse an existing data folder (it is then NOT deleted on stop)
 */
// `port`: listen there (a restarted server keeping its clients' URLs); omitted: a free one.
export async function startServer({ noAuth = false, args = [], startTimeoutMs = 20000, dataDir: existingDir, port: fixedPort } = {}) {
  if (!existsSync(QUARRY_BIN)) {
    throw new Error(`Quarry binary not found at ${QUARRY_BIN} (set QUARRY_BIN)`);
  }
  const dataDir = existingDir ?? await mkdtemp(path.join(tmpdir(), 'quarry-compat-'));
  const port = fixedPort ?? await freePort();
  const listen = `${HOST}:${port}`;
  const tlsArgs = TLS ? ['--tls-cert', TLS_FILES.cert, '--tls-key', TLS_FILES.key] : [];
  const fullArgs = ['serve', '--listen', listen, '--data', dataDir, ...(noAuth ? ['--no-auth'] : []), ...tlsArgs, ...args];
  const proc = spawn(QUARRY_BIN, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const server = {
    proc, port, dataDir, noAuth, ownsDataDir: existingDir === undefined,
    origin: `${TLS ? 'https' : 'http'}://${listen}`,
    // Where the libSQL clients point: http://, ws://, https://, wss:// or libsql:// after
    // TRANSPORT.
    clientOrigin: `${TRANSPORT}://${listen}`,
    get output() { return output; },
  };
  liveServers.add(server);
  proc.on('exit', (code, signal) => { server.exited = { code, signal }; });

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`server did not report "listening on ${listen}" within ${startTimeoutMs} ms; output:\n${output}`));
    }, startTimeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      if (output.includes(`listening on ${listen}`)) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`server exited early (code ${code}, signal ${signal}); args ${fullArgs.join(' ')}; output:\n${output}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      // Keep draining output so the child never blocks on a full pipe.
      proc.stdout.on('data', (c) => { output += c.toString(); });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (c) => { output += c.toString(); });
    proc.on('exit', onExit);
  });
  try {
    await ready;
  } catch (err) {
    await stopServer(server);
    throw err;
  }
  try {
    server.adminToken = noAuth ? undefined : await cliToken(dataDir, { access: 'admin' });
  } catch (err) {
    await stopServer(server);
    throw err;
  }

  /** Mint a token through the CLI. */
  server.token = (opts) => cliToken(dataDir, opts);
  /** libsql client for namespace `ns` (undefined = root URL → "default"), over TRANSPORT. */
  server.client = (ns, opts = {}) => {
    const url = ns === undefined ? `${server.clientOrigin}/` : `${server.clientOrigin}/db/${ns}/`;
    const authToken = 'authToken' in opts ? opts.authToken : server.adminToken;
    return createClient({ url, ...opts, authToken });
  };
  // token: omitted → admin token; null → no Authorization header.
  server.admin = (method, p, body, token) =>
    adminRequest(server, method, p, body, token === undefined ? server.adminToken : token);
  server.createNamespace = async (name) => {
    const r = await server.admin('POST', '/admin/v1/namespaces', { name });
    if (r.status !== 201) throw new Error(`create namespace ${name}: HTTP ${r.status} ${r.text}`);
  };
  server.deleteNamespace = async (name) => {
    const r = await server.admin('DELETE', `/admin/v1/namespaces/${name}`);
    if (r.status !== 200) throw new Error(`delete namespace ${name}: HTTP ${r.status} ${r.text}`);
  };
  // The public key lives in <data>/keys/ (current layout) or directly in <data>/.
  server.publicKeyPem = async () => {
    for (const p of [path.join(dataDir, 'keys', 'jwt_ed25519.pub.pem'), path.join(dataDir, 'jwt_ed25519.pub.pem')]) {
      if (existsSync(p)) return readFile(p, 'utf8');
    }
    throw new Error(`no jwt_ed25519.pub.pem under ${dataDir}`);
  };
  // Re-signs `token` with the server's own key after `change` edits its claims: a token from
  // the past (an `exp` already gone by) without waiting for time to pass.
  server.resign = async (token, change) => {
    const [, body] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    change(claims);
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const key = crypto.createPrivateKey(await readFile(path.join(dataDir, 'keys', 'jwt_ed25519.pem'), 'utf8'));
    const signature = crypto.sign(null, Buffer.from(`${header}.${payload}`), key).toString('base64url');
    return `${header}.${payload}.${signature}`;
  };
  server.stop = () => stopServer(server);
  server.alive = () => server.exited === undefined;
  return server;
}

export async function stopServer(server) {
  if (!liveServers.has(server)) return;
  liveServers.delete(server);
  const { proc } = server;
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  if (server.ownsDataDir) await rm(server.dataDir, { recursive: true, force: true });
}

/**
 * Kills `server` with SIGKILL (no shutdown of its own), runs `whileDown` if given, and starts it
 * again on the same port and data folder with `args`: the restarted server, which owns the folder.
 */
export async function restartAfterKill(server, { args = [], whileDown } = {}) {
  const { dataDir, port } = server;
  server.proc.kill('SIGKILL');
  if (server.exited === undefined) {
    await new Promise((resolve) => server.proc.once('exit', resolve));
  }
  server.ownsDataDir = false;  // the restarted server takes the folder over
  await stopServer(server);
  if (whileDown) await whileDown();
  const restarted = await startServer({ dataDir, port, args });
  restarted.ownsDataDir = true;
  return restarted;
}

/** Runs `quarry token create --data DIR ...` and returns the token. */
export async function cliToken(dataDir, { access = 'admin', db, expiresIn } = {}) {
  const args = ['token', 'create', '--data', dataDir, '--access', access];
  if (db !== undefined) args.push('--db', db);
  if (expiresIn !== undefined) args.push('--expires-in', String(expiresIn));
  const { stdout } = await run(QUARRY_BIN, args);
  const token = stdout.trim().split(/\s+/).pop();
  if (!token || token.split('.').length !== 3) {
    throw new Error(`token create printed something that is not a JWT: ${JSON.stringify(stdout)}`);
  }
  return token;
}

async function adminRequest(server, method, p, body, token) {
  const headers = {};
  if (token !== null && token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const resp = await fetch(server.origin + p, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parseResponse(resp);
}

async function parseResponse(resp) {
  const text = await resp.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: resp.status, headers: resp.headers, contentType: resp.headers.get('content-type'), text, json };
}

/**
 * Raw Hrana pipeline request. `body` is an object (JSON-encoded) or a
 * string/Buffer (sent verbatim). Options: ns (uses /db/<ns>/ prefix), token
 * (omitted → admin token, null → no Authorization header), version
 * ('v2' | 'v3'), headers (applied last), endpoint ('pipeline' | 'cursor').
 */
export async function hrana(server, body, { ns, token, version = 'v2', headers = {}, endpoint = 'pipeline' } = {}) {
  const prefix = ns === undefined ? '' : `/db/${ns}`;
  const tok = token === undefined ? server.adminToken : token;
  const h = { 'content-type': 'application/json' };
  if (tok !== null && tok !== undefined) h.authorization = `Bearer ${tok}`;
  Object.assign(h, headers);
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const resp = await fetch(`${server.origin}${prefix}/${version}/${endpoint}`, { method: 'POST', headers: h, body: payload });
  return parseResponse(resp);
}

// ---- Hrana JSON builders -------------------------------------------------

export function stmt(sql, args = [], extra = {}) {
  return { sql, args: args.map(val), named_args: [], want_rows: true, ...extra };
}
export function exec(sql, args = [], extra = {}) {
  return { type: 'execute', stmt: stmt(sql, args, extra) };
}
export const close = { type: 'close' };

/** JS value → Hrana JSON value (bigint → integer, number → float). */
export function val(v) {
  if (v === null) return { type: 'null' };
  if (typeof v === 'bigint') return { type: 'integer', value: String(v) };
  if (typeof v === 'number') return { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'text', value: v };
  if (v instanceof Uint8Array) return { type: 'blob', base64: Buffer.from(v).toString('base64') };
  if (typeof v === 'object' && v.type) return v; // already a Hrana value
  throw new TypeError(`cannot encode ${v}`);
}

/** Asserts a pipeline response is HTTP 200 and every result is ok; returns results. */
export function okResults(r) {
  if (r.status !== 200 || !r.json || !Array.isArray(r.json.results)) {
    throw new Error(`expected a 200 pipeline response, got HTTP ${r.status}: ${r.text}`);
  }
  for (const [i, res] of r.json.results.entries()) {
    if (res.type !== 'ok') throw new Error(`result ${i} is not ok: ${JSON.stringify(res)}`);
  }
  return r.json.results;
}

/** Runs one SQL statement over a fresh stream and returns the StmtResult. */
export async function query1(server, sql, args = [], opts = {}) {
  const r = await hrana(server, { requests: [exec(sql, args), close] }, opts);
  return okResults(r)[0].response.result;
}

/**
 * Raw HTTP request with node:http (used for oversized bodies, where the
 * server may answer before reading everything and then close the socket).
 */
export function rawRequest(server, { method = 'POST', path: p = '/', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = (TLS ? https : http).request({ host: HOST, port: server.port, method, path: p, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: data }));
      res.on('error', reject);
    });
    let gotResponse = false;
    req.on('response', () => { gotResponse = true; });
    req.on('error', (err) => {
      // EPIPE/ECONNRESET while still sending is fine if a response arrived.
      if (!gotResponse) reject(err);
    });
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      req.end(body);
    } else {
      // body = { chunk: Buffer, times: n } streamed without buffering it all.
      let i = 0;
      const write = () => {
        while (i < body.times) {
          i += 1;
          if (!req.write(body.chunk)) { req.once('drain', write); return; }
        }
        req.end();
      };
      write();
    }
  });
}

/** Decodes a JWT's (header, payload) without verifying. */
export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

export function b64url(obj) {
  return Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)).toString('base64url');
}
