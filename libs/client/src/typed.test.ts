// query<T>() and live<T>(): the row type a caller states types the rows (checked by the
// typecheck, which covers this file), and the rows are the same objects an untyped call gets.
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { SeqlineClient, type LiveInfo, type QueryResult, type StatementResult } from './client.js';
import { accept, fakeFetch, fakeSockets, sqlAnswer } from './fakes.test-util.js';
import type { Row } from './materialize.js';

/** A row type as `seqline gen types` writes it. */
type Ticket = {
  id: bigint;
  title: string;
  status: string | null;
  _seq: bigint;
  _deleted: boolean;
};

const SCHEMA = [
  { name: 'id', data_type: 'BigInt', index: 0, flags: ['pk', 'nn', 'uq'] },
  { name: 'title', data_type: 'Text', index: 1, flags: ['nn'] },
  { name: 'status', data_type: 'Text', index: 2 },
  { name: '_seq', data_type: 'BigInt', index: 3 },
  { name: '_deleted', data_type: 'Boolean', index: 4 },
];
const ROWS = [
  ['1', 'first', null, '10', false],
  ['2', 'second', 'open', '11', false],
];
const EXPECTED = [
  { id: 1n, title: 'first', status: null, _seq: 10n, _deleted: false },
  { id: 2n, title: 'second', status: 'open', _seq: 11n, _deleted: false },
];

const clients: SeqlineClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function client(): SeqlineClient {
  const { fetch } = fakeFetch(() => sqlAnswer({ schema: SCHEMA, rows: ROWS, row_count: 2, as_user: 'alice' }));
  const c = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch });
  clients.push(c);
  return c;
}

describe('typed rows', () => {
  it('query<T>() types the rows as T; without T they stay Row, and the rows are the same', async () => {
    const c = client();
    const typed = await c.query<Ticket>('SELECT * FROM app.tickets');
    expectTypeOf(typed).toEqualTypeOf<QueryResult<Ticket>>();
    expectTypeOf(typed.rows).toEqualTypeOf<Ticket[]>();
    expectTypeOf(typed.rows[0]!.id).toEqualTypeOf<bigint>();
    expectTypeOf(typed.rows[0]!.status).toEqualTypeOf<string | null>();
    expectTypeOf(typed.results).toEqualTypeOf<StatementResult[]>();
    // @ts-expect-error: a column the row type does not have
    void typed.rows[0]!.nope;
    const untyped = await c.query('SELECT * FROM app.tickets');
    expectTypeOf(untyped).toEqualTypeOf<QueryResult>();
    expectTypeOf(untyped.rows).toEqualTypeOf<Row[]>();
    expectTypeOf(untyped.rows[0]!['anything']).toEqualTypeOf<unknown>();
    expect(typed.rows).toEqual(EXPECTED);
    expect(untyped).toEqual(typed);
  });

  it('live<T>() hands onRows rows of type T; without T, Row[]', async () => {
    const { sockets, factory } = fakeSockets();
    const c = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: () => Promise.reject(new Error('no HTTP here')), webSocket: factory, random: () => 0 });
    clients.push(c);
    const typed: Ticket[][] = [];
    const untyped: Row[][] = [];
    c.live<Ticket>('SELECT * FROM app.tickets', (rows, info) => {
      expectTypeOf(rows).toEqualTypeOf<Ticket[]>();
      expectTypeOf(info).toEqualTypeOf<LiveInfo>();
      typed.push(rows);
    });
    c.live('SELECT * FROM app.tickets', (rows) => {
      expectTypeOf(rows).toEqualTypeOf<Row[]>();
      untyped.push(rows);
    });
    // @ts-expect-error: onRows must take the stated row type
    c.live<Ticket>('SELECT 1', (rows: { other: string }[]) => rows);
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    await accept(sockets[0]!);
    const socket = sockets[0]!;
    await vi.waitFor(() => expect(socket.sent.filter((m) => m['type'] === 'subscribe')).toHaveLength(3));
    const named = EXPECTED.map((r) => ({ id: String(r.id), title: r.title, status: r.status, _seq: String(r._seq), _deleted: false }));
    for (const id of ['q1', 'q2']) {
      socket.onmessage?.({ data: JSON.stringify({ type: 'subscription_ack', subscription_id: id, total_rows: 2, batch_control: { batch_num: 0, has_more: false, status: 'ready' }, schema: SCHEMA }) });
      socket.onmessage?.({ data: JSON.stringify({ type: 'initial_data_batch', subscription_id: id, rows: named, batch_control: { batch_num: 0, has_more: false, status: 'ready', last_seq_id: 11 } }) });
    }
    await vi.waitFor(() => expect([typed.at(-1), untyped.at(-1)]).toEqual([EXPECTED, EXPECTED]));
  });
});
