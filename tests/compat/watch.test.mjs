// `quarry watch` (docs/realtime.md, the C++ client's Watch) against the real server: changes
// printed one per line as they commit, each transaction whole; after the server is killed with
// SIGKILL and restarted on the same data folder the watch reconnects by itself and resumes after
// the last transaction it printed, so nothing is missed and nothing printed twice; --since,
// --limit and --json; bad flags and refused subscriptions end it with the reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { QUARRY_BIN, startServer, stopServer, sleep, restartAfterKill } from './harness.mjs';

const execFileP = promisify(execFile);

// A running `quarry watch`: its stdout lines and stderr text as they come.
function startWatch(args) {
  const proc = spawn(QUARRY_BIN, ['watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const watch = { proc, lines: [], stderr: '' };
  let partial = '';
  proc.stdout.on('data', (chunk) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop();
    watch.lines.push(...parts);
  });
  proc.stderr.on('data', (chunk) => { watch.stderr += chunk.toString(); });
  watch.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return watch;
}

async function waitFor(check, ms, what) {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// "<seq> <op> <row> [old <row>]" → { seq, text: "<op> <row> [old <row>]" }
const parse = (line) => {
  const space = line.indexOf(' ');
  return { seq: Number(line.slice(0, space)), text: line.slice(space + 1) };
};

test('quarry watch prints each change once, in commit order, across a server kill -9', async () => {
  let server = await startServer();
  const { dataDir } = server;
  let watch;
  try {
    const db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, team INTEGER)');
    // No --token: the watch signs its own short-lived admin tokens with the key in --data.
    watch = startWatch(['default', 'items', '--where', '{"team": 1}',
      '--url', server.origin, '--data', dataDir]);
    const start = Number((await waitFor(() => /after sequence (\d+)/.exec(watch.stderr), 10000,
      'the watch to subscribe'))[1]);

    await db.execute("INSERT INTO items VALUES (1, 'one', 1)");
    await db.batch([
      "INSERT INTO items VALUES (2, 'two', 1)",
      "INSERT INTO items VALUES (3, 'other team', 2)",
      "INSERT INTO items VALUES (4, 'four', 1)",
    ], 'write');
    const rolledBack = await db.transaction('write');
    await rolledBack.execute("INSERT INTO items VALUES (99, 'rolled back', 1)");
    await rolledBack.rollback();
    await waitFor(() => watch.lines.length === 3, 10000, 'the first three changes');
    db.close();

    // Down long enough that the watch's wait between attempts has grown past a second, so the
    // writes just after the restart land before it is back and come from the change log.
    server = await restartAfterKill(server, {
      whileDown: () => waitFor(() => (watch.stderr.match(/Interrupted: /g) ?? []).length >= 3,
        15000, 'the watch to retry'),
    });
    const db2 = server.client();
    await db2.execute("UPDATE items SET name = 'uno' WHERE id = 1");
    await db2.execute('DELETE FROM items WHERE id = 2');
    await db2.execute('UPDATE items SET team = 2 WHERE id = 4');
    await db2.execute("INSERT INTO items VALUES (5, 'five', 1)");
    await waitFor(() => watch.lines.length === 7, 15000, 'the changes made around the restart');
    await sleep(300);
    db2.close();

    const printed = watch.lines.map(parse);
    assert.deepEqual(printed.map((p) => p.text), [
      'insert {"id":1,"name":"one","team":1}',
      'insert {"id":2,"name":"two","team":1}',
      'insert {"id":4,"name":"four","team":1}',
      'update {"id":1,"name":"uno","team":1} old {"id":1,"name":"one","team":1}',
      'delete old {"id":2,"name":"two","team":1}',
      'leave old {"id":4,"name":"four","team":1}',
      'insert {"id":5,"name":"five","team":1}',
    ], `nothing missed, nothing twice; stderr:\n${watch.stderr}`);
    assert.deepEqual(printed.map((p) => p.seq - start), [1, 2, 2, 3, 4, 5, 6],
      'one sequence number per committed transaction; the rolled-back one has none');
    assert.match(watch.stderr, /dropped the connection.*; resuming in \d+ ms/);

    watch.proc.kill('SIGINT');
    assert.deepEqual(await watch.exited, { code: 0, signal: null }, 'Ctrl-C ends it cleanly');

    // --since replays from the log; --limit stops after that many transactions; --json prints
    // the server's messages.
    const { stdout } = await execFileP(QUARRY_BIN, ['watch', 'default', 'items', '--since',
      String(start), '--limit', '2', '--json', '--url', server.origin, '--data', dataDir]);
    const messages = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(messages.map((m) => [m.type, m.op, m.seq - start, m.row.id]),
      [['change', 'insert', 1, 1], ['change', 'insert', 2, 2], ['change', 'insert', 2, 3],
        ['change', 'insert', 2, 4]]);
    assert.equal(messages[3].last, true);
  } finally {
    if (watch && watch.proc.exitCode === null) watch.proc.kill('SIGKILL');
    await stopServer(server);
  }
});

test('quarry watch ends with the reason when the subscription is refused', async () => {
  const server = await startServer();
  try {
    const db = server.client();
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const run = (...args) => execFileP(QUARRY_BIN, ['watch', ...args, '--url', server.origin,
      '--token', server.adminToken]).then(
      () => assert.fail('expected the watch to fail'), (err) => err);

    let err = await run('default', 'items', '--where', '{"nope": 1}');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /^quarry watch: ARGS_INVALID: .*nope/m);
    err = await run('default', 'items', '--where', '{not json');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /--where is not JSON/);
    err = await run('missing', 'items');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /NAMESPACE_NOT_FOUND|missing/);
    err = await execFileP(QUARRY_BIN, ['watch', 'default', 'items', '--url', server.origin,
      '--token', 'not-a-token']).catch((e) => e);
    assert.equal(err.code, 1);
    assert.match(err.stderr, /quarry watch: .*token/i);
  } finally {
    await stopServer(server);
  }
});
