// Realtime with real clients from npm (docs/realtime.md): the SSE stream read by the
// `eventsource` package; after the server is killed with SIGKILL and restarted on the same
// data folder, acknowledged changes are replayed from `since`, and an open EventSource resumes
// on its own with Last-Event-ID (no change lost, none twice); the
// WebSocket protocol through the `ws` package, as a browser would use it (hello first).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { startServer, stopServer, restartAfterKill } from './harness.mjs';

// Resolves with the first truthy value `check()` returns, polled until `ms` have passed.
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

test('after kill -9 every acknowledged change is replayed exactly once, and an EventSource resumes by itself', async () => {
  let server = await startServer();
  const token = server.adminToken;
  const restart = async () => { server = await restartAfterKill(server); };
  const url = (since) => `${server.origin}/db/default/v1/changes?model=items&token=${encodeURIComponent(token)}` +
    (since === undefined ? '' : `&since=${since}`);
  // An EventSource collecting change events; `subscribed` counts its (re)connections.
  const open = (since) => {
    const stream = { changes: [], subscribed: 0 };
    stream.source = new EventSource(url(since));
    stream.source.addEventListener('subscribed', () => { stream.subscribed += 1; });
    stream.source.addEventListener('change', (event) => {
      const data = JSON.parse(event.data);
      assert.equal(event.lastEventId, String(data.seq), 'the event id is its sequence number');
      stream.changes.push(data);
    });
    return stream;
  };
  const described = (changes) => changes.map((c) => `${c.op} ${c.row.id} ${c.row.name}`);
  let first;
  let second;
  try {
    let db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)');
    first = open();
    await waitFor(() => first.subscribed === 1, 10000, 'the subscription');
    for (let i = 1; i <= 3; i++) {
      await db.execute({ sql: 'INSERT INTO items VALUES (?, ?)', args: [i, `item ${i}`] });
    }
    await waitFor(() => first.changes.length === 3, 10000, 'three changes');
    first.source.close();
    const last = first.changes[2].seq;

    // Acknowledged while nobody listens, then the server dies.
    await db.execute({ sql: 'INSERT INTO items VALUES (?, ?)', args: [4, 'item 4'] });
    await db.execute({ sql: 'UPDATE items SET name = ? WHERE id = ?', args: ['renamed', 1] });
    db.close();
    await restart();

    second = open(last);
    await waitFor(() => second.changes.length === 2, 10000, 'the two changes after the restart');
    assert.deepEqual(described(second.changes), ['insert 4 item 4', 'update 1 renamed']);
    assert.equal(second.changes[1].old.name, 'item 1', 'the update carries the row before');

    // Killed again under the open EventSource: it reconnects by itself with Last-Event-ID.
    await restart();
    db = server.client();
    await db.execute({ sql: 'INSERT INTO items VALUES (?, ?)', args: [5, 'item 5'] });
    db.close();
    await waitFor(() => second.changes.length >= 3 && second.subscribed >= 2, 30000,
      'the change after the second restart');
    assert.deepEqual(described(second.changes), ['insert 4 item 4', 'update 1 renamed', 'insert 5 item 5']);
    const seqs = [...first.changes, ...second.changes].map((c) => c.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length, 'no sequence number twice');
  } finally {
    first?.source.close();
    second?.source.close();
    await stopServer(server);
  }
});

test('the WebSocket protocol through ws: hello, subscribe with a filter, events, errors', async () => {
  const server = await startServer();
  try {
    const db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER, name TEXT)');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/db/default/v1/realtime`, 'quarry-realtime-v1');
    const messages = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    assert.equal(ws.protocol, 'quarry-realtime-v1');
    ws.send(JSON.stringify({ type: 'hello', token: server.adminToken }));
    await waitFor(() => messages.find((m) => m.type === 'hello_ok'), 10000, 'hello_ok');
    ws.send(JSON.stringify({ type: 'subscribe', id: 'mine', model: 'items', where: { owner: 7 } }));
    ws.send(JSON.stringify({ type: 'subscribe', id: 'mine', model: 'items' }));
    await waitFor(() => messages.find((m) => m.type === 'subscribed'), 10000, 'subscribed');
    const duplicate = await waitFor(() => messages.find((m) => m.type === 'error'), 10000, 'error');
    assert.equal(duplicate.id, 'mine');
    assert.equal(duplicate.error.code, 'ALREADY_EXISTS');

    await db.batch([
      { sql: 'INSERT INTO items VALUES (1, 7, ?)', args: ['a'] },
      { sql: 'INSERT INTO items VALUES (2, 8, ?)', args: ['b'] },
      { sql: 'INSERT INTO items VALUES (3, 7, ?)', args: ['c'] },
    ], 'write');
    const events = await waitFor(() => {
      const found = messages.filter((m) => m.type === 'change');
      return found.length === 2 ? found : undefined;
    }, 10000, 'two changes');
    assert.deepEqual(events.map((e) => e.row.id), [1, 3]);
    assert.equal(events[0].seq, events[1].seq, 'one batch, one transaction');
    ws.close();
    db.close();
  } finally {
    await stopServer(server);
  }
});
