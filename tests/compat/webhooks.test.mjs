// Webhooks (docs/realtime.md, "Webhooks") against a local receiver (node:http) that fails and
// recovers: created with `quarry hook create`, changes arrive in commit order as signed JSON
// batches, failed deliveries are retried until acknowledged, nothing acknowledged is sent
// twice, and after the server is killed with SIGKILL and restarted on the same data folder
// delivery resumes from the last acknowledged sequence with nothing lost. Bad requests are
// refused naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { QUARRY_BIN, startServer, stopServer, restartAfterKill } from './harness.mjs';

const execFileP = promisify(execFile);

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

async function waitForAsync(check, ms, what) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// A receiver on 127.0.0.1 answering 503 while `failing` (or dropping the connection while
// `dropping`), else 200; `accepted` holds the bodies it answered 200 to, `attempts` counts all.
async function startReceiver() {
  const receiver = { accepted: [], attempts: 0, failing: false, dropping: false, requests: [] };
  receiver.server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      receiver.attempts += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests.push({ path: req.url, headers: req.headers, body });
      if (receiver.dropping) {
        req.socket.destroy();
        return;
      }
      if (receiver.failing) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('try later');
        return;
      }
      receiver.accepted.push(JSON.parse(body));
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${receiver.server.address().port}/hooks/quarry?source=test`;
  return receiver;
}

function verifySignature(secret, request) {
  const header = request.headers['quarry-signature'];
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  assert.ok(match, `a Quarry-Signature header of the documented form: ${header}`);
  const expected = createHmac('sha256', secret).update(`${match[1]}.${request.body}`).digest('hex');
  assert.equal(match[2], expected, 'the signature is the HMAC of "<t>.<body>" under the secret');
  assert.ok(Math.abs(Number(match[1]) - Date.now() / 1000) < 300, 'the timestamp is now');
}

// The accepted events as "op id name", in the order they were acknowledged.
const described = (receiver) => receiver.accepted.flatMap((batch) =>
  batch.events.map((e) => `${e.op} ${(e.row ?? e.old).id} ${(e.row ?? e.old).name}`));

test('webhooks deliver in order, signed, retry until acknowledged, and resume after kill -9', async () => {
  const receiver = await startReceiver();
  const args = ['--webhook-retry-initial-ms', '20', '--webhook-retry-max-ms', '100'];
  let server = await startServer({ args });
  const restart = async () => { server = await restartAfterKill(server, { args }); };
  const cli = (...cliArgs) => execFileP(QUARRY_BIN, [...cliArgs, '--server', server.origin,
    '--token', server.adminToken]);
  try {
    let db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, team INTEGER)');
    const { stdout } = await cli('hook', 'create', '--db', 'default', '--model', 'items',
      '--url', receiver.url, '--where', '{"team": 1}', '--json');
    const hook = JSON.parse(stdout);
    assert.match(hook.id, /^hook_/);
    assert.match(hook.secret, /^whsec_/);
    assert.equal(hook.state, 'delivering');

    // The receiver is down for the first deliveries: they are retried, in order.
    receiver.failing = true;
    await db.execute({ sql: 'INSERT INTO items VALUES (1, ?, 1)', args: ['one'] });
    await db.batch([
      { sql: 'INSERT INTO items VALUES (2, ?, 1)', args: ['two'] },
      { sql: 'INSERT INTO items VALUES (3, ?, 2)', args: ['other team'] },
      { sql: 'INSERT INTO items VALUES (4, ?, 1)', args: ['four'] },
    ], 'write');
    const rolledBack = await db.transaction('write');
    await rolledBack.execute({ sql: 'INSERT INTO items VALUES (5, ?, 1)', args: ['never'] });
    await rolledBack.rollback();
    await waitFor(() => receiver.attempts >= 3, 10000, 'three failed attempts');
    const listed = await server.admin('GET', `/admin/v1/namespaces/default/hooks/${hook.id}`);
    assert.equal(listed.status, 200);
    assert.equal(listed.json.state, 'retrying');
    assert.match(listed.json.last_error, /503/);
    assert.equal(listed.json.secret, undefined, 'the secret is shown only at creation');

    receiver.dropping = true;
    receiver.failing = false;
    const dropped = receiver.attempts;
    await waitFor(() => receiver.attempts >= dropped + 2, 10000, 'attempts on a dropped connection');
    receiver.dropping = false;
    await waitFor(() => described(receiver).length === 3, 10000, 'the first three changes');
    assert.deepEqual(described(receiver), ['insert 1 one', 'insert 2 two', 'insert 4 four']);
    // One batch per transaction at most, and a transaction never split.
    for (const batch of receiver.accepted) {
      assert.equal(batch.hook, hook.id);
      assert.equal(batch.namespace, 'default');
      assert.equal(batch.model, 'items');
      assert.equal(batch.last_seq, batch.events.at(-1).seq);
    }
    const txnOf = new Map(receiver.accepted.flatMap((b) => b.events.map((e) => [e.row.id, e.seq])));
    assert.equal(txnOf.get(2), txnOf.get(4), 'the batch insert is one transaction');
    assert.ok(txnOf.get(1) < txnOf.get(2));

    // An update out of the filter is a leave; then the server dies with a change unacknowledged.
    await db.execute({ sql: 'UPDATE items SET team = 2 WHERE id = 1' });
    await waitFor(() => described(receiver).length === 4, 10000, 'the leave');
    assert.equal(receiver.accepted.at(-1).events[0].op, 'leave');
    receiver.failing = true;
    await db.execute({ sql: 'INSERT INTO items VALUES (6, ?, 1)', args: ['six'] });
    const before = receiver.attempts;
    await waitFor(() => receiver.attempts > before, 10000, 'a failed attempt of the sixth row');
    db.close();
    await restart();
    db = server.client();
    await db.execute({ sql: 'INSERT INTO items VALUES (7, ?, 1)', args: ['seven'] });
    receiver.failing = false;
    await waitFor(() => described(receiver).length === 6, 10000, 'the changes after the restart');
    assert.deepEqual(described(receiver).slice(4), ['insert 6 six', 'insert 7 seven']);
    const seqs = receiver.accepted.flatMap((b) => b.events.map((e) => e.seq));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in commit order');
    assert.equal(new Set(receiver.accepted.map((b) => b.last_seq)).size, receiver.accepted.length,
      'no acknowledged batch was sent again');
    for (const request of receiver.requests) {
      assert.equal(request.path, '/hooks/quarry?source=test');
      assert.equal(request.headers['quarry-hook'], hook.id);
      verifySignature(hook.secret, request);
    }

    const list = await cli('hook', 'list', '--db', 'default');
    assert.match(list.stdout, new RegExp(hook.id));
    await cli('hook', 'delete', '--db', 'default', hook.id);
    const gone = await server.admin('GET', `/admin/v1/namespaces/default/hooks/${hook.id}`);
    assert.equal(gone.status, 404);
    const accepted = described(receiver).length;
    await db.execute({ sql: 'INSERT INTO items VALUES (8, ?, 1)', args: ['after delete'] });
    await restart();
    const after = await server.admin('GET', '/admin/v1/namespaces/default/hooks');
    assert.deepEqual(after.json.hooks, [], 'a deleted hook stays deleted after a restart');
    assert.equal(described(receiver).length, accepted, 'nothing is sent after the delete');
    db.close();
  } finally {
    await stopServer(server);
    receiver.server.close();
  }
});

test('a hook that the change log can no longer serve stops, saying why, instead of skipping changes', async () => {
  const receiver = await startReceiver();
  receiver.failing = true;
  const args = ['--webhook-retry-initial-ms', '20', '--webhook-retry-max-ms', '100',
    '--changes-max-transactions', '2'];
  let server = await startServer({ args });
  try {
    let db = server.client();
    await db.execute('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data TEXT)');
    const created = await server.admin('POST', '/admin/v1/namespaces/default/hooks',
      { model: 'blobs', url: receiver.url });
    assert.equal(created.status, 201, created.text);
    // Two log segments (4 MiB each) and more while the receiver is down: the first, still
    // owed to the hook, falls out of the two-transaction retention.
    for (let i = 1; i <= 10; i++) {
      await db.execute({ sql: 'INSERT INTO blobs VALUES (?, ?)', args: [i, 'x'.repeat(1 << 20)] });
    }
    db.close();
    server = await restartAfterKill(server, { args });
    receiver.failing = false;
    const hook = await waitForAsync(async () => {
      const r = await server.admin('GET', `/admin/v1/namespaces/default/hooks/${created.json.id}`);
      return r.json.state === 'stopped' && r.json;
    }, 10000, 'the hook to stop');
    assert.match(hook.last_error, /retention/);
    assert.equal(hook.acked_seq, created.json.acked_seq, 'nothing was acknowledged');
    assert.equal(receiver.accepted.length, 0, 'no batch with a gap was delivered');
  } finally {
    await stopServer(server);
    receiver.server.close();
  }
});

test('a hook whose filter matches nothing for long keeps its place and survives the retention', async () => {
  const receiver = await startReceiver();
  const args = ['--changes-max-transactions', '2', '--realtime-progress-interval-ms', '50'];
  let server = await startServer({ args });
  try {
    let db = server.client();
    await db.execute('CREATE TABLE blobs (id INTEGER PRIMARY KEY, team INTEGER, data TEXT)');
    const created = await server.admin('POST', '/admin/v1/namespaces/default/hooks',
      { model: 'blobs', url: receiver.url, where: { team: 1 } });
    assert.equal(created.status, 201, created.text);
    // Other teams' rows fill log segments past the two-transaction retention; none is the
    // hook's, so it is owed nothing and its recorded position moves with the progress marks.
    for (let i = 1; i <= 10; i++) {
      await db.execute({ sql: 'INSERT INTO blobs VALUES (?, 2, ?)', args: [i, 'x'.repeat(1 << 20)] });
    }
    const newest = created.json.acked_seq + 10;
    await waitForAsync(async () => {
      const r = await server.admin('GET', `/admin/v1/namespaces/default/hooks/${created.json.id}`);
      return r.json.acked_seq === newest;
    }, 10000, 'the progress marks to be recorded');
    db.close();
    server = await restartAfterKill(server, { args });
    db = server.client();
    await db.execute("INSERT INTO blobs VALUES (11, 1, 'mine')");
    await waitFor(() => receiver.accepted.length === 1, 10000, 'the matching change');
    assert.deepEqual(receiver.accepted[0].events.map((e) => [e.op, e.row.id, e.seq]),
      [['insert', 11, newest + 1]]);
    const hook = await server.admin('GET', `/admin/v1/namespaces/default/hooks/${created.json.id}`);
    assert.equal(hook.json.state, 'delivering', JSON.stringify(hook.json));
    db.close();
  } finally {
    await stopServer(server);
    receiver.server.close();
  }
});

test('a batch holds up to 500 changes of whole transactions, or one bigger transaction alone', async () => {
  const receiver = await startReceiver();
  receiver.failing = true;
  const server = await startServer({ args: ['--webhook-retry-initial-ms', '20', '--webhook-retry-max-ms', '50'] });
  try {
    const db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)');
    const created = await server.admin('POST', '/admin/v1/namespaces/default/hooks',
      { model: 'items', url: receiver.url });
    assert.equal(created.status, 201, created.text);
    for (let i = 1; i <= 3; i++) {
      await db.execute({ sql: 'INSERT INTO items VALUES (?, ?)', args: [i, 'small'] });
    }
    await db.execute(`WITH RECURSIVE n(i) AS (SELECT 4 UNION ALL SELECT i + 1 FROM n WHERE i < 603)
      INSERT INTO items SELECT i, 'big' FROM n`);
    await db.execute({ sql: 'INSERT INTO items VALUES (?, ?)', args: [604, 'after'] });
    await waitFor(() => receiver.attempts >= 2, 10000, 'failed attempts');
    receiver.failing = false;
    await waitFor(() => described(receiver).length === 604, 10000, 'every change');
    assert.deepEqual(receiver.accepted.map((b) => b.events.length), [3, 600, 1]);
    db.close();
  } finally {
    await stopServer(server);
    receiver.server.close();
  }
});

test('webhook requests that cannot work are refused naming the field', async () => {
  const server = await startServer();
  try {
    const db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const create = (body, ns = 'default') =>
      server.admin('POST', `/admin/v1/namespaces/${ns}/hooks`, body);
    const cases = [
      [{ model: 'items' }, 400, /url/],
      [{ model: 'items', url: 'ftp://127.0.0.1/x' }, 400, /url: expected an http/],
      [{ model: 'items', url: 'https://user@127.0.0.1/x' }, 400, /url: credentials/],
      [{ model: 'items', url: 'https://127.0.0.1:0/x' }, 400, /url: the port/],
      [{ model: 'items', url: 'not a url' }, 400, /url/],
      [{ url: 'http://127.0.0.1:9/x' }, 400, /model/],
      [{ model: 'nope', url: 'http://127.0.0.1:9/x' }, 400, /model: unknown model 'nope'/],
      [{ model: 'items', url: 'http://127.0.0.1:9/x', where: { missing: 1 } }, 400, /missing/],
      [{ model: 'items', url: 'http://127.0.0.1:9/x', since: 99 }, 400, /since/],
      [{ model: 'items', url: 'http://127.0.0.1:9/x', extra: 1 }, 400, /extra/],
    ];
    for (const [body, status, message] of cases) {
      const r = await create(body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json.message ?? r.text, message, JSON.stringify(body));
    }
    const missing = await create({ model: 'items', url: 'http://127.0.0.1:9/x' }, 'nowhere');
    assert.equal(missing.status, 404);
    const list = await server.admin('GET', '/admin/v1/namespaces/default/hooks');
    assert.deepEqual(list.json.hooks, [], 'no refused request left a hook behind');
    const userToken = await server.token({ access: 'rw', db: 'default' });
    const forbidden = await server.admin('GET', '/admin/v1/namespaces/default/hooks', undefined, userToken);
    assert.equal(forbidden.status, 403);
  } finally {
    await stopServer(server);
  }
});
