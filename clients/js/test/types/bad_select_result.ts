// expect: TS2339 Property 'email' does not exist on type
import { quarry } from '@quarry/client';
import type { Database } from './app.js';

const db = quarry<Database>({ url: 'http://127.0.0.1:8080', namespace: 'app' });
export async function f(): Promise<string> {
  const rows = await db.users.findMany({ select: { id: true } });
  return rows[0]!.email;
}
