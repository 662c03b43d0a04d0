// The client against the real server: tables made over Hrana SQL in a namespace made through
// the admin API, then every kind of call, each error class, and the value forms that JSON
// cannot carry plainly (Integers past 2^53, Blobs).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  quarry, toBlob, fromBlob, toBigInt,
  QuarryError, ValidationError, AuthError, ForbiddenError, NotFoundError, ConflictError, RuleError, NetworkError,
} from '../dist/index.js';
import { startServer, freePort, runQuarry } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let server;
let db;

/** The error `promise` rejects with (fails the test when it resolves). */
async function rejection(promise) {
  return promise.then((value) => assert.fail(`expected an error, got ${JSON.stringify(value)}`), (e) => e);
}

before(async () => {
  server = await startServer({ noAuth: true });
  await server.createNamespace('blog');
  await server.sql('blog',
    'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, big INTEGER, avatar BLOB, active BOOLEAN NOT NULL DEFAULT 1, meta JSON)',
    'CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, authorId INTEGER NOT NULL REFERENCES users(id), views INTEGER NOT NULL DEFAULT 0)');
  db = quarry({ url: server.origin, namespace: 'blog' });
});

after(async () => {
  await server?.stop();
});

describe('one model at a time', () => {
  test('create returns the row, with defaults and Json as the server fills them in', async () => {
    const ada = await db.users.create({ data: { email: 'ada@example.com', name: 'Ada', meta: { langs: ['en', 'fr'] } } });
    assert.deepEqual(ada, { id: 1, email: 'ada@example.com', name: 'Ada', big: null, avatar: null, active: true, meta: { langs: ['en', 'fr'] } });
    assert.deepEqual(await db.users.createMany({ data: [{ email: 'bob@example.com', name: 'Bob' }, { email: 'cy@example.com', active: false }] }), { count: 2 });
    const post = await db.posts.create({ data: { title: 'Hello', author: { connect: { id: ada.id } } }, include: { author: { select: { email: true } } } });
    assert.deepEqual(post, { id: 1, title: 'Hello', authorId: 1, views: 0, author: { email: 'ada@example.com' } });
  });

  test('findMany filters, orders, selects and pages', async () => {
    const names = await db.users.findMany({ where: { active: true }, orderBy: { email: 'desc' }, select: { name: true } });
    assert.deepEqual(names, [{ name: 'Bob' }, { name: 'Ada' }]);
    const rows = await db.users.findMany({ where: { OR: [{ name: { startsWith: 'A' } }, { name: null }] }, orderBy: { id: 'asc' }, limit: 1, offset: 1, select: { email: true } });
    assert.deepEqual(rows, [{ email: 'cy@example.com' }]);
    assert.equal(await db.users.count({ where: { email: { endsWith: '@example.com' } } }), 3);
    assert.equal(await db.users.exists({ where: { name: 'Nobody' } }), false);
    assert.deepEqual(await db.users.findManyAndCount({ where: { active: true }, select: { id: true }, orderBy: { id: 'asc' }, limit: 1 }), { rows: [{ id: 1 }], total: 2 });
    assert.equal((await db.users.findFirst({ orderBy: { id: 'desc' } })).email, 'cy@example.com');
    assert.equal(await db.users.findUnique({ where: { email: 'nobody@example.com' } }), null);
  });

  test('findManyCursor pages with nextCursor until hasMore is false', async () => {
    const seen = [];
    let cursor = null;
    for (let page = 0; page < 5; page++) {
      const r = await db.users.findManyCursor({ orderBy: { id: 'asc' }, limit: 2, select: { id: true }, ...(cursor ? { cursor } : {}) });
      seen.push(...r.items.map((u) => u.id));
      if (!r.hasMore) {
        assert.equal(r.nextCursor, null);
        break;
      }
      cursor = r.nextCursor;
    }
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test('update, updateMany, upsert, delete and deleteMany', async () => {
    const bumped = await db.posts.update({ where: { id: 1 }, data: { views: { increment: 5 } } });
    assert.equal(bumped.views, 5);
    assert.equal(await db.posts.update({ where: { id: 999 }, data: { views: 1 } }), null);
    assert.deepEqual(await db.users.updateMany({ where: { active: false }, data: { name: 'Inactive' } }), { count: 1 });
    const up = await db.users.upsert({ where: { email: 'dee@example.com' }, create: { email: 'dee@example.com', name: 'Dee' }, update: { name: 'Dee again' } });
    assert.equal(up.name, 'Dee');
    const again = await db.users.upsert({ where: { email: 'dee@example.com' }, create: { email: 'dee@example.com' }, update: { name: 'Dee again' } });
    assert.equal(again.name, 'Dee again');
    const deleted = await db.users.delete({ where: { email: 'dee@example.com' } });
    assert.equal(deleted.email, 'dee@example.com');
    assert.equal(await db.users.delete({ where: { email: 'dee@example.com' } }), null);
    await db.posts.create({ data: { title: 'Scratch', authorId: 2 } });
    assert.deepEqual(await db.posts.deleteMany({ where: { title: 'Scratch' } }), { count: 1 });
  });
});

describe('query and transaction', () => {
  test('query runs many reads, keyed by model name or with model/op', async () => {
    const r = await db.query({
      users: { where: { active: true }, orderBy: { id: 'asc' }, select: { email: true } },
      postCount: { model: 'posts', op: 'count' },
      first: { model: 'posts', op: 'findFirst', include: { author: { select: { name: true } } } },
    });
    assert.deepEqual(r, {
      users: [{ email: 'ada@example.com' }, { email: 'bob@example.com' }],
      postCount: 1,
      first: { id: 1, title: 'Hello', authorId: 1, views: 5, author: { name: 'Ada' } },
    });
  });

  test('transaction runs ops in order and returns their results', async () => {
    const [post, count, updated] = await db.transaction([
      { model: 'posts', op: 'create', args: { data: { title: 'Second', authorId: 2 } } },
      { model: 'posts', op: 'count' },
      { model: 'posts', op: 'updateMany', args: { where: { authorId: 2 }, data: { views: 3 } } },
    ]);
    assert.equal(post.title, 'Second');
    assert.equal(count, 2);
    assert.deepEqual(updated, { count: 1 });
    const built = await db.transaction((tx) => [
      tx.posts.delete({ where: { id: post.id }, select: { title: true } }),
      tx.posts.count(),
    ]);
    assert.deepEqual(built, [{ title: 'Second' }, 1]);
  });

  test('a failing op rolls the whole transaction back, its path naming the op', async () => {
    const before = await db.users.count();
    const error = await rejection(db.transaction([
      { model: 'users', op: 'create', args: { data: { email: 'eve@example.com' } } },
      { model: 'users', op: 'create', args: { data: { email: 'ada@example.com' } } },
    ]));
    assert.ok(error instanceof ConflictError);
    assert.equal(error.status, 409);
    assert.equal(error.code, 'CONFLICT');
    assert.equal(error.path, 'ops.1.args.data.email');
    assert.equal(await db.users.count(), before);
    assert.equal(await db.users.findUnique({ where: { email: 'eve@example.com' } }), null);
  });
});

describe('errors', () => {
  test('ValidationError (400) names the argument', async () => {
    const error = await rejection(db.users.findMany({ where: { emial: 'x' } }));
    assert.ok(error instanceof ValidationError);
    assert.ok(error instanceof QuarryError);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'ARGS_INVALID');
    assert.equal(error.path, 'where.emial');
    assert.match(error.message, /unknown field 'emial' of model 'users'/);
    const model = await rejection(db.nosuch.findMany());
    assert.ok(model instanceof ValidationError);
    assert.match(model.message, /unknown model 'nosuch' \(models: .*users/);
  });

  test('NotFoundError (404): *OrThrow finding nothing, an unknown namespace', async () => {
    const error = await rejection(db.users.findUniqueOrThrow({ where: { id: 999 } }));
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
    assert.equal(error.code, 'NOT_FOUND');
    const missing = await rejection(quarry({ url: server.origin, namespace: 'nope' }).users.findMany());
    assert.ok(missing instanceof NotFoundError);
    assert.equal(missing.code, 'NAMESPACE_DOESNT_EXIST');
  });

  test('ConflictError (409): a unique value taken', async () => {
    const error = await rejection(db.users.create({ data: { email: 'ada@example.com' } }));
    assert.ok(error instanceof ConflictError);
    assert.equal(error.path, 'data.email');
  });

  test('NetworkError: nothing listening', async () => {
    const port = await freePort();
    const error = await rejection(quarry({ url: `http://127.0.0.1:${port}`, namespace: 'blog' }).users.count());
    assert.ok(error instanceof NetworkError);
    assert.ok(error instanceof QuarryError);
    assert.equal(error.status, 0);
    assert.equal(error.url, `http://127.0.0.1:${port}/db/blog/v1/users/count`);
    assert.match(error.message, new RegExp(`no answer from http://127.0.0.1:${port}/db/blog/v1/users/count: fetch failed \\(.*ECONNREFUSED`));
  });

  describe('with tokens', () => {
    let secured;
    before(async () => {
      secured = await startServer();
      for (const ns of ['shop', 'other']) await secured.createNamespace(ns);
      await secured.sql('shop', 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    });
    after(async () => {
      await secured?.stop();
    });

    test('AuthError (401): no token, a token that is not one', async () => {
      for (const token of [undefined, 'not.a.token']) {
        const error = await rejection(quarry({ url: `${secured.origin}/db/shop`, token }).items.findMany());
        assert.ok(error instanceof AuthError, String(error));
        assert.equal(error.status, 401);
        assert.equal(error.code, 'AUTH_FAILED');
      }
    });

    test('ForbiddenError (403): a read-only token writing, a token for another namespace', async () => {
      const ro = quarry({ url: secured.origin, namespace: 'shop', token: await secured.token('--db', 'shop', '--access', 'ro') });
      assert.deepEqual(await ro.items.findMany(), []);
      const write = await rejection(ro.items.create({ data: { name: 'pen' } }));
      assert.ok(write instanceof ForbiddenError);
      assert.equal(write.code, 'FORBIDDEN');
      assert.match(write.message, /read-only token cannot write/);
      const elsewhere = quarry({ url: secured.origin, namespace: 'shop', token: await secured.token('--db', 'other', '--access', 'rw') });
      const denied = await rejection(elsewhere.items.findMany());
      assert.ok(denied instanceof ForbiddenError);
      assert.match(denied.message, /namespace 'shop'/);
    });

    test('a token function supplies the token per request', async () => {
      const token = await secured.token('--db', 'shop', '--access', 'rw');
      let calls = 0;
      const rw = quarry({ url: `${secured.origin}/db/shop/`, token: async () => { calls++; return token; } });
      assert.equal((await rw.items.create({ data: { name: 'pen' } })).name, 'pen');
      assert.equal(await rw.items.count(), 1);
      assert.equal(calls, 2);
    });
  });
});

describe('values JSON cannot carry plainly', () => {
  test('an Integer past 2^53 comes back as a decimal string; bigint arguments go in as one', async () => {
    const max = 2n ** 63n - 1n;
    const row = await db.users.create({ data: { email: 'big@example.com', big: max } });
    assert.equal(row.big, '9223372036854775807');
    assert.equal(toBigInt(row.big), max);
    const beyond = await db.users.update({ where: { id: row.id }, data: { big: '9007199254740993' } });
    assert.equal(beyond.big, '9007199254740993');
    const found = await db.users.findMany({ where: { big: 9007199254740993n }, select: { email: true } });
    assert.deepEqual(found, [{ email: 'big@example.com' }]);
    const small = await db.users.update({ where: { id: row.id }, data: { big: 2n ** 53n - 1n } });
    assert.equal(small.big, 9007199254740991);
    assert.equal(typeof small.big, 'number');
  });

  test('a Blob goes in as bytes or {$base64} and comes back as {$base64}', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const row = await db.users.create({ data: { email: 'blob@example.com', avatar: bytes } });
    assert.deepEqual(row.avatar, { $base64: Buffer.from(bytes).toString('base64') });
    assert.deepEqual(fromBlob(row.avatar), bytes);
    const again = await db.users.update({ where: { id: row.id }, data: { avatar: toBlob(new Uint8Array([0, 255])) } });
    assert.deepEqual(again.avatar, { $base64: 'AP8=' });
    const bad = await rejection(db.users.update({ where: { id: row.id }, data: { avatar: 'not a blob' } }));
    assert.ok(bad instanceof ValidationError);
    assert.equal(bad.path, 'data.avatar');
  });

  test('a url that already names the database', async () => {
    const byUrl = quarry({ url: `${server.origin}/db/blog` });
    assert.equal((await byUrl.users.findUnique({ where: { id: 1 } })).email, 'ada@example.com');
  });
});

// Schema rules and end-user tokens need a schema the server serves as recorded (with its
// rules and policies) and `quarry token create --user`. Until both are in the server these
// tests skip, saying which part is missing.
describe('recorded schema: rules and user tokens', () => {
  const schemaFile = path.join(here, 'fixtures', 'app.schema');

  async function pushSchema(target, ns) {
    await target.createNamespace(ns);
    const r = await runQuarry(['migrate', 'push', '--schema', schemaFile, '--db', ns, '--url', target.origin, '--data', target.dataDir]);
    assert.equal(r.code, 0, `migrate push: ${r.stdout}${r.stderr}`);
  }

  test('RuleError (422): a value breaking a schema rule', async (t) => {
    await pushSchema(server, 'rules');
    const app = quarry({ url: server.origin, namespace: 'rules' });
    const outcome = await app.users.create({ data: { email: 'not-an-email' } }).then((row) => ({ row }), (error) => ({ error }));
    if (outcome.row) {
      t.skip('the server does not serve pushed schemas as recorded yet (an @email field took "not-an-email")');
      return;
    }
    assert.ok(outcome.error instanceof RuleError, String(outcome.error));
    assert.equal(outcome.error.status, 422);
    assert.equal(outcome.error.code, 'VALIDATION_FAILED');
    assert.equal(outcome.error.path, 'data.email');
  });

  test('user tokens run under the policies', async (t) => {
    const help = await runQuarry(['token', 'create', '--help']);
    if (!help.stdout.includes('--user')) {
      t.skip('quarry token create has no --user option yet (end-user tokens)');
      return;
    }
    const secured = await startServer();
    try {
      await pushSchema(secured, 'app');
      const service = quarry({ url: secured.origin, namespace: 'app', token: secured.adminToken });
      await service.users.createMany({ data: [{ email: 'one@example.com' }, { email: 'two@example.com' }] });
      await service.posts.createMany({ data: [
        { title: 'Public by two', tags: [], authorId: 2, published: true },
        { title: 'Draft by two', tags: [], authorId: 2 },
      ] });
      const one = quarry({ url: secured.origin, namespace: 'app', token: await secured.token('--db', 'app', '--user', '{"id":1}') });
      const mine = await one.posts.create({ data: { title: 'Draft by one', tags: [], authorId: 1 } }).catch((e) => e);
      if (mine instanceof ForbiddenError && /no recorded schema/.test(mine.message)) {
        t.skip('the server does not record pushed schemas yet, so user tokens are refused');
        return;
      }
      assert.equal(mine.title, 'Draft by one');
      const visible = await one.posts.findMany({ orderBy: { id: 'asc' }, select: { title: true } });
      assert.deepEqual(visible, [{ title: 'Public by two' }, { title: 'Draft by one' }]);
      const forged = await rejection(one.posts.create({ data: { title: 'As two', tags: [], authorId: 2 } }));
      assert.ok(forged instanceof ForbiddenError);
      assert.equal(await one.posts.update({ where: { id: 2 }, data: { title: 'Mine now' } }), null);
      const secret = await rejection(one.users.findMany({ where: { apiKey: 'x' } }));
      assert.ok(secret instanceof ForbiddenError);
    } finally {
      await secured.stop();
    }
  });
});
