// A change consumer's worker loop (docs/protocol.md §2, "Change consumers"): fetch a batch of one
// lane, run the handler on each change in order, acknowledge what was handled (one ack covers
// every earlier change of the lane, so one per batch, or per `ackIntervalMs`, is enough); a
// handler that throws makes the rest of the batch wait: the change is nak'ed (its lane rewinds)
// and fetched again after a capped, jittered backoff, so an owner's changes are never handled
// out of order. `stop()` ends the loop after the change in hand, leaves the group
// (its lanes go to the other workers at once) and resolves.
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { SeqlineError } from './errors.js';

/** One row of a consumed change; images hold the wire's cells (docs/protocol.md §1). */
export interface ConsumedRow {
  readonly kind: 'insert' | 'update' | 'delete';
  readonly seq: string;
  readonly old?: Readonly<Record<string, unknown>>;
  readonly new?: Readonly<Record<string, unknown>>;
}

/** Every row one write changed in one owner's partition, in `_seq` order. */
export interface ConsumedChange {
  readonly token: string;
  readonly owner: string;
  readonly seq: string;
  readonly prev_seq: string;
  readonly op_id: string;
  readonly committed_at: number;
  readonly rows: readonly ConsumedRow[];
}

export type ChangeHandler = (change: ConsumedChange) => Promise<void> | void;

export interface ConsumeOptions {
  /** This worker's id in the group (unique per running worker); default a random one. */
  readonly worker?: string;
  /** Where a group that does not exist yet starts: `latest` (default) or `earliest`. */
  readonly start?: 'earliest' | 'latest';
  /** Changes per fetch (the server caps it). */
  readonly limit?: number;
  /** How long a fetch waits for a first change; keep it under the client's request timeout. Default 10 s. */
  readonly waitMs?: number;
  /**
   * In a long batch, acknowledge what was handled at least this often (each ack renews the
   * worker's lease; keep it well under the server's SEQLINE_CONSUME_ACK_WAIT_MS). Default 5 s.
   */
  readonly ackIntervalMs?: number;
  /** Delays after a failing handler or request; default 200 ms doubling to 10 s. */
  readonly backoff?: BackoffOptions;
  /** A handler or request failed (the loop goes on after a backoff). */
  readonly onError?: (error: unknown, change: ConsumedChange | undefined) => void;
}

/** A running consumer. */
export interface Consumer {
  readonly worker: string;
  /** Stops after the change in hand and leaves the group; resolves once it has. */
  stop(): Promise<void>;
  /** Resolves when the loop ended: after `stop()`, or rejects when the server refused it for good (a role, a table, a limit). */
  readonly done: Promise<void>;
}

export type Post = (path: string, body: unknown) => Promise<Record<string, unknown>>;

const DEFAULT_CONSUME_BACKOFF: BackoffOptions = { baseMs: 200, capMs: 10_000 };
/** Server codes after which retrying cannot help. */
const FATAL = new Set(['PERMISSION_DENIED', 'TABLE_NOT_FOUND', 'INVALID_INPUT', 'INVALID_PARAMETER', 'TOKEN_REVOKED', 'INVALID_CREDENTIALS', 'MISSING_AUTHORIZATION']);

export function startConsumer(post: Post, table: string, group: string, handler: ChangeHandler, options: ConsumeOptions & { readonly worker: string; readonly random: () => number; readonly now: () => number }): Consumer {
  const { now } = options;
  let stopping = false;
  let wake: () => void = () => {};
  const backoff = options.backoff ?? DEFAULT_CONSUME_BACKOFF;
  const pause = (attempt: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, backoffDelay(attempt, backoff, options.random));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const fatal = (err: unknown): boolean => err instanceof SeqlineError && FATAL.has(err.code);
  const ids = { table, group, worker: options.worker };

  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopping) {
      let changes: ConsumedChange[];
      try {
        const answer = await post('/v1/api/consume', { ...ids, limit: options.limit, wait_ms: options.waitMs ?? 10_000, start: options.start ?? 'latest' });
        changes = (answer['changes'] ?? []) as ConsumedChange[];
      } catch (err) {
        if (fatal(err)) throw err;
        options.onError?.(err, undefined);
        await pause(failures++);
        continue;
      }
      const failed = await handleBatch(changes);
      if (failed) await pause(failures++);
      else failures = 0;
    }
  };

  /**
   * Handles the batch in order and acknowledges what was handled: one ack (it covers every
   * earlier change of the lane) at the end of the batch, when stopping, before a nak, and every
   * `ackIntervalMs` in a long batch. True when a handler or an ack failed.
   */
  const handleBatch = async (changes: readonly ConsumedChange[]): Promise<boolean> => {
    let handled: ConsumedChange | undefined;
    let lastAck = now();
    const ack = async (): Promise<boolean> => {
      if (handled === undefined) return true;
      const change = handled;
      handled = undefined;
      lastAck = now();
      try {
        await post('/v1/api/consume/ack', { token: change.token });
        return true;
      } catch (err) {
        options.onError?.(err, change); // LEASE_EXPIRED or unreachable: the changes come again
        return false;
      }
    };
    for (const change of changes) {
      if (stopping) break; // the rest stays unacknowledged: the lane rewinds for the next holder
      try {
        await handler(change);
      } catch (err) {
        options.onError?.(err, change);
        await ack();
        await post('/v1/api/consume/ack', { token: change.token, nak: true }).catch(() => undefined);
        return true;
      }
      handled = change;
      if (now() - lastAck >= (options.ackIntervalMs ?? 5000) && !(await ack())) return true;
    }
    return !(await ack());
  };

  const done = run();
  return {
    worker: options.worker,
    done,
    async stop(): Promise<void> {
      stopping = true;
      wake();
      await done.catch(() => undefined);
      await post('/v1/api/consume/release', ids).catch(() => undefined);
    },
  };
}
