// @libsql/hrana-client over WebSocket against a real Quarry server, in both encodings: asked for
// Hrana 3 it offers hrana3-protobuf first (Quarry picks it), asked for Hrana 2 it offers only
// JSON subprotocols. The same operations run both ways and must give the same answers.
// (@libsql/client 0.18 opens its WebSocket client with version 2, so client.test.mjs over ws://
// stays on JSON; this file is what exercises hrana3-protobuf with a real client.)
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as hrana from '@libsql/hrana-client';
import { startServer } from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
  await server.createNamespace('wspb');
  await server.createNamespace('wsjs');
});

after(async () => {
  await server?.stop();
});

const encodings = [
  { name: 'protobuf', version: 3, ns: 'wspb' },
  { name: 'json', version: 2, ns: 'wsjs' },
];

function open({ ns, version }) {
  const url = `${server.origin.replace(/^http/, 'ws')}/db/${ns}/`;
  const client = hrana.openWs(url, server.adminToken, version);
  client.intMode = 'bigint';
  return client;
}

function plain(rs) {
  return {
    columns: rs.columnNames,
    rows: rs.rows?.map((row) => Array.from(row, (v) => (v instanceof ArrayBuffer ? Buffer.from(v).toString('hex') : v))),
    affected: rs.affectedRowCount,
    rowid: rs.lastInsertRowid,
  };
}

// What each encoding answered, by test name, compared at the end.
const answers = { protobuf: {}, json: {} };

for (const encoding of encodings) {
  describe(`hrana-client over WebSocket, ${encoding.name}`, () => {
    test('statements, values, batches with conditions, stored SQL, cursors', async () => {
      const client = open(encoding);
      const stream = client.openStream();
      const got = answers[encoding.name];
      try {
        assert.equal(await client.getVersion(), encoding.version);
        await stream.run('CREATE TABLE t (id INTEGER PRIMARY KEY, i, f, s, b)');
        got.insert = plain(await stream.run(['INSERT INTO t (i, f, s, b) VALUES (?, ?, ?, ?)',
          [9007199254740993n, 1.5, 'caf\u00e9', new Uint8Array([0, 255])]]));
        await stream.run(['INSERT INTO t (i, s) VALUES (:i, :s)', { i: -1n, s: '' }]);
        got.select = plain(await stream.query('SELECT * FROM t ORDER BY id'));

        const batch = stream.batch(false);
        const begin = batch.step();
        begin.run('BEGIN');
        const insert = batch.step().condition(hrana.BatchCond.ok(begin));
        const inserted = insert.run('INSERT INTO t (i) VALUES (3)');
        const bad = batch.step().condition(hrana.BatchCond.ok(insert));
        const failed = bad.run('SELECT nope').catch((e) => e.message);
        const commit = batch.step().condition(hrana.BatchCond.ok(bad));
        const committed = commit.run('COMMIT');
        batch.step().condition(hrana.BatchCond.not(hrana.BatchCond.ok(commit))).run('ROLLBACK');
        await batch.execute();
        got.batch = { inserted: plain(await inserted), failed: await failed, committed: await committed };
        got.afterBatch = plain(await stream.query('SELECT count(*) AS n FROM t'));

        const sql = client.storeSql('SELECT s FROM t ORDER BY id');
        got.stored = plain(await stream.query(sql));
        sql.close();

        await assert.rejects(stream.run('SELECT * FROM nowhere'), (e) => {
          got.error = { code: e.code, message: e.message };
          return true;
        });

        if (encoding.version >= 3) {
          const cursorBatch = stream.batch(true);  // runs over a cursor from Hrana 3 on
          const rows = cursorBatch.step().query('SELECT i FROM t ORDER BY id');
          await cursorBatch.execute();
          assert.deepEqual(plain(await rows).rows, [[9007199254740993n], [-1n]]);
          assert.equal(await stream.getAutocommit(), true);
        }
      } finally {
        stream.close();
        client.close();
      }
    });
  });
}

describe('hrana-client over WebSocket, both encodings', () => {
  test('protobuf and JSON give the same answers', () => {
    assert.ok(answers.protobuf.select && answers.json.select, 'both encodings ran');
    assert.deepEqual(answers.protobuf, answers.json);
    assert.deepEqual(answers.protobuf.select.rows[0], [1n, 9007199254740993n, 1.5, 'caf\u00e9', '00ff']);
    assert.match(answers.protobuf.batch.failed, /no such column: nope/);
    assert.equal(answers.protobuf.afterBatch.rows[0][0], 2n, 'the batch rolled back');
    assert.equal(answers.protobuf.error.code, 'SQLITE_ERROR');
  });
});
