// Transactions (issue 16) on the whole stack, through POST /v1/api/sql, the WebSocket and the
// change log: BEGIN; …; COMMIT applies every statement or none, in order, with consecutive
// `_seq` on the owner's shard, delivered to a subscriber in that order; a failing statement
// rolls back the whole transaction and the answer names it; a transaction over two owners'
// partitions is refused before anything is applied; ROLLBACK applies nothing; a retry with the
// same Idempotency-Key answers the first result without applying anything again; malformed
// forms are refused with INVALID_TRANSACTION.
import { createClient, ServerError } from '@seqline/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok, sql, type Reply, type SqlBody } from './client.js';
import { readChanges, expectChain } from './changes.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';
import { openSocket, rowOf, type Msg } from './ws-client.js';

let stack: Stack;
let alice: string;
let bob: string;
let svc: string;

beforeAll(async () => {
  stack = await startStack();
  ({ alice, bob } = await ticketsFixture(stack));
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, "CREATE TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE TABLE app.rooms (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')");
  await ok(stack.url, admin, "CREATE USER svc WITH PASSWORD 'svc-password-1' ROLE service");
  svc = await login(stack.url, 'svc', 'svc-password-1');
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** The ids (as numbers) of the caller's tickets, ascending. */
async function ticketIds(token: string): Promise<number[]> {
  const [r] = await ok(stack.url, token, 'SELECT id FROM app.tickets ORDER BY id');
  return (r!['rows'] as string[][]).map(([id]) => Number(id));
}

function error(reply: Reply<SqlBody>): unknown {
  return { status: reply.status, ...reply.body.error };
}

const changesOf = (owner: string, table: string) => readChanges(stack.names.changesStream, stack.names.changes(owner, 'app', table), stack.natsUrl);

describe('BEGIN … COMMIT', () => {
  it('applies every statement in order with consecutive _seq on the shard, published and delivered in that order', async () => {
    const socket = await openSocket(stack.url, { token: alice });
    socket.send({ type: 'subscribe', subscription: { id: 't', sql: 'SELECT id, title, status FROM app.tickets' } });
    await expect.poll(() => socket.messages.some((m) => m['type'] === 'subscription_ack')).toBe(true);

    const tx = "BEGIN; INSERT INTO app.tickets (id, title) VALUES (1, 'one'); INSERT INTO app.tickets (id, title) VALUES (2, 'two'); INSERT INTO app.notes (id, body) VALUES (1, 'note'); UPDATE app.tickets SET status = 'closed' WHERE id = 1; DELETE FROM app.tickets WHERE id = 2; COMMIT";
    // Single writes to the same partitions race the transaction: none may land between its statements.
    const singles = Array.from({ length: 6 }, (_, i) => sql(stack.url, alice, 'INSERT INTO app.tickets (id, title) VALUES ($1, $2)', [100 + i, `single ${i}`]));
    const [reply, ...singleReplies] = await Promise.all([sql(stack.url, alice, tx), ...singles]);
    expect(singleReplies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(reply.status).toBe(200);
    const results = reply.body.results;
    expect(results.map((r) => [r['message'], r['row_count'], r['as_user']])).toEqual([
      ['Transaction started', 0, undefined],
      ['Inserted 1 row(s)', 1, 'alice'],
      ['Inserted 1 row(s)', 1, 'alice'],
      ['Inserted 1 row(s)', 1, 'alice'],
      ['Updated 1 row(s)', 1, 'alice'],
      ['Deleted 1 row(s)', 1, 'alice'],
      ['Transaction committed', 0, undefined],
    ]);
    const seqs = results.slice(1, -1).map((r) => BigInt(r['seq'] as string));
    expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    expect(new Set(seqs).size).toBe(5);

    // The change log: one change per statement, chained on its subject, and on the owner's
    // shard nothing else between the transaction's first and last _seq.
    const tickets = await changesOf('alice', 'tickets');
    const notes = await changesOf('alice', 'notes');
    expectChain(tickets);
    expectChain(notes);
    const all = [...tickets, ...notes].sort((a, b) => (a.seq < b.seq ? -1 : 1));
    const first = all.findIndex((c) => c.seq === seqs[0]);
    expect(all.slice(first, first + 5).map((c) => c.seq)).toEqual(seqs);
    expect(new Set(all.slice(first, first + 5).map((c) => c.opId)).size).toBe(1);

    // The subscriber: the transaction's ticket changes in statement order, with the statements' _seq.
    const txChanges = (): Msg[] => socket.messages.filter((m) => m['type'] === 'change' && [1, 2].includes(Number(rowOf(m)['id'])));
    await expect.poll(() => txChanges().length).toBe(4);
    expect(txChanges().map((m) => [m['change_type'], rowOf(m)['id'], BigInt(rowOf(m)['_seq'] as string)])).toEqual([
      ['insert', '1', seqs[0]],
      ['insert', '2', seqs[1]],
      ['update', '1', seqs[3]],
      ['delete', '2', seqs[4]],
    ]);
    socket.ws.close();
    expect(await ticketIds(alice)).toEqual([1, 100, 101, 102, 103, 104, 105]);
  });

  it('runs every statement inside the caller’s partition (the rewrite and RLS, as for single statements)', async () => {
    await ok(stack.url, bob, "INSERT INTO app.tickets (id, title) VALUES (500, 'bob''s')");
    const [, updated] = await ok(stack.url, alice, "BEGIN; UPDATE app.tickets SET title = 'mine'; COMMIT");
    expect(updated!['row_count']).toBe((await ticketIds(alice)).length);
    const [bobs] = await ok(stack.url, bob, 'SELECT title FROM app.tickets WHERE id = 500');
    expect(bobs!['rows']).toEqual([["bob's"]]);
    const denied = await sql(stack.url, alice, "BEGIN; INSERT INTO app.tickets (id, title) VALUES (501, 'x'); INSERT INTO app.rooms (id, name) VALUES (1, 'lobby'); COMMIT");
    expect(error(denied)).toMatchObject({ status: 403, code: 'PERMISSION_DENIED', statement_index: 2, statement: "INSERT INTO app.rooms (id, name) VALUES (1, 'lobby')" });
    expect(await ticketIds(alice)).not.toContain(501);
  });
});

describe('a failing statement', () => {
  it('reaches the SDK as a ServerError naming the statement', async () => {
    const client = createClient({ url: stack.url, auth: { user: 'alice', password: 'alice-pass-1' } });
    try {
      const failed = await client.query("BEGIN; INSERT INTO app.tickets (id, title) VALUES (20, 'twenty'); INSERT INTO app.tickets (id, title) VALUES (1, 'duplicate'); COMMIT").then(
        () => expect.unreachable('the transaction committed'),
        (err: unknown) => err,
      );
      expect(failed).toBeInstanceOf(ServerError);
      expect(failed).toMatchObject({ code: 'SQL_EXECUTION_ERROR', status: 400, statementIndex: 2, statement: "INSERT INTO app.tickets (id, title) VALUES (1, 'duplicate')" });
      expect(await ticketIds(alice)).not.toContain(20);
    } finally {
      client.close();
    }
  });

  it('rolls back the whole transaction, publishes nothing, and the answer names the statement', async () => {
    const before = (await changesOf('alice', 'tickets')).length;
    const reply = await sql(stack.url, alice, "SELECT 1; BEGIN; INSERT INTO app.tickets (id, title) VALUES (10, 'ten'); INSERT INTO app.tickets (id, title) VALUES (1, 'duplicate'); INSERT INTO app.tickets (id, title) VALUES (11, 'eleven'); COMMIT");
    expect(error(reply)).toMatchObject({ status: 400, code: 'SQL_EXECUTION_ERROR', statement_index: 3, statement: "INSERT INTO app.tickets (id, title) VALUES (1, 'duplicate')" });
    expect(reply.body.error?.message).toMatch(/^duplicate .*\(the transaction was rolled back: nothing was applied\)$/);
    expect(await ticketIds(alice)).not.toContain(10);
    expect(await ticketIds(alice)).not.toContain(11);
    // The next write's change follows the last one before the failed transaction directly.
    await ok(stack.url, alice, "INSERT INTO app.tickets (id, title) VALUES (12, 'after')");
    const after = await changesOf('alice', 'tickets');
    expect(after).toHaveLength(before + 1);
    expectChain(after);
  });
});

describe('owners', () => {
  it('refuses a transaction over two owners’ partitions before applying anything', async () => {
    const reply = await sql(stack.url, svc, "BEGIN; INSERT INTO app.tickets (id, title) VALUES (20, 'own'); EXECUTE AS USER 'alice' (INSERT INTO app.tickets (id, title) VALUES (21, 'for alice')); COMMIT");
    expect(error(reply)).toEqual({
      status: 400,
      code: 'CROSS_OWNER_TRANSACTION',
      message: "this statement writes app.tickets of alice, another owner's partition than the transaction's first write (app.tickets of svc): a transaction writes one owner's partitions only (one op on one shard's log); nothing was applied",
      statement_index: 2,
      statement: "EXECUTE AS USER 'alice' (INSERT INTO app.tickets (id, title) VALUES (21, 'for alice'))",
    });
    const shared = await sql(stack.url, svc, "BEGIN; INSERT INTO app.rooms (id, name) VALUES (2, 'hall'); INSERT INTO app.tickets (id, title) VALUES (22, 'own'); COMMIT");
    expect(error(shared)).toMatchObject({ status: 400, code: 'CROSS_OWNER_TRANSACTION', statement_index: 2 });
    expect(await ticketIds(svc)).toEqual([]);
    expect(await ticketIds(alice)).not.toContain(21);
    const [rooms] = await ok(stack.url, svc, 'SELECT id FROM app.rooms');
    expect(rooms!['rows']).toEqual([]);
  });

  it('accepts one owner’s partitions reached through EXECUTE AS USER', async () => {
    const results = await ok(stack.url, svc, "BEGIN; EXECUTE AS USER 'alice' (INSERT INTO app.tickets (id, title) VALUES (23, 'a')); EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES (23, 'b')); COMMIT");
    expect(results.map((r) => r['as_user'])).toEqual([undefined, 'alice', 'alice', undefined]);
    expect(await ticketIds(alice)).toContain(23);
  });
});

describe('ROLLBACK and idempotency', () => {
  it('ROLLBACK applies nothing and answers each statement as rolled back', async () => {
    const results = await ok(stack.url, alice, "BEGIN; INSERT INTO app.tickets (id, title) VALUES (30, 'no'); DELETE FROM app.tickets WHERE id = 1; ROLLBACK");
    expect(results).toEqual([
      { row_count: 0, message: 'Transaction started' },
      { row_count: 0, message: 'Rolled back (not applied)', as_user: 'alice' },
      { row_count: 0, message: 'Rolled back (not applied)', as_user: 'alice' },
      { row_count: 0, message: 'Transaction rolled back' },
    ]);
    const ids = await ticketIds(alice);
    expect([ids.includes(30), ids.includes(1)]).toEqual([false, true]);
  });

  it('a retry with the same Idempotency-Key answers the first result and applies nothing again', async () => {
    const tx = "BEGIN; INSERT INTO app.tickets (id, title, priority) VALUES (40, 'once', 0); UPDATE app.tickets SET priority = priority + 1 WHERE id = 40; UPDATE app.tickets SET priority = priority + 10 WHERE id = 40; COMMIT";
    const key = { 'idempotency-key': 'tx-retry-1' };
    const first = await sql(stack.url, alice, tx, undefined, key);
    expect(first.status).toBe(200);
    const changes = (await changesOf('alice', 'tickets')).length;
    const again = await sql(stack.url, alice, tx, undefined, key);
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual(first.body.results);
    const [r] = await ok(stack.url, alice, 'SELECT id, priority FROM app.tickets WHERE id = 40');
    expect(r!['rows']).toEqual([['40', 11]]);
    expect(await changesOf('alice', 'tickets')).toHaveLength(changes);
  });
});

describe('malformed transactions', () => {
  it.each([
    ["BEGIN; INSERT INTO app.tickets (id, title) VALUES (50, 'x')", 0, 'BEGIN'],
    ["BEGIN; INSERT INTO app.tickets (id, title) VALUES (50, 'x'); BEGIN; COMMIT; COMMIT", 2, 'BEGIN'],
    ["INSERT INTO app.tickets (id, title) VALUES (50, 'x'); COMMIT", 1, 'COMMIT'],
    ["BEGIN; INSERT INTO app.tickets (id, title) VALUES (50, 'x'); SELECT * FROM app.tickets; COMMIT", 2, 'SELECT * FROM app.tickets'],
    ["BEGIN; INSERT INTO app.tickets (id, title) VALUES (50, 'x'); CREATE NAMESPACE tx_ns; COMMIT", 2, 'CREATE NAMESPACE tx_ns'],
  ])('%j → 400 INVALID_TRANSACTION naming statement %i; nothing runs', async (text, index, statement) => {
    const reply = await sql(stack.url, alice, text);
    expect(error(reply)).toMatchObject({ status: 400, code: 'INVALID_TRANSACTION', statement_index: index, statement });
    expect(await ticketIds(alice)).not.toContain(50);
  });

  it.each([
    ['BEGIN ISOLATION LEVEL SERIALIZABLE; COMMIT', 'UNSUPPORTED'],
    ['BEGIN; SAVEPOINT s; COMMIT', 'UNSUPPORTED'],
  ])('%j → 400 %s', async (text, code) => {
    expect(error(await sql(stack.url, alice, text))).toMatchObject({ status: 400, code });
  });
});
