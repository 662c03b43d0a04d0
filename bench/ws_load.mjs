#!/usr/bin/env node
// WebSocket load client for Quarry's benchmarks: point selects over Hrana 3 (JSON), pipelined.
//
// Opens CONNECTIONS sockets to a loopback ws:// URL with subprotocol `hrana3`; on each it sends
// `hello` (jwt: the token or null) and `open_stream` (stream 1), then keeps DEPTH `execute`
// requests outstanding on that stream:
//   SELECT id, v FROM kv WHERE id = ?      (id random in 1..ROWS, want_rows)
// sending a new one whenever one is answered. An answer counts as a success when it is a
// `response_ok` holding one row whose id is the one asked for; anything else (a
// `response_error`, no row, another row) is a Hrana error. After DURATION seconds no new
// request is sent, the outstanding ones are awaited (10 s at most; the rest count as socket
// errors, like wrk's timeouts), and the sockets are closed with 1000.
//
// Every answer to a request sent in the measured window is counted, so the server's CPU time
// over the run divides by the requests it really served; rps = those requests / the time from
// the first measured request to the last answer. With --warmup, the first seconds of load are
// not counted (bench/run.sh runs its warm-up as a separate invocation instead, so the server's
// CPU of the warm-up stays out of its measurement window too).
//
// Uses the `ws` package from bench/baseline (npm ci there).
//
// Usage:
//   node bench/ws_load.mjs --url ws://127.0.0.1:8080 [--connections 64] [--depth 8] \
//        [--duration 10] [--rows 10000] [--token T] [--warmup 0]
// --rows defaults to KV_ROWS (as in bench/wrk/point_select.lua), the token to QUARRY_TOKEN /
// AUTH_TOKEN. Loopback addresses only.
//
// Last line of output, in the wrk scripts' format (bench/wrk/common.lua):
//   BENCH_RESULT requests=N duration_s=S rps=R p50_ms=.. p99_ms=.. max_ms=.. non200=0 \
//     hrana_errors=N socket_errors=N
// Exit status: 0 when the load ran (whatever the errors), 2 on bad arguments or a missing
// `ws` module.

import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

function usage(msg) {
  process.stderr.write(`ws_load: ${msg}\n` +
    'usage: node bench/ws_load.mjs --url ws://127.0.0.1:PORT [--connections N] [--depth N] ' +
    '[--duration S] [--rows N] [--token T] [--warmup S]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    url: '',
    connections: 64,
    depth: 8,
    duration: 10,
    rows: Number(process.env.KV_ROWS || 10000),
    token: process.env.QUARRY_TOKEN || process.env.AUTH_TOKEN || '',
    warmup: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      return argv[++i];
    };
    switch (a) {
      case '--url': o.url = v(); break;
      case '--connections': o.connections = Number(v()); break;
      case '--depth': o.depth = Number(v()); break;
      case '--duration': o.duration = Number(v()); break;
      case '--rows': o.rows = Number(v()); break;
      case '--token': o.token = v(); break;
      case '--warmup': o.warmup = Number(v()); break;
      case '-h': case '--help': usage('help'); break;
      default: usage(`unknown argument: ${a}`);
    }
  }
  for (const k of ['connections', 'depth', 'rows']) {
    if (!Number.isInteger(o[k]) || o[k] < 1) usage(`--${k} must be a positive integer`);
  }
  if (!(o.duration > 0) || o.duration > 3600) usage('--duration must be in (0, 3600] seconds');
  if (!(o.warmup >= 0) || o.warmup > 3600) usage('--warmup must be in [0, 3600] seconds');
  if (!o.url) usage('--url is required');
  let u;
  try { u = new URL(o.url); } catch { usage(`not a URL: ${o.url}`); }
  if (u.protocol !== 'ws:') usage(`only ws:// URLs: ${o.url}`);
  // Load goes to this machine only.
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== 'localhost' && host !== '::1') {
    usage(`refusing a non-loopback host: ${u.hostname}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));

let WebSocket;
try {
  const require = createRequire(new URL('./baseline/package.json', import.meta.url));
  WebSocket = require('ws');
} catch (e) {
  process.stderr.write(`ws_load: cannot load the ws package (run npm ci in bench/baseline): ${e.message}\n`);
  process.exit(2);
}

const STREAM = 1;
const prefix = `{"type":"execute","stream_id":${STREAM},"stmt":{"sql":"SELECT id, v FROM kv WHERE id = ?",` +
  '"args":[{"type":"integer","value":"';
const suffix = '"}],"want_rows":true}}';

// State shared by all connections.
let phase = 'connect'; // connect -> warmup -> measure -> drain -> done
let t0 = 0; // start of the measured window (performance.now(), ms)
let tLast = 0; // last counted answer
let answered = 0; // answers to measured requests, good or not
let ok = 0;
let hranaErrors = 0;
let socketErrors = 0;
let outstandingTotal = 0;
let lat = new Float64Array(1 << 16);
let nLat = 0;
const firstErrors = [];

function noteError(kind, text) {
  if (firstErrors.length < 5) firstErrors.push(`${kind}: ${text}`);
}

function recordLatency(ms) {
  if (nLat === lat.length) {
    const n = new Float64Array(lat.length * 2);
    n.set(lat);
    lat = n;
  }
  lat[nLat++] = ms;
}

class Conn {
  constructor(index) {
    this.index = index;
    this.nextId = 1;
    this.pending = new Map(); // request_id -> [sentAt, id, counted]
    this.ready = false;
    this.closed = false;
    this.ws = new WebSocket(opts.url, ['hrana3'], { perMessageDeflate: false, handshakeTimeout: 10000 });
    this.ws.on('open', () => this.onOpen());
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('error', (e) => {
      socketErrors++;
      noteError('socket', e.message);
    });
    this.ws.on('close', (code, reason) => this.onClose(code, reason));
  }

  onOpen() {
    if (this.ws.protocol !== 'hrana3') {
      socketErrors++;
      noteError('socket', `subprotocol '${this.ws.protocol}' negotiated, not hrana3`);
      this.ws.close(1000);
      return;
    }
    this.ws.send(JSON.stringify({ type: 'hello', jwt: opts.token || null }));
    this.openId = this.nextId++;
    this.ws.send(`{"type":"request","request_id":${this.openId},"request":{"type":"open_stream","stream_id":${STREAM}}}`);
  }

  send() {
    const rid = this.nextId++;
    const id = 1 + Math.floor(Math.random() * opts.rows);
    const now = performance.now();
    this.pending.set(rid, [now, id, phase === 'measure']);
    outstandingTotal++;
    this.ws.send(`{"type":"request","request_id":${rid},"request":${prefix}${id}${suffix}}`);
  }

  fill() {
    while (phase !== 'drain' && phase !== 'done' && this.ready && !this.closed && this.pending.size < opts.depth) {
      this.send();
    }
  }

  onMessage(data, isBinary) {
    if (phase === 'closing' || phase === 'done') return; // close_stream's answer
    let m;
    try {
      m = JSON.parse(isBinary ? Buffer.from(data).toString('utf8') : data.toString());
    } catch (e) {
      hranaErrors++;
      noteError('hrana', `unparsable message: ${e.message}`);
      return;
    }
    if (m.type === 'hello_ok') return;
    if (m.type === 'hello_error') {
      hranaErrors++;
      noteError('hrana', `hello_error: ${JSON.stringify(m.error)}`);
      return;
    }
    if (m.type !== 'response_ok' && m.type !== 'response_error') {
      hranaErrors++;
      noteError('hrana', `unexpected message: ${JSON.stringify(m).slice(0, 200)}`);
      return;
    }
    const rid = m.request_id;
    if (rid === this.openId && !this.ready) {
      if (m.type !== 'response_ok') {
        hranaErrors++;
        noteError('hrana', `open_stream: ${JSON.stringify(m.error)}`);
        this.ws.close(1000);
        return;
      }
      this.ready = true;
      if (phase !== 'connect') this.fill();
      else connected();
      return;
    }
    const p = this.pending.get(rid);
    if (p === undefined) {
      hranaErrors++;
      noteError('hrana', `answer to unknown request_id ${rid}: ${JSON.stringify(m).slice(0, 200)}`);
      return;
    }
    this.pending.delete(rid);
    outstandingTotal--;
    const now = performance.now();
    if (p[2]) {
      let good = false;
      if (m.type === 'response_ok') {
        const rows = m.response && m.response.result && m.response.result.rows;
        good = Array.isArray(rows) && rows.length === 1 && rows[0][0] && rows[0][0].value === String(p[1]);
        if (!good) noteError('hrana', `request ${rid} (id ${p[1]}): ${JSON.stringify(m).slice(0, 300)}`);
      } else {
        noteError('hrana', `request ${rid} (id ${p[1]}): ${JSON.stringify(m.error)}`);
      }
      answered++;
      if (good) ok++;
      else hranaErrors++;
      recordLatency(now - p[0]);
      tLast = now;
    }
    if (phase === 'drain') {
      if (outstandingTotal === 0) finish();
    } else {
      this.fill();
    }
  }

  onClose(code, reason) {
    this.closed = true;
    if (this.pending.size > 0) {
      // Requests that will never be answered.
      socketErrors += this.pending.size;
      outstandingTotal -= this.pending.size;
      noteError('socket', `closed (${code} ${reason}) with ${this.pending.size} request(s) unanswered`);
      this.pending.clear();
    } else if (this.ready && phase !== 'closing' && phase !== 'done') {
      socketErrors++;
      noteError('socket', `closed by the server (${code} ${reason})`);
    }
    if (!this.ready && phase === 'connect') connected();
    if (phase === 'drain' && outstandingTotal === 0) finish();
    if (phase === 'closing') closedOne();
  }
}

const conns = [];
let nConnected = 0;
// Each connection reports once: its stream is open, or it failed before.
function connected() {
  nConnected++;
  if (nConnected === opts.connections) startLoad();
}

let connectTimer;
function startLoad() {
  clearTimeout(connectTimer);
  if (phase !== 'connect') return;
  if (opts.warmup > 0) {
    phase = 'warmup';
    for (const c of conns) c.fill();
    setTimeout(startMeasure, opts.warmup * 1000);
  } else {
    startMeasure();
  }
}

function startMeasure() {
  phase = 'measure';
  t0 = performance.now();
  tLast = t0;
  for (const c of conns) c.fill();
  setTimeout(startDrain, opts.duration * 1000);
}

let drainTimer;
function startDrain() {
  phase = 'drain';
  if (outstandingTotal === 0) { finish(); return; }
  drainTimer = setTimeout(() => {
    noteError('socket', `${outstandingTotal} request(s) unanswered 10 s after the load stopped`);
    finish();
  }, 10000);
}

let nClosed = 0;
function closedOne() {
  nClosed++;
  if (nClosed === conns.length) report();
}

function finish() {
  if (phase === 'closing' || phase === 'done') return;
  clearTimeout(drainTimer);
  phase = 'closing';
  // Unanswered requests are counted when their socket closes (onClose).
  for (const c of conns) {
    if (c.closed) { closedOne(); continue; }
    if (c.ready && c.pending.size === 0) {
      c.ws.send(`{"type":"request","request_id":${c.nextId++},"request":{"type":"close_stream","stream_id":${STREAM}}}`);
    }
    c.ws.close(1000);
  }
  // A server that does not answer the close handshake.
  setTimeout(() => {
    for (const c of conns) if (!c.closed) c.ws.terminate();
  }, 5000).unref();
}

function pct(sorted, q) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
  return sorted[i];
}

function report() {
  if (phase === 'done') return;
  phase = 'done';
  const n = answered;
  const durS = Math.max(0, tLast - t0) / 1000;
  const sorted = lat.subarray(0, nLat).sort();
  const rps = durS > 0 ? n / durS : 0;
  for (const e of firstErrors) process.stderr.write(`ws_load: ${e}\n`);
  process.stdout.write(`ws_load: ${opts.connections} connections x depth ${opts.depth}, hrana3 (JSON), ` +
    `${opts.duration}s measured after ${opts.warmup}s warm-up\n`);
  process.stdout.write(
    `BENCH_RESULT requests=${n} duration_s=${durS.toFixed(3)} rps=${rps.toFixed(1)} ` +
    `p50_ms=${pct(sorted, 50).toFixed(3)} p99_ms=${pct(sorted, 99).toFixed(3)} ` +
    `max_ms=${(nLat ? sorted[nLat - 1] : 0).toFixed(3)} non200=0 hrana_errors=${hranaErrors} ` +
    `socket_errors=${socketErrors}\n`);
  process.stdout.write(`errors: hrana-error=${hranaErrors} socket=${socketErrors}\n`);
  process.exit(0);
}

// Hard stop, whatever happens.
setTimeout(() => {
  process.stderr.write('ws_load: hard deadline reached\n');
  socketErrors += outstandingTotal;
  report();
}, (opts.warmup + opts.duration + 40) * 1000).unref();

// Connections that never open (the handshake timeout is 10 s) count as socket errors.
connectTimer = setTimeout(() => {
  noteError('socket', `only ${nConnected} of ${opts.connections} connections ready after 15 s`);
  nConnected = opts.connections - 1;
  connected();
}, 15000);

for (let i = 0; i < opts.connections; i++) conns.push(new Conn(i));
