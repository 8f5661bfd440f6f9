// Issue 10, part C, on the whole stack: resource limits with clear errors. One shard, so the
// hostile user's ops and the bystander's share it. Each check ends with the bystander served
// (a write acknowledged within 5 s, /health within 1 s).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBystander, expectServed, type Bystander } from './bystander.js';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';
import { openSocket, type Msg } from './ws-client.js';

// SEQLINE_USER_MAX_WAITING=0: calls over a user's limit are refused at once rather than after a short wait.
let stack: Stack;
let bystander: Bystander;
let mallory: string;

beforeAll(async () => {
  stack = await startStack({ shards: 1, env: { SEQLINE_MAX_OP_BYTES: '65536', SEQLINE_FILTER_BUDGET: '1000000', SEQLINE_USER_MAX_QUERIES: '4', SEQLINE_USER_MAX_SNAPSHOTS: '2', SEQLINE_USER_MAX_WAITING: '0' } });
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  bystander = await createBystander(stack, admin, 'hl');
  await ok(stack.url, admin, "CREATE TABLE hl.t (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE TABLE hl.slow (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE USER mallory WITH PASSWORD 'mallory-password-long' ROLE user");
  mallory = await login(stack.url, 'mallory', 'mallory-password-long');
}, 60_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const errorOf = (r: { status: number; body: { error?: { code: string; message: string } } }) => ({ status: r.status, code: r.body.error?.code });

describe('hostile tenants: resource limits', () => {
  it('refuses a 2 MB row with ROW_TOO_LARGE before anything is written, and the shard goes on', async () => {
    const big = await sql(stack.url, mallory, "INSERT INTO hl.t (id, v) VALUES (1, lpad('x', 2000000, 'x'))");
    expect(errorOf(big)).toEqual({ status: 413, code: 'ROW_TOO_LARGE' });
    expect(big.body.error?.message).toMatch(/^a row of hl\.t would be \d+ bytes; the limit is 262144 bytes \(nothing was written\)$/);
    // A write too big to log at all is refused by the write service.
    const params = await sql(stack.url, mallory, 'INSERT INTO hl.t (id, v) VALUES ($1, $2)', [1, 'p'.repeat(100_000)]);
    expect(errorOf(params)).toEqual({ status: 413, code: 'ROW_TOO_LARGE' });
    expect(params.body.error?.message).toMatch(/^the write is \d+ bytes \(statement and parameters\); the limit is 65536 bytes \(nothing was written\)$/);
    expect(await ok(stack.url, mallory, 'SELECT id FROM hl.t')).toMatchObject([{ row_count: 0 }]);
    await expectServed(stack, bystander);
  });

  it('refuses an UPDATE that grows a row past the limit, keeps the row as it was, and the shard goes on', async () => {
    await ok(stack.url, mallory, "INSERT INTO hl.t (id, v) VALUES (2, 'small')");
    const grow = await sql(stack.url, mallory, "UPDATE hl.t SET v = lpad('x', 300000, 'x') WHERE id = 2");
    expect(errorOf(grow)).toEqual({ status: 413, code: 'ROW_TOO_LARGE' });
    expect(await ok(stack.url, mallory, 'SELECT v FROM hl.t WHERE id = 2')).toMatchObject([{ rows: [['small']] }]);
    await expectServed(stack, bystander);
  });

  it('matches the pathological LIKE in linear time, and ends only the subscription whose filter is over its budget', async () => {
    const ws = await openSocket(stack.url, { token: mallory, pingMs: 1000 });
    ws.send({ type: 'subscribe', subscription: { id: 'like', sql: `SELECT id FROM hl.t WHERE v LIKE '${'%a'.repeat(30)}%b'` } });
    ws.send({ type: 'subscribe', subscription: { id: 'costly', sql: `SELECT id FROM hl.t WHERE v LIKE '%${'a'.repeat(50)}c%'` } });
    const of = (id: string): Msg[] => ws.messages.filter((m) => m['subscription_id'] === id);
    await expect.poll(() => ['like', 'costly'].map((id) => of(id).some((m) => m['type'] === 'subscription_ack')), { timeout: 10_000 }).toEqual([true, true]);
    await ok(stack.url, mallory, "INSERT INTO hl.t (id, v) VALUES (3, lpad('b', 200001, 'a'))");
    await expect.poll(() => of('like').filter((m) => m['type'] === 'change').map((m) => (m['rows'] as Msg[])[0]?.['id']), { timeout: 10_000 }).toEqual(['3']);
    await expect.poll(() => of('costly').filter((m) => m['type'] === 'error'), { timeout: 10_000 }).toEqual([
      { type: 'error', subscription_id: 'costly', code: 'FILTER_BUDGET_EXCEEDED', message: "evaluating the subscription's filter on one change took more than 1000000 steps; the subscription is ended (simplify its WHERE, e.g. fewer % in LIKE patterns)" },
    ]);
    // The first subscription goes on; the ended one hears nothing more.
    await ok(stack.url, mallory, "INSERT INTO hl.t (id, v) VALUES (4, lpad('b', 31, 'a'))");
    await expect.poll(() => of('like').filter((m) => m['type'] === 'change').length, { timeout: 10_000 }).toBe(2);
    expect(of('costly').map((m) => m['type'])).toEqual(['subscription_ack', 'error']);
    ws.ws.close();
    await expectServed(stack, bystander);
  });

  it('refuses a user’s queries and snapshots over their limits at once while the bystander is served', async () => {
    await ok(stack.url, mallory, "INSERT INTO hl.slow (id, v) VALUES (1, 'x')");
    // The test holds a lock on mallory's table, so her reads of it wait, each holding a connection.
    await using pg = Object.assign(postgres(stack.postgresUrl, { max: 1 }), { [Symbol.asyncDispose]: () => pg.end() });
    const lock = await pg.reserve();
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await lock`ROLLBACK`;
      lock.release();
    };
    try {
      await lock`BEGIN`;
      await lock`LOCK TABLE hl.slow IN ACCESS EXCLUSIVE MODE`;
      const replies = Array.from({ length: 6 }, () => sql(stack.url, mallory, 'SELECT id FROM hl.slow'));
      const settled = replies.map((r) => r.then(errorOf));
      const done: { status: number; code: string | undefined }[] = [];
      for (const s of settled) void s.then((x) => done.push(x));
      await expect.poll(() => done, { timeout: 10_000 }).toEqual([
        { status: 429, code: 'RATE_LIMIT_EXCEEDED' },
        { status: 429, code: 'RATE_LIMIT_EXCEEDED' },
      ]);
      const another = await sql(stack.url, mallory, 'SELECT id FROM hl.t');
      expect(errorOf(another)).toEqual({ status: 429, code: 'RATE_LIMIT_EXCEEDED' });
      expect(another.body.error?.message).toBe('at most 4 queries at a time per user; retry when one has finished');
      expect(await ok(stack.url, bystander.token, `SELECT count(*) AS n FROM ${bystander.table}`)).toMatchObject([{ row_count: 1 }]);

      const ws = await openSocket(stack.url, { token: mallory, pingMs: 1000 });
      for (const id of ['s1', 's2', 's3']) ws.send({ type: 'subscribe', subscription: { id, sql: 'SELECT id FROM hl.slow', options: {} } });
      await expect.poll(() => ws.messages.filter((m) => m['type'] === 'error').map((m) => [m['code'], m['message']]), { timeout: 10_000 }).toEqual([
        ['RATE_LIMIT_EXCEEDED', 'at most 2 snapshots and catch-ups at a time per user; retry when one has finished'],
      ]);
      await expectServed(stack, bystander);

      await release();
      // The waiting reads finish once the lock is gone, and their slots are free again.
      await expect.poll(() => done.length, { timeout: 10_000 }).toBe(6);
      expect(done.slice(2)).toEqual(Array.from({ length: 4 }, () => ({ status: 200, code: undefined })));
      await expect.poll(() => ws.messages.filter((m) => m['type'] === 'subscription_ack').length, { timeout: 10_000 }).toBe(2);
      expect(await ok(stack.url, mallory, 'SELECT id FROM hl.slow')).toMatchObject([{ rows: [['1']] }]);
      ws.ws.close();
    } finally {
      await release();
    }
    await expectServed(stack, bystander);
  });
});
