// A differential test of live windows (docs/protocol.md §4.7) against PostgreSQL: random tables,
// random windows (order columns with ties and NULLs, ASC/DESC, NULLS FIRST/LAST, LIMIT 1..50 or
// none, WHERE filters of §4.3), random interleavings of inserts, updates, deletes and resumes.
// A protocol-only client (no SDK) applies every event by primary key and records what it saw;
// after each acknowledged write the same query runs over HTTP (ties broken by the primary key,
// as the ack's order_by says). Replaying the record offline: whenever the client has processed
// every event with `_seq` <= S (S the `seq` a write answered) and none above, its rows equal that
// answer exactly, cell by cell, and sorted by the ack's order_by they stand in PostgreSQL's order.
// Resumes close the socket between writes, or right after one change event (maybe one of several
// sharing a `_seq`), and resume from the last `_seq` processed. DIFF_SEED and DIFF_PATH replay a run.
import { rowComparator, type OrderKey } from '@seqline/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';
import { openSocket, type Msg, type WsClient } from './ws-client.js';

const RUNS = 300;
/** Runs proceed this many at a time, each on its own user (its own partitions). */
const LANES = 4;

interface Column {
  readonly name: string;
  /** Values written, by index (few, so order columns tie); null among them. */
  readonly values: readonly unknown[];
}

interface Table {
  readonly name: string;
  readonly pk: string;
  /** A fresh primary key for the run's nth inserted row. */
  readonly key: (n: number) => string | number;
  readonly columns: readonly Column[];
  /** WHERE clauses of the live subset, each with its params. */
  readonly filters: readonly { readonly sql: string; readonly params: readonly unknown[] }[];
}

const TEXTS = [null, 'a', 'B', 'b', 'é', '～', '😀', ''];
const TABLES: readonly Table[] = [
  {
    name: 'd.nums',
    pk: 'id',
    key: (n) => n * 7 + 1,
    columns: [
      { name: 'a', values: [null, 0, 1, 2, 3] },
      { name: 'b', values: TEXTS },
      { name: 'x', values: [null, -1.5, 0, 2.25, 1e6] },
      { name: 'ts', values: [null, '2026-12-03 10:00:00', '2026-12-03 10:00:01', '2027-01-01 00:00:00'] },
    ],
    filters: [
      { sql: '', params: [] },
      { sql: 'a IS NOT NULL', params: [] },
      { sql: 'a >= $1', params: [1] },
      { sql: "b <> 'b'", params: [] },
      { sql: "a = 1 OR b = 'B'", params: [] },
      { sql: 'x BETWEEN -1 AND 3 AND NOT (a = 0)', params: [] },
      { sql: 'b IN ($1, $2)', params: ['a', 'é'] },
    ],
  },
  {
    name: 'd.words',
    pk: 'k',
    key: (n) => `${['b', 'A', 'é', '😀', 'a', 'Z'][n % 6]}${n}`,
    columns: [
      { name: 'a', values: [null, 1, 2] },
      { name: 'b', values: TEXTS },
      { name: 'm', values: [null, '1.10', '-2.25', '0', '10.5', '1.1'] },
    ],
    filters: [
      { sql: '', params: [] },
      { sql: 'm IS NULL OR m > $1', params: ['0'] },
      { sql: 'b IS NOT NULL AND a <> 2', params: [] },
      { sql: "b >= 'a'", params: [] },
    ],
  },
];

interface OrderTerm {
  readonly column: string;
  readonly direction: 'ASC' | 'DESC' | undefined;
  readonly nulls: 'FIRST' | 'LAST' | undefined;
}

interface Window {
  readonly table: number;
  readonly order: readonly OrderTerm[];
  readonly limit: number | undefined;
  readonly filter: number;
}

/** Values of a row's non-key columns, as indexes into each column's `values`. */
type Values = readonly number[];

type Op =
  | { readonly kind: 'insert'; readonly rows: readonly Values[] }
  | { readonly kind: 'reinsert'; readonly pick: number; readonly row: Values }
  | { readonly kind: 'updateKeys'; readonly picks: readonly number[]; readonly column: number; readonly value: number }
  | { readonly kind: 'updateWhere'; readonly column: number; readonly value: number; readonly setColumn: number; readonly setValue: number }
  | { readonly kind: 'deleteKeys'; readonly picks: readonly number[] }
  | { readonly kind: 'deleteWhere'; readonly column: number; readonly value: number }
  | { readonly kind: 'deleteShown'; readonly count: number }
  | { readonly kind: 'updateShown'; readonly count: number; readonly column: number; readonly value: number }
  /** `cut`: the client drops its socket right after the next change event it processes (maybe one of several sharing a `_seq`). */
  | { readonly kind: 'resume'; readonly cut: boolean };

interface Run {
  readonly window: Window;
  readonly initial: readonly Values[];
  readonly ops: readonly Op[];
}

const index = fc.nat({ max: 99 });
const values = fc.array(index, { minLength: 4, maxLength: 4 });
const term = (column: string): fc.Arbitrary<OrderTerm> =>
  fc.record({ column: fc.constant(column), direction: fc.option(fc.constantFrom<'ASC' | 'DESC'>('ASC', 'DESC'), { nil: undefined }), nulls: fc.option(fc.constantFrom<'FIRST' | 'LAST'>('FIRST', 'LAST'), { freq: 3, nil: undefined }) });

const windowOf = (t: number): fc.Arbitrary<Window> => {
  const table = TABLES[t]!;
  const columns = [...table.columns.map((c) => c.name), table.pk];
  return fc.record({
    table: fc.constant(t),
    order: fc.shuffledSubarray(columns, { minLength: 1, maxLength: 3 }).chain((cs) => fc.tuple(...cs.map(term))),
    limit: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 2, arbitrary: fc.integer({ min: 9, max: 50 }) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    filter: fc.nat({ max: table.filters.length - 1 }),
  });
};

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), rows: fc.array(values, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reinsert' as const), pick: index, row: values }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('updateKeys' as const), picks: fc.array(index, { minLength: 1, maxLength: 3 }), column: index, value: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('updateWhere' as const), column: index, value: index, setColumn: index, setValue: index }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deleteKeys' as const), picks: fc.array(index, { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteWhere' as const), column: index, value: index }) },
  // Rows of the window itself (the first `count` of the last answer): what makes a window refill.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteShown' as const), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('updateShown' as const), count: fc.integer({ min: 1, max: 4 }), column: index, value: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resume' as const), cut: fc.boolean() }) },
);

const run: fc.Arbitrary<Run> = fc.record({
  window: fc.nat({ max: TABLES.length - 1 }).chain(windowOf),
  initial: fc.oneof(fc.array(values, { maxLength: 30 }), fc.array(values, { minLength: 15, maxLength: 30 })),
  ops: fc.array(op, { minLength: 1, maxLength: 12 }),
});

let stack: Stack;
const users: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, 'CREATE NAMESPACE d');
  await ok(stack.url, admin, "CREATE TABLE d.nums (id BIGINT PRIMARY KEY, a INT, b TEXT, x DOUBLE, ts TIMESTAMP) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE TABLE d.words (k TEXT PRIMARY KEY, a INT, b TEXT, m DECIMAL(6,2)) WITH (TYPE='USER')");
  for (let i = 0; i < LANES; i++) {
    await ok(stack.url, admin, `CREATE USER u${i} WITH PASSWORD 'diff-pass-${i}' ROLE user`);
    users.push(await login(stack.url, `u${i}`, `diff-pass-${i}`));
  }
}, 120_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** What the client saw, in order; `clear` on an ack that starts a snapshot (a fresh subscription or a reset). */
type Entry =
  | { readonly t: 'ack'; readonly clear: boolean; readonly reset: boolean; readonly orderBy: OrderKey[]; readonly schema: Msg[] }
  | { readonly t: 'snap'; readonly row: Msg }
  | { readonly t: 'ready'; readonly boundary: bigint }
  | { readonly t: 'change'; readonly type: string; readonly row: Msg; readonly seq: bigint };

/** A protocol-only client of one window, across resumes: rows by key, a cursor, and the record. */
class WindowClient {
  readonly entries: Entry[] = [];
  readonly rows = new Map<string, Msg>();
  cursor: bigint | undefined;
  ready = false;
  /** Drop the socket after the next change event (then `cut` until subscribed again). */
  cutNext = false;
  cut = false;
  readonly errors: Msg[] = [];
  #generation = 0;
  #socket: Promise<WsClient> | undefined;

  constructor(
    private readonly token: string,
    private readonly pk: string,
    private readonly sql: string,
    private readonly params: readonly unknown[],
  ) {}

  subscribe(): void {
    void this.#socket?.then((c) => c.ws.close());
    this.cut = false;
    const generation = ++this.#generation;
    const options = this.ready && this.cursor !== undefined ? { from: String(this.cursor) } : {};
    const resume = 'from' in options;
    this.ready = false;
    this.#socket = openSocket(stack.url, { token: this.token, onMessage: (m) => generation === this.#generation && this.#on(m, resume) }).then((c) => {
      c.send({ type: 'subscribe', subscription: { id: 'w', sql: this.sql, params: this.params, options } });
      return c;
    });
    this.#socket.catch((err: unknown) => this.errors.push({ error: String(err) }));
  }

  async close(): Promise<void> {
    this.#generation++;
    const c = await this.#socket;
    c?.ws.close();
    await c?.closed;
  }

  #on(m: Msg, resume: boolean): void {
    const type = m['type'];
    if (type === 'error') this.errors.push(m);
    if (type === 'subscription_ack') {
      const clear = !resume || m['reset'] === true;
      this.#record({ t: 'ack', clear, reset: m['reset'] === true, orderBy: m['order_by'] as OrderKey[], schema: m['schema'] as Msg[] });
      if (resume && !clear) this.ready = true;
    }
    if (type === 'initial_data_batch') {
      for (const row of m['rows'] as Msg[]) this.#record({ t: 'snap', row });
      const control = m['batch_control'] as Msg;
      if (control['status'] === 'ready') {
        this.#record({ t: 'ready', boundary: BigInt(control['last_seq_id'] as bigint | number | string | undefined ?? 0) });
        this.ready = true;
      }
    }
    if (type === 'change') {
      const kind = String(m['change_type']);
      const row = ((kind === 'delete' ? m['old_values'] : m['rows']) as Msg[])[0]!;
      this.#record({ t: 'change', type: kind, row, seq: BigInt(String(row['_seq'])) });
      if (this.cutNext) {
        this.cutNext = false;
        this.cut = true;
        this.#generation++;
        void this.#socket?.then((c) => c.ws.close());
      }
    }
  }

  #record(e: Entry): void {
    // Events below the cursor are repeats (a resume may send a write's events again): skipped (docs/protocol.md §4.3).
    if (e.t === 'change' && this.cursor !== undefined && e.seq < this.cursor) return;
    this.entries.push(e);
    apply(this.rows, this.pk, e);
    if (e.t === 'ready') this.cursor = e.boundary;
    if (e.t === 'change' && (this.cursor === undefined || e.seq > this.cursor)) this.cursor = e.seq;
  }
}

function apply(rows: Map<string, Msg>, pk: string, e: Entry): void {
  if (e.t === 'ack' && e.clear) rows.clear();
  if (e.t === 'snap') rows.set(String(e.row[pk]), e.row);
  if (e.t === 'change') {
    if (e.type === 'delete') rows.delete(String(e.row[pk]));
    else rows.set(String(e.row[pk]), e.row);
  }
}

/** A row as the test compares it: its selected cells in column order, encoded as text (null stays null). */
type Cells = (string | null)[];
const cell = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : `${v as string | number | bigint | boolean}`);

interface Checkpoint {
  readonly seq: bigint;
  /** The query's answer over HTTP right after the write, in PostgreSQL's order. */
  readonly rows: Cells[];
  readonly after: string;
}

/** Replays the record: the first mismatch, described, or undefined. */
function replay(entries: readonly Entry[], checkpoints: readonly Checkpoint[], table: Table, expectedOrder: OrderKey[]): string | undefined {
  const columns = [table.pk, ...table.columns.map((c) => c.name)];
  const rows = new Map<string, Msg>();
  let compare: ((a: Msg, b: Msg) => number) | undefined;
  let next = 0;
  let live = false;
  let cursor = -1n;
  let snapshot: Msg[] = [];
  const view = (): Cells[] => [...rows.values()].sort(compare).map((r) => columns.map((c) => cell(r[c])));
  const check = (c: Checkpoint, what: string): string | undefined => {
    const got = view();
    return JSON.stringify(got) === JSON.stringify(c.rows) ? undefined : `${what}, after ${c.after} (seq ${c.seq}): the client holds\n${JSON.stringify(got)}\nPostgreSQL answers\n${JSON.stringify(c.rows)}`;
  };
  for (const e of entries) {
    if (e.t === 'ack') {
      if (JSON.stringify(e.orderBy) !== JSON.stringify(expectedOrder)) return `the ack's order_by is ${JSON.stringify(e.orderBy)}, not ${JSON.stringify(expectedOrder)}`;
      compare = rowComparator(e.orderBy, e.schema as never);
      live = !e.clear;
      snapshot = [];
    }
    if (e.t === 'change') {
      if (!live) return `a change (seq ${e.seq}) before the snapshot was ready`;
      if (e.seq < cursor) return `a change with seq ${e.seq} below the cursor ${cursor} was applied`;
      for (; next < checkpoints.length && checkpoints[next]!.seq < e.seq; next++) {
        const bad = check(checkpoints[next]!, `before the change with seq ${e.seq}`);
        if (bad !== undefined) return bad;
      }
      cursor = e.seq;
    }
    if (e.t === 'snap') snapshot.push(e.row);
    apply(rows, table.pk, e);
    if (e.t === 'ready') {
      live = true;
      cursor = e.boundary;
      const inOrder = [...snapshot].sort(compare);
      if (snapshot.some((r, i) => r !== inOrder[i])) return `the snapshot did not come in the window's order: ${JSON.stringify(snapshot)}`;
      let last: Checkpoint | undefined;
      for (; next < checkpoints.length && checkpoints[next]!.seq <= e.boundary; next++) last = checkpoints[next];
      // The data as of the boundary is the data as of the last write at or below it.
      const bad = last === undefined ? undefined : check(last, `at the snapshot's boundary ${e.boundary}`);
      if (bad !== undefined) return bad;
    }
  }
  // Caught up: every write not yet checked left the window as the client holds it now.
  for (; next < checkpoints.length; next++) {
    const bad = check(checkpoints[next]!, 'at the end');
    if (bad !== undefined) return bad;
  }
  return undefined;
}

const terms = (w: Window): string[] => w.order.map((o) => [o.column, o.direction, o.nulls === undefined ? undefined : `NULLS ${o.nulls}`].filter((s) => s !== undefined).join(' '));

/** The window's order for PostgreSQL, ties broken by the primary key (docs/protocol.md §4.7). */
function orderSql(w: Window, table: Table): string {
  return w.order.some((o) => o.column === table.pk) ? terms(w).join(', ') : [...terms(w), table.pk].join(', ');
}

/** The ack's order_by for the window: PostgreSQL's defaults spelled out, the primary key last. */
function expectedOrderBy(w: Window, table: Table): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const o of w.order) {
    const direction = o.direction === 'DESC' ? 'desc' : 'asc';
    keys.push({ column: o.column, direction, nulls: o.nulls === undefined ? (direction === 'desc' ? 'first' : 'last') : o.nulls === 'FIRST' ? 'first' : 'last' });
    if (o.column === table.pk) return keys;
  }
  return [...keys, { column: table.pk, direction: 'asc', nulls: 'last' }];
}

interface Figures {
  runs: number;
  writes: number;
  resumes: number;
  resets: number;
}
const figures: Figures = { runs: 0, writes: 0, resumes: 0, resets: 0 };

async function runOne(token: string, r: Run): Promise<void> {
  const table = TABLES[r.window.table]!;
  const { name, pk, columns } = table;
  const filter = table.filters[r.window.filter]!;
  const all = [pk, ...columns.map((c) => c.name)];
  const where = filter.sql === '' ? '' : ` WHERE ${filter.sql}`;
  const limit = r.window.limit === undefined ? '' : ` LIMIT ${r.window.limit}`;
  // The live query orders by the window's terms only: the server breaks ties by the primary key.
  const live = `SELECT ${all.join(', ')} FROM ${name}${where} ORDER BY ${terms(r.window).join(', ')}${limit}`;
  const query = `SELECT ${all.join(', ')} FROM ${name}${where} ORDER BY ${orderSql(r.window, table)}${limit}`;
  const valueOf = (column: number, v: number): unknown => {
    const values = columns[column % columns.length]!.values;
    return values[v % values.length];
  };
  const keys: (string | number)[] = [];
  const deleted: (string | number)[] = [];
  let inserted = 0;
  const fresh = (): string | number => table.key(inserted++);
  const sqlOf = async (text: string, params: readonly unknown[]): Promise<bigint | undefined> => {
    const [result] = (await ok(stack.url, token, text, params)) as [{ seq?: string }];
    return result.seq === undefined ? undefined : BigInt(result.seq);
  };
  const insert = (rows: readonly [string | number, Values][]): Promise<bigint | undefined> => {
    const params: unknown[] = [];
    const tuples = rows.map(([key, vs]) => {
      params.push(key, ...columns.map((_, i) => valueOf(i, vs[i]!)));
      const base = params.length - all.length;
      return `(${all.map((_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    for (const [key] of rows) keys.push(key);
    return sqlOf(`INSERT INTO ${name} (${all.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  };
  const answer = async (): Promise<Cells[]> => {
    const [result] = (await ok(stack.url, token, query, filter.params)) as [{ rows: unknown[][] }];
    return result.rows.map((row) => row.map(cell));
  };

  await sqlOf(`DELETE FROM ${name} WHERE ${pk} IS NOT NULL`, []);
  const initialSeq = r.initial.length === 0 ? undefined : await insert(r.initial.map((vs) => [fresh(), vs]));
  const checkpoints: Checkpoint[] = [{ seq: initialSeq ?? 0n, rows: await answer(), after: 'the initial rows' }];
  const client = new WindowClient(token, pk, live, filter.params);
  client.subscribe();
  try {
    for (const [i, o] of r.ops.entries()) {
      let seq: bigint | undefined;
      const pick = (p: number): string | number | undefined => keys[p % Math.max(keys.length, 1)];
      if (client.cut) {
        figures.resumes++;
        client.subscribe();
      }
      if (o.kind === 'resume' && o.cut) {
        client.cutNext = true;
        continue;
      }
      if (o.kind === 'resume') {
        await client.close();
        figures.resumes++;
        client.subscribe();
        continue;
      }
      if (o.kind === 'insert') seq = await insert(o.rows.map((vs) => [fresh(), vs]));
      if (o.kind === 'reinsert') {
        const key = deleted.splice(o.pick % Math.max(deleted.length, 1), 1)[0] ?? fresh();
        seq = await insert([[key, o.row]]);
      }
      if (o.kind === 'updateKeys' || o.kind === 'deleteKeys' || o.kind === 'updateShown' || o.kind === 'deleteShown') {
        const shown = (): (string | number)[] => {
          const count = o.kind === 'updateShown' || o.kind === 'deleteShown' ? o.count : 0;
          return checkpoints.at(-1)!.rows.slice(0, count).map((row) => (typeof table.key(0) === 'number' ? Number(row[0]) : row[0]!));
        };
        const picked = o.kind === 'updateKeys' || o.kind === 'deleteKeys' ? [...new Set(o.picks.map(pick).filter((k) => k !== undefined))] : shown();
        if (picked.length === 0) continue;
        const list = picked.map((_, j) => `$${j + 2}`).join(', ');
        if (o.kind === 'updateKeys' || o.kind === 'updateShown') {
          seq = await sqlOf(`UPDATE ${name} SET ${columns[o.column % columns.length]!.name} = $1 WHERE ${pk} IN (${list})`, [valueOf(o.column, o.value), ...picked]);
        } else {
          seq = await sqlOf(`DELETE FROM ${name} WHERE ${pk} IN (${list.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - 1}`)})`, picked);
          for (const key of picked) if (!deleted.includes(key)) deleted.push(key);
        }
      }
      if (o.kind === 'updateWhere' || o.kind === 'deleteWhere') {
        const column = columns[o.column % columns.length]!.name;
        const v = valueOf(o.column, o.value);
        const test = v === null ? `${column} IS NULL` : `${column} = $1`;
        const params = v === null ? [] : [v];
        if (o.kind === 'deleteWhere') seq = await sqlOf(`DELETE FROM ${name} WHERE ${test}`, params);
        else seq = await sqlOf(`UPDATE ${name} SET ${columns[o.setColumn % columns.length]!.name} = $${params.length + 1} WHERE ${test}`, [...params, valueOf(o.setColumn, o.setValue)]);
      }
      figures.writes++;
      if (seq !== undefined) checkpoints.push({ seq, rows: await answer(), after: `op ${i} (${JSON.stringify(o)})` });
    }
    client.cutNext = false;
    if (client.cut) {
      figures.resumes++;
      client.subscribe();
    }
    // Caught up: the client holds the final answer (or the deadline passes and the replay says what differs).
    const final = checkpoints.at(-1)!.rows;
    const deadline = Date.now() + 15_000;
    const holds = (): boolean => client.ready && sameSet(client.rows, all, final);
    while (!holds() && client.errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    await client.close();
  }
  figures.runs++;
  figures.resets += client.entries.filter((e) => e.t === 'ack' && e.reset).length;
  const problem = client.errors.length > 0 ? `errors: ${JSON.stringify(client.errors)}` : replay(client.entries, checkpoints, table, expectedOrderBy(r.window, table));
  if (problem !== undefined) throw new Error(`${live} ${JSON.stringify(filter.params)}\n${problem}\nevents ${JSON.stringify(client.entries.map((e) => (e.t === 'ack' ? { t: e.t, clear: e.clear, reset: e.reset } : e.t === 'change' ? [e.type, e.row, String(e.seq)] : e.t === 'ready' ? ['ready', String(e.boundary)] : ['snap', e.row])))}\nwrites ${JSON.stringify(checkpoints.map((c) => [String(c.seq), c.rows, c.after]))}`);
}

function sameSet(rows: Map<string, Msg>, columns: readonly string[], expected: readonly Cells[]): boolean {
  if (rows.size !== expected.length) return false;
  const got = new Set([...rows.values()].map((r) => JSON.stringify(columns.map((c) => cell(r[c])))));
  return expected.every((e) => got.has(JSON.stringify(e)));
}

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${stack.ops['gateway']!}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

describe('live windows against PostgreSQL', () => {
  it(`${RUNS} random windows, writes and resumes: the client's rows equal the query's answer as of each write`, async () => {
    const started = Date.now();
    const [changes0, refills0] = [await counter('seqline_gateway_window_changes_total'), await counter('seqline_gateway_window_refills_total')];
    // Each property run is LANES windows at once, one per user (so one per partition). No
    // shrinking: a failing run waits out its deadline, so shrinking would take many minutes; the
    // counterexample (every window and its operations), seed and path replay it.
    await fc.assert(
      fc.asyncProperty(fc.array(run, { minLength: LANES, maxLength: LANES }), async (runs) => {
        await Promise.all(runs.map((r, i) => runOne(users[i]!, r)));
      }),
      { numRuns: RUNS / LANES, endOnFailure: true, ...(process.env['DIFF_SEED'] ? { seed: Number(process.env['DIFF_SEED']), path: process.env['DIFF_PATH'] ?? '' } : {}) },
    );
    const [changes, refills] = [(await counter('seqline_gateway_window_changes_total')) - changes0, (await counter('seqline_gateway_window_refills_total')) - refills0];
    expect(figures.runs).toBeGreaterThanOrEqual(RUNS);
    process.stdout.write(
      `live-window-diff: ${figures.runs} windows, ${figures.writes} writes, ${figures.resumes} resumes (${figures.resets} answered with a reset), ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${refills} refill reads per ${changes} window row changes = ${((refills * 1000) / Math.max(changes, 1)).toFixed(1)} per 1,000\n`,
    );
  }, 900_000);
});
