// expect: TS2322 Type 'string' is not assignable to type 'number | Filter<number>
import { quarry } from '@quarry/client';
import type { Database } from './app.js';

const db = quarry<Database>({ url: 'http://127.0.0.1:8080', namespace: 'app' });
export const rows = db.users.findMany({ where: { score: 'high' } });
