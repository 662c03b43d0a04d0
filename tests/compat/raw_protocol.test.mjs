// Raw Hrana-over-HTTP protocol tests (no client library): /v2 and /v3 pipeline,
// /v3/cursor, batons, errors, limits, legacy endpoints, CORS and timeouts.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, hrana, exec, stmt, close, okResults, query1, rawRequest,
} from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
  await server.createNamespace('shop');
  await query1(server, 'CREATE TABLE kv (k TEXT PRIMARY KEY, v)', [], { ns: 'shop' });
});

after(async () => {
  await server?.stop();
});

const opts = { ns: 'shop' };

/** True if the pipeline was refused: HTTP error or an error result at `index`. */
function refusedAt(r, index = 0) {
  if (r.status !== 200) return r.status >= 400 && r.status < 500;
  return r.json?.results?.[index]?.type === 'error';
}

/** Hrana error object of a refused request, from the result or the HTTP body. */
function errorOf(r, index = 0) {
  if (r.status === 200) return r.json.results[index].error;
  return r.json ?? { message: r.text };
}

async function assertServerHealthy() {
  const res = await query1(server, 'SELECT 1', [], opts);
  assert.equal(res.rows[0][0].value, '1');
}

describe('pipeline basics', () => {
  for (const version of ['v2', 'v3']) {
    test(`${version}: execute, result shape, close returns null baton`, async () => {
      const r = await hrana(server, {
        baton: null,
        requests: [
          exec("INSERT INTO kv VALUES (?, ?)", [`${version}-a`, 1n]),
          exec('SELECT k, v, 1.5 AS f, NULL AS n, x\'00ff\' AS b FROM kv WHERE k = ?', [`${version}-a`]),
          exec('SELECT 1', [], { want_rows: false }),
          close,
        ],
      }, { ...opts, version });
      const [ins, sel, norows, cl] = okResults(r);
      assert.equal(r.json.baton, null, 'baton must be null after close');
      assert.ok(r.json.base_url === null || r.json.base_url === undefined || typeof r.json.base_url === 'string');
      assert.equal(ins.response.type, 'execute');
      const ir = ins.response.result;
      assert.equal(ir.affected_row_count, 1);
      assert.equal(typeof ir.last_insert_rowid, 'string');
      assert.match(ir.last_insert_rowid, /^[0-9]+$/);
      assert.deepEqual(ir.cols, []);
      assert.deepEqual(ir.rows, []);
      const sr = sel.response.result;
      assert.deepEqual(sr.cols.map((c) => c.name), ['k', 'v', 'f', 'n', 'b']);
      assert.equal(sr.cols[0].decltype, 'TEXT');
      assert.ok(sr.cols[2].decltype === null || sr.cols[2].decltype === undefined);
      assert.equal(sr.rows.length, 1);
      const [k, v, f, n, b] = sr.rows[0];
      assert.deepEqual(k, { type: 'text', value: `${version}-a` });
      assert.deepEqual(v, { type: 'integer', value: '1' }, 'integers must be decimal strings');
      assert.deepEqual(f, { type: 'float', value: 1.5 });
      assert.deepEqual(n, { type: 'null' });
      assert.equal(b.type, 'blob');
      assert.deepEqual([...Buffer.from(b.base64, 'base64')], [0, 255]);
      assert.equal(norows.response.result.rows.length, 0, 'want_rows:false must return no rows');
      assert.equal(cl.response.type, 'close');
    });
  }

  test('statement errors are per-result (HTTP 200) with message and code', async () => {
    const r = await hrana(server, {
      requests: [exec('SELECT * FROM nosuch'), exec('SELECT 2'), close],
    }, opts);
    assert.equal(r.status, 200);
    const [e1, ok2] = r.json.results;
    assert.equal(e1.type, 'error');
    assert.equal(typeof e1.error.message, 'string');
    assert.match(e1.error.message, /no such table/);
    assert.equal(typeof e1.error.code, 'string');
    assert.equal(ok2.type, 'ok', 'an error must not abort the rest of the pipeline');
    assert.equal(ok2.response.result.rows[0][0].value, '2');
  });

  test('constraint error code is SQLITE_CONSTRAINT', async () => {
    const r = await hrana(server, {
      requests: [exec("INSERT INTO kv VALUES ('dup', 1)"), exec("INSERT INTO kv VALUES ('dup', 2)"), close],
    }, opts);
    assert.equal(r.json.results[0].type, 'ok');
    assert.equal(r.json.results[1].type, 'error');
    assert.equal(r.json.results[1].error.code, 'SQLITE_CONSTRAINT');
  });

  test('multiple statements in one execute are refused', async () => {
    const r = await hrana(server, { requests: [exec("SELECT 1; INSERT INTO kv VALUES ('multi', 1)"), close] }, opts);
    assert.ok(refusedAt(r));
    const check = await query1(server, "SELECT count(*) FROM kv WHERE k = 'multi'", [], opts);
    assert.equal(check.rows[0][0].value, '0');
  });

  test('both positional and named args is an error', async () => {
    const r = await hrana(server, {
      requests: [{ type: 'execute', stmt: { sql: 'SELECT ?, :a', args: [{ type: 'integer', value: '1' }], named_args: [{ name: ':a', value: { type: 'integer', value: '2' } }] } }, close],
    }, opts);
    assert.ok(refusedAt(r));
  });
});

describe('value encodings', () => {
  test('integer input as decimal string keeps int64 precision', async () => {
    const res = await query1(server, 'SELECT ?, ? + 0, typeof(?)', [
      { type: 'integer', value: '9223372036854775807' },
      { type: 'integer', value: '-9223372036854775808' },
      { type: 'integer', value: '-1' },
    ], opts);
    assert.deepEqual(res.rows[0], [
      { type: 'integer', value: '9223372036854775807' },
      { type: 'integer', value: '-9223372036854775808' },
      { type: 'text', value: 'integer' },
    ]);
  });

  test('out-of-range or non-numeric integer string is rejected', async () => {
    for (const value of ['9223372036854775808', '12abc', '']) {
      const r = await hrana(server, { requests: [exec('SELECT ?', [{ type: 'integer', value }]), close] }, opts);
      assert.ok(refusedAt(r), `integer ${JSON.stringify(value)} accepted: ${r.text}`);
    }
  });

  test('blob base64 with and without padding is accepted on input', async () => {
    const cases = [
      ['AAEC', '000102'], ['AAE=', '0001'], ['AAE', '0001'], ['AA==', '00'], ['AA', '00'], ['', ''], ['+/8=', 'FBFF'], ['+/8', 'FBFF'],
    ];
    for (const [b64, hex] of cases) {
      const res = await query1(server, 'SELECT hex(?), typeof(?)', [
        { type: 'blob', base64: b64 }, { type: 'blob', base64: b64 },
      ], opts);
      assert.equal(res.rows[0][0].value, hex, b64);
      assert.equal(res.rows[0][1].value, 'blob', b64);
    }
  });

  test('invalid base64 is rejected', async () => {
    const r = await hrana(server, { requests: [exec('SELECT ?', [{ type: 'blob', base64: '!!!!' }]), close] }, opts);
    assert.ok(refusedAt(r), r.text);
  });

  test('blob output decodes to the exact bytes', async () => {
    const res = await query1(server, "SELECT x'', x'00', x'0001', x'000102', x'fbff'", [], opts);
    const bytes = res.rows[0].map((v) => {
      assert.equal(v.type, 'blob');
      return Buffer.from(v.base64, 'base64').toString('hex');
    });
    assert.deepEqual(bytes, ['', '00', '0001', '000102', 'fbff']);
  });

  test('float input with integral value binds as REAL; text/null inputs', async () => {
    const res = await query1(server, 'SELECT typeof(?), ?, typeof(?), typeof(?)', [
      { type: 'float', value: 1 }, { type: 'float', value: 1e308 }, { type: 'text', value: 'x' }, { type: 'null' },
    ], opts);
    assert.deepEqual(res.rows[0], [
      { type: 'text', value: 'real' }, { type: 'float', value: 1e308 },
      { type: 'text', value: 'text' }, { type: 'text', value: 'null' },
    ]);
  });

  test('unknown value type is refused', async () => {
    const r = await hrana(server, { requests: [exec('SELECT ?', [{ type: 'decimal', value: '1.0' }]), close] }, opts);
    assert.ok(refusedAt(r));
  });

  test('named args: name with or without prefix', async () => {
    const r = await hrana(server, {
      requests: [{
        type: 'execute',
        stmt: {
          sql: 'SELECT :a, @b, $c', args: [], want_rows: true,
          named_args: [
            { name: 'a', value: { type: 'integer', value: '1' } },
            { name: '@b', value: { type: 'text', value: 'two' } },
            { name: '$c', value: { type: 'float', value: 3.5 } },
          ],
        },
      }, close],
    }, opts);
    const [res] = okResults(r);
    assert.deepEqual(res.response.result.rows[0], [
      { type: 'integer', value: '1' }, { type: 'text', value: 'two' }, { type: 'float', value: 3.5 },
    ]);
  });
});

describe('streams and batons', () => {
  test('baton carries the connection state (temp table, transaction)', async () => {
    const r1 = await hrana(server, { requests: [exec('CREATE TEMP TABLE tmp (v)'), exec('BEGIN'), exec("INSERT INTO kv VALUES ('in-txn', 1)")] }, opts);
    okResults(r1);
    const b1 = r1.json.baton;
    assert.equal(typeof b1, 'string');
    const r2 = await hrana(server, { baton: b1, requests: [exec('SELECT count(*) FROM tmp'), exec("SELECT count(*) FROM kv WHERE k = 'in-txn'")] }, opts);
    const [t, k] = okResults(r2);
    assert.equal(t.response.result.rows[0][0].value, '0');
    assert.equal(k.response.result.rows[0][0].value, '1');
    // Not visible from another stream until commit.
    const other = await query1(server, "SELECT count(*) FROM kv WHERE k = 'in-txn'", [], opts);
    assert.equal(other.rows[0][0].value, '0');
    const b2 = r2.json.baton;
    assert.notEqual(b2, b1, 'a new baton must be issued for every request');
    okResults(await hrana(server, { baton: b2, requests: [exec('COMMIT'), close] }, opts));
    const after = await query1(server, "SELECT count(*) FROM kv WHERE k = 'in-txn'", [], opts);
    assert.equal(after.rows[0][0].value, '1');
  });

  test('reusing a baton is refused with HTTP 400', async () => {
    const r1 = await hrana(server, { requests: [exec('SELECT 1')] }, opts);
    const b1 = r1.json.baton;
    const r2 = await hrana(server, { baton: b1, requests: [exec('SELECT 2')] }, opts);
    okResults(r2);
    const r3 = await hrana(server, { baton: b1, requests: [exec("INSERT INTO kv VALUES ('reused', 1)")] }, opts);
    assert.equal(r3.status, 400, r3.text);
    assert.ok(r3.text.length > 0);
    if (r3.contentType === 'application/json') assert.equal(typeof r3.json.message, 'string');
    const check = await query1(server, "SELECT count(*) FROM kv WHERE k = 'reused'", [], opts);
    assert.equal(check.rows[0][0].value, '0');
    await hrana(server, { baton: r2.json.baton, requests: [close] }, opts);
  });

  test('unknown / forged baton → HTTP 400', async () => {
    for (const baton of ['nonsense', 'A'.repeat(64), Buffer.alloc(48, 7).toString('base64')]) {
      const r = await hrana(server, { baton, requests: [exec('SELECT 1')] }, opts);
      assert.equal(r.status, 400, `baton ${baton}: HTTP ${r.status}`);
    }
  });

  test('baton of a closed stream is refused', async () => {
    const r1 = await hrana(server, { requests: [exec('SELECT 1')] }, opts);
    const b1 = r1.json.baton;
    const r2 = await hrana(server, { baton: b1, requests: [close] }, opts);
    okResults(r2);
    assert.equal(r2.json.baton, null);
    const r3 = await hrana(server, { baton: b1, requests: [exec('SELECT 1')] }, opts);
    assert.equal(r3.status, 400);
  });

  test('closing a stream with an open transaction rolls it back', async () => {
    const r1 = await hrana(server, { requests: [exec('BEGIN IMMEDIATE'), exec("INSERT INTO kv VALUES ('closed-txn', 1)")] }, opts);
    okResults(r1);
    okResults(await hrana(server, { baton: r1.json.baton, requests: [close] }, opts));
    const check = await query1(server, "SELECT count(*) FROM kv WHERE k = 'closed-txn'", [], opts);
    assert.equal(check.rows[0][0].value, '0');
    // The write lock is free again.
    await query1(server, "INSERT INTO kv VALUES ('after-close', 1)", [], opts);
  });
});

describe('malformed requests', () => {
  test('malformed JSON → 400 with JSON error body', async () => {
    for (const body of ['{"requests": [', 'not json at all', '', '[]', '{"requests": 5}']) {
      const r = await hrana(server, body, opts);
      assert.equal(r.status, 400, `body ${JSON.stringify(body)} → HTTP ${r.status} ${r.text}`);
      assert.equal(r.contentType, 'application/json', `body ${JSON.stringify(body)}`);
      assert.equal(typeof r.json?.message, 'string');
    }
    await assertServerHealthy();
  });

  test('unknown request type is refused', async () => {
    const r = await hrana(server, { requests: [{ type: 'frobnicate' }, close] }, opts);
    assert.ok(refusedAt(r), `HTTP ${r.status} ${r.text}`);
  });

  test('execute without sql / with both sql and sql_id is refused', async () => {
    const none = await hrana(server, { requests: [{ type: 'execute', stmt: { args: [], named_args: [] } }, close] }, opts);
    assert.ok(refusedAt(none));
    const both = await hrana(server, { requests: [{ type: 'store_sql', sql_id: 1, sql: 'SELECT 1' }, { type: 'execute', stmt: { sql: 'SELECT 2', sql_id: 1 } }, close] }, opts);
    assert.ok(both.status !== 200 || both.json.results[1].type === 'error');
  });

  test('oversized body → 413', async () => {
    // 96 MiB, first with Content-Length, then chunked (no Content-Length).
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const times = 96;
    for (const chunked of [false, true]) {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` };
      if (!chunked) headers['content-length'] = String(chunk.length * times);
      const r = await rawRequest(server, { path: '/db/shop/v2/pipeline', headers, body: { chunk, times } })
        .catch((e) => ({ error: e }));
      assert.ok(!r.error, `chunked=${chunked}: request failed without an HTTP response: ${r.error}`);
      assert.equal(r.status, 413, `chunked=${chunked}`);
    }
    await assertServerHealthy();
  });

  test('invalid UTF-8 in SQL text → clear error, server survives', async () => {
    const body = Buffer.concat([
      Buffer.from('{"requests":[{"type":"execute","stmt":{"sql":"SELECT \''),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from('\'"}},{"type":"close"}]}'),
    ]);
    const r = await hrana(server, body, opts);
    assert.ok(refusedAt(r), `HTTP ${r.status} ${r.text}`);
    const err = errorOf(r);
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0);
    await assertServerHealthy();
  });
});

describe('stored SQL, describe, sequence, autocommit', () => {
  test('store_sql / execute by sql_id / close_sql', async () => {
    const r1 = await hrana(server, {
      requests: [
        { type: 'store_sql', sql_id: 0, sql: 'SELECT ? * 2' },
        { type: 'store_sql', sql_id: 7, sql: 'SELECT :x || :x' },
        { type: 'execute', stmt: { sql_id: 0, args: [{ type: 'integer', value: '21' }], named_args: [], want_rows: true } },
        { type: 'batch', batch: { steps: [{ stmt: { sql_id: 7, args: [], named_args: [{ name: 'x', value: { type: 'text', value: 'ab' } }], want_rows: true } }] } },
        { type: 'close_sql', sql_id: 0 },
      ],
    }, opts);
    const res = okResults(r1);
    assert.deepEqual(res.map((x) => x.response.type), ['store_sql', 'store_sql', 'execute', 'batch', 'close_sql']);
    assert.equal(res[2].response.result.rows[0][0].value, '42');
    assert.equal(res[3].response.result.step_results[0].rows[0][0].value, 'abab');
    // Stored SQL lives on the stream: id 7 still works in the next request, id 0 is gone.
    const r2 = await hrana(server, { baton: r1.json.baton, requests: [{ type: 'execute', stmt: { sql_id: 7, args: [], named_args: [{ name: ':x', value: { type: 'text', value: 'c' } }] } }] }, opts);
    assert.equal(okResults(r2)[0].response.result.rows[0][0].value, 'cc');
    const r3 = await hrana(server, { baton: r2.json.baton, requests: [{ type: 'execute', stmt: { sql_id: 0, args: [{ type: 'integer', value: '1' }] } }, close] }, opts);
    assert.ok(refusedAt(r3), `closed sql_id still usable: ${r3.text}`);
    // Stored SQL is per stream: a new stream does not see id 7.
    const r4 = await hrana(server, { requests: [{ type: 'execute', stmt: { sql_id: 7, args: [] } }, close] }, opts);
    assert.ok(refusedAt(r4));
    if (r3.status === 200 && r3.json.baton) await hrana(server, { baton: r3.json.baton, requests: [close] }, opts);
  });

  test('describe', async () => {
    const r = await hrana(server, {
      requests: [
        { type: 'describe', sql: 'SELECT k AS key, v FROM kv WHERE k = :name OR v = ?' },
        { type: 'describe', sql: "INSERT INTO kv VALUES ('x', 1)" },
        { type: 'describe', sql: 'EXPLAIN SELECT 1' },
        close,
      ],
    }, opts);
    const [sel, ins, expl] = okResults(r).map((x) => x.response.result);
    assert.deepEqual(sel.params.map((p) => p.name ?? null), [':name', null]);
    assert.deepEqual(sel.cols.map((c) => c.name), ['key', 'v']);
    assert.equal(sel.cols[0].decltype, 'TEXT');
    assert.equal(sel.is_readonly, true);
    assert.equal(sel.is_explain, false);
    assert.equal(ins.is_readonly, false);
    assert.equal(expl.is_explain, true);
    // describe must not execute the statement
    const check = await query1(server, "SELECT count(*) FROM kv WHERE k = 'x'", [], opts);
    assert.equal(check.rows[0][0].value, '0');
  });

  test('sequence runs a multi-statement script and stops at the first error', async () => {
    const r = await hrana(server, {
      requests: [
        { type: 'sequence', sql: "CREATE TABLE seq (v); INSERT INTO seq VALUES (1); INSERT INTO seq VALUES (2);" },
        { type: 'sequence', sql: "INSERT INTO seq VALUES (3); INSERT INTO nosuch VALUES (4); INSERT INTO seq VALUES (5);" },
        exec('SELECT group_concat(v) FROM seq'),
        close,
      ],
    }, opts);
    assert.equal(r.status, 200);
    assert.equal(r.json.results[0].type, 'ok');
    assert.equal(r.json.results[0].response.type, 'sequence');
    assert.equal(r.json.results[1].type, 'error');
    assert.equal(r.json.results[2].response.result.rows[0][0].value, '1,2,3');
  });

  test('get_autocommit (v3)', async () => {
    const r1 = await hrana(server, { requests: [{ type: 'get_autocommit' }, exec('BEGIN'), { type: 'get_autocommit' }] }, { ...opts, version: 'v3' });
    const res = okResults(r1);
    assert.equal(res[0].response.type, 'get_autocommit');
    assert.equal(res[0].response.is_autocommit, true);
    assert.equal(res[2].response.is_autocommit, false);
    const r2 = await hrana(server, { baton: r1.json.baton, requests: [exec('ROLLBACK'), { type: 'get_autocommit' }, close] }, { ...opts, version: 'v3' });
    assert.equal(okResults(r2)[1].response.is_autocommit, true);
  });
});

describe('batch conditions', () => {
  const s = (sql) => stmt(sql);
  test('ok / error / not / and / or / is_autocommit', async () => {
    const steps = [
      /* 0 */ { stmt: s('SELECT 0') },
      /* 1 */ { stmt: s('SELECT * FROM nosuch') },
      /* 2 */ { condition: { type: 'ok', step: 0 }, stmt: s('SELECT 2') },
      /* 3 */ { condition: { type: 'ok', step: 1 }, stmt: s('SELECT 3') },
      /* 4 */ { condition: { type: 'error', step: 1 }, stmt: s('SELECT 4') },
      /* 5 */ { condition: { type: 'error', step: 0 }, stmt: s('SELECT 5') },
      /* 6 */ { condition: { type: 'not', cond: { type: 'ok', step: 1 } }, stmt: s('SELECT 6') },
      /* 7 */ { condition: { type: 'and', conds: [{ type: 'ok', step: 0 }, { type: 'error', step: 1 }] }, stmt: s('SELECT 7') },
      /* 8 */ { condition: { type: 'and', conds: [{ type: 'ok', step: 0 }, { type: 'ok', step: 1 }] }, stmt: s('SELECT 8') },
      /* 9 */ { condition: { type: 'or', conds: [{ type: 'ok', step: 1 }, { type: 'error', step: 0 }] }, stmt: s('SELECT 9') },
      /* 10 */ { condition: { type: 'or', conds: [{ type: 'ok', step: 1 }, { type: 'ok', step: 0 }] }, stmt: s('SELECT 10') },
      /* 11 */ { condition: { type: 'ok', step: 3 }, stmt: s('SELECT 11') }, // step 3 was skipped → not ok
      /* 12 */ { condition: { type: 'error', step: 3 }, stmt: s('SELECT 12') }, // skipped → not error either
      /* 13 */ { condition: { type: 'and', conds: [] }, stmt: s('SELECT 13') },
      /* 14 */ { condition: { type: 'or', conds: [] }, stmt: s('SELECT 14') },
      /* 15 */ { condition: { type: 'is_autocommit' }, stmt: s('SELECT 15') },
      /* 16 */ { stmt: s('BEGIN') },
      /* 17 */ { condition: { type: 'is_autocommit' }, stmt: s('SELECT 17') },
      /* 18 */ { condition: { type: 'not', cond: { type: 'is_autocommit' } }, stmt: s('SELECT 18') },
      /* 19 */ { stmt: s('ROLLBACK') },
    ];
    const expectRun = new Set([0, 2, 4, 6, 7, 10, 13, 15, 16, 18, 19]);
    const r = await hrana(server, { requests: [{ type: 'batch', batch: { steps } }, close] }, { ...opts, version: 'v3' });
    const [res] = okResults(r);
    assert.equal(res.response.type, 'batch');
    const { step_results: results, step_errors: errors } = res.response.result;
    assert.equal(results.length, steps.length);
    assert.equal(errors.length, steps.length);
    for (let i = 0; i < steps.length; i++) {
      if (i === 1) {
        assert.equal(results[i], null);
        assert.match(errors[i].message, /no such table/);
      } else if (expectRun.has(i)) {
        assert.notEqual(results[i], null, `step ${i} should have run`);
        assert.equal(errors[i], null, `step ${i} should not have failed`);
        if (steps[i].stmt.sql.startsWith('SELECT ')) assert.equal(results[i].rows[0][0].value, String(i));
      } else {
        assert.equal(results[i], null, `step ${i} should have been skipped`);
        assert.equal(errors[i], null, `step ${i} skipped steps have no error`);
      }
    }
  });

  test('client-style atomic batch: failing step triggers ROLLBACK step', async () => {
    const steps = [
      { stmt: s('BEGIN IMMEDIATE') },
      { condition: { type: 'ok', step: 0 }, stmt: s("INSERT INTO kv VALUES ('batch-a', 1)") },
      { condition: { type: 'ok', step: 1 }, stmt: s("INSERT INTO kv VALUES ('batch-a', 2)") },
      { condition: { type: 'ok', step: 2 }, stmt: s('COMMIT') },
      { condition: { type: 'not', cond: { type: 'ok', step: 3 } }, stmt: s('ROLLBACK') },
    ];
    const r = await hrana(server, { requests: [{ type: 'batch', batch: { steps } }, close] }, opts);
    const { step_results: results, step_errors: errors } = okResults(r)[0].response.result;
    assert.notEqual(results[1], null);
    assert.equal(errors[2].code, 'SQLITE_CONSTRAINT');
    assert.equal(results[3], null);
    assert.notEqual(results[4], null);
    const check = await query1(server, "SELECT count(*) FROM kv WHERE k = 'batch-a'", [], opts);
    assert.equal(check.rows[0][0].value, '0');
  });

  test('condition referencing a later step is refused', async () => {
    const steps = [{ condition: { type: 'ok', step: 1 }, stmt: s('SELECT 1') }, { stmt: s('SELECT 2') }];
    const r = await hrana(server, { requests: [{ type: 'batch', batch: { steps } }, close] }, opts);
    assert.ok(refusedAt(r), r.text);
  });
});

describe('/v3/cursor', () => {
  test('ndjson with step_begin / row / step_end / step_error', async () => {
    const resp = await fetch(`${server.origin}/db/shop/v3/cursor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({
        baton: null,
        batch: {
          steps: [
            { stmt: stmt("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'") },
            { stmt: stmt('SELECT * FROM nosuch') },
            { condition: { type: 'error', step: 1 }, stmt: stmt("INSERT INTO kv VALUES ('cursor', 1)") },
          ],
        },
      }),
    });
    assert.equal(resp.status, 200);
    const text = await resp.text();
    assert.ok(text.endsWith('\n'), 'every ndjson entry ends with a newline');
    const lines = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
    const [head, ...all] = lines;
    // The Hrana spec allows a step_begin before a step_error; ignore it for the failing step 1.
    const entries = all.filter((e) => !(e.type === 'step_begin' && e.step === 1));
    assert.ok('baton' in head, `first line must be the cursor response body: ${JSON.stringify(head)}`);
    assert.deepEqual(entries.map((e) => e.type), [
      'step_begin', 'row', 'row', 'step_end', 'step_error', 'step_begin', 'step_end',
    ]);
    assert.equal(entries[0].step, 0);
    assert.deepEqual(entries[0].cols.map((c) => c.name), ['a', 'b']);
    assert.deepEqual(entries[1].row, [{ type: 'integer', value: '1' }, { type: 'text', value: 'x' }]);
    assert.deepEqual(entries[2].row, [{ type: 'integer', value: '2' }, { type: 'text', value: 'y' }]);
    assert.equal(typeof entries[3].affected_row_count, 'number');
    assert.equal(entries[4].step, 1);
    assert.match(entries[4].error.message, /no such table/);
    assert.equal(entries[5].step, 2);
    assert.equal(entries[6].affected_row_count, 1);
    assert.match(String(entries[6].last_insert_rowid), /^[0-9]+$/);
    if (head.baton) await hrana(server, { baton: head.baton, requests: [close] }, { ...opts, version: 'v3' });
  });

  test('cursor then pipeline on the same stream', async () => {
    const resp = await fetch(`${server.origin}/db/shop/v3/cursor`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ batch: { steps: [{ stmt: stmt('BEGIN') }, { stmt: stmt("INSERT INTO kv VALUES ('cur-txn', 1)") }] } }),
    });
    const lines = (await resp.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const baton = lines[0].baton;
    assert.equal(typeof baton, 'string');
    const r = await hrana(server, { baton, requests: [{ type: 'get_autocommit' }, exec('ROLLBACK'), close] }, { ...opts, version: 'v3' });
    const res = okResults(r);
    assert.equal(res[0].response.is_autocommit, false);
    const check = await query1(server, "SELECT count(*) FROM kv WHERE k = 'cur-txn'", [], opts);
    assert.equal(check.rows[0][0].value, '0');
  });
});

describe('other endpoints', () => {
  test('GET /health, /version, /v2, /v3', async () => {
    const health = await fetch(`${server.origin}/health`);
    assert.equal(health.status, 200);
    await health.text();
    const version = await fetch(`${server.origin}/version`);
    assert.equal(version.status, 200);
    assert.ok((await version.text()).trim().length > 0);
    for (const p of ['/v2', '/v3', '/db/shop/v2', '/db/shop/v3']) {
      const r = await fetch(`${server.origin}${p}`);
      assert.equal(r.status, 200, p);
      await r.text();
    }
  });

  test('unknown route → 404', async () => {
    const r = await fetch(`${server.origin}/definitely/not/here`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    assert.equal(r.status, 404);
    await r.text();
  });

  test('legacy POST / {"statements": [...]}', async () => {
    const post = (body, prefix = '') => fetch(`${server.origin}${prefix}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify(body),
    });
    const r = await post({ statements: ['select 1'] });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), [{ results: { columns: ['1'], rows: [[1]] } }]);
    const r3 = await post({ statements: [{ q: 'SELECT ? AS a, ? AS b', params: [5, 'x'] }, "SELECT k FROM kv WHERE k = 'dup'"] }, '/db/shop');
    assert.equal(r3.status, 200);
    assert.deepEqual(await r3.json(), [
      { results: { columns: ['a', 'b'], rows: [[5, 'x']] } },
      { results: { columns: ['k'], rows: [['dup']] } },
    ]);
  });

  test('CORS preflight and response headers', async () => {
    const pre = await fetch(`${server.origin}/db/shop/v2/pipeline`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.ok(pre.status === 200 || pre.status === 204, `preflight HTTP ${pre.status}`);
    await pre.text();
    const acao = pre.headers.get('access-control-allow-origin');
    assert.ok(acao === '*' || acao === 'http://example.com', `Access-Control-Allow-Origin: ${acao}`);
    const methods = (pre.headers.get('access-control-allow-methods') ?? '').toUpperCase();
    assert.ok(methods.includes('POST') || methods.includes('*'), `Allow-Methods: ${methods}`);
    // A "*" wildcard does NOT cover Authorization in browsers (Fetch spec), so it must be listed.
    const allowHeaders = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    assert.ok(allowHeaders.includes('authorization'), `Allow-Headers must name authorization: ${allowHeaders}`);
    assert.ok(allowHeaders.includes('content-type') || allowHeaders.includes('*'), `Allow-Headers: ${allowHeaders}`);

    const r = await fetch(`${server.origin}/db/shop/v2/pipeline`, {
      method: 'POST',
      headers: { origin: 'http://example.com', 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ requests: [exec('SELECT 1'), close] }),
    });
    assert.equal(r.status, 200);
    await r.text();
    const acao2 = r.headers.get('access-control-allow-origin');
    assert.ok(acao2 === '*' || acao2 === 'http://example.com', `response ACAO: ${acao2}`);
  });
});

describe('namespace deleted mid-stream', () => {
  test('next request on the baton fails clearly; server keeps serving', async () => {
    await server.createNamespace('mid');
    const r1 = await hrana(server, { requests: [exec('CREATE TABLE m (v)'), exec('BEGIN'), exec('INSERT INTO m VALUES (1)')] }, { ns: 'mid' });
    okResults(r1);
    const del = await fetch(`${server.origin}/admin/v1/namespaces/mid`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${server.adminToken}` },
      signal: AbortSignal.timeout(15000),
    });
    assert.equal(del.status, 200);
    await del.text();
    const r2 = await hrana(server, { baton: r1.json.baton, requests: [exec('SELECT count(*) FROM m'), exec('COMMIT')] }, { ns: 'mid' });
    assert.ok(refusedAt(r2), `stream on a deleted namespace still works: HTTP ${r2.status} ${r2.text}`);
    assert.ok(String(errorOf(r2).message ?? '').length > 0);
    await assertServerHealthy();
    const list = await server.admin('GET', '/admin/v1/namespaces');
    assert.ok(!list.json.namespaces.some((n) => n.name === 'mid'));
  });
});

describe('timeouts', () => {
  // What the timeouts do is tested on a clock the test moves, over HTTP, in
  // tests/integration/limits_integration_test.cc (IdleStreamsAndLongWriteTransactionsAreRolledBack);
  // here, that the binary takes the flags and serves with them.
  test('--stream-idle-timeout-ms and --txn-timeout-ms are accepted', async () => {
    const s = await startServer({ args: ['--stream-idle-timeout-ms', '500', '--txn-timeout-ms', '500'] });
    try {
      await s.createNamespace('t');
      await query1(s, 'CREATE TABLE x (v)', [], { ns: 't' });
      const r1 = await hrana(s, { requests: [exec('BEGIN'), exec('INSERT INTO x VALUES (1)'), exec('COMMIT')] }, { ns: 't' });
      okResults(r1);
    } finally {
      await s.stop();
    }
  });
});
