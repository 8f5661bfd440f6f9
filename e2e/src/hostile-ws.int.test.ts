// Hostile WebSocket clients (issue 10, part E): a socket that goes away in the middle of a
// snapshot releases storage's snapshot transaction at once (the gateway cancels the Snapshot
// stream), authentication failures carry a code of the error table, and every check ends with
// a bystander still served.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBystander, expectServed, type Bystander } from './bystander.js';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { openSocket } from './ws-client.js';

let stack: Stack;
let bystander: Bystander;
let mallory: string;
let pg: postgres.Sql;

const ROWS = 1500;
const NOTE = 'n'.repeat(2000);

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_WS_IDLE_MS: '60000' } });
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  bystander = await createBystander(stack, admin, 'hws');
  await ok(stack.url, admin, `CREATE TABLE hws.big (id BIGINT PRIMARY KEY, note TEXT) WITH (TYPE='USER')`);
  await ok(stack.url, admin, `CREATE USER mallory WITH PASSWORD 'mallory-password' ROLE user`);
  mallory = await login(stack.url, 'mallory', 'mallory-password');
  // 3 MB in mallory's partition: far more than gRPC's and the sockets' buffers hold, so a
  // snapshot read 5 rows a batch is still running in storage while nobody asks for more.
  for (let i = 0; i < ROWS; i += 100) {
    const ids = Array.from({ length: 100 }, (_, k) => i + k);
    await ok(stack.url, mallory, `INSERT INTO hws.big (id, note) VALUES ${ids.map((_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(', ')}`, ids.flatMap((id) => [id, NOTE]));
  }
  pg = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
}, 120_000);

afterAll(async () => {
  await pg?.end();
  await stack?.[Symbol.asyncDispose]();
});

/** Storage's open snapshot transactions (a REPEATABLE READ transaction reading `(…) AS snapshot` page by page: its last query names it). */
async function openSnapshots(): Promise<number> {
  const [row] = await pg<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query LIKE '%) AS snapshot%'`;
  return row!.n;
}

describe('a socket that goes away', () => {
  it('ends its client-paced snapshot in storage at once', async () => {
    const ws = await openSocket(stack.url, { token: mallory });
    ws.send({ type: 'subscribe', subscription: { id: 'big', sql: 'SELECT id, note FROM hws.big', options: { batch_size: 5, flow: 'client' } } });
    await expect.poll(() => ws.messages.filter((m) => m['type'] === 'initial_data_batch').length).toBe(1);
    expect(ws.messages[1]).toMatchObject({ type: 'subscription_ack', subscription_id: 'big', total_rows: ROWS });
    expect(await openSnapshots()).toBe(1); // waiting for a next_batch that never comes
    ws.ws.close();
    await ws.closed;
    await expect.poll(openSnapshots, { timeout: 3000 }).toBe(0);
    await expectServed(stack, bystander);
  });

  it('ends the snapshot in storage on unsubscribe, and the id can be used again', async () => {
    const ws = await openSocket(stack.url, { token: mallory });
    const batches = (): number => ws.messages.filter((m) => m['type'] === 'initial_data_batch').length;
    ws.send({ type: 'subscribe', subscription: { id: 'big', sql: 'SELECT id, note FROM hws.big', options: { batch_size: 5, flow: 'client' } } });
    await expect.poll(batches).toBe(1);
    expect(await openSnapshots()).toBe(1);
    ws.send({ type: 'unsubscribe', subscription_id: 'big' });
    await expect.poll(openSnapshots, { timeout: 3000 }).toBe(0);
    ws.send({ type: 'subscribe', subscription: { id: 'big', sql: 'SELECT id FROM hws.big WHERE id < 3', options: { batch_size: 5, flow: 'client' } } });
    await expect.poll(batches).toBe(2);
    expect(ws.messages.at(-1)).toMatchObject({ type: 'initial_data_batch', subscription_id: 'big', rows: [{ id: '0' }, { id: '1' }, { id: '2' }], batch_control: { status: 'ready', has_more: false } });
    expect(ws.messages.filter((m) => m['type'] === 'error')).toEqual([]);
    ws.ws.close();
    await expectServed(stack, bystander);
  });
});

describe('authentication', () => {
  it('answers a bad token with auth_error and its code, then closes with 1008', async () => {
    const ws = await openSocket(stack.url);
    ws.send({ type: 'authenticate', method: 'jwt', token: 'not-a-token' });
    expect(await ws.closed).toEqual({ code: 1008, reason: 'authentication failed' });
    expect(ws.messages).toEqual([{ type: 'auth_error', code: 'INVALID_CREDENTIALS', message: 'invalid token' }]);
    await expectServed(stack, bystander);
  });
});
