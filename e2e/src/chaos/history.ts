// The fault campaign's history (issue 12): what every client asked, what it was told, what each
// subscription delivered, what the nemesis did and what PostgreSQL held at the end. One JSON
// object per line, appended as things happen, so a failed run can be read back and checked again.
//
// Conventions:
// - `t` is milliseconds since the epoch on the harness clock (one clock for every event).
// - Sequence ids (`_seq`, `prev_seq`) are decimal strings: JSON has no bigint and a `number`
//   would lose precision (docs/architecture.md §SeqId). The checker compares them as bigint.
// - A row is an object whose `id` column is its row id (the workload picks ids itself).
// - A partition is `table/owner`; SHARED tables use the owner `*`.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export const WRITE_OPS = ['insert', 'update', 'delete'] as const;
export type WriteOp = (typeof WRITE_OPS)[number];

export const DELIVERY_KINDS = ['snapshot', 'insert', 'update', 'delete', 'reset'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

export const INDETERMINATE_REASONS = ['timeout', 'connection-lost'] as const;
export type IndeterminateReason = (typeof INDETERMINATE_REASONS)[number];

export type Row = Readonly<Record<string, unknown>>;

/** A client sent a write with this Idempotency-Key; a retry logs it again with the same key. */
export interface WriteInvoked {
  readonly type: 'write-invoked';
  readonly t: number;
  readonly client: string;
  readonly key: string;
  readonly op: WriteOp;
  readonly table: string;
  readonly owner: string;
  readonly rowId: string;
  /** Column values set by an insert or update (an insert includes `id`). */
  readonly values?: Row;
}
/** The write was acknowledged; `seq` is the `_seq` the answer carried, when it carried one. */
export interface WriteOk {
  readonly type: 'write-ok';
  readonly t: number;
  readonly client: string;
  readonly key: string;
  readonly seq?: string;
}
/** The write got a definite error: it must have no effect. */
export interface WriteFailed {
  readonly type: 'write-failed';
  readonly t: number;
  readonly client: string;
  readonly key: string;
  readonly code: string;
}
/** The outcome is unknown: the write may or may not have happened. */
export interface WriteIndeterminate {
  readonly type: 'write-indeterminate';
  readonly t: number;
  readonly client: string;
  readonly key: string;
  readonly reason: IndeterminateReason;
}
/** A subscription was opened. `watches` lists the partitions whose every row it must see. */
export interface Subscribed {
  readonly type: 'subscribed';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
  readonly query: string;
  readonly watches: readonly string[];
}
/** One event a subscription delivered to its client. */
export interface Delivery {
  readonly type: 'delivery';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
  readonly kind: DeliveryKind;
  readonly rowId?: string;
  readonly row?: Row;
  readonly seq?: string;
  readonly prevSeq?: string;
}
/** The subscription is live from `seq` on: the boundary of its snapshot, or the `from` of a resume. */
export interface Ready {
  readonly type: 'ready';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
  readonly seq: string;
}
/** The client reconnected and resumed the subscription from `fromSeq`. */
export interface Resumed {
  readonly type: 'resumed';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
  readonly fromSeq: string;
}
/** The client closed a subscription on purpose: it is no longer a live subscriber. */
export interface Unsubscribed {
  readonly type: 'unsubscribed';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
}
/** At the end: the rows a client materialized for one subscription. */
export interface FinalClient {
  readonly type: 'final-client';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
  readonly rows: readonly Row[];
}
/** At the end: the SELECT of a subscription's query, read directly from PostgreSQL. */
export interface FinalQuery {
  readonly type: 'final-query';
  readonly t: number;
  readonly client: string;
  readonly subId: string;
  readonly rows: readonly Row[];
}
/** At the end: every row of one table (all owners), read directly from PostgreSQL. */
export interface FinalTable {
  readonly type: 'final-table';
  readonly t: number;
  readonly table: string;
  readonly rows: readonly (Row & { readonly owner: string })[];
}
/** At the end: one change of the change log (JetStream), in log order per partition. */
export interface FinalLog {
  readonly type: 'final-log';
  readonly t: number;
  /** `table/owner`, as in `watches`. */
  readonly partition: string;
  readonly rowId: string;
  readonly seq: string;
  readonly prevSeq: string;
}
/** A sequencer issued this `_seq` (from its own log, when the run records it). */
export interface SeqIssued {
  readonly type: 'seq-issued';
  readonly t: number;
  readonly sequencer: string;
  readonly seq: string;
}
export interface FaultStart {
  readonly type: 'fault-start';
  readonly t: number;
  readonly id: string;
  readonly kind: string;
  readonly target: string;
}
export interface FaultEnd {
  readonly type: 'fault-end';
  readonly t: number;
  readonly id: string;
}

export type HistoryEvent =
  | WriteInvoked
  | WriteOk
  | WriteFailed
  | WriteIndeterminate
  | Subscribed
  | Delivery
  | Ready
  | Resumed
  | Unsubscribed
  | FinalClient
  | FinalQuery
  | FinalTable
  | FinalLog
  | SeqIssued
  | FaultStart
  | FaultEnd;

export type HistoryEventType = HistoryEvent['type'];

const TYPES: ReadonlySet<string> = new Set<HistoryEventType>([
  'write-invoked', 'write-ok', 'write-failed', 'write-indeterminate', 'subscribed', 'delivery', 'ready', 'resumed',
  'unsubscribed', 'final-client', 'final-query', 'final-table', 'final-log', 'seq-issued', 'fault-start', 'fault-end',
]);

/** Parses one line; throws with the line number on anything that is not a history event. */
export function parseEvent(line: string, lineNo: number): HistoryEvent {
  const value: unknown = JSON.parse(line);
  if (typeof value !== 'object' || value === null) throw new Error(`history line ${lineNo}: not an object`);
  const { type, t } = value as { type?: unknown; t?: unknown };
  if (typeof type !== 'string' || !TYPES.has(type)) throw new Error(`history line ${lineNo}: unknown type ${String(type)}`);
  if (typeof t !== 'number') throw new Error(`history line ${lineNo}: no time`);
  return value as HistoryEvent;
}

/** Appends events to a JSON-lines file. `close()` flushes and is idempotent. */
export class HistoryWriter {
  readonly #out: WriteStream;
  #closed: Promise<void> | undefined;

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'a' });
  }

  append(event: HistoryEvent): void {
    if (this.#closed) throw new Error('history writer is closed');
    this.#out.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve, reject) => {
      this.#out.once('error', reject);
      this.#out.end(() => resolve());
    });
    return this.#closed;
  }
}

/** Reads a whole history file back, in the order it was written. */
export async function readHistory(path: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() !== '') events.push(parseEvent(line, lineNo));
  }
  return events;
}
