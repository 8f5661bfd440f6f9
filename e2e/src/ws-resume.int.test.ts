// Resume through the WebSocket when the change log no longer holds the range: with a log that
// keeps only the last 2 changes per partition, a client back from far behind gets storage's
// compacted catch-up (current versions and deletes after its _seq); when tombstones after its
// _seq were purged, it gets an ack with reset and a fresh snapshot.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, type Msg } from './ws-client.js';

let stack: Stack;
let alice: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_CHANGES_MAX_PER_SUBJECT: '2' } });
  ({ alice } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function resume(from: string): Promise<{ messages: Msg[]; close: () => void }> {
  const messages: Msg[] = [];
  const c = await openSocket(stack.url, { token: alice, onMessage: (m) => {
      if (m['type'] !== 'auth_success') messages.push(m);
    } });
  c.send({ type: 'subscribe', subscription: { id: 't', sql: 'SELECT id, title FROM app.tickets', options: { from } } });
  return { messages, close: () => c.ws.close() };
}

const title = (m: Msg): unknown => ((m['rows'] ?? m['old_values']) as Msg[])[0]!['title'];

describe('resume past the change log', () => {
  it('uses the compacted catch-up when the log dropped the range, and a reset with a snapshot when tombstones were purged', async () => {
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('kept'), ('gone')");
    const [{ rows }] = (await ok(stack.url, alice, 'SELECT max(_seq) FROM app.tickets')) as [{ rows: unknown[][] }];
    const from = String(rows[0]![0]);
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('n1')");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 'gone'");
    await ok(stack.url, alice, "UPDATE app.tickets SET title = 'n1!' WHERE title = 'n1'");
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('n2')");

    const caughtUp = await resume(from);
    await expect.poll(() => caughtUp.messages.filter((m) => m['type'] === 'change').map((m) => [m['change_type'], title(m)])).toEqual([
      ['delete', 'gone'],
      ['insert', 'n1!'],
      ['insert', 'n2'],
    ]);
    expect(caughtUp.messages[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready' } });
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('live')");
    await expect.poll(() => caughtUp.messages.filter((m) => m['type'] === 'change').map(title).at(-1)).toBe('live');
    caughtUp.close();

    const sql = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
    await sql`UPDATE seqline.tables SET purged_through_seq = ${(BigInt(from) + 1000n).toString()} WHERE name = 'tickets'`;
    await sql.end();
    const reset = await resume(from);
    await expect.poll(() => reset.messages.map((m) => m['type'])).toEqual(['subscription_ack', 'initial_data_batch']);
    expect(reset.messages[0]).toMatchObject({ reset: true });
    expect(((reset.messages[1]!['rows'] as Msg[]).map((r) => r['title']))).toEqual(['kept', 'n1!', 'n2', 'live']);
    reset.close();
  });
});
