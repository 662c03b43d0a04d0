// Test harness of the client's tests: starts the real `quarry serve` on a fresh data folder and
// a free 127.0.0.1 port, waits for its "listening on" line (no sleeping), and offers the admin
// API, Hrana SQL and the CLI. Every server is stopped by its test file's `after`, and killed
// when the Node process exits as a last resort.
//
// This is a small copy of the ideas of tests/compat/harness.mjs rather than an import of it:
// that one loads @libsql/client at its top, which would make these tests depend on
// tests/compat's node_modules.

import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const QUARRY_BIN = process.env.QUARRY_BIN || path.resolve(here, '../../../build/src/cli/quarry');
const HOST = '127.0.0.1';
const live = new Set();

process.on('exit', () => {
  for (const s of live) {
    try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/** A TCP port on 127.0.0.1 that was free a moment ago (and is closed now). */
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

/** Runs the quarry CLI; resolves to {code, stdout, stderr} whatever the exit code. */
export function runQuarry(args, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(QUARRY_BIN, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${QUARRY_BIN} ${args.join(' ')}: ${err.message}\nstderr: ${stderr}`));
        return;
      }
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

/** Starts `quarry serve` (with --no-auth when `noAuth`). */
// `dataDir` and `port`: restart on a folder and port a stopped (or killed) server used; the
// folder is then left for the caller to remove.
export async function startServer({ noAuth = false, startTimeoutMs = 20000, dataDir: existingDir, port: fixedPort, args: extraArgs = [] } = {}) {
  if (!existsSync(QUARRY_BIN)) {
    throw new Error(`quarry binary not found at ${QUARRY_BIN} (build it, or set QUARRY_BIN)`);
  }
  const dataDir = existingDir ?? await mkdtemp(path.join(tmpdir(), 'quarry-js-client-'));
  const port = fixedPort ?? await freePort();
  const listen = `${HOST}:${port}`;
  const args = ['serve', '--listen', listen, '--data', dataDir, ...(noAuth ? ['--no-auth'] : []), ...extraArgs];
  const proc = spawn(QUARRY_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const server = { proc, port, dataDir, ownsDataDir: existingDir === undefined, origin: `http://${listen}`, get output() { return output; } };
  live.add(server);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no "listening on ${listen}" within ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    const onData = (chunk) => {
      output += chunk.toString();
      if (output.includes(`listening on ${listen}`)) done();
    };
    const onExit = (code, signal) => done(new Error(`quarry serve exited early (${code ?? signal}):\n${output}`));
    function done(error) {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      proc.stdout.on('data', (c) => { output += c.toString(); });
      if (error) reject(error); else resolve();
    }
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (c) => { output += c.toString(); });
    proc.on('exit', onExit);
  }).catch(async (error) => {
    await stopServer(server);
    throw error;
  });

  /** A token signed with this server's key: `quarry token create --data DIR ...args`. */
  server.token = async (...tokenArgs) => {
    const r = await runQuarry(['token', 'create', '--data', dataDir, ...tokenArgs]);
    if (r.code !== 0) throw new Error(`token create ${tokenArgs.join(' ')}: ${r.stderr}`);
    return r.stdout.trim().split(/\s+/).pop();
  };
  server.adminToken = noAuth ? undefined : await server.token('--access', 'admin');
  server.request = async (method, p, body, token = server.adminToken) => {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const resp = await fetch(server.origin + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await resp.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: resp.status, text, json };
  };
  server.createNamespace = async (name) => {
    const r = await server.request('POST', '/admin/v1/namespaces', { name });
    if (r.status !== 201) throw new Error(`create namespace ${name}: HTTP ${r.status} ${r.text}`);
  };
  /** Runs SQL statements in namespace `ns` over Hrana (POST /db/<ns>/v2/pipeline), in order. */
  server.sql = async (ns, ...statements) => {
    const requests = statements.map((sql) => ({ type: 'execute', stmt: { sql } }));
    const r = await server.request('POST', `/db/${ns}/v2/pipeline`, { requests: [...requests, { type: 'close' }] });
    if (r.status !== 200) throw new Error(`pipeline on ${ns}: HTTP ${r.status} ${r.text}`);
    r.json.results.forEach((res, i) => {
      if (res.type !== 'ok') throw new Error(`${statements[i] ?? 'close'}: ${JSON.stringify(res)}`);
    });
    return r.json.results.slice(0, statements.length).map((res) => res.response.result);
  };
  server.stop = () => stopServer(server);
  return server;
}

export async function stopServer(server) {
  if (!live.has(server)) return;
  live.delete(server);
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
