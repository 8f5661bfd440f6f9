// The users benchmark's baseline (forked by bench.ts, driven over IPC): the "filter every
// subscriber" design that routing by ownership replaces (docs/architecture.md §4). It receives
// every change of the table (one core NATS subscription to all owners' change subjects) and
// evaluates every subscription on each: the same compiled live query and filter code as the
// gateway (@seqline/sql `compileLiveQuery`, `liveChange` with a filter budget), the owner being
// one more predicate of each subscription; a subscription that matches has the row projected to
// its columns, as the gateway does before it sends. Nothing is sent: what it costs is the
// filtering alone, which the bench reads as this process's CPU.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { TableDef } from '@seqline/domain';
import { busPb } from '@seqline/proto';
import { compileLiveQuery, initSql, liveChange, meter, type LiveQuery, type LiveRow } from '@seqline/sql';

/** Messages from the bench. */
export type FilterCommand =
  | { readonly type: 'start'; readonly natsUrl: string; readonly subjects: string; readonly table: TableDef; readonly sql: string }
  | { readonly type: 'add'; readonly users: readonly string[] }
  | { readonly type: 'read' }
  | { readonly type: 'stop' };

/** Counters so far, and this process's CPU (ms, user + system). */
export interface FilterCounts {
  readonly changes: number;
  readonly evaluated: number;
  readonly matched: number;
  readonly cpuMs: number;
  readonly subscriptions: number;
}

export type FilterReport = { readonly type: 'started' } | ({ readonly type: 'counts' } & FilterCounts) | { readonly type: 'failed'; readonly message: string };

/** The gateway's default (DEFAULT_FILTER_BUDGET). */
const FILTER_BUDGET = 10_000_000;

interface Subscriber {
  readonly owner: string;
  readonly query: LiveQuery;
}

const subscribers: Subscriber[] = [];
let nc: NatsConnection | undefined;
let table: TableDef | undefined;
let sql = '';
let changes = 0;
let evaluated = 0;
let matched = 0;
/** The last row projected (kept, so the projection is not optimized away). */
export let projected: Record<string, unknown> | undefined;

function report(r: FilterReport): void {
  process.send!(r);
}

function counts(): FilterReport {
  const cpu = process.cpuUsage();
  return { type: 'counts', changes, evaluated, matched, cpuMs: (cpu.user + cpu.system) / 1000, subscriptions: subscribers.length };
}

function onChange(subject: string, data: Uint8Array): void {
  const owner = subject.split('.')[2];
  const change = busPb.Change.decode(data);
  changes++;
  for (const r of change.rows) {
    const old = r.oldJson === '' ? undefined : (JSON.parse(r.oldJson) as LiveRow);
    const next = r.newJson === '' ? undefined : (JSON.parse(r.newJson) as LiveRow);
    for (const s of subscribers) {
      evaluated++;
      const kind = liveChange(s.query.filter, old, next, meter(FILTER_BUDGET));
      if (kind === undefined || s.owner !== owner) continue;
      const image = (kind === 'delete' ? old : next)!;
      projected = Object.fromEntries(s.query.columns.map((c) => [c, image[c] ?? null]));
      matched++;
    }
  }
}

async function start(c: Extract<FilterCommand, { type: 'start' }>): Promise<void> {
  await initSql();
  table = c.table;
  sql = c.sql;
  nc = await connect({ servers: c.natsUrl });
  nc.subscribe(c.subjects, {
    callback: (err, msg) => {
      if (err === null) onChange(msg.subject, msg.data);
    },
  });
  await nc.flush();
}

function add(users: readonly string[]): void {
  const t = table!;
  const catalog = { hasNamespace: (n: string) => n === t.namespace, table: (ns: string, name: string) => (ns === t.namespace && name === t.name ? t : undefined) };
  for (const owner of users) subscribers.push({ owner, query: compileLiveQuery(sql, { catalog, defaultNamespace: 'default', currentUser: owner }) });
}

process.on('message', (c: FilterCommand) => {
  switch (c.type) {
    case 'start':
      start(c).then(
        () => report({ type: 'started' }),
        (err: unknown) => report({ type: 'failed', message: String(err) }),
      );
      return;
    case 'add':
      add(c.users);
      report(counts());
      return;
    case 'read':
      report(counts());
      return;
    case 'stop':
      void (nc?.close() ?? Promise.resolve()).then(() => process.disconnect());
      return;
  }
});
