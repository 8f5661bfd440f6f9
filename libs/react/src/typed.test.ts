// (Rendered into jsdom: src/test-support/jsdom.ts.)
// useLiveQuery<T>() and useQuery<T>(): the row type a component states types its rows (checked by
// the typecheck, which covers this file); a typed and an untyped component asking the same query
// share one subscription and get the very same rows.
import { createClient, type Row, type SeqlineClient } from '@seqline/client';
import { cleanup, render, screen } from '@testing-library/react';
import { createElement as h, type ReactNode } from 'react';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { SeqlineProvider } from './context.js';
import { useLiveQuery, useQuery, type QueryState } from './hooks.js';
import type { LiveSnapshot } from './live-registry.js';
import { fakeGateway } from './test-support/fake-gateway.js';

type Ticket = {
  id: bigint;
  title: string;
  _seq: bigint;
};

const SQL = 'SELECT id, title FROM app.tickets';
const SCHEMA = [
  { name: 'id', data_type: 'BigInt', index: 0, flags: ['pk', 'nn', 'uq'] },
  { name: 'title', data_type: 'Text', index: 1, flags: ['nn'] },
  { name: '_seq', data_type: 'BigInt', index: 2 },
];

let client: SeqlineClient | undefined;
afterEach(() => {
  cleanup();
  client?.close();
});

const seen: { typed: readonly Ticket[]; untyped: readonly Row[] }[] = [];

function Tickets(): ReactNode {
  const typed = useLiveQuery<Ticket>(SQL);
  const untyped = useLiveQuery(SQL);
  const once = useQuery<Ticket>(SQL);
  expectTypeOf(typed).toEqualTypeOf<LiveSnapshot<Ticket>>();
  expectTypeOf(typed.rows).toEqualTypeOf<readonly Ticket[]>();
  expectTypeOf(untyped).toEqualTypeOf<LiveSnapshot>();
  expectTypeOf(untyped.rows).toEqualTypeOf<readonly Row[]>();
  expectTypeOf(once).toEqualTypeOf<QueryState<Ticket>>();
  expectTypeOf(once.rows).toEqualTypeOf<readonly Ticket[]>();
  const onceUntyped = useQuery(SQL);
  expectTypeOf(onceUntyped).toEqualTypeOf<QueryState>();
  expectTypeOf(onceUntyped.rows).toEqualTypeOf<readonly Row[]>();
  seen.push({ typed: typed.rows, untyped: untyped.rows });
  // Typed rows read as their fields: r.title is a string, r.id a bigint.
  return h('ol', { 'data-testid': 'tickets' }, typed.rows.map((r) => h('li', { key: r.id.toString() }, r.title.toUpperCase())));
}

describe('typed hooks', () => {
  it('type the rows as T, sharing one subscription with untyped callers', async () => {
    const gateway = fakeGateway();
    client = createClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: () => Promise.resolve({ status: 200, text: async () => JSON.stringify({ status: 'success', took: 1, results: [{ schema: SCHEMA, rows: [], row_count: 0, as_user: 'alice' }] }) }), webSocket: gateway.factory });
    render(h(SeqlineProvider, { client }, h(Tickets)));
    expect(await gateway.open()).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: {} } });
    gateway.send({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 2, batch_control: { batch_num: 0, has_more: true, status: 'loading' }, schema: SCHEMA });
    gateway.send({ type: 'initial_data_batch', subscription_id: 'q1', rows: [{ id: '1', title: 'outage', _seq: '10' }, { id: '2', title: 'login', _seq: '11' }], batch_control: { batch_num: 0, has_more: false, status: 'ready', last_seq_id: 11 } });
    await vi.waitFor(() => expect(Array.from(screen.getByTestId('tickets').querySelectorAll('li'), (li) => li.textContent)).toEqual(['OUTAGE', 'LOGIN']));
    const last = seen.at(-1)!;
    expect(last.typed).toEqual([
      { id: 1n, title: 'outage', _seq: 10n },
      { id: 2n, title: 'login', _seq: 11n },
    ]);
    expect(last.untyped).toBe(last.typed);
  });
});
