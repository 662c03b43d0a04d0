// The client without a server: URLs, request bodies and error mapping, through a fetch double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  quarry, dataApiBase, operations, toBlob, fromBlob, toBigInt, isBigIntString,
  QuarryError, ValidationError, AuthError, ForbiddenError, NotFoundError, ConflictError, RuleError, NetworkError,
} from '../dist/index.js';

/** A fetch that records requests and answers `reply(request)` ({status, body} or a string). */
function fakeFetch(reply = () => ({ status: 200, body: { data: null } })) {
  const calls = [];
  const fn = async (url, init) => {
    const call = { url, ...init, json: JSON.parse(init.body) };
    calls.push(call);
    const r = reply(call);
    const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    return { status: r.status, text: async () => text };
  };
  fn.calls = calls;
  return fn;
}

test('url forms: server + namespace, a /db/<ns> url, the default namespace', () => {
  assert.equal(dataApiBase('http://127.0.0.1:8080', 'blog'), 'http://127.0.0.1:8080/db/blog/v1');
  assert.equal(dataApiBase('http://127.0.0.1:8080/', 'blog'), 'http://127.0.0.1:8080/db/blog/v1');
  assert.equal(dataApiBase('https://db.example/db/blog'), 'https://db.example/db/blog/v1');
  assert.equal(dataApiBase('https://db.example/db/blog/', 'blog'), 'https://db.example/db/blog/v1');
  assert.equal(dataApiBase('http://h:1/prefix', 'a b'), 'http://h:1/prefix/db/a%20b/v1');
  assert.equal(dataApiBase('http://h:1'), 'http://h:1/v1');
  assert.throws(() => dataApiBase('https://db.example/db/blog', 'shop'), /names namespace 'blog' but the namespace option is 'shop'/);
  assert.throws(() => dataApiBase('127.0.0.1:8080', 'blog'), TypeError);
  assert.throws(() => dataApiBase('http://h/db/blog/v1'), /without \/v1/);
  assert.throws(() => dataApiBase('http://h?x=1'), TypeError);
});

test('every operation is a method posting its args to /v1/<model>/<op>', async () => {
  const fetch = fakeFetch(() => ({ status: 200, body: { data: 7 } }));
  const db = quarry({ url: 'http://h:1', namespace: 'blog', token: 'tok', fetch });
  for (const op of operations) {
    assert.equal(await db.any_model[op]({ where: { id: 1 } }), 7);
  }
  assert.equal(fetch.calls.length, 23);
  assert.deepEqual(fetch.calls.map((c) => c.url.replace('http://h:1/db/blog/v1/any_model/', '')), [...operations]);
  for (const c of fetch.calls) {
    assert.equal(c.method, 'POST');
    assert.equal(c.headers.authorization, 'Bearer tok');
    assert.equal(c.headers['content-type'], 'application/json');
    assert.deepEqual(c.json, { where: { id: 1 } });
  }
  await db.posts.findMany();
  assert.deepEqual(fetch.calls.at(-1).json, {});
  await db.posts.search('hello', { limit: 3 });
  assert.deepEqual(fetch.calls.at(-1).json, { limit: 3, query: 'hello' });
  // Names the client keeps for itself are reached through db.model().
  await db.model('query').count();
  assert.equal(fetch.calls.at(-1).url, 'http://h:1/db/blog/v1/query/count');
  // The client is not thenable, so awaiting it gives it back.
  assert.equal(await db, db);
});

test('query and transaction bodies', async () => {
  const fetch = fakeFetch(() => ({ status: 200, body: { data: [] } }));
  const db = quarry({ url: 'http://h:1/db/blog', fetch });
  await db.query({ recent: { model: 'posts', orderBy: { id: 'desc' }, limit: 1 } });
  assert.equal(fetch.calls[0].url, 'http://h:1/db/blog/v1/query');
  assert.deepEqual(fetch.calls[0].json, { recent: { model: 'posts', orderBy: { id: 'desc' }, limit: 1 } });
  await db.transaction([{ model: 'posts', op: 'create', args: { data: { title: 'a' } } }, { model: 'posts', op: 'count' }]);
  assert.equal(fetch.calls[1].url, 'http://h:1/db/blog/v1/transaction');
  assert.deepEqual(fetch.calls[1].json, {
    ops: [{ model: 'posts', op: 'create', args: { data: { title: 'a' } } }, { model: 'posts', op: 'count', args: {} }],
  });
  await db.transaction((tx) => [tx.posts.create({ data: { title: 'b' } }), tx.model('query').deleteMany()]);
  assert.deepEqual(fetch.calls[2].json, {
    ops: [{ model: 'posts', op: 'create', args: { data: { title: 'b' } } }, { model: 'query', op: 'deleteMany', args: {} }],
  });
  await assert.rejects(db.transaction([{ model: 'posts' }]), /transaction op 0 is not \{model, op, args\}/);
  await assert.rejects(db.transaction('nope'), TypeError);
  await assert.rejects(db.query([]), TypeError);
  assert.equal(fetch.calls.length, 3);
});

test('bigint and Uint8Array arguments travel in their JSON forms', async () => {
  const fetch = fakeFetch();
  const db = quarry({ url: 'http://h:1', namespace: 'n', fetch });
  await db.t.create({ data: { small: 5n, big: 2n ** 63n - 1n, neg: -(2n ** 60n), bytes: new Uint8Array([0, 1, 254, 255]) } });
  assert.equal(fetch.calls[0].body, '{"data":{"small":5,"big":"9223372036854775807","neg":"-1152921504606846976","bytes":{"$base64":"AAH+/w=="}}}');
  assert.equal(toBigInt('9223372036854775807'), 2n ** 63n - 1n);
  assert.equal(toBigInt(42), 42n);
  assert.throws(() => toBigInt('4.5'), TypeError);
  assert.equal(isBigIntString('-12'), true);
  assert.equal(isBigIntString('1e3'), false);
  for (const n of [0, 1, 2, 3, 4, 5, 255, 256]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    const blob = toBlob(bytes);
    assert.equal(blob.$base64, Buffer.from(bytes).toString('base64'));
    assert.deepEqual(fromBlob(blob), bytes);
  }
  assert.deepEqual(fromBlob({ $base64: '_-8' }), new Uint8Array([255, 239]));
  assert.throws(() => fromBlob({ $base64: 'a*b' }), /invalid base64/);
});

test('a token function is called per request; no token sends no Authorization', async () => {
  const fetch = fakeFetch();
  let n = 0;
  const db = quarry({ url: 'http://h:1', namespace: 'n', fetch, token: async () => `t${++n}` });
  await db.a.count();
  await db.a.count();
  assert.deepEqual(fetch.calls.map((c) => c.headers.authorization), ['Bearer t1', 'Bearer t2']);
  const anonymous = quarry({ url: 'http://h:1', namespace: 'n', fetch });
  await anonymous.a.count();
  assert.equal('authorization' in fetch.calls[2].headers, false);
});

test('each HTTP status becomes its error class, with code and path', async () => {
  const cases = [
    [400, ValidationError, 'ARGS_INVALID'],
    [401, AuthError, 'AUTH_FAILED'],
    [403, ForbiddenError, 'FORBIDDEN'],
    [404, NotFoundError, 'NOT_FOUND'],
    [409, ConflictError, 'CONFLICT'],
    [422, RuleError, 'VALIDATION_FAILED'],
    [500, QuarryError, 'INTERNAL'],
    [503, QuarryError, 'UNAVAILABLE'],
  ];
  for (const [status, kind, code] of cases) {
    const fetch = fakeFetch(() => ({ status, body: { error: { code, message: `m${status}`, path: 'data.email' } } }));
    const db = quarry({ url: 'http://h:1', namespace: 'n', fetch });
    const error = await db.users.create({ data: {} }).then(() => assert.fail('resolved'), (e) => e);
    assert.ok(error instanceof kind, `${status} → ${error.constructor.name}`);
    assert.ok(error instanceof QuarryError);
    assert.equal(error.name, kind.name);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    assert.equal(error.path, 'data.email');
    assert.equal(error.message, `m${status}`);
  }
});

test('answers that are not the data API shape still become QuarryErrors', async () => {
  const html = quarry({ url: 'http://h:1', namespace: 'n', fetch: fakeFetch(() => ({ status: 502, body: '<html>Bad Gateway</html>' })) });
  const e1 = await html.a.count().catch((e) => e);
  assert.ok(e1 instanceof QuarryError);
  assert.equal(e1.status, 502);
  assert.equal(e1.code, 'HTTP_502');
  assert.match(e1.message, /answered HTTP 502 without a data API error body: <html>Bad Gateway/);
  const plain = quarry({ url: 'http://h:1', namespace: 'n', fetch: fakeFetch(() => ({ status: 401, body: { error: 'token expired' } })) });
  const e2 = await plain.a.count().catch((e) => e);
  assert.ok(e2 instanceof AuthError);
  assert.equal(e2.message, 'token expired');
  assert.equal(e2.path, null);
  const noData = quarry({ url: 'http://h:1', namespace: 'n', fetch: fakeFetch(() => ({ status: 200, body: { rows: [] } })) });
  const e3 = await noData.a.count().catch((e) => e);
  assert.equal(e3.code, 'BAD_RESPONSE');
});

test('a fetch that throws is a NetworkError naming the URL and the cause', async () => {
  const db = quarry({
    url: 'http://h:1', namespace: 'n',
    fetch: async () => { throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }); },
  });
  const error = await db.a.count().catch((e) => e);
  assert.ok(error instanceof NetworkError);
  assert.ok(error instanceof QuarryError);
  assert.equal(error.status, 0);
  assert.equal(error.code, 'NETWORK_ERROR');
  assert.equal(error.url, 'http://h:1/db/n/v1/a/count');
  assert.equal(error.message, 'quarry: no answer from http://h:1/db/n/v1/a/count: fetch failed (connect ECONNREFUSED 127.0.0.1:1)');
});

test('bad options fail at once', () => {
  assert.throws(() => quarry({ url: 'nope' }), TypeError);
  assert.throws(() => quarry({ url: 'http://h:1', namespace: '' }), /namespace must be a non-empty string/);
  assert.throws(() => quarry({ url: 'http://h:1', fetch: 5 }), /no global fetch here; pass options.fetch/);
  assert.throws(() => quarry(), TypeError);
});
