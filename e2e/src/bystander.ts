// The bystander of the hostile-tenant suites (issue 10): after each attack, an ordinary user
// who did nothing wrong must still be served. Each check ends with `expectServed`: the
// bystander's write is acknowledged within 5 s and GET /health answers within 1 s.
import { expect } from 'vitest';
import { login, ok, sql } from './client.js';
import type { Stack } from './stack.js';

export interface Bystander {
  readonly user: string;
  readonly token: string;
  /** A USER table the bystander writes to: `<ns>.bystander (id BIGINT PRIMARY KEY, note TEXT)`. */
  readonly table: string;
}

let counter = 0;

/** Creates the bystander's user and table (as the stack's DBA) and logs it in. */
export async function createBystander(stack: Stack, adminToken: string, namespace: string): Promise<Bystander> {
  const user = `bystander_${++counter}_${process.pid}`;
  const password = `pw-${user}-long-enough`;
  await ok(stack.url, adminToken, `CREATE NAMESPACE IF NOT EXISTS ${namespace}`);
  await ok(stack.url, adminToken, `CREATE TABLE IF NOT EXISTS ${namespace}.bystander (id BIGINT PRIMARY KEY, note TEXT) WITH (TYPE='USER')`);
  await ok(stack.url, adminToken, `CREATE USER ${user} WITH PASSWORD '${password}' ROLE user`);
  return { user, token: await login(stack.url, user, password), table: `${namespace}.bystander` };
}

let nextId = 1;

/** The bystander writes one row (acknowledged within 5 s) and /health answers within 1 s. */
export async function expectServed(stack: Stack, b: Bystander): Promise<void> {
  const id = nextId++;
  const started = performance.now();
  const write = await sql(stack.url, b.token, `INSERT INTO ${b.table} (id, note) VALUES ($1, $2)`, [id, `still served ${id}`], {}, AbortSignal.timeout(5000));
  expect(write.status).toBe(200);
  expect(write.body.results[0]?.['row_count']).toBe(1);
  expect(performance.now() - started).toBeLessThan(5000);
  const healthStarted = performance.now();
  const health = await fetch(`${stack.url}/health`, { signal: AbortSignal.timeout(1000) });
  expect(health.status).toBe(200);
  expect(performance.now() - healthStarted).toBeLessThan(1000);
}
