// Resume through the WebSocket when the change log no longer holds the range: with a log that
// keeps only the last 2 changes per partition, a client back from far behind gets storage's
// compacted catch-up (current versions and deletes after its _seq); when tombstones after its
// _seq were purged, it gets an ack with reset and a fresh snapshot.
// And while the log still holds the range (docs/architecture.md §4 step 5), a resume replays it
// from JetStream change by change (an update as an update, a delete as a delete): a few missed
// changes read by direct gets among another user's changes, more than the walk's budget of gets
// (RESUME_DIRECT_READS) with a consumer. Either way each missed change exactly once, in order,
// then live.
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

async function resume(from: string, on = stack, token = alice): Promise<{ messages: Msg[]; close: () => void }> {
  const messages: Msg[] = [];
  const c = await openSocket(on.url, { token, onMessage: (m) => {
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

const changes = (messages: readonly Msg[]): unknown[][] => messages.filter((m) => m['type'] === 'change').map((m) => [m['change_type'], title(m)]);

/** The partition's newest `_seq`, exact (a string). */
async function head(on: Stack, token: string): Promise<string> {
  const [{ rows }] = (await ok(on.url, token, 'SELECT max(_seq) FROM app.tickets')) as [{ rows: unknown[][] }];
  return String(rows[0]![0]);
}

describe('the path of a resume while the log holds the range', () => {
  let full: Stack;
  let carol: string;
  let dave: string;

  beforeAll(async () => {
    full = await startStack();
    ({ alice: carol, bob: dave } = await ticketsFixture(full));
  });

  afterAll(async () => {
    await full?.[Symbol.asyncDispose]();
  });

  it('replays a few missed changes, and more than the walk reads, from JetStream one by one, each exactly once and then live', async () => {
    await ok(full.url, carol, "INSERT INTO app.tickets (title) VALUES ('a'), ('b')");
    const from = await head(full, carol);
    await ok(full.url, dave, "INSERT INTO app.tickets (title) VALUES ('bob 1')");
    await ok(full.url, carol, "UPDATE app.tickets SET title = 'a!' WHERE title = 'a'");
    await ok(full.url, dave, "INSERT INTO app.tickets (title) VALUES ('bob 2')");
    await ok(full.url, carol, "INSERT INTO app.tickets (title) VALUES ('c')");
    await ok(full.url, carol, "DELETE FROM app.tickets WHERE title = 'b'");

    const few = await resume(from, full, carol);
    await expect.poll(() => changes(few.messages)).toEqual([['update', 'a!'], ['insert', 'c'], ['delete', 'b']]);
    expect(few.messages[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready' } });
    await ok(full.url, carol, "INSERT INTO app.tickets (title) VALUES ('live 1')");
    await expect.poll(() => changes(few.messages).at(-1)).toEqual(['insert', 'live 1']);
    expect(changes(few.messages)).toHaveLength(4);
    few.close();

    // 41 more changes: past the walk's budget of gets, read on with a consumer, change by change.
    const before = await head(full, carol);
    for (let i = 0; i < 20; i++) {
      await ok(full.url, carol, `INSERT INTO app.tickets (title) VALUES ('m${i}')`);
      await ok(full.url, carol, `UPDATE app.tickets SET title = 'm${i}!' WHERE title = 'm${i}'`);
    }
    await ok(full.url, carol, "DELETE FROM app.tickets WHERE title = 'c'");
    const many = await resume(before, full, carol);
    const expected = [...Array.from({ length: 20 }, (_, i) => [['insert', `m${i}`], ['update', `m${i}!`]]).flat(), ['delete', 'c']];
    await expect.poll(() => changes(many.messages), { timeout: 15_000 }).toEqual(expected);
    expect(many.messages[0]).toMatchObject({ type: 'subscription_ack', batch_control: { status: 'ready' } });
    await ok(full.url, carol, "INSERT INTO app.tickets (title) VALUES ('live 2')");
    await expect.poll(() => changes(many.messages).at(-1)).toEqual(['insert', 'live 2']);
    expect(changes(many.messages)).toHaveLength(expected.length + 1);
    many.close();
  });
});
