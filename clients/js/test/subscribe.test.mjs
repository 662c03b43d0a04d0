// db.<model>.subscribe() against the real server (docs/realtime.md): filtered events, a
// transaction's changes together with the last one marked, reconnect and resume after the
// server is killed with SIGKILL and restarted (nothing lost, nothing twice), refusals as
// errors, and close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { quarry, ValidationError } from '../dist/index.js';
import { startServer, stopServer } from './harness.mjs';

function waitFor(check, ms, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = check();
      if (value) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > ms) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

test('subscribe delivers filtered changes and resumes by itself across a kill -9 restart', async () => {
  let server = await startServer();
  const { dataDir, port } = server;
  let tokenCalls = 0;
  const db = quarry({
    url: server.origin,
    namespace: 'default',
    token: () => { tokenCalls += 1; return server.adminToken; },
    WebSocket,
    reconnectDelayMs: { min: 300, max: 1000 },
  });
  try {
    await server.sql('default', 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, team INTEGER)');
    const events = [];
    const sub = db.items.subscribe({ where: { team: 1 }, select: { id: true, name: true } }, (e) => events.push(e));
    const start = await sub.ready;
    assert.equal(sub.seq, start);

    await server.sql('default', "INSERT INTO items VALUES (1, 'one', 1)", "INSERT INTO items VALUES (2, 'other', 2)");
    await server.request('POST', '/db/default/v2/pipeline', { requests: [
      { type: 'execute', stmt: { sql: 'BEGIN' } },
      { type: 'execute', stmt: { sql: "INSERT INTO items VALUES (3, 'three', 1)" } },
      { type: 'execute', stmt: { sql: "INSERT INTO items VALUES (4, 'four', 1)" } },
      { type: 'execute', stmt: { sql: 'COMMIT' } },
      { type: 'close' },
    ] });
    await waitFor(() => events.length === 3, 10000, 'three events');
    assert.deepEqual(events.map((e) => [e.op, e.row.id, e.row.name]), [['insert', 1, 'one'], ['insert', 3, 'three'], ['insert', 4, 'four']]);
    assert.equal(events[0].model, 'items');
    assert.equal(events[0].row.team, undefined, 'select applies');
    assert.equal(events[1].seq, events[2].seq, 'one transaction, one seq');
    assert.deepEqual(events.map((e) => e.last ?? false), [true, false, true], 'a transaction\'s last change is marked');
    assert.equal(sub.seq, events[2].seq, 'the resume point is the last whole transaction');

    // The server dies; the client reconnects by itself once it is back, and resumes.
    server.proc.kill('SIGKILL');
    await new Promise((resolve) => server.proc.once('exit', resolve));
    server.ownsDataDir = false;
    await stopServer(server);
    server = await startServer({ dataDir, port });
    server.ownsDataDir = true;
    await server.sql('default', "UPDATE items SET name = 'uno' WHERE id = 1", "INSERT INTO items VALUES (5, 'five', 1)");
    await server.sql('default', "UPDATE items SET team = 2 WHERE id = 3");
    await waitFor(() => events.length === 6, 15000, 'the changes after the restart');
    assert.deepEqual(events.slice(3).map((e) => [e.op, (e.row ?? e.old).id]), [['update', 1], ['insert', 5], ['leave', 3]]);
    assert.equal(events[3].old.name, 'one', 'an update carries the row before');
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in commit order, none twice');
    assert.ok(tokenCalls >= 2, 'the token function is asked again on reconnect');

    sub.close();
    await server.sql('default', "INSERT INTO items VALUES (6, 'six', 1)");
    const check = db.items.subscribe({ where: { id: 6 }, since: events[5].seq }, () => {});
    await check.ready;
    check.close();
    assert.equal(events.length, 6, 'nothing arrives after close()');
  } finally {
    await stopServer(server);
  }
});

test('a quiet subscription\'s resume point follows the progress marks', async () => {
  const server = await startServer({ args: ['--realtime-progress-interval-ms', '50'] });
  const db = quarry({ url: server.origin, namespace: 'default', token: server.adminToken, WebSocket });
  try {
    await server.sql('default', 'CREATE TABLE items (id INTEGER PRIMARY KEY, team INTEGER)');
    const events = [];
    const sub = db.items.subscribe({ where: { team: 1 } }, (e) => events.push(e));
    const start = await sub.ready;
    await server.sql('default', 'INSERT INTO items VALUES (1, 2)', 'INSERT INTO items VALUES (2, 2)');
    await waitFor(() => sub.seq === start + 2, 10000, 'the progress mark');
    assert.deepEqual(events, [], 'nothing matched');
    sub.close();
  } finally {
    await stopServer(server);
  }
});

test('a subscriber reset as too slow resumes by itself, nothing lost or twice', async () => {
  const server = await startServer({ args: ['--realtime-max-queued-bytes', '262144'] });
  // A WebSocket whose reading can be held, as a busy browser tab's would be.
  let held;
  let resets = 0;
  class HeldWebSocket extends WebSocket {
    constructor(url, protocol) {
      super(url, protocol);
      this.once('open', () => { held = this._socket; });
      this.on('message', (data) => { if (String(data).includes('"code":"TOO_SLOW"')) resets += 1; });
    }
  }
  const db = quarry({ url: server.origin, namespace: 'default', token: server.adminToken, WebSocket: HeldWebSocket });
  try {
    await server.sql('default', 'CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT)');
    const ids = [];
    const sub = db.items.subscribe({}, (e) => ids.push(e.row.id));
    await sub.ready;
    held.pause();
    // ~16 MB of events: more than the kernel buffers between the two plus the 256 KiB allowed.
    const rows = 4000;
    for (let batch = 0; batch < rows / 100; batch++) {
      const statements = [];
      for (let i = 1; i <= 100; i++) statements.push(`INSERT INTO items VALUES (${batch * 100 + i}, '${'x'.repeat(4000)}')`);
      await server.sql('default', ...statements);
    }
    held.resume();
    await waitFor(() => ids.length >= rows, 30000, 'every row after the reset');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ids.length, rows, 'nothing twice');
    assert.equal(new Set(ids).size, rows, 'nothing lost');
    assert.equal(resets, 1, 'the server did reset it as too slow');
    sub.close();
  } finally {
    await stopServer(server);
  }
});

test('a subscription the server refuses rejects ready and reports the error', async () => {
  const server = await startServer({ noAuth: true });
  try {
    await server.sql('default', 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)');
    const db = quarry({ url: server.origin, WebSocket });
    const errors = [];
    const bad = db.items.subscribe({ where: { nope: 1 } }, () => {}, { onError: (e) => errors.push(e) });
    const error = await bad.ready.then(() => assert.fail('expected a refusal'), (e) => e);
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, /nope/);
    assert.equal(error.path, 'where.nope');
    assert.equal(errors[0], error);
    const missing = db.missing.subscribe({}, () => {});
    await assert.rejects(missing.ready, /missing/);
    assert.throws(() => db.items.subscribe({ since: -1 }, () => {}), /since/);
    assert.throws(() => db.items.subscribe({}, 'not a function'), /onChange/);
    // A good one on the same client still works.
    const events = [];
    const good = db.items.subscribe({}, (e) => events.push(e));
    await good.ready;
    await server.sql('default', "INSERT INTO items VALUES (1, 'x')");
    await waitFor(() => events.length === 1, 10000, 'the event');
    good.close();
  } finally {
    await stopServer(server);
  }
});
