// @libsql/client against a real Quarry server, over Hrana over HTTP or over WebSocket, plain or
// over TLS (QUARRY_COMPAT_TRANSPORT=http|ws|https|wss|libsql; `npm test` runs them all).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LibsqlError } from '@libsql/client';
import { startServer, TRANSPORT, CLIENT_PROTOCOL } from './harness.mjs';

let server;
let db; // client for namespace "shop", intMode "number" (the default)

before(async () => {
  server = await startServer();
  await server.createNamespace('shop');
  db = server.client('shop');
});

after(async () => {
  db?.close();
  await server?.stop();
});

async function count(table, where = '1=1', client = db) {
  const rs = await client.execute(`SELECT count(*) AS n FROM ${table} WHERE ${where}`);
  return rs.rows[0].n;
}

describe('execute', () => {
  test('select constant: columns, rows, row access by name and index', async () => {
    const rs = await db.execute("SELECT 1 AS one, 'two' AS two");
    assert.deepEqual(rs.columns, ['one', 'two']);
    assert.equal(rs.rows.length, 1);
    assert.equal(rs.rows[0].one, 1);
    assert.equal(rs.rows[0][1], 'two');
    assert.equal(rs.rowsAffected, 0);
  });

  test('positional and named args', async () => {
    await db.execute('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)');
    await db.execute({ sql: 'INSERT INTO people (id, name, age) VALUES (?, ?, ?)', args: [1, 'ann', 30] });
    await db.execute({ sql: 'INSERT INTO people (id, name, age) VALUES (?3, ?1, ?2)', args: ['bob', 41, 2] });
    // Named args: the client sends keys verbatim (without prefix) for :x, @x, $x parameters.
    await db.execute({ sql: 'INSERT INTO people (id, name, age) VALUES (:id, @name, $age)', args: { id: 3, name: 'cid', age: 52 } });
    // Named args given with their prefix are accepted too.
    await db.execute({ sql: 'INSERT INTO people (id, name, age) VALUES (:id, :name, :age)', args: { ':id': 4, ':name': 'dee', ':age': 63 } });
    const rs = await db.execute('SELECT id, name, age FROM people ORDER BY id');
    assert.deepEqual(rs.rows.map((r) => [r.id, r.name, r.age]), [
      [1, 'ann', 30], [2, 'bob', 41], [3, 'cid', 52], [4, 'dee', 63],
    ]);
  });

  test('missing argument is an error', async () => {
    await assert.rejects(db.execute({ sql: 'SELECT ?, ?', args: [1] }), LibsqlError);
  });

  test('lastInsertRowid, rowsAffected, columnTypes (decltype)', async () => {
    await db.execute('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB, n NUMERIC)');
    const ins = await db.execute({ sql: 'INSERT INTO items (id, name, price) VALUES (?, ?, ?)', args: [1234n, 'x', 1.5] });
    assert.equal(ins.rowsAffected, 1);
    assert.equal(typeof ins.lastInsertRowid, 'bigint');
    assert.equal(ins.lastInsertRowid, 1234n);
    await db.batch([
      "INSERT INTO items (name) VALUES ('a')",
      "INSERT INTO items (name) VALUES ('b')",
    ], 'write');
    const upd = await db.execute("UPDATE items SET price = 2 WHERE name IN ('a', 'b', 'x')");
    assert.equal(upd.rowsAffected, 3);
    const rs = await db.execute('SELECT id, name, price, data, n, 1 + 1 AS expr FROM items WHERE id = 1234');
    assert.deepEqual(rs.columns, ['id', 'name', 'price', 'data', 'n', 'expr']);
    assert.deepEqual(rs.columnTypes, ['INTEGER', 'TEXT', 'REAL', 'BLOB', 'NUMERIC', '']);
    const del = await db.execute('DELETE FROM items');
    assert.equal(del.rowsAffected, 3);
  });

  test('constraint violation → LibsqlError code SQLITE_CONSTRAINT', async () => {
    await db.execute('CREATE TABLE uniq (id INTEGER PRIMARY KEY, v TEXT UNIQUE NOT NULL)');
    await db.execute("INSERT INTO uniq VALUES (1, 'a')");
    const err = await db.execute("INSERT INTO uniq VALUES (2, 'a')").then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError, `expected LibsqlError, got ${err}`);
    assert.equal(err.code, 'SQLITE_CONSTRAINT');
    assert.match(err.message, /UNIQUE constraint failed/);
    const err2 = await db.execute('INSERT INTO uniq VALUES (3, NULL)').then(() => null, (e) => e);
    assert.equal(err2?.code, 'SQLITE_CONSTRAINT');
    assert.match(err2.message, /NOT NULL constraint failed/);
    assert.equal(await count('uniq'), 1);
  });

  test('SQL syntax error rejects with a LibsqlError carrying a code', async () => {
    const err = await db.execute('SELEC 1').then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError);
    assert.equal(typeof err.code, 'string');
    assert.notEqual(err.code, 'SERVER_ERROR', 'statement errors must be Hrana errors, not HTTP errors');
  });

  test('no such table', async () => {
    const err = await db.execute('SELECT * FROM does_not_exist').then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError);
    assert.match(err.message, /no such table/);
  });
});

describe('value round trips', () => {
  test('typeof() of bound values matches the client encoding', async () => {
    // JS numbers are sent as Hrana "float" (even 1), bigints and booleans as "integer".
    const rs = await db.execute({
      sql: 'SELECT typeof(?), typeof(?), typeof(?), typeof(?), typeof(?), typeof(?), typeof(?)',
      args: [1, 1n, true, 'x', null, new Uint8Array([1]), 2.5],
    });
    assert.deepEqual(Array.from(rs.rows[0]), ['real', 'integer', 'integer', 'text', 'null', 'blob', 'real']);
  });

  test('int64 extremes with intMode bigint', async () => {
    const big = server.client('shop', { intMode: 'bigint' });
    try {
      await big.execute('CREATE TABLE ints (v INTEGER)');
      const values = [9223372036854775807n, -9223372036854775808n, 0n, -1n, 9007199254740993n];
      for (const v of values) await big.execute({ sql: 'INSERT INTO ints VALUES (?)', args: [v] });
      const rs = await big.execute('SELECT v, typeof(v) AS t FROM ints ORDER BY rowid');
      assert.deepEqual(rs.rows.map((r) => r.v), values);
      assert.ok(rs.rows.every((r) => r.t === 'integer'));
      const lit = await big.execute('SELECT 9223372036854775807 AS a, -9223372036854775808 AS b');
      assert.equal(lit.rows[0].a, 9223372036854775807n);
      assert.equal(lit.rows[0].b, -9223372036854775808n);
      // The arithmetic proves the server kept full precision on input.
      const arith = await big.execute({ sql: 'SELECT ? - 1', args: [9223372036854775807n] });
      assert.equal(arith.rows[0][0], 9223372036854775806n);
    } finally {
      big.close();
    }
  });

  test('intMode string returns exact decimal strings', async () => {
    const s = server.client('shop', { intMode: 'string' });
    try {
      const rs = await s.execute('SELECT 9223372036854775807, -9223372036854775808, 42');
      assert.deepEqual(Array.from(rs.rows[0]), ['9223372036854775807', '-9223372036854775808', '42']);
    } finally {
      s.close();
    }
  });

  test('default intMode number: small ints are numbers, unsafe ints throw RangeError', async () => {
    const rs = await db.execute('SELECT 42, -7');
    assert.deepEqual(Array.from(rs.rows[0]), [42, -7]);
    await assert.rejects(db.execute('SELECT 9223372036854775807'), RangeError);
  });

  test('floats survive exactly', async () => {
    await db.execute('CREATE TABLE floats (v REAL)');
    const values = [0.1, 1e308, -1.5, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 123456789.12345679, -3.0e-7, 1 / 3];
    for (const v of values) await db.execute({ sql: 'INSERT INTO floats VALUES (?)', args: [v] });
    const rs = await db.execute('SELECT v FROM floats ORDER BY rowid');
    assert.deepEqual(rs.rows.map((r) => r.v), values);
    const lit = await db.execute('SELECT 0.1 + 0.2, 2.0, typeof(2.0)');
    assert.equal(lit.rows[0][0], 0.1 + 0.2);
    assert.equal(lit.rows[0][1], 2);
    assert.equal(lit.rows[0][2], 'real');
  });

  test('blobs: bytes incl. zeros, empty blob, large blob', async () => {
    await db.execute('CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)');
    const small = new Uint8Array([0, 1, 2, 0, 255, 254, 0]);
    const empty = new Uint8Array(0);
    const large = new Uint8Array(200_000);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7919) & 0xff;
    for (const [id, b] of [[1, small], [2, empty], [3, large], [4, new Uint8Array([0xfb, 0xff])]]) {
      await db.execute({ sql: 'INSERT INTO blobs VALUES (?, ?)', args: [id, b] });
    }
    const rs = await db.execute('SELECT id, b, typeof(b) AS t, length(b) AS len, hex(b) AS h FROM blobs ORDER BY id');
    assert.deepEqual(rs.rows.map((r) => r.t), ['blob', 'blob', 'blob', 'blob'], 'an empty Uint8Array must stay a blob, not NULL');
    assert.deepEqual(rs.rows.map((r) => r.len), [7, 0, 200_000, 2]);
    assert.equal(rs.rows[0].h, '00010200FFFE00');
    assert.ok(rs.rows[0].b instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(rs.rows[0].b), small);
    assert.equal(rs.rows[1].b.byteLength, 0);
    assert.deepEqual(new Uint8Array(rs.rows[2].b), large);
    assert.deepEqual(new Uint8Array(rs.rows[3].b), new Uint8Array([0xfb, 0xff]));
    const zb = await db.execute('SELECT zeroblob(3), X\'\'');
    assert.deepEqual(new Uint8Array(zb.rows[0][0]), new Uint8Array([0, 0, 0]));
    assert.equal(zb.rows[0][1].byteLength, 0);
  });

  test('null round trip', async () => {
    const rs = await db.execute({ sql: 'SELECT ?, NULL, typeof(?)', args: [null, null] });
    assert.deepEqual(Array.from(rs.rows[0]), [null, null, 'null']);
  });

  test('unicode text round trip', async () => {
    await db.execute('CREATE TABLE texts (id INTEGER PRIMARY KEY, t TEXT)');
    const values = ['héllo wörld', '日本語テキスト', '😀👍🏽🏳️‍🌈', 'tab\tnew\nline "quote" \\ back', '', ' ', '\u2028\u2029', 'a'.repeat(100_000)];
    for (const [i, v] of values.entries()) await db.execute({ sql: 'INSERT INTO texts VALUES (?, ?)', args: [i, v] });
    const rs = await db.execute('SELECT t, length(t) AS len FROM texts ORDER BY id');
    assert.deepEqual(rs.rows.map((r) => r.t), values);
    // SQLite length() counts characters: proves the server stored UTF-8, not UTF-16 or mangled bytes.
    assert.equal(rs.rows[1].len, 7);
    const lit = await db.execute("SELECT '日本', '🙂' || 'x'");
    assert.deepEqual(Array.from(lit.rows[0]), ['日本', '🙂x']);
  });

  test('text containing U+0000 survives as a bound parameter', async () => {
    const rs = await db.execute({ sql: 'SELECT ?', args: ['a\u0000b'] });
    assert.equal(rs.rows[0][0], 'a\u0000b');
  });

  test('boolean args become 1/0 integers; Date becomes ms float', async () => {
    const rs = await db.execute({ sql: 'SELECT ?, ?, ?', args: [true, false, new Date(86400000)] });
    assert.deepEqual(Array.from(rs.rows[0]), [1, 0, 86400000]);
  });
});

describe('batch', () => {
  test('write batch returns one result set per statement', async () => {
    await db.execute('CREATE TABLE b1 (id INTEGER PRIMARY KEY, v TEXT)');
    const results = await db.batch([
      { sql: 'INSERT INTO b1 (v) VALUES (?)', args: ['x'] },
      { sql: 'INSERT INTO b1 (v) VALUES (?)', args: ['y'] },
      'SELECT v FROM b1 ORDER BY id',
    ], 'write');
    assert.equal(results.length, 3);
    assert.equal(results[0].rowsAffected, 1);
    assert.equal(results[1].lastInsertRowid, 2n);
    assert.deepEqual(results[2].rows.map((r) => r.v), ['x', 'y']);
  });

  test('a failing statement rolls the whole batch back', async () => {
    await db.execute('CREATE TABLE b2 (id INTEGER PRIMARY KEY, v TEXT)');
    await db.execute("INSERT INTO b2 VALUES (1, 'keep')");
    const err = await db.batch([
      "INSERT INTO b2 VALUES (10, 'a')",
      "UPDATE b2 SET v = 'changed' WHERE id = 1",
      "INSERT INTO b2 VALUES (1, 'dup')",
      "INSERT INTO b2 VALUES (11, 'b')",
    ], 'write').then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError, `expected LibsqlError, got ${err}`);
    assert.equal(err.code, 'SQLITE_CONSTRAINT');
    assert.equal(err.statementIndex, 2);
    const rs = await db.execute('SELECT id, v FROM b2 ORDER BY id');
    assert.deepEqual(rs.rows.map((r) => [r.id, r.v]), [[1, 'keep']]);
    // The stream must not be left inside a transaction: a later batch works.
    await db.batch(["INSERT INTO b2 VALUES (2, 'next')"], 'write');
    assert.equal(await count('b2'), 2);
  });

  test('read and deferred batches', async () => {
    await db.execute('CREATE TABLE b3 (v INTEGER)');
    await db.batch(['INSERT INTO b3 VALUES (1)', 'INSERT INTO b3 VALUES (2)'], 'deferred');
    const [rs] = await db.batch(['SELECT sum(v) AS s FROM b3'], 'read');
    assert.equal(rs.rows[0].s, 3);
    // A write inside a read batch fails and changes nothing.
    await assert.rejects(db.batch(['INSERT INTO b3 VALUES (100)'], 'read'), LibsqlError);
    assert.equal(await count('b3'), 2);
  });

  test('100 concurrent write batches all succeed', async () => {
    await db.execute('CREATE TABLE conc (id INTEGER PRIMARY KEY, worker INTEGER, note TEXT)');
    const c = server.client('shop', { concurrency: 100 });
    try {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        c.batch([
          { sql: 'INSERT INTO conc (worker, note) VALUES (?, ?)', args: [i, `w${i}`] },
          { sql: 'UPDATE conc SET note = note || ? WHERE worker = ?', args: ['!', i] },
        ], 'write')));
      assert.equal(results.length, 100);
      assert.ok(results.every((r) => r[0].rowsAffected === 1 && r[1].rowsAffected === 1));
    } finally {
      c.close();
    }
    const rs = await db.execute("SELECT count(*) AS n, count(DISTINCT worker) AS w, sum(note LIKE '%!') AS bang FROM conc");
    assert.equal(rs.rows[0].n, 100);
    assert.equal(rs.rows[0].w, 100);
    assert.equal(rs.rows[0].bang, 100);
  });

  test('the same SQL text repeated in a batch (stored SQL reuse)', async () => {
    await db.execute('CREATE TABLE rep (v INTEGER)');
    const stmts = Array.from({ length: 40 }, (_, i) => ({ sql: 'INSERT INTO rep VALUES (?)', args: [i] }));
    await db.batch(stmts, 'write');
    const rs = await db.execute('SELECT count(*) AS n, sum(v) AS s FROM rep');
    assert.equal(rs.rows[0].n, 40);
    assert.equal(rs.rows[0].s, (39 * 40) / 2);
  });

  test('batch with more than 50 distinct statements', async () => {
    await db.execute('CREATE TABLE many (v INTEGER)');
    const stmts = Array.from({ length: 60 }, (_, i) => `INSERT INTO many VALUES (${i})`);
    await db.batch(stmts, 'write');
    assert.equal(await count('many'), 60);
  });
});

describe('interactive transactions', () => {
  test('commit makes writes visible; other clients do not see them before', async () => {
    await db.execute('CREATE TABLE tx1 (id INTEGER PRIMARY KEY, v TEXT)');
    const other = server.client('shop');
    try {
      const tx = await db.transaction('write');
      await tx.execute("INSERT INTO tx1 VALUES (1, 'a')");
      const inside = await tx.execute('SELECT count(*) AS n FROM tx1');
      assert.equal(inside.rows[0].n, 1);
      await tx.batch(["INSERT INTO tx1 VALUES (2, 'b')", "UPDATE tx1 SET v = 'A' WHERE id = 1"]);
      assert.equal(await count('tx1', '1=1', other), 0, 'uncommitted rows visible to another connection');
      await tx.commit();
      assert.ok(tx.closed);
      const rs = await other.execute('SELECT id, v FROM tx1 ORDER BY id');
      assert.deepEqual(rs.rows.map((r) => [r.id, r.v]), [[1, 'A'], [2, 'b']]);
    } finally {
      other.close();
    }
  });

  test('rollback discards writes', async () => {
    await db.execute('CREATE TABLE tx2 (v INTEGER)');
    await db.execute('INSERT INTO tx2 VALUES (1)');
    const tx = await db.transaction('write');
    await tx.execute('INSERT INTO tx2 VALUES (2)');
    await tx.execute('DELETE FROM tx2 WHERE v = 1');
    assert.equal((await tx.execute('SELECT count(*) AS n FROM tx2')).rows[0].n, 1);
    await tx.rollback();
    const rs = await db.execute('SELECT v FROM tx2');
    assert.deepEqual(rs.rows.map((r) => r.v), [1]);
  });

  test('close() without commit rolls back and releases the write lock', async () => {
    await db.execute('CREATE TABLE tx3 (v INTEGER)');
    const tx = await db.transaction('write');
    await tx.execute('INSERT INTO tx3 VALUES (1)');
    tx.close();
    // Another write must be possible promptly (lock released by the close request).
    const started = Date.now();
    await db.execute('INSERT INTO tx3 VALUES (2)');
    assert.ok(Date.now() - started < 4000, 'write lock was not released by close');
    const rs = await db.execute('SELECT v FROM tx3');
    assert.deepEqual(rs.rows.map((r) => r.v), [2]);
  });

  test('error inside a transaction keeps it usable; commit keeps earlier work', async () => {
    await db.execute('CREATE TABLE tx4 (id INTEGER PRIMARY KEY)');
    const tx = await db.transaction('write');
    await tx.execute('INSERT INTO tx4 VALUES (1)');
    const err = await tx.execute('INSERT INTO tx4 VALUES (1)').then(() => null, (e) => e);
    assert.equal(err?.code, 'SQLITE_CONSTRAINT');
    await tx.execute('INSERT INTO tx4 VALUES (2)');
    await tx.commit();
    assert.equal(await count('tx4'), 2);
  });

  test('read transaction sees a consistent snapshot and cannot write', async () => {
    await db.execute('CREATE TABLE tx5 (v INTEGER)');
    await db.execute('INSERT INTO tx5 VALUES (1)');
    const tx = await db.transaction('read');
    try {
      assert.equal((await tx.execute('SELECT count(*) AS n FROM tx5')).rows[0].n, 1);
      // No concurrent writer yet, so only the READONLY mode can make this fail.
      await assert.rejects(tx.execute('INSERT INTO tx5 VALUES (3)'), LibsqlError);
      await db.execute('INSERT INTO tx5 VALUES (2)');
      assert.equal((await tx.execute('SELECT count(*) AS n FROM tx5')).rows[0].n, 1, 'snapshot changed inside read txn');
    } finally {
      await tx.rollback().catch(() => {});
      tx.close();
    }
    assert.equal(await count('tx5'), 2);
  });

  test('executeMultiple inside a transaction', async () => {
    await db.execute('CREATE TABLE tx6 (v INTEGER)');
    const tx = await db.transaction('write');
    await tx.executeMultiple('INSERT INTO tx6 VALUES (1); INSERT INTO tx6 VALUES (2);');
    await tx.rollback();
    assert.equal(await count('tx6'), 0);
  });
});

describe('executeMultiple', () => {
  test('runs all statements of a script', async () => {
    await db.executeMultiple(`
      CREATE TABLE em1 (id INTEGER PRIMARY KEY, v TEXT);
      INSERT INTO em1 VALUES (1, 'a; not a separator');
      INSERT INTO em1 VALUES (2, 'b');
      -- a comment; with a semicolon
      CREATE INDEX em1_v ON em1 (v);
    `);
    const rs = await db.execute('SELECT v FROM em1 ORDER BY id');
    assert.deepEqual(rs.rows.map((r) => r.v), ['a; not a separator', 'b']);
    const idx = await db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'em1_v'");
    assert.equal(idx.rows.length, 1);
  });

  test('stops at the first error and reports it', async () => {
    const err = await db.executeMultiple(`
      CREATE TABLE em2 (v INTEGER UNIQUE);
      INSERT INTO em2 VALUES (1);
      INSERT INTO em2 VALUES (1);
      INSERT INTO em2 VALUES (3);
    `).then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError);
    assert.equal(err.code, 'SQLITE_CONSTRAINT');
    const rs = await db.execute('SELECT v FROM em2 ORDER BY v');
    assert.deepEqual(rs.rows.map((r) => r.v), [1]);
  });
});

describe('misc', () => {
  test('default namespace via root URL', async () => {
    const root = server.client(undefined);
    try {
      await root.execute('CREATE TABLE IF NOT EXISTS rootcheck (v TEXT)');
      await root.execute("INSERT INTO rootcheck VALUES ('default')");
      const rs = await root.execute('SELECT v FROM rootcheck');
      assert.deepEqual(rs.rows.map((r) => r.v), ['default']);
      // ...and it is not the "shop" namespace.
      await assert.rejects(db.execute('SELECT * FROM rootcheck'), /no such table/);
    } finally {
      root.close();
    }
  });

  test('large result set', async () => {
    const rs = await db.execute(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
      SELECT x, 'row ' || x AS label FROM c`);
    assert.equal(rs.rows.length, 20000);
    assert.equal(rs.rows[19999].x, 20000);
    assert.equal(rs.rows[123].label, 'row 124');
  });

});

describe('migrate, errors and reconnects', () => {
  test(`the client speaks ${TRANSPORT}`, () => {
    assert.equal(db.protocol, CLIENT_PROTOCOL);
    assert.ok(server.clientOrigin.startsWith(`${TRANSPORT}://`), server.clientOrigin);
  });

  test('migrate runs its statements with foreign keys off, then checks them', async () => {
    const results = await db.migrate([
      { sql: 'CREATE TABLE parent (id INTEGER PRIMARY KEY)', args: [] },
      { sql: 'CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent (id))', args: [] },
      { sql: 'INSERT INTO parent VALUES (1)', args: [] },
      { sql: 'INSERT INTO child VALUES (1, 1)', args: [] },
    ]);
    assert.equal(results.length, 4);
    assert.equal(await count('child'), 1);
    const fk = await db.execute('PRAGMA foreign_keys');
    assert.equal(fk.rows[0][0], 1, 'migrate must leave foreign keys on for the next client');
  });

  test('a failing migration rolls back all of it', async () => {
    const err = await db.migrate([
      { sql: 'CREATE TABLE mig_gone (v INTEGER)', args: [] },
      { sql: 'INSERT INTO no_such_table VALUES (1)', args: [] },
    ]).then(() => null, (e) => e);
    assert.ok(err instanceof LibsqlError, `expected LibsqlError, got ${err}`);
    await assert.rejects(db.execute('SELECT * FROM mig_gone'), /no such table/);
  });

  test('a bad token is refused with a LibsqlError', async () => {
    const bad = server.client('shop', { authToken: `${server.adminToken}x` });
    try {
      const err = await bad.execute('SELECT 1').then(() => null, (e) => e);
      assert.ok(err instanceof LibsqlError, `expected LibsqlError, got ${err}`);
      assert.match(String(err.message), /401|signature|AUTH_FAILED|token/i);
    } finally {
      bad.close();
    }
  });

  test('reconnect() gives a working client; streams of the old connection are gone', async () => {
    const c = server.client('shop');
    try {
      await c.execute('CREATE TABLE rc (v INTEGER)');
      const tx = await c.transaction('write');
      await tx.execute('INSERT INTO rc VALUES (1)');
      await c.reconnect();
      // The transaction's stream died with the old connection (WebSocket) or lives on its
      // baton (HTTP) until closed; either way it never committed.
      tx.close();
      await c.execute('INSERT INTO rc VALUES (2)');
      const rs = await c.execute('SELECT v FROM rc');
      assert.deepEqual(rs.rows.map((r) => r.v), [2]);
    } finally {
      c.close();
    }
  });

  test('a client closed and made anew works; a closed client refuses', async () => {
    const c = server.client('shop');
    await c.execute('SELECT 1');
    c.close();
    await assert.rejects(c.execute('SELECT 1'), LibsqlError);
    const again = server.client('shop');
    try {
      assert.equal((await again.execute('SELECT 2 AS two')).rows[0].two, 2);
    } finally {
      again.close();
    }
  });
});
