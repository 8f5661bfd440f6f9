// The hooks: live queries (shared, docs/protocol.md §4), one-shot reads and writes over HTTP
// (docs/protocol.md §2) through the provider's client, and the connection's status.
import type { ExecuteOptions, ExecuteResult, Row, SeqlineError, Status } from '@seqline/client';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useSeqlineClient } from './context.js';
import { liveEntry, liveKey, type LiveQueryOptions, type LiveSnapshot } from './live-registry.js';

const NO_PARAMS: readonly unknown[] = [];

/**
 * The rows of `sql`, kept current: the client's stored rows at once (status `stored`), the
 * snapshot as it loads, then every change, across reconnects. Components asking the same query
 * with the same parameters and options share one subscription; the component re-renders only
 * when its rows, status, error or cursor changed, and unchanged rows keep their identity.
 * `useLiveQuery<T>()` types the rows as `T` (a row type of `seqline gen types`, or your own).
 */
export function useLiveQuery<T extends Row = Row>(sql: string, params: readonly unknown[] = NO_PARAMS, options: LiveQueryOptions = {}): LiveSnapshot<T> {
  const client = useSeqlineClient();
  // A new params array each render must not resubscribe: the entry follows the key's content.
  const key = liveKey(sql, params, options);
  const entry = useMemo(() => liveEntry(client, sql, params, options), [client, key]);
  // Components asking one query share its entry whatever row type each states: T only types the result.
  return useSyncExternalStore(entry.subscribe, entry.getSnapshot, entry.getSnapshot) as unknown as LiveSnapshot<T>;
}

export type QueryStatus = 'loading' | 'success' | 'error';

/** `T` is the row type `useQuery<T>()` was asked for (not checked at run time). */
export interface QueryState<T extends Row = Row> {
  readonly rows: readonly T[];
  readonly status: QueryStatus;
  readonly error: SeqlineError | Error | undefined;
  /** Runs the query again (the rows stay until the new ones arrive). */
  readonly refetch: () => void;
}

/** One read over HTTP when the component mounts or `sql`/`params` change; `refetch()` runs it again. */
export function useQuery<T extends Row = Row>(sql: string, params: readonly unknown[] = NO_PARAMS): QueryState<T> {
  const client = useSeqlineClient();
  const key = liveKey(sql, params, {});
  const [run, setRun] = useState(0);
  const [state, setState] = useState<Omit<QueryState<T>, 'refetch'>>({ rows: [], status: 'loading', error: undefined });
  const paramsRef = useRef(params);
  paramsRef.current = params;
  useEffect(() => {
    let current = true;
    setState((s) => (s.status === 'loading' ? s : { ...s, status: 'loading' }));
    client.query<T>(sql, paramsRef.current).then(
      ({ rows }) => current && setState({ rows, status: 'success', error: undefined }),
      (error: unknown) => current && setState((s) => ({ rows: s.rows, status: 'error', error: asError(error) })),
    );
    return () => {
      current = false;
    };
  }, [client, sql, key, run]);
  const refetch = useCallback(() => setRun((n) => n + 1), []);
  return useMemo(() => ({ ...state, refetch }), [state, refetch]);
}

export interface ExecuteState {
  /**
   * Sends a write. Offline (with a client store) it is queued and sent once, in order, when the
   * gateway is reachable again; the promise settles when it was applied or refused.
   */
  readonly execute: (sql: string, params?: readonly unknown[], options?: ExecuteOptions) => Promise<ExecuteResult>;
  /** Writes sent by this hook that have not settled yet (queued offline ones included). */
  readonly pending: number;
  /** The last write's failure (cleared by the next successful one, or `reset()`). */
  readonly error: SeqlineError | Error | undefined;
  readonly reset: () => void;
}

export function useExecute(): ExecuteState {
  const client = useSeqlineClient();
  const [pending, setPending] = useState(0);
  const [error, setError] = useState<SeqlineError | Error | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const execute = useCallback(
    async (sql: string, params: readonly unknown[] = NO_PARAMS, options: ExecuteOptions = {}): Promise<ExecuteResult> => {
      setPending((n) => n + 1);
      try {
        const result = await client.execute(sql, params, options);
        if (mounted.current) setError(undefined);
        return result;
      } catch (err) {
        if (mounted.current) setError(asError(err));
        throw err;
      } finally {
        if (mounted.current) setPending((n) => n - 1);
      }
    },
    [client],
  );
  const reset = useCallback(() => setError(undefined), []);
  return useMemo(() => ({ execute, pending, error, reset }), [execute, pending, error, reset]);
}

/** The client's connection status (`idle`, `connecting`, `open`, `reconnecting`, …), re-rendering on change. */
export function useConnectionStatus(): Status {
  const client = useSeqlineClient();
  const subscribe = useCallback((listener: () => void) => client.onStatus(listener), [client]);
  return useSyncExternalStore(subscribe, () => client.status, () => client.status);
}

function asError(err: unknown): SeqlineError | Error {
  return err instanceof Error ? err : new Error(String(err));
}
