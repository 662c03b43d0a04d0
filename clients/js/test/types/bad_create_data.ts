// expect: TS2322 Type '"owner"' is not assignable to type 'Role
import { quarry } from '@quarry/client';
import type { Database } from './app.js';

const db = quarry<Database>({ url: 'http://127.0.0.1:8080', namespace: 'app' });
export const created = db.users.create({ data: { email: 'a@b.c', role: 'owner' } });
