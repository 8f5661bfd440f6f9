// The load tests' fixture: namespace app, a USER table app.events (id, body), and users who
// write to it, logged in.
import { login, ok } from './client.js';
import type { Stack } from './stack.js';

/** Creates app.events and `users` (password `password-<user>`); returns each user's token. */
export async function eventsFixture(stack: Stack, users: readonly string[]): Promise<Record<string, string>> {
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(stack.url, admin, "CREATE TABLE app.events (id INT PRIMARY KEY, body TEXT NOT NULL) WITH (TYPE='USER')");
  const tokens: Record<string, string> = {};
  for (const u of users) {
    await ok(stack.url, admin, `CREATE USER ${u} WITH PASSWORD 'password-${u}' ROLE user`);
    tokens[u] = await login(stack.url, u, `password-${u}`);
  }
  return tokens;
}
