// @libsql/hrana-client (the Hrana client inside @libsql/client) against a real Quarry server,
// over both encodings of Hrana over HTTP.
//
// @libsql/client 0.18 opens its HTTP client with Hrana version 2, so it always speaks JSON on
// /v2/pipeline and never probes /v3-protobuf (the other test files cover that path). Asked for
// version 3, hrana-client probes GET /v3-protobuf and then sends every pipeline and cursor as
// protobuf: these tests run the same operations both ways and compare what comes back.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as hrana from '@libsql/hrana-client';
import { startServer } from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
  await server.createNamespace('pb');
  await server.createNamespace('js');
});

after(async () => {
  await server?.stop();
});

const encodings = [
  { name: 'protobuf', version: 3, ns: 'pb' },
  { name: 'json', version: 2, ns: 'js' },
];

// Every request a client sent, as "METHOD path content-type", recorded by the fetch it uses.
const sent = [];
function recordingFetch(request) {
  const url = new URL(request.url);
  sent.push(`${request.method} ${url.pathname} ${request.headers.get('content-type') ?? '-'}`);
  return fetch(request);
}

function open({ version, ns }, token = server.adminToken) {
  const client = hrana.openHttp(`${server.origin}/db/${ns}/`, token, recordingFetch, undefined, version);
  client.intMode = 'bigint';
  return client;
}

// What a query returned, in plain values, for comparing across encodings.
function plain(rs) {
  return {
    columns: rs.columnNames,
    types: rs.columnDecltypes,
    rows: rs.rows.map((row) => Array.from(row, (v) => (v instanceof ArrayBuffer ? Buffer.from(v).toString('hex') : v))),
    affected: rs.affectedRowCount,
    rowid: rs.lastInsertRowid,
  };
}

for (const encoding of encodings) {
  describe(`hrana-client over ${encoding.name}`, () => {
    test('negotiates the encoding', async () => {
      sent.length = 0;
      const client = open(encoding);
      try {
        assert.equal(await client.getVersion(), encoding.version);
        assert.equal(client._endpoint.encoding, encoding.name);
        const stream = client.openStream();
        assert.equal(await stream.queryValue('SELECT 1').then((r) => r.value), 1n);
        stream.close();
      } finally {
        client.close();
      }
      const base = `/db/${encoding.ns}`;
      // The first requests (the stream's close may follow): the probe, then the query.
      const expected = encoding.name === 'protobuf'
        ? [`GET ${base}/v3-protobuf -`, `POST ${base}/v3-protobuf/pipeline application/x-protobuf`]
        : [`POST ${base}/v2/pipeline application/json`];
      assert.deepEqual(sent.slice(0, expected.length), expected);
    });

    test('values of every type, positional and named arguments', async () => {
      const client = open(encoding);
      const stream = client.openStream();
      try {
        await stream.run('CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, n)');
        const inserted = await stream.run(['INSERT INTO v (i, f, s, b, n) VALUES (?, ?, ?, ?, ?)',
          [-9223372036854775808n, 0.1, 'h\u00e9llo', new Uint8Array([0, 255, 1]), null]]);
        assert.equal(inserted.affectedRowCount, 1);
        assert.equal(inserted.lastInsertRowid, 1n);
        await stream.run(['INSERT INTO v (i, s) VALUES (:i, $s)', { i: 9007199254740993n, s: '' }]);
        const rs = await stream.query('SELECT i, f, s, b, n FROM v ORDER BY id');
        assert.deepEqual(rs.columnNames, ['i', 'f', 's', 'b', 'n']);
        assert.deepEqual(rs.columnDecltypes, ['INTEGER', 'REAL', 'TEXT', 'BLOB', undefined]);
        assert.equal(rs.rows[0].i, -9223372036854775808n);
        assert.equal(rs.rows[0].f, 0.1);
        assert.equal(rs.rows[0].s, 'h\u00e9llo');
        assert.deepEqual(new Uint8Array(rs.rows[0].b), new Uint8Array([0, 255, 1]));
        assert.equal(rs.rows[0].n, null);
        assert.equal(rs.rows[1].i, 9007199254740993n);
        assert.equal(rs.rows[1].s, '');
      } finally {
        stream.close();
        client.close();
      }
    });

    test('a batch with conditions', async () => {
      const client = open(encoding);
      const stream = client.openStream();
      try {
        await stream.run('CREATE TABLE b (id INTEGER PRIMARY KEY)');
        const batch = stream.batch(false);
        const { ok, error, not, and, or } = hrana.BatchCond;
        const s0 = batch.step();
        const first = s0.run('INSERT INTO b VALUES (1)');
        const s1 = batch.step().condition(ok(s0));
        const dup = s1.run('INSERT INTO b VALUES (1)');
        const s2 = batch.step().condition(ok(s1));
        const skipped = s2.run('INSERT INTO b VALUES (2)');
        const s3 = batch.step().condition(error(s1));
        const onError = s3.queryValue('SELECT count(*) FROM b');
        const both = batch.step().condition(and(batch, [ok(s3), not(error(s0))])).queryValue("SELECT 'and'");
        const either = batch.step().condition(or(batch, [ok(s2), error(s3)])).queryValue("SELECT 'or'");
        await batch.execute();
        assert.equal((await first).affectedRowCount, 1);
        await assert.rejects(dup, (e) => e instanceof hrana.ResponseError && e.code === 'SQLITE_CONSTRAINT');
        assert.equal(await skipped, undefined);
        assert.equal((await onError).value, 1n);
        assert.equal((await both).value, 'and');
        assert.equal(await either, undefined);
      } finally {
        stream.close();
        client.close();
      }
    });

    test('a transaction across requests, stored SQL, describe, sequence, autocommit', async () => {
      const client = open(encoding);
      const stream = client.openStream();
      try {
        // get_autocommit is a Hrana 3 request: the client refuses it over version 2.
        const autocommit = () => (encoding.version >= 3 ? stream.getAutocommit() : undefined);
        await stream.sequence('CREATE TABLE t (x TEXT); BEGIN; INSERT INTO t VALUES (\'a\');');
        assert.equal(await autocommit(), encoding.version >= 3 ? false : undefined);
        const counted = stream.storeSql('SELECT count(*) FROM t');
        assert.equal((await stream.queryValue(counted)).value, 1n);
        const described = await stream.describe('SELECT x AS y FROM t WHERE x = :p');
        assert.deepEqual(described.paramNames, [':p']);
        assert.deepEqual(described.columns, [{ name: 'y', decltype: 'TEXT' }]);
        assert.equal(described.isReadonly, true);
        await stream.run('ROLLBACK');
        assert.equal(await autocommit(), encoding.version >= 3 ? true : undefined);
        assert.equal((await stream.queryValue(counted)).value, 0n);
        counted.close();
      } finally {
        stream.close();
        client.close();
      }
    });

    test('SQL errors are response errors with their code; the stream goes on', async () => {
      const client = open(encoding);
      const stream = client.openStream();
      try {
        await assert.rejects(stream.query('SELEC 1'),
          (e) => e instanceof hrana.ResponseError && e.code === 'SQLITE_ERROR' && /syntax error/.test(e.message));
        assert.equal((await stream.queryValue('SELECT 2')).value, 2n);
      } finally {
        stream.close();
        client.close();
      }
    });

    test('a refused token is an error with its code (a JSON body, whatever the encoding)', async () => {
      const client = open(encoding, 'not-a-token');
      const stream = client.openStream();
      try {
        await assert.rejects(stream.queryValue('SELECT 1'),
          (e) => e instanceof hrana.ResponseError && e.code === 'AUTH_FAILED' && /invalid token/.test(e.message));
      } finally {
        client.close();
      }
    });
  });
}

test('cursors over protobuf: a batch with useCursor streams its rows', async () => {
  const client = open(encodings[0]);
  await client.getVersion();
  sent.length = 0;
  const stream = client.openStream();
  try {
    await stream.run('CREATE TABLE c (id INTEGER PRIMARY KEY, s TEXT)');
    await stream.run("INSERT INTO c (s) VALUES ('a'), ('b'), ('c')");
    const batch = stream.batch(true);
    const rows = batch.step().query('SELECT id, s FROM c ORDER BY id');
    const failing = batch.step();
    const failed = failing.query('SELECT * FROM missing');
    const inserted = batch.step()
      .condition(hrana.BatchCond.and(batch, [hrana.BatchCond.error(failing), hrana.BatchCond.isAutocommit(batch)]))
      .run("INSERT INTO c (s) VALUES ('d')");
    await batch.execute();
    const rs = await rows;
    assert.deepEqual(rs.rows.map((r) => [r.id, r.s]), [[1n, 'a'], [2n, 'b'], [3n, 'c']]);
    await assert.rejects(failed, (e) => e instanceof hrana.ResponseError && e.code === 'SQLITE_ERROR');
    const ins = await inserted;
    assert.equal(ins.affectedRowCount, 1);
    assert.equal((await stream.queryValue('SELECT count(*) FROM c')).value, 4n);
  } finally {
    stream.close();
    client.close();
  }
  assert.ok(sent.includes('POST /db/pb/v3-protobuf/cursor application/x-protobuf'), sent.join('\n'));
});

test('JSON and protobuf return the same values for the same statements', async () => {
  const clients = encodings.map((e) => open(e));
  const setup = [
    'CREATE TABLE d (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB)',
    "INSERT INTO d (i, f, s, b) VALUES (9007199254740993, 1.0000000000000002, 'x', x'00ff'), (-1, -2.5, '', x''), (NULL, 1e308, 'caf\u00e9', NULL)",
  ];
  const statements = [
    'SELECT * FROM d ORDER BY id',
    'SELECT i * 2, f / 3, upper(s), hex(b), typeof(b) FROM d ORDER BY id',
    'SELECT 0.1 + 0.2, 9223372036854775807, -9223372036854775808, NULL',
    "UPDATE d SET s = s || '!' WHERE id > 1",
    "INSERT INTO d (s) VALUES ('new')",
  ];
  try {
    const answers = [];
    for (const client of clients) {
      const stream = client.openStream();
      for (const sql of setup) await stream.run(sql);
      const results = [];
      for (const sql of statements) results.push(plain(await stream.query(sql)));
      answers.push(results);
      stream.close();
    }
    assert.deepEqual(answers[0], answers[1]);
  } finally {
    for (const client of clients) client.close();
  }
});
