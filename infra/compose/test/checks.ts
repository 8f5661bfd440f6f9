// The compose test's conformance checks (test-main.ts), all through the load balancer on
// 127.0.0.1 except the NATS ones, which ask each node's monitoring port from inside its container.
// Each throws with what it saw when the stack does not behave exactly as expected.
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { login, ok } from '@seqline/e2e/client';
import { openSocket, type Msg, type WsClient } from '@seqline/e2e/ws-client';

const WAIT_MS = 30_000;

/** Polls `probe` until `done` holds for its value; throws with the last value at the deadline. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, done: (v: T) => boolean, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `check` until it resolves; at the deadline its last error is thrown. */
export async function retry<T>(check: () => Promise<T>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const rowsOf = (results: Record<string, unknown>[]): unknown[][] => (results[0]?.['rows'] ?? []) as unknown[][];
const changes = (c: WsClient): unknown[][] => c.messages.filter((m) => m['type'] === 'change').map((m) => [m['change_type'], ((m['rows'] ?? m['old_values']) as Msg[])[0]!['name']]);

export interface SqlCheck {
  readonly token: string;
  /** The _seq of the last row inserted. */
  readonly lastSeq: string;
}

/** Login and SQL over HTTP: a namespace, a table, inserts, a SELECT with the exact rows. */
export async function checkSql(base: string, admin: { user: string; password: string }): Promise<SqlCheck> {
  const token = await login(base, admin.user, admin.password);
  await ok(base, token, 'CREATE NAMESPACE IF NOT EXISTS compose');
  await ok(base, token, "CREATE TABLE compose.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL) WITH (TYPE='SHARED')");
  await ok(base, token, "INSERT INTO compose.items (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  const rows = rowsOf(await ok(base, token, 'SELECT id, name FROM compose.items ORDER BY id'));
  deepStrictEqual(rows, [['1', 'one'], ['2', 'two'], ['3', 'three']], 'SELECT after INSERT (BIGINTs as strings)');
  const [[lastSeq]] = rowsOf(await ok(base, token, 'SELECT max(_seq) FROM compose.items')) as [[unknown]];
  return { token, lastSeq: String(lastSeq) };
}

/** Which gateway (its `node`, named after the container's hostname) holds subscription `id`. */
export async function gatewayOf(base: string, token: string, id: string): Promise<string> {
  const rows = await waitFor(`system.live row of ${id}`, async () => rowsOf(await ok(base, token, 'SELECT node FROM system.live WHERE subscription_id = $1', [id])), (r) => r.length === 1);
  return String(rows[0]![0]).replace(/-\d+-[0-9a-f]+$/, '');
}

/** A subscription through the load balancer: the snapshot, then a live insert. Returns the gateway that served it and the last _seq seen. */
export async function checkSubscription(base: string, token: string): Promise<{ gateway: string; lastSeq: string }> {
  const c = await openSocket(base, { token });
  try {
    c.send({ type: 'subscribe', subscription: { id: 'first', sql: 'SELECT id, name FROM compose.items', options: { last_rows: 100 } } });
    const batch = await waitFor('the snapshot', () => c.messages.find((m) => m['type'] === 'initial_data_batch'), (m) => m !== undefined);
    deepStrictEqual((batch!['rows'] as Msg[]).map((r) => r['name']), ['one', 'two', 'three'], 'snapshot rows');
    strictEqual((batch!['batch_control'] as Msg)['status'], 'ready');
    const gateway = await gatewayOf(base, token, 'first');
    await ok(base, token, "INSERT INTO compose.items (id, name) VALUES (4, 'four')");
    await waitFor('the live insert', () => changes(c), (v) => v.length >= 1);
    deepStrictEqual(changes(c), [['insert', 'four']], 'live changes');
    const last = c.messages.filter((m) => m['type'] === 'change').at(-1)!;
    return { gateway, lastSeq: String((last['rows'] as Msg[])[0]!['_seq']) };
  } finally {
    c.ws.close();
  }
}

/**
 * A resume from `from` on the gateway that did not serve the first subscription. The load
 * balancer picks the gateway, so sockets are opened (each resuming and checked) until one lands
 * on the other gateway, as system.live says; a few tries are enough with round robin.
 */
export async function checkResumeElsewhere(base: string, token: string, from: string, firstGateway: string): Promise<{ gateway: string; tries: number }> {
  await ok(base, token, "UPDATE compose.items SET name = 'two!' WHERE id = 2");
  await ok(base, token, 'DELETE FROM compose.items WHERE id = 3');
  for (let tries = 1; tries <= 10; tries++) {
    const c = await openSocket(base, { token });
    try {
      const id = `resume-${tries}`;
      c.send({ type: 'subscribe', subscription: { id, sql: 'SELECT id, name FROM compose.items', options: { from } } });
      await waitFor('the resumed changes', () => changes(c), (v) => v.length >= 2);
      deepStrictEqual(changes(c), [['update', 'two!'], ['delete', 'three']], 'changes after the resume point');
      strictEqual(c.messages.some((m) => m['type'] === 'initial_data_batch'), false, 'a resume sends no snapshot');
      const gateway = await gatewayOf(base, token, id);
      if (gateway !== firstGateway) return { gateway, tries };
    } finally {
      c.ws.close();
    }
  }
  throw new Error(`10 sockets through the load balancer all reached ${firstGateway}`);
}
