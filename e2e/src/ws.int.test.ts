// Issue 4 through a raw WebSocket client (no SDK): authentication both ways, the seed's
// subscription story (snapshot batches, then live changes, none of bob's), resume, and the
// connection rules (bad frames, idle, compression off).
import { gatewayConfigSchema, startGateway } from '@seqline/gateway';
import { createLogger, parseConfig } from '@seqline/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, type Msg, type WsClient } from './ws-client.js';

let stack: Stack;
let alice: string;
let bob: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_WS_IDLE_MS: '1500', SEQLINE_WS_AUTH_TIMEOUT_MS: '1000', SEQLINE_WS_MAX_FRAME_BYTES: '32768', SEQLINE_WS_MAX_SUBSCRIPTIONS: '4', SEQLINE_WS_MESSAGE_RATE: '10' } });
  ({ alice, bob } = await ticketsFixture(stack));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** Opens a socket; unless `quiet`, it sends a WebSocket Ping every 400 ms (the idle limit here is 1.5 s). */
function connect(query = '', headers: Record<string, string> = {}, quiet = false): Promise<WsClient> {
  return openSocket(stack.url, { query, headers, ...(quiet ? {} : { pingMs: 400 }) });
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
    const silent = await connect('', {}, true);
    expect((await silent.closed).code).toBe(1008);
  });

  it('closes with 1011 on a frame that is not JSON, and with 1000 after silence', async () => {
    const c = await connect('', { authorization: `Bearer ${alice}` });
    c.ws.send('not json');
    expect(await c.closed).toEqual({ code: 1011, reason: 'the frame is not valid JSON' });
    const idle = await connect('', { authorization: `Bearer ${alice}` }, true);
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

  it('paces the snapshot by next_batch when asked, delivers a write made while it loads once after ready, and a service account’s EXECUTE AS write', async () => {
    const admin = await login(stack.url, stack.admin.user, stack.admin.password);
    await ok(stack.url, admin, "CREATE USER svc WITH PASSWORD 'svc-pass-123' ROLE service");
    const svc = await login(stack.url, 'svc', 'svc-pass-123');
    const c = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    c.send({ type: 'subscribe', subscription: { id: 'paced', sql: 'SELECT id, title FROM app.tickets', options: { batch_size: 2, flow: 'client' } } });
    const batches = () => c.messages.filter((m) => m['type'] === 'initial_data_batch');
    await expect.poll(() => batches().length).toBe(1);
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('during load')");
    expect(batches()).toHaveLength(1); // nothing more until the client asks
    const total = (c.messages.find((m) => m['type'] === 'subscription_ack')!['total_rows'] as number);
    for (let n = 1; n < Math.ceil(total / 2); n++) {
      c.send({ type: 'next_batch', subscription_id: 'paced' });
      await expect.poll(() => batches().length).toBe(n + 1);
    }
    expect((batches().at(-1)!['batch_control'] as { status: string }).status).toBe('ready');
    expect(batches().flatMap((b) => b['rows'] as Msg[]).some((r) => r['title'] === 'during load')).toBe(false);
    await ok(stack.url, svc, "EXECUTE AS USER 'alice' (INSERT INTO app.tickets (title) VALUES ('from svc'))");
    const changes = () => c.messages.filter((m) => m['type'] === 'change').map((m) => ((m['rows'] ?? m['old_values']) as Msg[])[0]!['title']);
    await expect.poll(() => changes()).toEqual(['during load', 'from svc']);
    c.ws.close();
  });

  it('repairs a change lost on the live tail from history: delivered once, in order, with the next one', async () => {
    const c = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    c.send({ type: 'subscribe', subscription: { id: 'gap', sql: 'SELECT id, title FROM app.tickets' } });
    await expect.poll(() => c.messages.some((m) => m['type'] === 'subscription_ack')).toBe(true);
    let dropped = 0;
    stack.gateway.liveTail!.dropDeliveries((change) => change.rows.some((r) => r.newJson.includes('"lost on the tail"')) && dropped++ === 0);
    try {
      await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('lost on the tail')");
      await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('the next one')");
      const changes = () => c.messages.filter((m) => m['type'] === 'change').map((m) => (m['rows'] as Msg[])[0]!);
      await expect.poll(() => changes().map((r) => r['title'])).toEqual(['lost on the tail', 'the next one']);
      expect(dropped).toBe(1);
      const seqs = changes().map((r) => BigInt(String(r['_seq'])));
      expect(seqs[0]! < seqs[1]!).toBe(true);
    } finally {
      stack.gateway.liveTail!.dropDeliveries(undefined);
    }
    c.ws.close();
  });

  it('delivers exactly the changes matching IN, IS NULL, BETWEEN and LIKE filters', async () => {
    const admin = await login(stack.url, stack.admin.user, stack.admin.password);
    await ok(stack.url, admin, "CREATE TABLE app.tasks (id INT PRIMARY KEY, title TEXT, tag TEXT, n INT) WITH (TYPE='USER')");
    const c = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    const filters: Record<string, string> = {
      in: "tag IN ('a', 'b')",
      isnull: 'tag IS NULL',
      between: 'n BETWEEN 10 AND 20',
      like: "title LIKE 'x%'",
    };
    for (const [id, where] of Object.entries(filters)) c.send({ type: 'subscribe', subscription: { id, sql: `SELECT id FROM app.tasks WHERE ${where}` } });
    await expect.poll(() => c.messages.filter((m) => m['type'] === 'subscription_ack').length).toBe(4);
    await ok(stack.url, alice, "INSERT INTO app.tasks (id, title, tag, n) VALUES (1, 'x1', 'a', 5), (2, 'y2', NULL, 15), (3, 'x3', 'c', 25), (4, 'z4', 'b', 10)");
    await ok(stack.url, alice, "UPDATE app.tasks SET tag = 'c', n = 30 WHERE id = 4");
    const seen = (id: string) => c.messages.filter((m) => m['type'] === 'change' && m['subscription_id'] === id).map((m) => `${String(m['change_type'])} ${String(((m['rows'] ?? m['old_values']) as Msg[])[0]!['id'])}`);
    await expect.poll(() => [seen('in'), seen('isnull'), seen('between'), seen('like')]).toEqual([
      ['insert 1', 'insert 4', 'delete 4'],
      ['insert 2'],
      ['insert 2', 'insert 4', 'delete 4'],
      ['insert 1', 'insert 3'],
    ]);
    c.ws.close();
  });

  it('enforces its limits: frame size (1009), subscriptions per connection, message rate', async () => {
    const big = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    big.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(64 * 1024) }));
    expect((await big.closed).code).toBe(1009);

    const many = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    for (let i = 0; i < 5; i++) many.send({ type: 'subscribe', subscription: { id: `s${i}`, sql: 'SELECT id FROM app.tickets' } });
    // The refusal is immediate; the acks follow their snapshots, so compare without order.
    await expect.poll(() => many.messages.filter((m) => m['type'] !== 'auth_success').map((m) => `${String(m['type'])} ${String(m['subscription_id'])} ${typeof m['code'] === 'string' ? m['code'] : ''}`).sort()).toEqual([
      'error s4 SUBSCRIPTION_LIMIT_EXCEEDED',
      'subscription_ack s0 ',
      'subscription_ack s1 ',
      'subscription_ack s2 ',
      'subscription_ack s3 ',
    ]);
    for (let i = 0; i < 30; i++) many.send({ type: 'ping' });
    await expect.poll(() => many.messages.filter((m) => m['code'] === 'RATE_LIMIT_EXCEEDED').length).toBeGreaterThan(0);
    expect(many.messages.find((m) => m['code'] === 'RATE_LIMIT_EXCEEDED')).toEqual({ type: 'error', subscription_id: 'rate_limit', code: 'RATE_LIMIT_EXCEEDED', message: 'more than 10 messages per second' });
    many.ws.close();
  });

  it('answers bad input exactly as docs/protocol.md says, and keeps serving the other clients meanwhile', async () => {
    const watcher = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    watcher.send({ type: 'subscribe', subscription: { id: 'w', sql: 'SELECT id, title FROM app.tickets' } });
    await expect.poll(() => watcher.messages.some((m) => m['type'] === 'subscription_ack')).toBe(true);

    const closesWith = async (frame: string | Buffer): Promise<{ code: number; reason: string }> => {
      const c = await connect('?compress=false', { authorization: `Bearer ${alice}` });
      c.ws.send(frame, { binary: typeof frame !== 'string' });
      return c.closed;
    };
    expect(await closesWith('{"type":')).toEqual({ code: 1011, reason: 'the frame is not valid JSON' });
    expect(await closesWith('{"type":"dance"}')).toEqual({ code: 1011, reason: 'unknown message type "dance"' });
    expect(await closesWith('{"subscription":{}}')).toEqual({ code: 1011, reason: 'a message needs a "type"' });
    expect(await closesWith('[1,2]')).toEqual({ code: 1011, reason: 'a message must be a JSON object' });
    expect(await closesWith(Buffer.from('{"type":"ping"}'))).toEqual({ code: 1011, reason: 'client frames must be text' });

    const c = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    const answers = [
      [{ type: 'subscribe' }, 'protocol', 'INVALID_SUBSCRIPTION_ID'],
      [{ type: 'subscribe', subscription: { sql: 'SELECT id FROM app.tickets' } }, 'protocol', 'INVALID_SUBSCRIPTION_ID'],
      [{ type: 'subscribe', subscription: { id: 'nosql' } }, 'nosql', 'INVALID_SQL'],
      [{ type: 'subscribe', subscription: { id: 'opts', sql: 'SELECT id FROM app.tickets', options: { batch_size: 0 } } }, 'opts', 'INVALID_SQL'],
      [{ type: 'next_batch', subscription_id: 'nobody' }, 'nobody', 'INVALID_SUBSCRIPTION_ID'],
      [{ type: 'subscribe', subscription: { id: 'syntax', sql: 'SELEKT id FROM app.tickets' } }, 'syntax', 'INVALID_SQL'],
      [{ type: 'subscribe', subscription: { id: 'agg', sql: 'SELECT count(*) FROM app.tickets' } }, 'agg', 'UNSUPPORTED'],
      [{ type: 'subscribe', subscription: { id: 'order', sql: 'SELECT id FROM app.tickets LIMIT 3 OFFSET 3' } }, 'order', 'UNSUPPORTED'],
      [{ type: 'subscribe', subscription: { id: 'missing', sql: 'SELECT id FROM app.nothing' } }, 'missing', 'NOT_FOUND'],
      [{ type: 'subscribe', subscription: { id: 'nocol', sql: 'SELECT shoe_size FROM app.tickets' } }, 'nocol', 'INVALID_SQL'],
    ] as const;
    for (const [frame, id, code] of answers) {
      const before = c.messages.length;
      c.send(frame);
      await expect.poll(() => c.messages.length).toBe(before + 1);
      expect(c.messages[before]).toMatchObject({ type: 'error', subscription_id: id, code });
      expect(typeof c.messages[before]!['message']).toBe('string');
    }
    expect(c.messages.map((m) => m['message']).slice(-4, -1)).toEqual([
      'the function count() in the select list is not supported in a live subscription',
      'OFFSET is not supported in a live subscription',
      'table app.nothing does not exist',
    ]);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();

    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('still served')");
    await expect.poll(() => watcher.messages.filter((m) => m['type'] === 'change').map((m) => (m['rows'] as Msg[])[0]!['title'])).toEqual(['still served']);
    watcher.ws.close();
  });

  it('closes its sockets with 1001 when a gateway drains, and the client resumes on another gateway with nothing missed', async () => {
    const second = await startGateway(
      parseConfig(gatewayConfigSchema, { ...stack.env, SEQLINE_GATEWAY_PORT: '0', SEQLINE_WRITE_ADDR: `127.0.0.1:${stack.env['SEQLINE_WRITE_PORT']}`, SEQLINE_JWT_SECRET: stack.jwtSecret, SEQLINE_LOG_LEVEL: 'error' }),
      { logger: createLogger({ service: 'gateway-2', level: 'error' }) },
    );
    const { port } = await second.ready;
    const c = await openSocket(`http://127.0.0.1:${port}`, { token: alice });
    const { messages } = c;
    const closed = c.closed.then(({ code }) => code);
    c.send({ type: 'subscribe', subscription: { id: 't', sql: 'SELECT id, title FROM app.tickets' } });
    await expect.poll(() => messages.some((m) => m['type'] === 'subscription_ack')).toBe(true);
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('before drain')");
    await expect.poll(() => messages.filter((m) => m['type'] === 'change').length).toBe(1);
    const last = String(((messages.find((m) => m['type'] === 'change')!['rows'] as Msg[])[0]!)['_seq']);
    const drained = second.drain();
    expect(await closed).toBe(1001);
    await drained;
    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('while away')");
    const again = await connect('?compress=false', { authorization: `Bearer ${alice}` });
    again.send({ type: 'subscribe', subscription: { id: 't', sql: 'SELECT id, title FROM app.tickets', options: { from: last } } });
    await expect.poll(() => again.messages.filter((m) => m['type'] === 'change').map((m) => (m['rows'] as Msg[])[0]!['title'])).toEqual(['while away']);
    again.ws.close();
  });
});
