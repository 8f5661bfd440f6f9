// system.live across gateways: each lists the subscriptions of every gateway, with their
// status, last _seq and change count; only dba may read it; a closed subscription leaves it;
// a gateway killed without leaving is reported missing until its directory entry expires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, type Msg, type WsClient } from './ws-client.js';

let stack: Stack;
let alice: string;
let bob: string;
let admin: string;

beforeAll(async () => {
  stack = await startStack({ env: { SEQLINE_LIVE_DIRECTORY_TTL_MS: '1500', SEQLINE_LIVE_LIST_TIMEOUT_MS: '300' } });
  ({ alice, bob } = await ticketsFixture(stack));
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

async function subscribe(base: string, token: string, subscription: object): Promise<WsClient> {
  const c = await openSocket(base, { token, pingMs: 1000 });
  c.send({ type: 'subscribe', subscription });
  await expect.poll(() => c.messages.some((m) => m['type'] === 'subscription_ack')).toBe(true);
  return c;
}

async function live(base: string, text: string): Promise<{ rows: unknown[][]; message: unknown }> {
  const [result] = await ok(base, admin, text);
  return { rows: result!['rows'] as unknown[][], message: result!['message'] };
}

describe('system.live', () => {
  it('lists the subscriptions of every gateway, to dba only, and forgets a gateway that died', async () => {
    const other = await stack.spawn('gateway');
    const a = await subscribe(stack.url, alice, { id: 'mine', sql: "SELECT id, title FROM app.tickets WHERE status = 'open'", options: { batch_size: 10 } });
    const b = await subscribe(other.url!, bob, { id: 'feed', sql: 'SELECT id FROM app.tickets' });
    const query = "SELECT user_id, subscription_id, namespace_id, table_name, query, status, changes FROM system.live WHERE namespace_id = 'app'";
    const both = [
      ['alice', 'mine', 'app', 'tickets', "SELECT id, title FROM app.tickets WHERE status = 'open'", 'live', '0'],
      ['bob', 'feed', 'app', 'tickets', 'SELECT id FROM app.tickets', 'live', '0'],
    ];
    const byUser = (rows: unknown[][]): unknown[][] => rows.map((r) => r.slice(0, 7)).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    for (const base of [stack.url, other.url!]) expect(byUser((await live(base, query)).rows)).toEqual(both);
    const nodes = (await live(stack.url, 'SELECT node FROM system.live')).rows.map((r) => r[0]);
    expect(new Set(nodes).size).toBe(2);

    await ok(stack.url, alice, "INSERT INTO app.tickets (title) VALUES ('counted')");
    await expect.poll(() => a.messages.filter((m) => m['type'] === 'change').length).toBe(1);
    const seq = String(((a.messages.find((m) => m['type'] === 'change')!['rows'] as Msg[])[0]!)['_seq']);
    expect((await live(other.url!, "SELECT changes, last_seq_id FROM system.live WHERE user_id = 'alice'")).rows.map((r) => r.slice(0, 2))).toEqual([['1', seq]]);

    const refused = await sql(stack.url, alice, 'SELECT * FROM system.live');
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'PERMISSION_DENIED']);

    const aliceNow = both[0]!.map((v, i) => (i === 6 ? '1' : v));
    b.ws.close();
    await expect.poll(async () => byUser((await live(stack.url, query)).rows)).toEqual([aliceNow]);
    const again = await subscribe(other.url!, bob, { id: 'again', sql: 'SELECT id FROM app.tickets' });
    await expect.poll(async () => (await live(stack.url, query)).rows.length).toBe(2);

    await other.kill('SIGKILL');
    const afterKill = await live(stack.url, query);
    expect(byUser(afterKill.rows)).toEqual([aliceNow]);
    expect(afterKill.message).toMatch(/^incomplete: gateway\(s\) [A-Za-z0-9_-]+ did not answer within 300 ms$/);
    await expect.poll(async () => (await live(stack.url, query)).message, { timeout: 10_000 }).toBeUndefined();
    again.ws.terminate();
    a.ws.close();
  });
});
