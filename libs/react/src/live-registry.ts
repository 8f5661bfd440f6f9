// Live queries shared between components: one `client.live()` per client, SQL, parameters and
// options, however many components ask for it. Each entry is an external store for
// `useSyncExternalStore`: an immutable snapshot that is replaced only when something a
// component can see changed (rows, status, error, cursor), and rows whose content did not
// change keep their object identity across updates, reconnects and snapshot reloads, so
// `React.memo` rows and `useMemo` over them do not redo work. The subscription stops when the
// last component leaves, one microtask later, so StrictMode's unmount-and-remount of an effect
// keeps the same subscription.
import type { LiveInfo, LiveOptions, Row, SeqlineClient, SeqlineError } from '@seqline/client';

export type LiveStatus = 'loading' | 'stored' | 'ready' | 'error';

/** A live query's state; `T` is the row type `useLiveQuery<T>()` was asked for (not checked at run time). */
export interface LiveSnapshot<T extends Row = Row> {
  /**
   * The query's rows: in its order when it has one (ORDER BY, as the server's ack states it;
   * ties broken by the primary key), else in `_seq` order (oldest change first).
   */
  readonly rows: readonly T[];
  /** `stored`: rows from the client's store, not yet confirmed; `error`: the server refused the query. */
  readonly status: LiveStatus;
  readonly error: SeqlineError | undefined;
  /** The highest `_seq` the rows reflect. */
  readonly lastSeq: bigint | undefined;
}

export interface LiveQueryOptions {
  /** Columns identifying a row; default the table's primary key. */
  readonly keyColumns?: readonly string[];
  /**
   * Keep at most N rows: the first N in the query's order when it has one, else the newest N by
   * `_seq`. For a window prefer `LIMIT n` in the SQL: the server keeps it exact.
   */
  readonly limit?: number;
}

export interface LiveEntry {
  readonly subscribe: (listener: () => void) => () => void;
  readonly getSnapshot: () => LiveSnapshot;
}

const LOADING: LiveSnapshot = { rows: [], status: 'loading', error: undefined, lastSeq: undefined };

const registries = new WeakMap<SeqlineClient, Map<string, LiveEntry>>();

/** The shared entry for this query on this client (made on first use, forgotten when unused). */
export function liveEntry(client: SeqlineClient, sql: string, params: readonly unknown[], options: LiveQueryOptions): LiveEntry {
  let registry = registries.get(client);
  if (registry === undefined) registries.set(client, (registry = new Map<string, LiveEntry>()));
  const key = liveKey(sql, params, options);
  let entry = registry.get(key);
  if (entry === undefined) {
    const created: LiveEntry = createEntry(client, sql, params, options, {
      // A component that rendered before the entry was forgotten may subscribe after: it is
      // registered again, so later components share it instead of opening a second one.
      remember: () => void (registry.has(key) || registry.set(key, created)),
      forget: () => void (registry.get(key) === created && registry.delete(key)),
    });
    entry = created;
    registry.set(key, entry);
  }
  return entry;
}

/** How many live queries this client has open for hooks now (for tests and devtools). */
export function openLiveQueries(client: SeqlineClient): number {
  return registries.get(client)?.size ?? 0;
}

export function liveKey(sql: string, params: readonly unknown[], options: LiveQueryOptions): string {
  return stableJson([sql, params, options.keyColumns ?? null, options.limit ?? null]);
}

function createEntry(client: SeqlineClient, sql: string, params: readonly unknown[], options: LiveQueryOptions, registration: { remember: () => void; forget: () => void }): LiveEntry {
  const listeners = new Set<() => void>();
  let snapshot = LOADING;
  let stop: (() => void) | undefined;
  const publish = (next: LiveSnapshot): void => {
    if (sameSnapshot(snapshot, next)) return;
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };
  const onRows = (rows: Row[], info: LiveInfo): void => {
    publish({ rows: reuseRows(snapshot.rows, rows), status: info.status, error: undefined, lastSeq: info.cursor });
  };
  const onError = (error: SeqlineError): void => publish({ ...snapshot, status: 'error', error });
  const start = (): void => {
    const liveOptions: LiveOptions = {
      params,
      onError,
      ...(options.keyColumns === undefined ? {} : { keyColumns: options.keyColumns }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    };
    stop = client.live(sql, onRows, liveOptions);
  };
  return {
    getSnapshot: () => snapshot,
    subscribe: (listener) => {
      listeners.add(listener);
      if (stop === undefined) {
        registration.remember();
        start();
      }
      return () => {
        listeners.delete(listener);
        queueMicrotask(() => {
          if (listeners.size > 0 || stop === undefined) return;
          stop();
          stop = undefined;
          registration.forget();
        });
      };
    },
  };
}

function sameSnapshot(a: LiveSnapshot, b: LiveSnapshot): boolean {
  return a.status === b.status && a.error === b.error && a.lastSeq === b.lastSeq && a.rows.length === b.rows.length && a.rows.every((row, i) => row === b.rows[i]);
}

/**
 * `next` with each row replaced by the previous object when its content is the same, and the
 * previous array itself when nothing changed. Rows the client kept are the same objects already;
 * only new ones (a change, a snapshot after a reset, rows read from the store) are compared.
 */
export function reuseRows(previous: readonly Row[], next: readonly Row[]): readonly Row[] {
  if (previous.length === 0) return next;
  const kept = new Set(previous);
  let byContent: Map<string, Row> | undefined;
  const out = next.map((row) => {
    if (kept.has(row)) return row;
    byContent ??= new Map(previous.map((r) => [stableJson(r), r]));
    return byContent.get(stableJson(row)) ?? row;
  });
  return out.length === previous.length && out.every((row, i) => row === previous[i]) ? previous : out;
}

/** JSON with object keys sorted and bigints as `{"$bigint":"<digits>"}`, so equal values give equal text. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return { $bigint: v.toString() };
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return v;
  });
}
