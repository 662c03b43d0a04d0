// Must compile (tsc --noEmit, strict) against the declarations `quarry types` writes for
// ../fixtures/app.schema (as ./app.d.ts) and the built client.
import {
  quarry,
  toBigInt,
  fromBlob,
  NotFoundError,
  QuarryError,
  type BigIntString,
  type JsonValue,
} from '@quarry/client';
import type { Database, Posts, QuarryClient, Role, Users, UsersCreate } from './app.js';

const db = quarry<Database>({ url: 'http://127.0.0.1:8080', namespace: 'app', token: 'token' });
const same: QuarryClient = db;

export async function reads(): Promise<void> {
  const users: Users[] = await db.users.findMany({
    where: {
      email: { contains: '@', mode: 'insensitive' },
      role: { in: ['admin', 'member'] },
      OR: [{ name: null }, { score: { gte: 1.5 } }],
      NOT: { posts: { none: { published: true } } },
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }, { name: { dir: 'asc', nulls: 'last' } }],
    limit: 10,
    offset: 0,
  });
  const first = users[0];
  if (first) {
    const id: number = first.id;
    const role: Role = first.role;
    const name: string | null = first.name;
    const settings: JsonValue | null = first.settings;
    const bio: string | null | undefined = first.bio;
    const avatar = first.avatar ? fromBlob(first.avatar) : new Uint8Array();
    const big: bigint = toBigInt(id);
    void [role, name, settings, bio, avatar, big];
  }

  const picked = await db.users.findMany({ select: { id: true, email: true } });
  const email: string = picked[0]!.email;
  const withPosts = await db.users.findFirst({
    include: { posts: { where: { title: { startsWith: 'a' } }, orderBy: { id: 'desc' }, limit: 3 }, _count: true },
  });
  if (withPosts) {
    const titles: string[] = withPosts.posts.map((p: Posts) => p.title);
    void titles;
  }
  const one: Users = await db.users.findUniqueOrThrow({ where: { id: 1 } });
  const maybe: Users | null = await db.users.findUnique({ where: { email: 'a@b.c' } });
  const page = await db.posts.findManyCursor({ limit: 5, orderBy: { id: 'asc' }, cursor: null });
  const next: string | null = page.nextCursor;
  const items: Posts[] = page.items;
  const counted = await db.posts.findManyAndCount({ where: { author: { is: { role: 'admin' } } } });
  const total: number = counted.total;
  const n: number = await db.posts.count({ where: { tags: { equals: ['x'] }, authorId: 9007199254740993n } });
  const yes: boolean = await db.users.exists({ where: { posts: { some: { views: { gt: 10 } } } } });
  const agg = await db.posts.aggregate({ _count: true, _sum: { views: true }, where: { published: true } });
  const groups = await db.posts.groupBy({ by: ['authorId'], _count: true });
  const byAuthor = await db.posts.findMany({ orderBy: { author: { email: 'asc' } } });
  const busiest = await db.users.findMany({ orderBy: { posts: { _count: 'desc' } } });
  void [email, one, maybe, next, items, total, n, yes, agg, groups, byAuthor, busiest, same];
}

export async function writes(): Promise<void> {
  const data: UsersCreate = { email: 'ada@example.com', name: 'Ada', avatar: new Uint8Array([1, 2]) };
  const ada = await db.users.create({ data });
  const post = await db.posts.create({
    data: { title: 'Hello', tags: ['intro'], author: { connect: { id: ada.id } } },
    include: { author: true },
  });
  const author: Users | null = post.author;
  const updated = await db.posts.update({ where: { id: post.id }, data: { views: { increment: 1 }, published: true } });
  const views: number | undefined = updated?.views;
  const big = '9007199254740993' as BigIntString;
  await db.posts.updateMany({ where: { authorId: big }, data: { views: { set: 0 } } });
  await db.users.upsert({ where: { email: 'x@y.z' }, create: { email: 'x@y.z' }, update: { name: 'X' } });
  const { count } = await db.users.createMany({ data: [{ email: 'a@a.a' }, { email: 'b@b.b', role: 'admin' }] });
  await db.users.upsertMany({ data: [{ email: 'c@c.c' }], conflictTarget: 'email', update: ['name'] });
  const gone: Posts | null = await db.posts.delete({ where: { id: post.id } });
  await db.posts.deleteMany({ where: { views: { lt: 1 } } });
  void [author, views, count, gone];
}

export async function batches(): Promise<void> {
  const r = await db.query({
    users: { where: { role: 'admin' }, limit: 5 },
    postCount: { model: 'posts', op: 'count' },
    latest: { model: 'posts', op: 'findFirst', orderBy: { id: 'desc' } },
  });
  const admins: Users[] = r.users;
  const postCount: number = r.postCount;
  const latest: Posts | null = r.latest;

  const [created, count] = await db.transaction((tx) => [
    tx.users.create({ data: { email: 'tx@example.com' } }),
    tx.posts.count(),
  ]);
  const createdId: number = created.id;
  const counted: number = count;

  const [plain, removed] = await db.transaction([
    { model: 'users', op: 'create', args: { data: { email: 'p@example.com' } } },
    { model: 'posts', op: 'deleteMany', args: {} },
  ]);
  const plainRow: Users = plain;
  const removedCount: number = removed.count;
  void [admins, postCount, latest, createdId, counted, plainRow, removedCount];
}

export async function errors(): Promise<void> {
  try {
    await db.users.findFirstOrThrow({ where: { id: 1 } });
  } catch (e) {
    if (e instanceof NotFoundError) {
      const status: number = e.status;
      const path: string | null = e.path;
      void [status, path];
    } else if (e instanceof QuarryError) {
      const code: string = e.code;
      void code;
    }
  }
}

// A database described by row types alone, and one not described at all.
export async function looser(): Promise<void> {
  const rows = quarry<{ things: { id: number; label: string; note: string | null } }>({ url: 'http://h:1/db/x' });
  const things = await rows.things.findMany({ where: { label: { startsWith: 'a' }, note: null }, orderBy: { id: 'desc' } });
  const label: string = things[0]!.label;
  const ids = await rows.things.findMany({ select: { id: true } });
  const id: number = ids[0]!.id;

  // Untyped, every model name is an index signature: under noUncheckedIndexedAccess it may be
  // undefined to the compiler, so reach models through model().
  const any = quarry({ url: 'http://h:1', namespace: 'x' });
  const whatever = await any.model('anything').findMany({ where: { x: 1 } });
  const field: unknown = whatever[0]?.x;
  const q = await any.query({ a: { model: 'b', where: {} } });
  await any.transaction([{ model: 'a', op: 'create', args: { data: {} } }]);
  void [label, id, field, q];
}
