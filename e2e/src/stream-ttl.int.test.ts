// STREAM tables expire through the whole stack (docs/protocol.md §4, docs/architecture.md §2): with
// TTL_SECONDS = 2 and storage's expiry every 200 ms, a live subscriber gets a `delete` once the
// row is older than the TTL; afterwards SELECT and a new subscription's snapshot do not return
// it; a client that saw the insert and resumes gets the delete; a client resuming from before
// the insert gets no insert of the expired row (the gateway drops it) and the delete; and the
// row is gone from PostgreSQL.
import postgres from 'postgres';
import { seqIdTimestampMs, type SeqId } from '@seqline/seq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, rowOf, type Msg, type WsClient } from './ws-client.js';

const TTL_MS = 2000;
const SQL = 'SELECT id, who FROM app.typing';

let stack: Stack;
let alice: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_STREAM_PURGE_INTERVAL_MS: '200' } });
  ({ alice } = await ticketsFixture(stack));
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, `CREATE STREAM TABLE app.typing (id INT PRIMARY KEY, who TEXT) WITH (TTL_SECONDS = ${TTL_MS / 1000})`);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** A client subscribed to SQL (resuming from `from` if given), with the time each message arrived. */
async function subscribe(from?: string): Promise<WsClient & { readonly arrivals: Map<Msg, number> }> {
  const arrivals = new Map<Msg, number>();
  const c = await openSocket(stack.url, { token: alice, onMessage: (m) => arrivals.set(m, Date.now()) });
  c.send({ type: 'subscribe', subscription: { id: 's', sql: SQL, ...(from === undefined ? {} : { options: { from } }) } });
  return { ...c, arrivals };
}

/** Whether the subscription's snapshot is complete (an empty one is the ack alone). */
const ready = (c: WsClient): boolean => c.messages.some((m) => (m['type'] === 'subscription_ack' || m['type'] === 'initial_data_batch') && (m['batch_control'] as Msg)['status'] === 'ready');
/** Rows of the snapshot. */
const snapshotRows = (c: WsClient): Msg[] => c.messages.filter((m) => m['type'] === 'initial_data_batch').flatMap((m) => m['rows'] as Msg[]);

const changes = (c: WsClient): string[] => c.messages.filter((m) => m['type'] === 'change').map((m) => `${m['change_type'] as string}:${String(rowOf(m)['id'])}`);

describe('STREAM table with TTL_SECONDS', () => {
  it('a live client gets a delete at expiry; SELECT, a snapshot and resumes then leave the row out; PostgreSQL drops it', async () => {
    const live = await subscribe();
    await expect.poll(() => ready(live)).toBe(true);
    const seen = await subscribe();
    await expect.poll(() => ready(seen)).toBe(true);

    await ok(stack.url, alice, "INSERT INTO app.typing (id, who) VALUES (1, 'alice')");
    await expect.poll(() => changes(live)).toEqual(['insert:1']);
    await expect.poll(() => changes(seen)).toEqual(['insert:1']);
    const inserted = live.messages.find((m) => m['type'] === 'change')!;
    const seq = String(rowOf(inserted)['_seq']);
    const cursor = String(rowOf(seen.messages.find((m) => m['type'] === 'change')!)['_seq']);
    seen.ws.close();
    await seen.closed;

    // The live client's delete comes once the row is older than the TTL, not before.
    await expect.poll(() => changes(live), { timeout: 20_000 }).toEqual(['insert:1', 'delete:1']);
    const deleted = live.messages.at(-1)!;
    expect(live.arrivals.get(deleted)).toBeGreaterThan(seqIdTimestampMs(BigInt(seq) as SeqId) + TTL_MS);
    const deleteSeq = String(rowOf(deleted)['_seq']);
    expect(BigInt(deleteSeq)).toBeGreaterThan(BigInt(seq));

    expect(await ok(stack.url, alice, 'SELECT id FROM app.typing')).toMatchObject([{ rows: [] }]);
    const fresh = await subscribe();
    await expect.poll(() => ready(fresh)).toBe(true);
    expect(snapshotRows(fresh)).toEqual([]);
    expect(fresh.messages.find((m) => m['type'] === 'subscription_ack')).toMatchObject({ total_rows: 0 });
    fresh.ws.close();

    // Back from a disconnect: the client that saw the insert gets its delete, and one from before
    // the insert gets the delete only (the insert, replayed from the change log, has expired).
    const resumed = await subscribe(cursor);
    await expect.poll(() => changes(resumed)).toEqual(['delete:1']);
    expect(String(rowOf(resumed.messages.at(-1)!)['_seq'])).toBe(deleteSeq);
    const fromBefore = await subscribe(String(BigInt(seq) - 1n));
    await expect.poll(() => changes(fromBefore)).toEqual(['delete:1']);
    resumed.ws.close();
    fromBefore.ws.close();
    live.ws.close();

    // The delete left a tombstone; one TTL later the expiry purges it: the row is gone.
    const sql = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
    try {
      await expect.poll(async () => (await sql`SELECT count(*)::int AS n FROM app.typing`)[0]!['n'] as number, { timeout: 20_000 }).toBe(0);
    } finally {
      await sql.end();
    }
  });
});
