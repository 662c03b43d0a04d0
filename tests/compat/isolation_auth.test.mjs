// Namespace isolation, JWT auth refusals, and the admin API.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LibsqlError, createClient } from '@libsql/client';
import {
  startServer, hrana, exec, close, okResults, query1, decodeJwt, b64url,
} from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
  for (const ns of ['alpha', 'beta', 'shop', 'other']) await server.createNamespace(ns);
  for (const ns of ['alpha', 'beta']) {
    await query1(server, 'CREATE TABLE t (v TEXT)', [], { ns });
    await query1(server, 'INSERT INTO t VALUES (?)', [`${ns}-data`], { ns });
  }
  await query1(server, 'CREATE TABLE goods (id INTEGER PRIMARY KEY, name TEXT)', [], { ns: 'shop' });
  await query1(server, "INSERT INTO goods VALUES (1, 'apple')", [], { ns: 'shop' });
  await query1(server, 'CREATE TABLE secret (v TEXT)', [], { ns: 'other' });
  await query1(server, "INSERT INTO secret VALUES ('hidden')", [], { ns: 'other' });
});

after(async () => {
  await server?.stop();
});

const readGoods = { requests: [exec('SELECT name FROM goods ORDER BY id'), close] };

/** Status of a simple read on `ns` with `token` (raw HTTP). */
async function statusWith(token, ns = 'shop', body = readGoods) {
  return (await hrana(server, body, { ns, token })).status;
}

async function goodsNames() {
  const res = await query1(server, 'SELECT name FROM goods ORDER BY id', [], { ns: 'shop' });
  return res.rows.map((r) => r[0].value);
}

/** A read or write is refused if the HTTP request fails or its result is an error. */
function refused(r) {
  if (r.status !== 200) return true;
  return r.json?.results?.some((x) => x.type === 'error') ?? false;
}

describe('namespace isolation', () => {
  test('same table name in two namespaces holds different data', async () => {
    for (const ns of ['alpha', 'beta']) {
      const c = server.client(ns);
      try {
        const rs = await c.execute('SELECT v FROM t');
        assert.deepEqual(rs.rows.map((r) => r.v), [`${ns}-data`]);
      } finally {
        c.close();
      }
    }
    const a = server.client('alpha');
    try {
      await a.execute("INSERT INTO t VALUES ('alpha-2')");
    } finally {
      a.close();
    }
    const b = await query1(server, 'SELECT count(*) FROM t', [], { ns: 'beta' });
    assert.equal(b.rows[0][0].value, '1');
  });

  test('x-namespace header routes /v2/pipeline', async () => {
    for (const ns of ['alpha', 'beta']) {
      const r = await hrana(server, { requests: [exec('SELECT v FROM t ORDER BY rowid LIMIT 1'), close] },
        { headers: { 'x-namespace': ns } });
      const [res] = okResults(r);
      assert.equal(res.response.result.rows[0][0].value, `${ns}-data`);
    }
  });

  test('no namespace → "default", which exists and is separate', async () => {
    const r = await hrana(server, { requests: [exec('SELECT v FROM t'), close] });
    assert.equal(r.status, 200);
    assert.equal(r.json.results[0].type, 'error');
    assert.match(r.json.results[0].error.message, /no such table/);
    okResults(await hrana(server, { requests: [exec('SELECT 1'), close] }));
  });

  test('unknown namespace is refused and not created', async () => {
    const r = await hrana(server, { requests: [exec('SELECT 1'), close] }, { ns: 'nosuchns' });
    assert.ok(r.status >= 400 && r.status < 500, `HTTP ${r.status}: ${r.text}`);
    const list = await server.admin('GET', '/admin/v1/namespaces');
    assert.ok(!list.json.namespaces.some((n) => n.name === 'nosuchns'));
  });

  test('a stream (baton) cannot be moved to another namespace', async () => {
    const r1 = await hrana(server, { requests: [exec('SELECT 1')] }, { ns: 'alpha' });
    okResults(r1);
    const baton = r1.json.baton;
    assert.equal(typeof baton, 'string');
    const r2 = await hrana(server, { baton, requests: [exec('SELECT v FROM t'), close] }, { ns: 'beta' });
    if (r2.status === 200 && r2.json.results[0].type === 'ok') {
      // If accepted at all, it must still be the alpha database.
      assert.equal(r2.json.results[0].response.result.rows[0][0].value, 'alpha-data');
    } else {
      assert.ok(r2.status >= 400 || r2.json.results[0].type === 'error');
    }
    await hrana(server, { baton, requests: [close] }, { ns: 'alpha' }).catch(() => {});
  });
});

describe('auth refusals', () => {
  let shopRw;
  before(async () => {
    shopRw = await server.token({ db: 'shop', access: 'rw' });
  });

  test('valid namespace token works (control)', async () => {
    assert.equal(await statusWith(shopRw), 200);
    const c = server.client('shop', { authToken: shopRw });
    try {
      const rs = await c.execute('SELECT name FROM goods');
      assert.deepEqual(rs.rows.map((r) => r.name), ['apple']);
    } finally {
      c.close();
    }
  });

  test('missing token → 401', async () => {
    assert.equal(await statusWith(null), 401);
    const c = server.client('shop', { authToken: undefined });
    try {
      await assert.rejects(c.execute('SELECT 1'), LibsqlError);
    } finally {
      c.close();
    }
  });

  test('garbage tokens → 401', async () => {
    for (const t of ['garbage', 'a.b.c', '', 'Bearer', `${shopRw}x`]) {
      assert.equal(await statusWith(t), 401, `token ${JSON.stringify(t)}`);
    }
    const r = await hrana(server, readGoods, { ns: 'shop', token: null, headers: { authorization: `Basic ${shopRw}` } });
    assert.equal(r.status, 401);
  });

  test('alg "none" token → 401', async () => {
    const { payload } = decodeJwt(shopRw);
    for (const alg of ['none', 'None', 'NONE']) {
      const forged = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.`;
      assert.equal(await statusWith(forged), 401, alg);
    }
    const { payload: adminPayload } = decodeJwt(server.adminToken);
    const forgedAdmin = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(adminPayload)}.`;
    assert.equal((await server.admin('GET', '/admin/v1/namespaces', undefined, forgedAdmin)).status, 401);
  });

  test('HS256 token keyed with the server public key → 401', async () => {
    const pem = await server.publicKeyPem();
    const { payload } = decodeJwt(shopRw);
    const keys = [pem, pem.trim(), crypto.createPublicKey(pem).export({ format: 'der', type: 'spki' })];
    for (const key of keys) {
      const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}`;
      const sig = crypto.createHmac('sha256', key).update(signingInput).digest('base64url');
      assert.equal(await statusWith(`${signingInput}.${sig}`), 401);
    }
  });

  test('token signed by a different Ed25519 key → 401', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    for (const tok of [shopRw, server.adminToken]) {
      const { header, payload } = decodeJwt(tok);
      const signingInput = `${b64url(header)}.${b64url(payload)}`;
      const sig = crypto.sign(null, Buffer.from(signingInput), privateKey).toString('base64url');
      assert.equal(await statusWith(`${signingInput}.${sig}`), 401);
    }
  });

  test('tampered payload with the original signature → 401', async () => {
    const [h, , s] = shopRw.split('.');
    const { payload } = decodeJwt(shopRw);
    const tampered = { ...payload, extra: 'x' };
    assert.equal(await statusWith(`${h}.${b64url(tampered)}.${s}`), 401);
    // Signature of another valid token spliced onto this payload.
    const otherSig = server.adminToken.split('.')[2];
    assert.equal(await statusWith(`${h}.${shopRw.split('.')[1]}.${otherSig}`), 401);
  });

  test('expired token → 401', async () => {
    const tok = await server.token({ db: 'shop', access: 'rw', expiresIn: 3 });
    const first = await statusWith(tok);
    assert.equal(first, 200, 'fresh short-lived token should work');
    // The same token once its three seconds are over (signed as the server would have).
    const now = Math.floor(Date.now() / 1000);
    const expired = await server.resign(tok, (c) => { c.iat = now - 10; c.exp = now - 7; });
    assert.equal(await statusWith(expired), 401);
    const valid = await server.resign(tok, (c) => { c.iat = now - 10; c.exp = now + 60; });
    assert.equal(await statusWith(valid), 200, 're-signing alone must not break a token');
  });

  test('token for shop cannot touch other namespaces', async () => {
    const body = { requests: [exec('SELECT v FROM secret'), close] };
    const viaPath = await hrana(server, body, { ns: 'other', token: shopRw });
    assert.ok([401, 403].includes(viaPath.status), `path routing: HTTP ${viaPath.status} ${viaPath.text}`);
    const viaHeader = await hrana(server, body, { token: shopRw, headers: { 'x-namespace': 'other' } });
    assert.ok([401, 403].includes(viaHeader.status), `header routing: HTTP ${viaHeader.status} ${viaHeader.text}`);
    const viaDefault = await hrana(server, { requests: [exec('SELECT 1'), close] }, { token: shopRw });
    assert.ok([401, 403].includes(viaDefault.status), `default ns: HTTP ${viaDefault.status}`);
    // ATTACH must not be a way around namespace scoping.
    const attach = await hrana(server, {
      requests: [exec(`ATTACH DATABASE '${server.dataDir}/other' AS o`), exec('SELECT v FROM o.secret'), close],
    }, { ns: 'shop', token: shopRw });
    // The ATTACH itself must fail (whatever the path), not just the follow-up read.
    assert.ok(attach.status !== 200 || attach.json.results[0].type === 'error', `ATTACH was allowed: ${attach.text}`);
    assert.ok(!attach.text.includes('hidden'));
  });

  test('namespace token cannot use the admin API', async () => {
    const r = await server.admin('GET', '/admin/v1/namespaces', undefined, shopRw);
    assert.ok([401, 403].includes(r.status), `HTTP ${r.status}`);
    const c = await server.admin('POST', '/admin/v1/namespaces', { name: 'sneaky' }, shopRw);
    assert.ok([401, 403].includes(c.status), `HTTP ${c.status}`);
    const noTok = await server.admin('GET', '/admin/v1/namespaces', undefined, null);
    assert.equal(noTok.status, 401);
  });

  test('read-only token can read but not write', async () => {
    const ro = await server.token({ db: 'shop', access: 'ro' });
    const c = server.client('shop', { authToken: ro });
    try {
      const rs = await c.execute('SELECT name FROM goods');
      assert.deepEqual(rs.rows.map((r) => r.name), ['apple']);
      await assert.rejects(c.execute("INSERT INTO goods VALUES (2, 'pear')"), LibsqlError);
      await assert.rejects(c.execute("UPDATE goods SET name = 'hacked'"), LibsqlError);
      await assert.rejects(c.execute('DROP TABLE goods'), LibsqlError);
      await assert.rejects(c.execute('CREATE TABLE x (v)'), LibsqlError);
      await assert.rejects(c.batch(["INSERT INTO goods VALUES (3, 'plum')"], 'write'), LibsqlError);
      await assert.rejects(c.executeMultiple("INSERT INTO goods VALUES (4, 'fig'); DELETE FROM goods;"), LibsqlError);
      // Write smuggled through a trigger-free path: a CTE and a PRAGMA that writes.
      await assert.rejects(c.execute("WITH x AS (SELECT 1) INSERT INTO goods SELECT 5, 'kiwi' FROM x"), LibsqlError);
      await assert.rejects(c.execute('PRAGMA user_version = 7'), LibsqlError);
    } finally {
      c.close();
    }
    assert.deepEqual(await goodsNames(), ['apple']);
    const uv = await query1(server, 'PRAGMA user_version', [], { ns: 'shop' });
    assert.equal(uv.rows[0][0].value, '0');
  });

  test('tokens minted by the admin API', async () => {
    const ro = await server.admin('POST', '/admin/v1/tokens', { namespaces: ['shop'], access: 'ro' });
    assert.ok([200, 201].includes(ro.status), `HTTP ${ro.status} ${ro.text}`);
    const roTok = ro.json.token;
    assert.equal(roTok.split('.').length, 3);
    assert.equal(await statusWith(roTok), 200);
    assert.ok(refused(await hrana(server, { requests: [exec("INSERT INTO goods VALUES (9, 'x')"), close] }, { ns: 'shop', token: roTok })));
    assert.ok([401, 403].includes(await statusWith(roTok, 'other', { requests: [exec('SELECT 1'), close] })));

    const all = await server.admin('POST', '/admin/v1/tokens', { namespaces: '*', access: 'rw' });
    assert.ok([200, 201].includes(all.status));
    for (const ns of ['shop', 'other', 'alpha']) {
      assert.equal(await statusWith(all.json.token, ns, { requests: [exec('SELECT 1'), close] }), 200, ns);
    }
    // "*" rw is not admin.
    assert.ok([401, 403].includes((await server.admin('GET', '/admin/v1/namespaces', undefined, all.json.token)).status));

    const short = await server.admin('POST', '/admin/v1/tokens', { namespaces: ['shop'], access: 'rw', expires_in: 2 });
    assert.ok([200, 201].includes(short.status));
    assert.equal(await statusWith(short.json.token), 200);
    const { payload: shortClaims } = decodeJwt(short.json.token);
    assert.equal(shortClaims.exp - shortClaims.iat, 2, 'expires_in sets exp');
    const lapsed = await server.resign(short.json.token, (c) => { c.iat -= 10; c.exp -= 10; });
    assert.equal(await statusWith(lapsed), 401);

    const bad = await server.admin('POST', '/admin/v1/tokens', { namespaces: ['shop'], access: 'superuser' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await goodsNames(), ['apple']);
  });
});

describe('admin API', () => {
  function assertJsonError(r) {
    assert.equal(r.contentType, 'application/json', `Content-Type must be exactly application/json (client requires it), got ${r.contentType}`);
    assert.equal(typeof r.json?.message, 'string', `error body: ${r.text}`);
    assert.equal(typeof r.json?.code, 'string', `error body: ${r.text}`);
  }

  test('create 201, duplicate 409, invalid name 400', async () => {
    const r = await server.admin('POST', '/admin/v1/namespaces', { name: 'fresh' });
    assert.equal(r.status, 201);
    const dup = await server.admin('POST', '/admin/v1/namespaces', { name: 'fresh' });
    assert.equal(dup.status, 409);
    assertJsonError(dup);
    for (const name of ['', 'has space', '../escape', 'a/b', 'x'.repeat(300), 'nul\u0000byte', '.', '..']) {
      const bad = await server.admin('POST', '/admin/v1/namespaces', { name });
      assert.equal(bad.status, 400, `name ${JSON.stringify(name)} → HTTP ${bad.status}`);
      assertJsonError(bad);
    }
    for (const body of [{}, { name: 5 }, 'not json']) {
      const resp = await fetch(`${server.origin}/admin/v1/namespaces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      assert.equal(resp.status, 400, `body ${JSON.stringify(body)}`);
      assert.equal(resp.headers.get('content-type'), 'application/json');
      await resp.text();
    }
    // The new namespace is usable.
    okResults(await hrana(server, { requests: [exec('CREATE TABLE z (v)'), close] }, { ns: 'fresh' }));
  });

  test('list namespaces', async () => {
    const r = await server.admin('GET', '/admin/v1/namespaces');
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.json.namespaces));
    const names = r.json.namespaces.map((n) => n.name);
    for (const n of ['alpha', 'beta', 'shop', 'other']) assert.ok(names.includes(n), `missing ${n} in ${names}`);
    const shop = r.json.namespaces.find((n) => n.name === 'shop');
    assert.equal(typeof shop.size_bytes, 'number');
    assert.ok(shop.size_bytes > 0);
    assert.ok('created_at' in shop && 'last_used_at' in shop);
    assert.notEqual(shop.created_at, null);
  });

  test('delete 200 then 404; deleted namespace is unusable', async () => {
    await server.createNamespace('doomed');
    okResults(await hrana(server, { requests: [exec('CREATE TABLE d (v)'), close] }, { ns: 'doomed' }));
    const del = await server.admin('DELETE', '/admin/v1/namespaces/doomed');
    assert.equal(del.status, 200);
    const again = await server.admin('DELETE', '/admin/v1/namespaces/doomed');
    assert.equal(again.status, 404);
    assertJsonError(again);
    const r = await hrana(server, { requests: [exec('SELECT * FROM d'), close] }, { ns: 'doomed' });
    assert.ok(r.status >= 400, `deleted namespace still served: HTTP ${r.status} ${r.text}`);
    // Re-creating gives an empty database.
    await server.createNamespace('doomed');
    const fresh = await hrana(server, { requests: [exec('SELECT * FROM d'), close] }, { ns: 'doomed' });
    assert.equal(fresh.json.results[0].type, 'error');
  });

  test('fork copies data; the copy is independent', async () => {
    const r = await server.admin('POST', '/admin/v1/namespaces/shop/fork', { to: 'shop2' });
    assert.equal(r.status, 201, r.text);
    const copy = await query1(server, 'SELECT name FROM goods', [], { ns: 'shop2' });
    assert.deepEqual(copy.rows.map((x) => x[0].value), ['apple']);
    await query1(server, "INSERT INTO goods VALUES (2, 'only-in-fork')", [], { ns: 'shop2' });
    assert.deepEqual(await goodsNames(), ['apple']);
    const dup = await server.admin('POST', '/admin/v1/namespaces/shop/fork', { to: 'shop2' });
    assert.equal(dup.status, 409);
    assertJsonError(dup);
    const missing = await server.admin('POST', '/admin/v1/namespaces/nope/fork', { to: 'nope2' });
    assert.equal(missing.status, 404);
    assertJsonError(missing);
  });

  test('auth errors on the data API are JSON the client can parse', async () => {
    const r = await hrana(server, readGoods, { ns: 'shop', token: 'garbage' });
    assert.equal(r.status, 401);
    assertJsonError(r);
  });
});

describe('restart', () => {
  test('data, namespaces and previously issued tokens survive a restart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'quarry-compat-restart-'));
    try {
      const s1 = await startServer({ dataDir: dir });
      let tok;
      try {
        await s1.createNamespace('keep');
        await query1(s1, 'CREATE TABLE k (v TEXT)', [], { ns: 'keep' });
        await query1(s1, "INSERT INTO k VALUES ('persisted')", [], { ns: 'keep' });
        tok = await s1.token({ db: 'keep', access: 'ro' });
      } finally {
        await s1.stop();
      }
      const s2 = await startServer({ dataDir: dir });
      try {
        const list = await s2.admin('GET', '/admin/v1/namespaces');
        assert.ok(list.json.namespaces.some((n) => n.name === 'keep'));
        const r = await hrana(s2, { requests: [exec('SELECT v FROM k'), close] }, { ns: 'keep', token: tok });
        assert.equal(okResults(r)[0].response.result.rows[0][0].value, 'persisted');
      } finally {
        await s2.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--no-auth server', () => {
  test('works without any token on loopback', async () => {
    const open = await startServer({ noAuth: true });
    try {
      const c = open.client(undefined, { authToken: undefined });
      try {
        await c.execute('CREATE TABLE n (v)');
        await c.execute({ sql: 'INSERT INTO n VALUES (?)', args: ['ok'] });
        const rs = await c.execute('SELECT v FROM n');
        assert.deepEqual(rs.rows.map((r) => r.v), ['ok']);
      } finally {
        c.close();
      }
    } finally {
      await open.stop();
    }
  });
});

// Regression: @libsql/client given http://HOST/db/shop (no trailing slash) resolves
// v2/pipeline beside the name, posting to /db/v2/pipeline, and was told "no access to
// namespace 'v2'". The error now names the missing slash.
describe('URL without the trailing slash', () => {
  test('the client error says so', async () => {
    const c = createClient({ url: `${server.origin}/db/shop`, authToken: server.adminToken });
    try {
      await assert.rejects(c.execute('SELECT 1'), (err) => {
        assert.match(err.message, /trailing slash/);
        assert.doesNotMatch(err.message, /no access|does not grant/);
        return true;
      });
    } finally {
      c.close();
    }
  });
});
