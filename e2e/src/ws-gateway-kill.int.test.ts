// A gateway process killed (SIGKILL) in the middle of a client's snapshot: the client
// reconnects to another gateway with `from` = the last _seq it received and gets everything
// else, the rest of the snapshot and the writes made meanwhile, once each, in _seq order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, rowOf, type Msg, type WsClient } from './ws-client.js';

let stack: Stack;
let alice: string;

beforeAll(async () => {
  stack = await startStack();
  ({ alice } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('a gateway killed mid-stream', () => {
  it('loses nothing: its client resumes on another gateway from the last _seq it received', async () => {
    const values = Array.from({ length: 30 }, (_, i) => `('t${i + 1}')`).join(', ');
    await ok(stack.url, alice, `INSERT INTO app.tickets (title) VALUES ${values}`);
    const doomed = await stack.spawn('gateway');
    const seen: Msg[] = [];
    const rowsSeen = (): Msg[] => seen.flatMap((m) => (m['type'] === 'initial_data_batch' ? (m['rows'] as Msg[]) : m['type'] === 'change' ? [rowOf(m)] : []));
    const titles = (): unknown[] => rowsSeen().map((r) => r['title']);
    const seqs = (): bigint[] => rowsSeen().map((r) => BigInt(String(r['_seq'])));
    const open = (base: string): Promise<WsClient> => openSocket(base, { token: alice, onMessage: (m) => seen.push(m) });
    const first = await open(doomed.url!);
    const closed = first.closed.then(({ code }) => code);
    first.send({ type: 'subscribe', subscription: { id: 't', sql: 'SELECT id, title FROM app.tickets', options: { batch_size: 10, flow: 'client' } } });
    await expect.poll(() => titles().length).toBe(10);
    await doomed.kill('SIGKILL');
    expect(await closed).toBe(1006); // no close frame: the process died
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('meanwhile')");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 't2'");

    const last = seqs().at(-1)!;
    const second = await open(stack.url);
    second.send({ type: 'subscribe', subscription: { id: 't', sql: 'SELECT id, title FROM app.tickets', options: { from: last.toString() } } });
    const expected = [...Array.from({ length: 30 }, (_, i) => `t${i + 1}`), 'meanwhile', 't2'];
    await expect.poll(() => titles()).toEqual(expected);
    const all = seqs();
    expect(all.every((s, i) => i === 0 || s > all[i - 1]!)).toBe(true);
    second.ws.close();
  });
});
