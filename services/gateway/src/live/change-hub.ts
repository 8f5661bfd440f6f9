// The live tail of a gateway (docs/architecture.md §4 step 1): one core NATS subscription per change
// subject, shared by every local subscriber of that subject and reference counted, so a
// thousand subscriptions to one partition cost one NATS subscription, and none is a
// JetStream consumer. Listeners get each change decoded once, in the order NATS delivers.
// Core subscriptions miss what is published while the connection is down (a NATS node lost,
// the client moving to another): after each reconnect the hub tells every listener of every
// subject, so each subscription checks its subject's head in the log and repairs what it missed.
// A listener is an object with both methods (a LiveSubscription is one), held in its subject's
// set: an idle subscription costs the hub one set entry, not a closure per change listener,
// reconnect hook and stop function.
// With tracing on, the `traceparent` header storage published a change with is kept beside
// it (changeTraceparent), so each delivery's span is a child of the change's publish.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { busPb } from '@seqline/proto';
import { tracingOn } from '@seqline/runtime';

const traceparents = new WeakMap<busPb.Change, string>();

/** The trace context a live change was published under, if tracing is on and it had one. */
export function changeTraceparent(change: busPb.Change): string | undefined {
  return traceparents.get(change);
}

/** A listener of one subject's live changes. */
export interface TailListener {
  /** A change of the subject, decoded once for every listener, in the order NATS delivers. */
  onChange(change: busPb.Change): void;
  /** The connection to NATS is back: changes published while it was down never reached the tail. */
  onReconnect(): void;
}

interface Tail {
  readonly sub: Subscription;
  readonly listeners: Set<TailListener>;
  /** Settles once the server has registered `sub` (one flush per subject, not per listener). */
  readonly registered: Promise<void>;
}

export class ChangeHub {
  readonly #nc: NatsConnection;
  readonly #tails = new Map<string, Tail>();
  /** Test hook: may drop a delivery before listeners see it (to exercise gap repair). */
  #dropFilter: ((change: busPb.Change) => boolean) | undefined;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') this.reconnected();
    })();
  }

  /** The connection is back (called on nats.js's `reconnect` status; public for tests): every listener is told. */
  reconnected(): void {
    for (const tail of [...this.#tails.values()]) for (const l of [...tail.listeners]) l.onReconnect();
  }

  /** Starts delivering `subject`'s changes (and reconnects) to `listener`, until `unlisten`. */
  listen(subject: string, listener: TailListener): void {
    let tail = this.#tails.get(subject);
    if (tail === undefined) {
      const listeners = new Set<TailListener>();
      const sub = this.#nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err !== null) return;
          const change = busPb.Change.decode(msg.data);
          if (tracingOn()) {
            const traceparent = msg.headers?.get('traceparent');
            if (traceparent) traceparents.set(change, traceparent);
          }
          if (this.#dropFilter?.(change) === true) return;
          for (const l of listeners) l.onChange(change);
        },
      });
      const registered = this.#nc.flush();
      registered.catch(() => {}); // a waiting listener sees the failure through flush()
      tail = { sub, listeners, registered };
      this.#tails.set(subject, tail);
    }
    tail.listeners.add(listener);
  }

  /** Stops `listener` (a second call does nothing); the subject's NATS subscription ends with its last listener. */
  unlisten(subject: string, listener: TailListener): void {
    const tail = this.#tails.get(subject);
    if (tail === undefined || !tail.listeners.delete(listener) || tail.listeners.size > 0) return;
    tail.sub.unsubscribe();
    this.#tails.delete(subject);
  }

  /** NATS subscriptions held (one per subject with listeners). */
  get subscriptions(): number {
    return this.#tails.size;
  }

  /**
   * Resolves once the server has registered `subject`'s subscription (made by an earlier
   * `listen`), or without a subject every subscription made so far.
   */
  async flush(subject?: string): Promise<void> {
    const tail = subject === undefined ? undefined : this.#tails.get(subject);
    await (tail?.registered ?? this.#nc.flush());
  }

  /** For tests: changes for which `drop` returns true are not delivered. */
  dropDeliveries(drop: ((change: busPb.Change) => boolean) | undefined): void {
    this.#dropFilter = drop;
  }

  close(): void {
    for (const t of this.#tails.values()) t.sub.unsubscribe();
    this.#tails.clear();
  }
}
