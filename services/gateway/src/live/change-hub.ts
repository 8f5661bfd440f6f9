// The live tail of a gateway (docs/architecture.md §4 step 1): one core NATS subscription per change
// subject, shared by every local subscriber of that subject and reference counted, so a
// thousand subscriptions to one partition cost one NATS subscription, and none is a
// JetStream consumer. Listeners get each change decoded once, in the order NATS delivers.
// Core subscriptions miss what is published while the connection is down (a NATS node lost,
// the client moving to another): after each reconnect the hub calls its reconnect hooks, so
// every subscription checks its subject's head in the log and repairs what it missed.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { busPb } from '@seqline/proto';

export type ChangeListener = (change: busPb.Change) => void;

interface Tail {
  readonly sub: Subscription;
  readonly listeners: Set<ChangeListener>;
  /** Settles once the server has registered `sub` (one flush per subject, not per listener). */
  readonly registered: Promise<void>;
}

export class ChangeHub {
  readonly #nc: NatsConnection;
  readonly #tails = new Map<string, Tail>();
  /** Test hook: may drop a delivery before listeners see it (to exercise gap repair). */
  #dropFilter: ((change: busPb.Change) => boolean) | undefined;
  readonly #reconnectHooks = new Set<() => void>();

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') this.reconnected();
    })();
  }

  /** Calls `hook` after each reconnect to NATS; returns the function that stops it. */
  onReconnect(hook: () => void): () => void {
    this.#reconnectHooks.add(hook);
    return () => void this.#reconnectHooks.delete(hook);
  }

  /** The connection is back (called on nats.js's `reconnect` status; public for tests). */
  reconnected(): void {
    for (const hook of this.#reconnectHooks) hook();
  }

  /** Starts delivering `subject`'s changes to `listener`; returns the function that stops it. */
  listen(subject: string, listener: ChangeListener): () => void {
    let tail = this.#tails.get(subject);
    if (tail === undefined) {
      const listeners = new Set<ChangeListener>();
      const sub = this.#nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err !== null) return;
          const change = busPb.Change.decode(msg.data);
          if (this.#dropFilter?.(change) === true) return;
          for (const l of listeners) l(change);
        },
      });
      const registered = this.#nc.flush();
      registered.catch(() => {}); // a waiting listener sees the failure through flush()
      tail = { sub, listeners, registered };
      this.#tails.set(subject, tail);
    }
    tail.listeners.add(listener);
    const current = tail;
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      current.sub.unsubscribe();
      if (this.#tails.get(subject) === current) this.#tails.delete(subject);
    };
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
    this.#reconnectHooks.clear();
  }
}
