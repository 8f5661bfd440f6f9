// A subscription as its socket serves it (docs/protocol.md §4): the dependencies of its
// LiveSubscription, its end, and what `system.live` shows of it, in one object. Its storage,
// history and send calls are methods on the prototype that reach what all subscriptions share
// through two objects: the endpoint's services and the socket's (its caller and its sender). An
// idle subscription holds a few fields, not a closure per call with a context of its own
// (docs/architecture.md §4; about 450 bytes per subscription before). What follows from its
// query alone (SQL, parameters, subject, shape, ack schema) sits in the compiled query its user's
// subscriptions of that query share (live/query-cache.ts), not in a copy per subscription.
import { Metadata } from '@grpc/grpc-js';
import type { storagePb } from '@seqline/proto';
import type { SchemaEntry } from '@seqline/protocol';
import type { LiveQuery, LiveRow } from '@seqline/sql';
import type { History } from '../live/history.js';
import { storageStream, storageUnary } from '../live/storage-stream.js';
import { LiveSubscription, type LiveEvent, type LiveTail, type SubscriptionDeps, type SubscriptionOptions } from '../live/subscription.js';
import type { LiveEntry } from '../live/system-live.js';
import type { WindowRead } from '../live/window.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SubscriptionEnd } from './subscription-end.js';

/** A live query compiled for one user, and what is derived from it once; shared by that user's subscriptions of it (LiveQueryCache). */
export interface CompiledQuery {
  readonly query: LiveQuery;
  /** The column schema of its ack (only `_seq` is not a table column). */
  readonly schema: readonly SchemaEntry[];
  readonly sql: string;
  readonly paramsJson: string;
  readonly namespace: string;
  /** Its change subject: the user's partition of the table, or the shared one. */
  readonly subject: string;
  /** Its query shape (live/subscription.ts): subscriptions of one shape share a change's events. */
  readonly shape: string;
}

/** What every subscription of the endpoint uses (the endpoint's WsDeps is one). */
export interface ServedServices {
  readonly hub: LiveTail;
  readonly storage: storagePb.StorageClient;
  /** Rejects with the signal's reason once it is aborted. */
  readonly history: (subject: string, after: bigint, signal: AbortSignal, directReads?: number) => Promise<History>;
  readonly head: (subject: string) => Promise<bigint | undefined>;
  readonly limits: { readonly streamTimeoutMs: number; readonly filterBudget: number };
  readonly metrics?: GatewayMetrics;
}

/** An event with the ack's schema added. */
export type ServedEvent = LiveEvent | (LiveEvent & { readonly schema: readonly SchemaEntry[] });

/** What the subscriptions of one authenticated socket share. */
export interface ServedSocket {
  readonly services: ServedServices;
  readonly caller: storagePb.Caller;
  /** Writes an event of `served` (a pushed change only while the socket keeps up). */
  sendEvent(served: Served, event: ServedEvent, pushed: boolean): Promise<void>;
  /** `served` ended itself (its last event is an error). */
  ended(served: Served): void;
}

/** A buffer this many changes long while catching up; past it, history is read instead. */
const MAX_BUFFER = 10_000;

export class Served implements SubscriptionDeps {
  readonly id: string;
  /** Ended with the subscription; its signal is a child of the socket's. */
  readonly end: SubscriptionEnd;
  readonly live: LiveSubscription;
  readonly metrics?: GatewayMetrics;
  readonly #socket: ServedSocket;
  readonly #compiled: CompiledQuery;
  readonly #createdAtMs: number;
  #status: LiveEntry['status'] = 'loading';
  #lastSeq: string | null = null;
  #changes = 0;

  constructor(socket: ServedSocket, compiled: CompiledQuery, id: string, end: SubscriptionEnd, options: SubscriptionOptions, createdAtMs: number) {
    this.id = id;
    this.end = end;
    this.#socket = socket;
    this.#compiled = compiled;
    this.#createdAtMs = createdAtMs;
    if (socket.services.metrics !== undefined) this.metrics = socket.services.metrics;
    this.live = new LiveSubscription(this, options);
  }

  get query(): LiveQuery {
    return this.#compiled.query;
  }

  get subject(): string {
    return this.#compiled.subject;
  }

  get shape(): string {
    return this.#compiled.shape;
  }

  get hub(): LiveTail {
    return this.#socket.services.hub;
  }

  get maxBuffer(): number {
    return MAX_BUFFER;
  }

  get filterBudget(): number {
    return this.#socket.services.limits.filterBudget;
  }

  get status(): LiveEntry['status'] {
    return this.#status;
  }

  history(after: bigint, directReads?: number): Promise<History> {
    return this.#socket.services.history(this.subject, after, this.end.signal, directReads);
  }

  head(): Promise<bigint | undefined> {
    return this.#socket.services.head(this.subject);
  }

  snapshot(batchSize: number, lastRows: number): AsyncIterable<storagePb.SnapshotBatch> {
    const { storage } = this.#socket.services;
    return storageStream((options) => storage.snapshot({ ...this.#request(), batchSize, lastRows }, new Metadata(), options), this.#streamOptions());
  }

  catchUp(from: bigint): AsyncIterable<storagePb.CatchUpBatch> {
    const { storage } = this.#socket.services;
    return storageStream((options) => storage.catchUp({ ...this.#request(), fromSeq: from, batchSize: 0 }, new Metadata(), options), this.#streamOptions());
  }

  async window(rows: number): Promise<{ readonly boundary: bigint; readonly read: WindowRead }> {
    const { storage } = this.#socket.services;
    const res = await storageUnary<storagePb.WindowResponse>((options, done) => storage.window({ ...this.#request(), rows }, new Metadata(), options, done), this.#streamOptions());
    return { boundary: res.boundarySeq, read: { rows: JSON.parse(res.rowsJson) as LiveRow[], complete: res.complete } };
  }

  send(event: LiveEvent, pushed: boolean): Promise<void> {
    if (event.type === 'error') this.#socket.ended(this);
    this.#note(event);
    return this.#socket.sendEvent(this, event.type === 'subscription_ack' ? { ...event, schema: this.#compiled.schema } : event, pushed);
  }

  /** What `system.live` shows of it. */
  entry(node: string, connectionId: string): LiveEntry {
    const { query, sql } = this.#compiled;
    return { node, connectionId, subscriptionId: this.id, userId: this.#socket.caller.userId, namespace: query.table.namespace, table: query.table.name, query: sql, status: this.#status, createdAtMs: this.#createdAtMs, lastSeq: this.#lastSeq, changes: this.#changes };
  }

  #request(): { caller: storagePb.Caller; sql: string; paramsJson: string; namespace: string } {
    const { sql, paramsJson, namespace } = this.#compiled;
    return { caller: this.#socket.caller, sql, paramsJson, namespace };
  }

  #streamOptions(): { signal: AbortSignal; timeoutMs: number } {
    return { signal: this.end.signal, timeoutMs: this.#socket.services.limits.streamTimeoutMs };
  }

  /** Keeps `system.live`'s view: the status, the last `_seq` sent, the changes sent. */
  #note(event: LiveEvent): void {
    switch (event.type) {
      case 'subscription_ack':
      case 'initial_data_batch':
        if (event.batch_control.status === 'ready') this.#status = 'live';
        if (event.batch_control.last_seq_id !== undefined) this.#lastSeq = String(event.batch_control.last_seq_id);
        return;
      case 'change': {
        this.#changes++;
        const seq = (event.rows ?? event.old_values)?.[0]?.['_seq'];
        if (typeof seq === 'string') this.#lastSeq = seq;
        return;
      }
      case 'error':
        return;
    }
  }
}
