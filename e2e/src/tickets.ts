// The seed's tickets fixture: namespace app, a USER table app.tickets, and users alice and bob
// logged in.
import { login, ok } from './client.js';
import type { Stack } from './stack.js';

export const TICKETS_DDL = "CREATE TABLE app.tickets (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), title TEXT NOT NULL, status TEXT DEFAULT 'open', priority INT) WITH (TYPE='USER')";

export async function ticketsFixture(stack: Stack): Promise<{ readonly alice: string; readonly bob: string }> {
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(stack.url, admin, TICKETS_DDL);
  await ok(stack.url, admin, "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user");
  await ok(stack.url, admin, "CREATE USER bob WITH PASSWORD 'bob-pass-12' ROLE user");
  const [alice, bob] = await Promise.all([login(stack.url, 'alice', 'alice-pass-1'), login(stack.url, 'bob', 'bob-pass-12')]);
  return { alice, bob };
}
