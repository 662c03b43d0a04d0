// expect: TS2561 'emial' does not exist in type 'UsersWhere'. Did you mean to write 'email'?
import { quarry } from '@quarry/client';
import type { Database } from './app.js';

const db = quarry<Database>({ url: 'http://127.0.0.1:8080', namespace: 'app' });
export const rows = db.users.findMany({ where: { emial: 'ada@example.com' } });
