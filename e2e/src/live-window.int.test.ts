// Windows end to end through the WebSocket (docs/protocol.md §4, windows): the seed's
// dashboard query with LIMIT 3 on a real stack. The client here is the protocol alone (no SDK):
// it upserts and deletes by id as a KalamDB client does, and sorts by the ack's order_by; after
// each write its rows must equal the same SELECT run over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { openSocket, type Msg, type WsClient } from './ws-client.js';

const WINDOW = "SELECT id, title, priority, status, updated_at FROM app.board WHERE status = 'open' ORDER BY updated_at DESC LIMIT 3";

let stack: Stack;
let alice: string;

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE app');
  await ok(stack.url, admin, "CREATE TABLE app.board (id BIGINT PRIMARY KEY, title TEXT NOT NULL, priority INT, status TEXT NOT NULL, updated_at TIMESTAMP NOT NULL) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user");
  alice = await login(stack.url, 'alice', 'alice-pass-1');
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** A protocol-only client of one subscription: rows by id, in the ack's order; the last `_seq` seen. */
class WindowClient {
  readonly rows = new Map<string, Msg>();
  ack: Msg | undefined;
  lastSeq = '0';
  readonly socket: Promise<WsClient>;

  constructor(sql: string, options: Record<string, unknown> = {}) {
    this.socket = openSocket(stack.url, { token: alice, onMessage: (m) => this.#on(m) }).then((c) => {
      c.send({ type: 'subscribe', subscription: { id: 'w', sql, options } });
      return c;
    });
  }

  #on(m: Msg): void {
    if (m['type'] === 'subscription_ack') {
      this.ack = m;
      if (m['reset'] === true) this.rows.clear();
    }
    const seq = (row: Msg): void => {
      if (BigInt(String(row['_seq'])) > BigInt(this.lastSeq)) this.lastSeq = String(row['_seq']);
    };
    if (m['type'] === 'initial_data_batch') for (const row of m['rows'] as Msg[]) this.rows.set(String(row['id']), row);
    if (m['type'] === 'change') {
      for (const row of (m['old_values'] as Msg[] | undefined) ?? []) {
        if (m['change_type'] === 'delete') this.rows.delete(String(row['id']));
        seq(row);
      }
      for (const row of (m['rows'] as Msg[] | undefined) ?? []) {
        this.rows.set(String(row['id']), row);
        seq(row);
      }
    }
  }

  /** [id, title] in the window's order (updated_at DESC, then id). */
  view(): [string, string][] {
    return [...this.rows.values()]
      .sort((a, b) => Number(b['updated_at']) - Number(a['updated_at']) || (BigInt(String(a['id'])) < BigInt(String(b['id'])) ? -1 : 1))
      .map((r) => [String(r['id']), String(r['title'])]);
  }

  async close(): Promise<void> {
    (await this.socket).ws.close();
  }
}

/** What the same query answers over HTTP now. */
async function expected(): Promise<[string, string][]> {
  const [result] = (await ok(stack.url, alice, WINDOW)) as [{ rows: unknown[][] }];
  return result.rows.map((r) => [String(r[0]), String(r[1])]);
}

const at = (minute: number): string => `2026-12-03 10:${String(minute).padStart(2, '0')}:00`;

describe('a live window: ORDER BY updated_at DESC LIMIT 3', () => {
  it('keeps exactly the window: a new ticket enters at the top, the oldest leaves; a status change pulls the next one in; a resume converges', async () => {
    for (let i = 1; i <= 5; i++) await ok(stack.url, alice, 'INSERT INTO app.board (id, title, priority, status, updated_at) VALUES ($1, $2, 1, $3, $4)', [i, `t${i}`, 'open', at(i)]);
    const client = new WindowClient(WINDOW);
    await expect.poll(() => client.ack?.['batch_control']).toMatchObject({ status: 'ready' });
    expect(client.ack).toMatchObject({
      total_rows: 3,
      limit: 3,
      order_by: [
        { column: 'updated_at', direction: 'desc', nulls: 'first' },
        { column: 'id', direction: 'asc', nulls: 'last' },
      ],
    });
    await expect.poll(() => client.view()).toEqual([['5', 't5'], ['4', 't4'], ['3', 't3']]);

    // A new ticket enters at the top; the oldest of the three leaves.
    await ok(stack.url, alice, 'INSERT INTO app.board (id, title, priority, status, updated_at) VALUES (6, $1, 1, $2, $3)', ['t6', 'open', at(6)]);
    await expect.poll(() => client.view()).toEqual([['6', 't6'], ['5', 't5'], ['4', 't4']]);
    expect(client.view()).toEqual(await expected());

    // A status change moves a ticket out of the filter: the next one comes in.
    await ok(stack.url, alice, "UPDATE app.board SET status = 'closed' WHERE id = 5");
    await expect.poll(() => client.view()).toEqual([['6', 't6'], ['4', 't4'], ['3', 't3']]);
    // Twice more: past the slack the gateway kept, so it reads the partition again.
    await ok(stack.url, alice, "UPDATE app.board SET status = 'closed' WHERE id IN (6, 4)");
    await expect.poll(() => client.view()).toEqual([['3', 't3'], ['2', 't2'], ['1', 't1']]);
    await ok(stack.url, alice, 'DELETE FROM app.board WHERE id = 3');
    await expect.poll(() => client.view()).toEqual([['2', 't2'], ['1', 't1']]);
    expect(client.view()).toEqual(await expected());
    // An update within the window that reorders it.
    await ok(stack.url, alice, 'UPDATE app.board SET updated_at = $1 WHERE id = 1', [at(30)]);
    await expect.poll(() => client.view()).toEqual([['1', 't1'], ['2', 't2']]);
    await client.close();

    // Changes while disconnected, then a resume from the last _seq the client processed.
    const from = client.lastSeq;
    await ok(stack.url, alice, "UPDATE app.board SET status = 'open', updated_at = $1 WHERE id = 5", [at(40)]);
    await ok(stack.url, alice, 'INSERT INTO app.board (id, title, priority, status, updated_at) VALUES (7, $1, 1, $2, $3), (8, $4, 1, $5, $6)', ['t7', 'open', at(7), 't8', 'open', at(50)]);
    await ok(stack.url, alice, 'DELETE FROM app.board WHERE id = 1');
    const resumed = new WindowClient(WINDOW, { from });
    for (const [id, row] of client.rows) resumed.rows.set(id, row);
    await expect.poll(() => resumed.view()).toEqual([['8', 't8'], ['5', 't5'], ['7', 't7']]);
    expect(resumed.ack).toMatchObject({ batch_control: { status: 'ready', last_seq_id: BigInt(from) } });
    expect(resumed.ack).not.toHaveProperty('reset');
    expect(resumed.view()).toEqual(await expected());
    await resumed.close();
  });

  it('refuses windows it cannot keep, with the reason', async () => {
    const c = await openSocket(stack.url, { token: alice });
    c.send({ type: 'subscribe', subscription: { id: 'a', sql: 'SELECT id FROM app.board ORDER BY id LIMIT 5000' } });
    c.send({ type: 'subscribe', subscription: { id: 'b', sql: 'SELECT id FROM app.board ORDER BY id LIMIT 5', options: { last_rows: 2 } } });
    c.send({ type: 'subscribe', subscription: { id: 'c', sql: 'SELECT id FROM app.board ORDER BY lower(title) LIMIT 5' } });
    await expect.poll(() => c.messages.filter((m) => m['type'] === 'error').map((m) => [m['subscription_id'], m['code'], m['message']])).toEqual([
      ['a', 'INVALID_SQL', "a live query's LIMIT is at most 1000 (SEQLINE_LIVE_MAX_LIMIT), not 5000"],
      ['b', 'INVALID_PARAMETER', 'last_rows does not go with ORDER BY or LIMIT: the query orders and limits its rows itself'],
      ['c', 'UNSUPPORTED', 'ORDER BY an expression (order by columns of the table) is not supported in a live subscription'],
    ]);
    c.ws.close();
  });
});
