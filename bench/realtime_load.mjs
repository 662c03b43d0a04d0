// Realtime load (issue 9): many WebSocket subscribers on one namespace, each filtered on its own
// accountId, under a steady rate of committed inserts; measures commit-to-delivery latency,
// checks every change reaches exactly the subscribers whose filter matches, and compares the
// writer's closed-loop throughput with no subscriber and with all of them attached.
//
//   node bench/realtime_load.mjs --port 8080 [--subscribers 10000] [--accounts 1000]
//        [--rate 1000] [--seconds 10] [--pid SERVER_PID] [--token T]
//
// Targets 127.0.0.1 only; bounded in connections and time; exits by itself. Needs a file
// descriptor limit above the subscriber count (ulimit -n) for this process and the server.
// Prints one JSON line of results on stdout, progress on stderr.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The `ws` package of bench/baseline (npm ci there), as ws_load.mjs uses it.
const WebSocket = createRequire(new URL('./baseline/package.json', import.meta.url))('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) => {
  if (arg.startsWith('--')) pairs.push([arg.slice(2), all[i + 1]]);
  return pairs;
}, []));
const port = Number(args.port ?? 8080);
const subscribers = Number(args.subscribers ?? 10000);
const accounts = Number(args.accounts ?? 1000);
const rate = Number(args.rate ?? 1000);
const seconds = Number(args.seconds ?? 10);
const throughputSeconds = Number(args['throughput-seconds'] ?? 5);
const pid = args.pid ? Number(args.pid) : undefined;
const token = args.token;
const log = (...m) => process.stderr.write(`[realtime_load] ${m.join(' ')}\n`);

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
function pipeline(sqls) {
  const body = JSON.stringify({
    baton: null,
    requests: [...sqls.map((sql) => ({ type: 'execute', stmt: { sql } })), { type: 'close' }],
  });
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: '/v2/pipeline', method: 'POST', agent,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => (res.statusCode === 200 && !text.includes('"type":"error"')
        ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rssKiB = () => {
  if (!pid) return undefined;
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return m ? Number(m[1]) : undefined;
};

// The server's CPU time so far (user + system, all threads), in microseconds.
const TICK_US = 1e6 / 100;  // /proc/PID/stat counts USER_HZ ticks, 100 a second on Linux
const cpuUs = () => {
  if (!pid) return undefined;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;  // utime, stime
};

let nextId = 1;
const insertSql = () => {
  const id = nextId++;
  return { id, sql: `INSERT INTO posts VALUES (${id}, ${id % accounts}, ${Date.now()})` };
};

// Closed loop: `concurrency` writers, each one insert per request, for `secs` seconds: inserts
// per second, and the server's CPU time per insert (with subscribers attached it includes
// evaluating and sending their events, whichever core it ran on).
async function writerThroughput(secs, concurrency = 16) {
  const end = Date.now() + secs * 1000;
  let done = 0;
  const cpuBefore = cpuUs();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      await pipeline([insertSql().sql]);
      done += 1;
    }
  }));
  const cpu = cpuBefore === undefined ? undefined : (cpuUs() - cpuBefore) / done;
  return { perSecond: done / secs, cpuUsPerInsert: cpu };
}

const percentile = (sorted, p) => sorted.length === 0 ? 0
  : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main() {
  await pipeline(['DROP TABLE IF EXISTS posts',
    'CREATE TABLE posts (id INTEGER PRIMARY KEY, accountId INTEGER NOT NULL, t INTEGER NOT NULL)']);
  const rssBefore = rssKiB();
  log(`writer alone for ${throughputSeconds}s`);
  const writerAlone = await writerThroughput(throughputSeconds);

  // Subscribers, opened 250 at a time.
  const subs = [];
  const latencies = [];
  let misrouted = 0;
  let duplicates = 0;
  let measuring = false;
  const openOne = (i) => new Promise((resolve, reject) => {
    const account = i % accounts;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/db/default/v1/realtime`, 'quarry-realtime-v1',
      token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const sub = { ws, account, seen: new Set(), events: 0 };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 's', model: 'posts', where: { accountId: account } })));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'subscribed') { resolve(sub); return; }
      if (m.type !== 'change') {
        if (m.type !== 'hello_ok') reject(new Error(`subscriber ${i}: ${data}`));
        return;
      }
      sub.events += 1;
      if (m.row.accountId !== account) misrouted += 1;
      if (sub.seen.has(m.row.id)) duplicates += 1;
      sub.seen.add(m.row.id);
      if (measuring) latencies.push(Date.now() - m.row.t);
    });
    ws.on('error', reject);
  });
  log(`opening ${subscribers} subscribers`);
  for (let i = 0; i < subscribers; i += 250) {
    const batch = [];
    for (let j = i; j < Math.min(subscribers, i + 250); j++) batch.push(openOne(j));
    subs.push(...await Promise.all(batch));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const rssIdle = rssKiB();

  log(`writer with ${subscribers} subscribers for ${throughputSeconds}s`);
  const firstMeasuredId = nextId;
  const writerWith = await writerThroughput(throughputSeconds);

  // The steady load: `rate` inserts per second, each its own transaction, for `seconds`.
  log(`${rate} inserts/s for ${seconds}s`);
  await new Promise((r) => setTimeout(r, 2000));
  latencies.length = 0;
  measuring = true;
  const steadyFirstId = nextId;
  const eventsBefore = subs.reduce((n, s) => n + s.events, 0);
  const start = Date.now();
  const pending = [];
  const tickMs = 10;
  const perTick = rate * tickMs / 1000;
  for (let tick = 0; Date.now() < start + seconds * 1000; tick++) {
    const due = start + tick * tickMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let k = 0; k < perTick; k++) pending.push(pipeline([insertSql().sql]));
  }
  await Promise.all(pending);
  const written = nextId - steadyFirstId;
  const elapsed = (Date.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 3000));  // stragglers
  measuring = false;
  const eventsSteady = subs.reduce((n, s) => n + s.events, 0) - eventsBefore;

  // Exactly once to exactly the matching subscribers, for every row written while they were on.
  let missing = 0;
  const perAccount = new Map();
  for (const s of subs) perAccount.set(s.account, (perAccount.get(s.account) ?? 0) + 1);
  for (let id = firstMeasuredId; id < nextId; id++) {
    const account = id % accounts;
    let got = 0;
    for (const s of subs) if (s.account === account && s.seen.has(id)) got += 1;
    missing += (perAccount.get(account) ?? 0) - got;
    if (id > firstMeasuredId + 20000) break;  // bounded check time
  }
  latencies.sort((a, b) => a - b);
  const result = {
    subscribers, accounts, rate, seconds,
    inserts_per_s_steady: written / elapsed,
    events_per_s_steady: eventsSteady / elapsed,
    latency_ms_p50: percentile(latencies, 0.5),
    latency_ms_p99: percentile(latencies, 0.99),
    latency_ms_max: latencies.at(-1) ?? 0,
    misrouted, duplicates, missing,
    writer_alone_per_s: writerAlone.perSecond,
    writer_with_subscribers_per_s: writerWith.perSecond,
    writer_ratio: writerWith.perSecond / writerAlone.perSecond,
    server_cpu_us_per_insert_alone: writerAlone.cpuUsPerInsert,
    server_cpu_us_per_insert_with_subscribers: writerWith.cpuUsPerInsert,
    server_rss_kib_before: rssBefore,
    server_rss_kib_idle_subscribers: rssIdle,
    kib_per_idle_subscriber: rssBefore && rssIdle ? (rssIdle - rssBefore) / subscribers : undefined,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const s of subs) s.ws.terminate();
  agent.destroy();
}

const timer = setTimeout(() => { log('timed out'); process.exit(2); }, (seconds + 2 * throughputSeconds + 180) * 1000);
main().then(() => { clearTimeout(timer); process.exit(0); }, (e) => { log(e.stack ?? String(e)); process.exit(1); });
