// (Rendered into jsdom: src/test-support/jsdom.ts.)
// useLiveQuery on a query with an order (docs/protocol.md §4.7), the gateway played by a fake
// socket: the component's rows follow the subscription_ack's order_by through the snapshot
// (sent in that order, not by _seq) and a window's changes.
import { createClient, type SeqlineClient } from '@seqline/client';
import { cleanup, render, screen } from '@testing-library/react';
import { createElement as h, type ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqlineProvider } from './context.js';
import { useLiveQuery } from './hooks.js';
import { fakeGateway } from './test-support/fake-gateway.js';

const SQL = 'SELECT id, title, priority FROM app.tickets ORDER BY priority DESC LIMIT 3';
const TYPES = { id: 'BigInt', title: 'Text', priority: 'Int', _seq: 'BigInt' } as const;
const SCHEMA = Object.entries(TYPES).map(([name, data_type], index) => ({ name, data_type, index, ...(name === 'id' ? { flags: ['pk', 'nn', 'uq'] } : {}) }));
/** ORDER BY priority DESC (NULLS FIRST, PostgreSQL's default), then the primary key. */
const ORDER_BY = [{ column: 'priority', direction: 'desc', nulls: 'first' }, { column: 'id', direction: 'asc', nulls: 'last' }];
const ticket = (id: number, title: string, priority: number | null, seq: number): Record<string, unknown> => ({ id: String(id), title, priority, _seq: String(seq) });
const change = (type: 'insert' | 'update' | 'delete', row: Record<string, unknown>): Record<string, unknown> => ({ type: 'change', subscription_id: 'q1', change_type: type, ...(type === 'delete' ? { old_values: [row] } : { rows: [row] }) });

let client: SeqlineClient | undefined;
afterEach(() => {
  cleanup();
  client?.close();
});

function Tickets(): ReactNode {
  const live = useLiveQuery(SQL);
  return h('ol', { 'data-testid': 'tickets', 'data-status': live.status }, live.rows.map((r) => h('li', { key: String(r['id']) }, String(r['title']))));
}

const shown = (): string[] => Array.from(screen.getByTestId('tickets').querySelectorAll('li'), (li) => li.textContent ?? '');

describe('useLiveQuery', () => {
  it("returns the rows in the query's order, through the snapshot and a window's changes", async () => {
    const gateway = fakeGateway();
    client = createClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: () => Promise.reject(new Error('no HTTP here')), webSocket: gateway.factory });
    render(h(SeqlineProvider, { client }, h(Tickets)));
    expect(await gateway.open()).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: SQL, options: {} } });
    gateway.send({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 3, batch_control: { batch_num: 0, has_more: true, status: 'loading' }, schema: SCHEMA, order_by: ORDER_BY, limit: 3 });
    gateway.send({ type: 'initial_data_batch', subscription_id: 'q1', rows: [ticket(7, 'outage', null, 30), ticket(2, 'login', 3, 12)], batch_control: { batch_num: 0, has_more: true, status: 'loading' } });
    gateway.send({ type: 'initial_data_batch', subscription_id: 'q1', rows: [ticket(5, 'typo', 1, 25)], batch_control: { batch_num: 1, has_more: false, status: 'ready', last_seq_id: 40 } });
    await vi.waitFor(() => expect([screen.getByTestId('tickets').dataset['status'], shown()]).toEqual(['ready', ['outage', 'login', 'typo']]));

    // A ticket enters between 'outage' and 'login' and pushes 'typo' out: one change, both events
    // with _seq 41 (kept in _seq order, it would come last).
    gateway.send(change('delete', ticket(5, 'typo', 1, 41)));
    gateway.send(change('insert', ticket(9, 'billing', 4, 41)));
    await vi.waitFor(() => expect(shown()).toEqual(['outage', 'billing', 'login']));
    // 'login' rises above 'billing'; then a tie on priority, broken by the primary key (2 before 9).
    gateway.send(change('update', ticket(2, 'login', 5, 42)));
    await vi.waitFor(() => expect(shown()).toEqual(['outage', 'login', 'billing']));
    gateway.send(change('update', ticket(9, 'billing', 5, 43)));
    gateway.send(change('update', ticket(7, 'outage', 0, 44)));
    await vi.waitFor(() => expect(shown()).toEqual(['login', 'billing', 'outage']));
  });
});
