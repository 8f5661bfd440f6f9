// A client that stops reading: its socket fills, its subscriptions end with SLOW_CONSUMER once
// more than SEQLINE_WS_MAX_BUFFERED_BYTES wait unsent, another client on the same data is not
// slowed, and resuming from the last _seq each subscription received gets the rest, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, type Msg, type WsClient } from './ws-client.js';

let stack: Stack;
let alice: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_WS_MAX_BUFFERED_BYTES: '65536', SEQLINE_WS_IDLE_MS: '60000' } });
  ({ alice } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const connect = (): Promise<WsClient> => openSocket(stack.url, { token: alice });

const SUBSCRIPTIONS = 20;
// 20 × 30 × 150 kB = 90 MB: more than loopback's kernel buffers can hold (here up to 32 MB
// received and 4 MB sent), so every subscription meets the limit.
const WRITES = 30;
const ROW_BYTES = 150_000;

describe('a client that stops reading', () => {
  it('gets SLOW_CONSUMER on its subscriptions without slowing anyone else, and resumes with nothing lost or repeated', async () => {
    const slow = await connect();
    const ids = Array.from({ length: SUBSCRIPTIONS }, (_, i) => `s${i}`);
    for (const id of ids) slow.ws.send(JSON.stringify({ type: 'subscribe', subscription: { id, sql: 'SELECT id, title FROM app.tickets' } }));
    await expect.poll(() => slow.messages.filter((m) => m['type'] === 'subscription_ack').length).toBe(SUBSCRIPTIONS);
    const other = await connect();
    other.ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: 'o', sql: 'SELECT id FROM app.tickets' } }));
    await expect.poll(() => other.messages.some((m) => m['type'] === 'subscription_ack')).toBe(true);

    slow.ws.pause(); // stop reading: the kernel buffers fill, then the gateway's
    const seqs: string[] = [];
    for (let i = 0; i < WRITES; i++) {
      const [result] = await ok(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', [`${i}:${'x'.repeat(ROW_BYTES)}`]);
      seqs.push(String(result!['seq']));
    }
    // The other client is served while the slow one holds megabytes unread.
    await expect.poll(() => other.messages.filter((m) => m['type'] === 'change').map((m) => String((m['rows'] as Msg[])[0]!['_seq'])), { timeout: 30_000 }).toEqual(seqs);

    slow.ws.resume();
    const errors = () => slow.messages.filter((m) => m['type'] === 'error');
    await expect.poll(() => errors().length, { timeout: 60_000 }).toBe(SUBSCRIPTIONS);
    expect(new Set(errors().map((e) => `${String(e['subscription_id'])} ${String(e['code'])}`))).toEqual(new Set(ids.map((id) => `${id} SLOW_CONSUMER`)));
    // …and each is counted on the gateway's /metrics.
    const metrics = await (await fetch(`${stack.ops['gateway']}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^seqline_gateway_slow_consumers_total ${SUBSCRIPTIONS}$`, 'm'));
    const received = (id: string): string[] => slow.messages.filter((m) => m['type'] === 'change' && m['subscription_id'] === id).map((m) => String((m['rows'] as Msg[])[0]!['_seq']));
    const before = new Map(ids.map((id) => [id, received(id)]));
    for (const got of before.values()) expect(got).toEqual(seqs.slice(0, got.length)); // a prefix, in order
    expect([...before.values()].reduce((n, got) => n + got.length, 0)).toBeLessThan(SUBSCRIPTIONS * WRITES);

    // Each resumes from the last _seq it received (or from before the writes): 20 history reads
    // replaying 90 MB at once, which the gateway takes a few at a time (SEQLINE_HISTORY_READS).
    const start = (BigInt(seqs[0]!) - 1n).toString();
    for (const id of ids) {
      const from = before.get(id)!.at(-1) ?? start;
      slow.ws.send(JSON.stringify({ type: 'subscribe', subscription: { id, sql: 'SELECT id, title FROM app.tickets', options: { from } } }));
    }
    await expect.poll(() => ids.map((id) => received(id)), { timeout: 60_000 }).toEqual(ids.map(() => seqs));
    slow.ws.close();
    other.ws.close();
  });

  it('does not cut a reading client whose one change makes a burst larger than the limit', async () => {
    // 20 subscriptions of one socket × a 150 kB row: 3 MB of frames in one tick, 46 × the limit.
    // Those frames go out in one system call (held until the tick ends); the limit counts only
    // what earlier ticks left unsent, so none of them is a SLOW_CONSUMER.
    const reader = await connect();
    const ids = Array.from({ length: SUBSCRIPTIONS }, (_, i) => `b${i}`);
    // No options: live only (docs/protocol.md §4), no snapshot of the big rows written above.
    for (const id of ids) reader.ws.send(JSON.stringify({ type: 'subscribe', subscription: { id, sql: 'SELECT id, title FROM app.tickets' } }));
    await expect.poll(() => reader.messages.filter((m) => m['type'] === 'subscription_ack').length, { timeout: 30_000 }).toBe(SUBSCRIPTIONS);
    const [result] = await ok(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', [`burst:${'x'.repeat(ROW_BYTES)}`]);
    const seq = String(result!['seq']);
    const changes = () => reader.messages.filter((m) => m['type'] === 'change').map((m) => `${String(m['subscription_id'])} ${String((m['rows'] as Msg[])[0]!['_seq'])}`);
    await expect.poll(changes, { timeout: 30_000 }).toEqual(ids.map((id) => `${id} ${seq}`));
    expect(reader.messages.filter((m) => m['type'] === 'error')).toEqual([]);
    reader.ws.close();
  });
});
