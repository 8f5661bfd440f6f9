// Issue 4 through a raw WebSocket client (no SDK): authentication both ways, the seed's
// subscription story (snapshot batches, then live changes, none of bob's), resume, and the
// connection rules (bad frames, idle, compression off).
import { parseJsonLossless } from '@seqline/seq';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';

let stack: Stack;
let alice: string;
let bob: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_WS_IDLE_MS: '1500', SEQLINE_WS_AUTH_TIMEOUT_MS: '1000' } });
  ({ alice, bob } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

type Msg = Record<string, unknown>;

interface Client {
  readonly ws: WebSocket;
  readonly messages: Msg[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(m: unknown): void;
}

async function connect(query = '', headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/v1/ws${query}`, { headers });
  const messages: Msg[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => messages.push(parseJsonLossless((binary ? gunzipSync(data) : data).toString('utf8')) as Msg));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed, send: (m) => ws.send(JSON.stringify(m)) };
}

describe('GET /v1/ws', () => {
  it('authenticates by header or by message, and refuses a bad token with auth_error and 1008', async () => {
    const byHeader = await connect('', { authorization: `Bearer ${alice}` });
    await expect.poll(() => byHeader.messages).toEqual([{ type: 'auth_success', user: 'alice', role: 'user', protocol: { serialization: 'json', compression: 'gzip' } }]);
    byHeader.ws.close();
    const byMessage = await connect('?compress=false');
    byMessage.send({ type: 'subscribe', subscription: { id: 's', sql: 'SELECT id FROM app.tickets' } });
    byMessage.send({ type: 'authenticate', method: 'jwt', token: bob });
    await expect.poll(() => byMessage.messages.map((m) => m['type'])).toEqual(['error', 'auth_success']);
    expect(byMessage.messages[0]).toMatchObject({ subscription_id: 's', code: 'AUTH_REQUIRED' });
    expect(byMessage.messages[1]).toMatchObject({ user: 'bob', protocol: { compression: 'none' } });
    byMessage.ws.close();
    const bad = await connect();
    bad.send({ type: 'authenticate', method: 'jwt', token: 'not-a-jwt' });
    expect((await bad.closed).code).toBe(1008);
    expect(bad.messages.map((m) => m['type'])).toEqual(['auth_error']);
    const silent = await connect();
    expect((await silent.closed).code).toBe(1008);
  });

  it('closes with 1011 on a frame that is not JSON, and with 1000 after silence', async () => {
    const c = await connect('', { authorization: `Bearer ${alice}` });
    c.ws.send('not json');
    expect(await c.closed).toEqual({ code: 1011, reason: 'the frame is not valid JSON' });
    const idle = await connect('', { authorization: `Bearer ${alice}` });
    expect((await idle.closed).code).toBe(1000);
  });

  it('streams alice’s snapshot in batches ordered by _seq, then her changes, never bob’s; resumes from the last _seq', async () => {
    for (let i = 1; i <= 5; i++) await ok(stack.url, alice, 'INSERT INTO app.tickets (title) VALUES ($1)', [`a${i}`]);
    await ok(stack.url, bob, "INSERT INTO app.tickets (title) VALUES ('b1')");
    const c = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    c.send({ type: 'subscribe', subscription: { id: 'tickets', sql: 'SELECT id, title, status FROM app.tickets', options: { batch_size: 2 } } });
    await expect.poll(() => c.messages.filter((m) => m['type'] === 'initial_data_batch').length).toBe(3);
    const [ack] = c.messages.filter((m) => m['type'] === 'subscription_ack');
    expect(ack).toMatchObject({ subscription_id: 'tickets', total_rows: 5, batch_control: { batch_num: 0, has_more: true, status: 'loading' } });
    expect((ack?.['schema'] as { name: string }[]).map((s) => s.name)).toEqual(['id', 'title', 'status', '_seq']);
    const batches = c.messages.filter((m) => m['type'] === 'initial_data_batch');
    expect(batches.map((b) => (b['batch_control'] as { status: string }).status)).toEqual(['loading', 'loading_batch', 'ready']);
    const rows = batches.flatMap((b) => b['rows'] as Msg[]);
    expect(rows.map((r) => r['title'])).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);

    await ok(stack.url, alice, "UPDATE app.tickets SET status = 'closed' WHERE title = 'a1'");
    await ok(stack.url, bob, "INSERT INTO app.tickets (title) VALUES ('b2')");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 'a2'");
    const changes = () => c.messages.filter((m) => m['type'] === 'change');
    await expect.poll(() => changes().map((m) => m['change_type'])).toEqual(['update', 'delete']);
    const last = String(((changes()[1]!['old_values'] as Msg[])[0]!)['_seq']);
    c.ws.close();

    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('r1')");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 'a3'");
    await ok(stack.url, alice, "UPDATE app.tickets SET title = 'A4' WHERE title = 'a4'");
    const again = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    again.send({ type: 'subscribe', subscription: { id: 'tickets', sql: 'SELECT id, title FROM app.tickets', options: { from: BigInt(last).toString() } } });
    await expect.poll(() => again.messages.filter((m) => m['type'] === 'change').map((m) => [m['change_type'], ((m['rows'] ?? m['old_values']) as Msg[])[0]!['title']])).toEqual([
      ['insert', 'r1'],
      ['delete', 'a3'],
      ['update', 'A4'],
    ]);
    again.ws.close();
  });
});
