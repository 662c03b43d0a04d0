// drizzle-orm/libsql against a real Quarry server.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { drizzle } from 'drizzle-orm/libsql';
import { sqliteTable, integer, text, real, blob } from 'drizzle-orm/sqlite-core';
import { sql, eq, and, gt, lt, desc, asc, like, inArray, count } from 'drizzle-orm';
import { startServer } from './harness.mjs';

const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  age: integer('age'),
  score: real('score'),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at', { mode: 'timestamp' }),
  avatar: blob('avatar', { mode: 'buffer' }),
  big: blob('big', { mode: 'bigint' }),
});

const posts = sqliteTable('posts', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id),
  title: text('title').notNull(),
});

let server;
let client;
let db;

before(async () => {
  server = await startServer();
  await server.createNamespace('orm');
  client = server.client('orm');
  db = drizzle({ client });
  await db.run(sql`CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER,
    score REAL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER,
    avatar BLOB,
    big BLOB
  )`);
  await db.run(sql`CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL
  )`);
});

after(async () => {
  client?.close();
  await server?.stop();
});

describe('drizzle-orm/libsql', () => {
  test('insert ... returning, and typed select', async () => {
    const when = new Date('2024-01-02T03:04:05.000Z');
    const inserted = await db.insert(users).values({
      name: 'Ann', email: 'ann@example.com', age: 31, score: 9.5, createdAt: when,
      avatar: Buffer.from([0, 1, 2, 255]), big: 12345678901234567890n,
    }).returning();
    assert.equal(inserted.length, 1);
    assert.equal(inserted[0].id, 1);
    const [row] = await db.select().from(users).where(eq(users.email, 'ann@example.com'));
    assert.equal(row.name, 'Ann');
    assert.equal(row.age, 31);
    assert.equal(row.score, 9.5);
    assert.equal(row.active, true);
    assert.deepEqual(row.createdAt, when);
    assert.deepEqual(Buffer.from(row.avatar), Buffer.from([0, 1, 2, 255]));
    assert.equal(row.big, 12345678901234567890n);
  });

  test('bulk insert, where / orderBy / limit / offset', async () => {
    await db.insert(users).values([
      { name: 'Bob', email: 'bob@example.com', age: 25, active: false },
      { name: 'Cid', email: 'cid@example.com', age: 47 },
      { name: 'Dee', email: 'dee@example.com', age: 38 },
      { name: 'Eve', email: 'eve@example.com', age: 19 },
    ]);
    const adults = await db.select({ name: users.name }).from(users)
      .where(and(gt(users.age, 20), lt(users.age, 45)))
      .orderBy(desc(users.age));
    assert.deepEqual(adults.map((r) => r.name), ['Dee', 'Ann', 'Bob']);
    const page = await db.select({ name: users.name }).from(users).orderBy(asc(users.name)).limit(2).offset(1);
    assert.deepEqual(page.map((r) => r.name), ['Bob', 'Cid']);
    const inactive = await db.select().from(users).where(eq(users.active, false));
    assert.deepEqual(inactive.map((r) => r.name), ['Bob']);
    const liked = await db.select({ id: users.id }).from(users).where(like(users.email, '%e@example.com'));
    assert.deepEqual(liked.map((r) => r.id).sort((a, b) => a - b), [4, 5]);
  });

  test('aggregate and join', async () => {
    const [{ n }] = await db.select({ n: count() }).from(users);
    assert.equal(n, 5);
    const cid = await db.select({ id: users.id }).from(users).where(eq(users.name, 'Cid')).get();
    await db.insert(posts).values([
      { userId: cid.id, title: 'first' },
      { userId: cid.id, title: 'second' },
    ]);
    const joined = await db.select({ name: users.name, title: posts.title }).from(posts)
      .innerJoin(users, eq(posts.userId, users.id)).orderBy(posts.id);
    assert.deepEqual(joined, [{ name: 'Cid', title: 'first' }, { name: 'Cid', title: 'second' }]);
  });

  test('update and delete report affected rows', async () => {
    const upd = await db.update(users).set({ score: 1.25 }).where(inArray(users.name, ['Bob', 'Eve']));
    assert.equal(upd.rowsAffected, 2);
    const scores = await db.select({ name: users.name, score: users.score }).from(users)
      .where(inArray(users.name, ['Bob', 'Eve'])).orderBy(users.name);
    assert.deepEqual(scores, [{ name: 'Bob', score: 1.25 }, { name: 'Eve', score: 1.25 }]);
    const del = await db.delete(users).where(eq(users.name, 'Eve')).returning({ id: users.id });
    assert.equal(del.length, 1);
    const left = await db.select({ name: users.name }).from(users).orderBy(users.id);
    assert.deepEqual(left.map((r) => r.name), ['Ann', 'Bob', 'Cid', 'Dee']);
  });

  test('unique violation surfaces as an error', async () => {
    await assert.rejects(
      db.insert(users).values({ name: 'Dup', email: 'ann@example.com' }),
      (err) => /UNIQUE constraint failed/.test(String(err?.cause?.message ?? err?.message)),
    );
    const [{ n }] = await db.select({ n: count() }).from(users).where(eq(users.name, 'Dup'));
    assert.equal(n, 0);
  });

  test('transaction commit', async () => {
    const id = await db.transaction(async (tx) => {
      const [r] = await tx.insert(users).values({ name: 'Fay', email: 'fay@example.com', age: 50 }).returning({ id: users.id });
      await tx.update(users).set({ age: 51 }).where(eq(users.id, r.id));
      return r.id;
    });
    const [row] = await db.select().from(users).where(eq(users.id, id));
    assert.equal(row.age, 51);
  });

  test('transaction rollback via tx.rollback()', async () => {
    await assert.rejects(db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Gus', email: 'gus@example.com' });
      await tx.update(users).set({ age: 99 }).where(eq(users.name, 'Ann'));
      const seen = await tx.select().from(users).where(eq(users.name, 'Gus'));
      assert.equal(seen.length, 1);
      tx.rollback();
    }), /Rollback/i);
    assert.equal((await db.select().from(users).where(eq(users.name, 'Gus'))).length, 0);
    const [ann] = await db.select().from(users).where(eq(users.name, 'Ann'));
    assert.equal(ann.age, 31);
  });

  test('transaction rolled back by a thrown error; nested savepoint', async () => {
    await assert.rejects(db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Hal', email: 'hal@example.com' });
      throw new Error('boom');
    }), /boom/);
    assert.equal((await db.select().from(users).where(eq(users.name, 'Hal'))).length, 0);

    await db.transaction(async (tx) => {
      await tx.insert(users).values({ name: 'Ivy', email: 'ivy@example.com' });
      await assert.rejects(tx.transaction(async (inner) => {
        await inner.insert(users).values({ name: 'Jon', email: 'jon@example.com' });
        throw new Error('inner');
      }), /inner/);
    });
    const names = (await db.select({ name: users.name }).from(users).where(inArray(users.name, ['Ivy', 'Jon'])))
      .map((r) => r.name);
    assert.deepEqual(names, ['Ivy']);
  });

  test('db.batch is atomic', async () => {
    const before = (await db.select({ n: count() }).from(users))[0].n;
    await assert.rejects(db.batch([
      db.insert(users).values({ name: 'Kim', email: 'kim@example.com' }),
      db.insert(users).values({ name: 'Kim2', email: 'kim@example.com' }),
    ]));
    assert.equal((await db.select({ n: count() }).from(users))[0].n, before);
    const [ins, sel] = await db.batch([
      db.insert(users).values({ name: 'Lou', email: 'lou@example.com' }).returning({ id: users.id }),
      db.select({ name: users.name }).from(users).where(eq(users.name, 'Lou')),
    ]);
    assert.equal(ins.length, 1);
    assert.deepEqual(sel, [{ name: 'Lou' }]);
  });

  test('raw sql with parameters', async () => {
    const name = "O'Brien; DROP TABLE users; --";
    await db.run(sql`INSERT INTO users (name, email) VALUES (${name}, ${'ob@example.com'})`);
    const rows = await db.all(sql`SELECT name FROM users WHERE email = ${'ob@example.com'}`);
    assert.deepEqual(rows, [{ name }]);
    const v = await db.get(sql`SELECT count(*) AS n FROM users`);
    assert.ok(v.n >= 5);
  });
});
