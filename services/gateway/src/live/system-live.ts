// `system.live` (docs/protocol.md §3): the active subscriptions of every gateway, for dba and
// system. Each gateway knows only its own sockets, so the rows are gathered from all of them
// (see directory.ts) and the query runs here, on those rows, with the live-filter evaluator:
// `SELECT <cols|*> FROM system.live [WHERE …]`, PostgreSQL's semantics for the WHERE. Rows come
// ordered by node, then connection, then creation time.
import { columnFlags, ProtocolError, schemaEntry, type QueryResult } from '@seqline/protocol';
import { isAdminRole, type Actor, type Catalog, type TableDef } from '@seqline/domain';
import { compileLiveQuery, SqlError, systemColumn, systemTable, type LiveCell, type Statement } from '@seqline/sql';

/** One subscription as a gateway reports it. */
export interface LiveEntry {
  readonly node: string;
  readonly connectionId: string;
  readonly subscriptionId: string;
  readonly userId: string;
  readonly namespace: string;
  readonly table: string;
  readonly query: string;
  /** `loading` until its snapshot (or catch-up) is delivered, then `live`. */
  readonly status: 'loading' | 'live';
  readonly createdAtMs: number;
  /** The highest `_seq` delivered to the client so far (a decimal string), null before any. */
  readonly lastSeq: string | null;
  /** `change` events delivered. */
  readonly changes: number;
}

// `live_id` is the key; only `last_seq_id` may be NULL (nothing delivered yet).
export const SYSTEM_LIVE: TableDef = systemTable('live', [
  systemColumn('live_id', 'Text', true),
  ...(['node', 'connection_id', 'subscription_id', 'user_id', 'namespace_id', 'table_name', 'query', 'status'] as const).map((name) => systemColumn(name, 'Text', false, true)),
  systemColumn('created_at', 'Timestamp', false, true),
  systemColumn('last_seq_id', 'BigInt'),
  systemColumn('changes', 'BigInt', false, true),
]);

const catalog: Catalog = {
  hasNamespace: (name) => name === 'system',
  table: (namespace, name) => (namespace === 'system' && name === 'live' ? SYSTEM_LIVE : undefined),
};

/** Whether a parsed statement reads `system.live` (anywhere in its FROM, so joins are refused, not misrouted). */
export function readsSystemLive(stmt: Statement): boolean {
  if (stmt.kind !== 'select') return false;
  let found = false;
  const walk = (node: unknown): void => {
    if (found || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) return node.forEach(walk);
    const range = (node as Record<string, unknown>)['RangeVar'] as Record<string, unknown> | undefined;
    if (range !== undefined && range['schemaname'] === 'system' && range['relname'] === 'live') {
      found = true;
      return;
    }
    Object.values(node).forEach(walk);
  };
  walk(stmt.ast);
  return found;
}

export function checkSystemLiveAccess(caller: Actor): void {
  if (!isAdminRole(caller.role)) throw new ProtocolError('PERMISSION_DENIED', 'system.live is readable by dba and system only');
}

/** Runs `sql` (a SELECT of system.live) over `entries` for `caller`: a docs/protocol.md result object. */
export function querySystemLive(sql: string, params: readonly unknown[], caller: Actor, entries: readonly LiveEntry[], message?: string): QueryResult {
  return compileSystemLive(sql, params, caller)(entries, message);
}

/**
 * Checks the caller and compiles `sql` (a SELECT of system.live), refusing what it cannot
 * evaluate before any gateway is asked; the result runs it over the entries gathered.
 */
export function compileSystemLive(sql: string, params: readonly unknown[], caller: Actor): (entries: readonly LiveEntry[], message?: string) => QueryResult {
  checkSystemLiveAccess(caller);
  let query;
  try {
    query = compileLiveQuery(sql, { catalog, defaultNamespace: 'system', currentUser: caller.userId, params });
  } catch (err) {
    if (err instanceof SqlError && err.code === 'UNSUPPORTED') throw new ProtocolError('INVALID_SQL', err.message.replace('in a live subscription', 'on system.live (SELECT columns FROM system.live [WHERE …] [ORDER BY …] [LIMIT n])'));
    throw err;
  }
  const columns = query.columns.filter((c) => c !== '_seq');
  const byName = new Map(SYSTEM_LIVE.columns.map((c) => [c.name, c]));
  const schema = columns.map((name, i) => schemaEntry(name, byName.get(name)!.dataType, i, columnFlags(byName.get(name)!)));
  return (entries, message) => {
    const rows = [...entries]
      .sort((a, b) => a.node.localeCompare(b.node) || a.connectionId.localeCompare(b.connectionId, undefined, { numeric: true }) || a.createdAtMs - b.createdAtMs)
      .map(toRow)
      .filter((row) => query.filter.test(row) === true);
    if (query.order !== undefined) rows.sort((a, b) => query.order!.compare(a, b));
    const cells = rows.slice(0, query.limit ?? rows.length).map((row) => columns.map((c) => row[c] ?? null));
    return { schema, rows: cells, row_count: cells.length, as_user: caller.userId, ...(message === undefined ? {} : { message }) };
  };
}

function toRow(e: LiveEntry): Record<string, LiveCell> {
  return {
    live_id: `${e.node}/${e.connectionId}/${e.subscriptionId}`,
    node: e.node,
    connection_id: e.connectionId,
    subscription_id: e.subscriptionId,
    user_id: e.userId,
    namespace_id: e.namespace,
    table_name: e.table,
    query: e.query,
    status: e.status,
    created_at: e.createdAtMs * 1000,
    last_seq_id: e.lastSeq,
    changes: String(e.changes),
  };
}
