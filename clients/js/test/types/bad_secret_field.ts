// expect: TS2339 Property 'apiKey' does not exist on type 'Users'
import type { Users } from './app.js';

export function key(user: Users): unknown {
  return user.apiKey;
}
