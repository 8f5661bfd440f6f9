// @seqline/react's hooks in jsdom with React Testing Library against the whole stack (e2e/src/stack.ts):
// exact rows after inserts, updates and deletes; one WebSocket subscription (counted in the
// gateway's system.live) for two components asking the same query, none after they unmount;
// re-render counts; row identities kept for unchanged rows; useQuery and useExecute.
// The DOM's globals first: React DOM looks for them when it loads.
import '@seqline/testkit/jsdom';
import { createClient, SeqlineError, type ExecuteResult, type Row, type SeqlineClient } from '@seqline/client/node';
import { openLiveQueries, SeqlineProvider, useExecute, useLiveQuery, useQuery, type ExecuteState, type LiveSnapshot } from '@seqline/react';
import { act, cleanup, render, screen } from '@testing-library/react';
import { createElement as h, StrictMode, type ReactNode } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { login, ok } from '../client.js';
import { startStack, type Stack } from '../stack.js';

const ITEMS = 'SELECT id, title, done FROM rx.items';
let stack: Stack;
let admin: string;
let alice: string;
let client: SeqlineClient;

beforeAll(async () => {
  stack = await startStack();
  admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE rx');
  await ok(stack.url, admin, "CREATE TABLE rx.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN DEFAULT false) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE TABLE rx.other (id BIGINT PRIMARY KEY, note TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user");
  alice = await login(stack.url, 'alice', 'alice-pass-1');
  client = createClient({ url: stack.url, auth: { user: 'alice', password: 'alice-pass-1' } });
});

afterEach(() => cleanup());

afterAll(async () => {
  client?.close();
  await stack?.[Symbol.asyncDispose]();
});

const write = (text: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]> => ok(stack.url, alice, text, params);

/** alice's subscriptions as the gateway lists them (system.live, readable by dba). */
async function subscriptions(): Promise<string[]> {
  const [result] = await ok(stack.url, admin, "SELECT query FROM system.live WHERE user_id = 'alice'");
  return (result!['rows'] as string[][]).map((r) => r[0]!);
}

const wrap = (children: ReactNode): ReactNode => h(SeqlineProvider, { client }, children);

/** A component showing a live query, recording every render's result. */
function Items({ id, renders, sql = ITEMS }: { id: string; renders: LiveSnapshot[]; sql?: string }): ReactNode {
  const live = useLiveQuery(sql);
  renders.push(live);
  return h('ul', { 'data-testid': id, 'data-status': live.status }, live.rows.map((r) => h('li', { key: String(r['id']) }, String(r['title']))));
}

const shown = (rows: readonly Row[]): unknown[] => rows.map((r) => [r['id'], r['title'], r['done']]);

describe('@seqline/react against the stack', () => {
  it('keeps the exact rows through inserts, updates and deletes, in one shared subscription, re-rendering once per change', async () => {
    const first: LiveSnapshot[] = [];
    const second: LiveSnapshot[] = [];
    const view = render(wrap(h('div', null, h(Items, { id: 'a', renders: first }), h(Items, { id: 'b', renders: second }))));
    await screen.findByTestId('a').then((el) => expect.poll(() => el.dataset['status'], { timeout: 10_000 }).toBe('ready'));
    expect(first.at(-1)!.rows).toEqual([]);
    expect(openLiveQueries(client)).toBe(1);
    await expect.poll(subscriptions, { timeout: 10_000 }).toEqual([ITEMS]);

    const [inserted] = await write("INSERT INTO rx.items (id, title) VALUES (1, 'milk'), (2, 'eggs')");
    await expect.poll(() => shown(first.at(-1)!.rows), { timeout: 10_000 }).toEqual([[1n, 'milk', false], [2n, 'eggs', false]]);
    expect(first.at(-1)!.lastSeq).toBe(BigInt(String(inserted!['seq'])));
    const before = first.at(-1)!.rows;
    const rendersBefore = first.length;

    await write('UPDATE rx.items SET done = true WHERE id = 2');
    await expect.poll(() => shown(first.at(-1)!.rows), { timeout: 10_000 }).toEqual([[1n, 'milk', false], [2n, 'eggs', true]]);
    expect(first.length).toBe(rendersBefore + 1); // one change, one render
    expect(first.at(-1)!.rows[0]).toBe(before[0]); // the unchanged row is the same object
    expect(first.at(-1)!.rows[1]).not.toBe(before[1]);

    // A write to another table changes nothing this query shows: no render.
    const rendersNow = first.length;
    await write("INSERT INTO rx.other (id, note) VALUES (1, 'elsewhere')");
    await write("INSERT INTO rx.items (id, title) VALUES (3, 'flour')");
    await expect.poll(() => shown(first.at(-1)!.rows), { timeout: 10_000 }).toEqual([[1n, 'milk', false], [2n, 'eggs', true], [3n, 'flour', false]]);
    expect(first.length).toBe(rendersNow + 1);

    await write('DELETE FROM rx.items WHERE id = 1');
    await expect.poll(() => shown(first.at(-1)!.rows), { timeout: 10_000 }).toEqual([[2n, 'eggs', true], [3n, 'flour', false]]);
    expect(screen.getByTestId('a').textContent).toBe('eggsflour');
    // The second component saw the very same snapshots, from the same subscription.
    expect(second.at(-1)).toBe(first.at(-1));
    expect(await subscriptions()).toEqual([ITEMS]);

    view.unmount();
    await expect.poll(() => openLiveQueries(client)).toBe(0);
    await expect.poll(subscriptions, { timeout: 10_000 }).toEqual([]);
  });

  it('keeps one subscription while one of two components stays mounted, and opens another for other parameters', async () => {
    const renders: LiveSnapshot[] = [];
    const Filtered = ({ id, done }: { id: string; done: boolean }): ReactNode => {
      const live = useLiveQuery('SELECT id, title FROM rx.items WHERE done = $1', [done]);
      return h('span', { 'data-testid': id, 'data-status': live.status }, live.rows.map((r) => String(r['title'])).join(','));
    };
    const App = ({ both }: { both: boolean }): ReactNode =>
      wrap(h('div', null, h(Filtered, { id: 'x', done: true }), both ? h(Filtered, { id: 'y', done: true }) : null, h(Filtered, { id: 'z', done: false }), h(Items, { id: 'all', renders })));
    const view = render(h(App, { both: true }));
    await expect.poll(() => screen.getByTestId('x').textContent, { timeout: 10_000 }).toBe('eggs');
    await expect.poll(() => screen.getByTestId('z').textContent, { timeout: 10_000 }).toBe('flour');
    expect(screen.getByTestId('y').textContent).toBe('eggs');
    await expect.poll(async () => (await subscriptions()).length, { timeout: 10_000 }).toBe(3);
    view.rerender(h(App, { both: false }));
    await write('UPDATE rx.items SET done = true WHERE id = 3');
    await expect.poll(() => screen.getByTestId('x').textContent, { timeout: 10_000 }).toBe('eggs,flour');
    expect(screen.getByTestId('z').textContent).toBe('');
    expect((await subscriptions()).length).toBe(3);
    view.unmount();
    await expect.poll(subscriptions, { timeout: 10_000 }).toEqual([]);
  });

  it('opens one live query under StrictMode (effects mounted, unmounted and mounted again)', async () => {
    const live = vi.spyOn(client, 'live');
    try {
      const renders: LiveSnapshot[] = [];
      const view = render(h(StrictMode, null, wrap(h('div', null, h(Items, { id: 'strict-a', renders }), h(Items, { id: 'strict-b', renders })))));
      await expect.poll(() => screen.getByTestId('strict-a').dataset['status'], { timeout: 10_000 }).toBe('ready');
      expect(screen.getByTestId('strict-b').textContent).toBe(screen.getByTestId('strict-a').textContent);
      expect(live).toHaveBeenCalledTimes(1);
      expect(await subscriptions()).toEqual([ITEMS]);
      view.unmount();
      await expect.poll(subscriptions, { timeout: 10_000 }).toEqual([]);
      expect(live).toHaveBeenCalledTimes(1);
    } finally {
      live.mockRestore();
    }
  });

  it('reports a refused live query as status error with the server code', async () => {
    const renders: LiveSnapshot[] = [];
    render(wrap(h(Items, { id: 'bad', renders, sql: 'SELECT id FROM rx.missing' })));
    await expect.poll(() => renders.at(-1)!.status, { timeout: 10_000 }).toBe('error');
    expect(renders.at(-1)!.error).toBeInstanceOf(SeqlineError);
    expect(renders.at(-1)!.error!.code).toBe('NOT_FOUND'); // the WebSocket's code (docs/protocol.md §4)
  });

  it('useQuery reads once, refetches on demand, and reports errors', async () => {
    let state: ReturnType<typeof useQuery> | undefined;
    const Probe = ({ sql }: { sql: string }): ReactNode => {
      state = useQuery(sql, []);
      return null;
    };
    const view = render(wrap(h(Probe, { sql: 'SELECT id, title FROM rx.items ORDER BY id' })));
    await expect.poll(() => state!.status, { timeout: 10_000 }).toBe('success');
    expect(state!.rows.map((r) => r['title'])).toEqual(['eggs', 'flour']);
    await write("INSERT INTO rx.items (id, title) VALUES (4, 'salt')");
    expect(state!.rows.map((r) => r['title'])).toEqual(['eggs', 'flour']); // a read, not live
    act(() => state!.refetch());
    await expect.poll(() => state!.rows.map((r) => r['title']), { timeout: 10_000 }).toEqual(['eggs', 'flour', 'salt']);
    view.rerender(wrap(h(Probe, { sql: 'SELECT id FROM rx.nothing' })));
    await expect.poll(() => state!.status, { timeout: 10_000 }).toBe('error');
    expect((state!.error as SeqlineError).code).toBe('TABLE_NOT_FOUND');
  });

  it('useExecute writes with pending and error state, and the live query shows the write', async () => {
    let exec: ExecuteState | undefined;
    const renders: LiveSnapshot[] = [];
    const Writer = (): ReactNode => {
      exec = useExecute();
      return h('p', { 'data-testid': 'pending' }, String(exec.pending));
    };
    render(wrap(h('div', null, h(Writer), h(Items, { id: 'list', renders }))));
    await expect.poll(() => renders.at(-1)!.status, { timeout: 10_000 }).toBe('ready');
    let done: Promise<unknown> | undefined;
    act(() => {
      done = exec!.execute('INSERT INTO rx.items (id, title) VALUES ($1, $2) RETURNING id', [5, 'yeast'], { idempotencyKey: 'react-test-5' });
    });
    expect(screen.getByTestId('pending').textContent).toBe('1');
    await act(async () => expect(((await done) as ExecuteResult).results.map((r) => r.rows)).toEqual([[{ id: 5n }]]));
    expect(screen.getByTestId('pending').textContent).toBe('0');
    expect(exec!.error).toBeUndefined();
    await expect.poll(() => renders.at(-1)!.rows.map((r) => r['title']), { timeout: 10_000 }).toContain('yeast');
    // The same key again is the same write: applied once.
    await act(async () => void (await exec!.execute('INSERT INTO rx.items (id, title) VALUES ($1, $2) RETURNING id', [5, 'yeast'], { idempotencyKey: 'react-test-5' })));
    const [count] = await write('SELECT COUNT(*) FROM rx.items WHERE id = 5');
    expect(count!['rows']).toEqual([['1']]); // BIGINT as a decimal string (docs/protocol.md §1)

    await act(async () => expect(exec!.execute('INSERT INTO rx.nothing (id) VALUES (1)')).rejects.toBeInstanceOf(SeqlineError));
    expect((exec!.error as SeqlineError).code).toBe('TABLE_NOT_FOUND');
    expect(screen.getByTestId('pending').textContent).toBe('0');
  });
});
