// A subscription's end (docs/protocol.md §4): an unsubscribe, a SLOW_CONSUMER, a failure, or its
// socket's close. Its AbortSignal, which cancels its storage streams (Snapshot, CatchUp, Window)
// and JetStream history reads, is made when one is first asked for: an AbortController with its
// signal costs about 600 bytes and the AbortSignal.any joining it to the socket's about 2 KB,
// while an idle live-only subscription reads nothing after its start.
export class SubscriptionEnd {
  readonly #socket: AbortSignal;
  #ended = false;
  #reason: unknown;
  #controller: AbortController | undefined;
  #signal: AbortSignal | undefined;

  /** `socket`: the signal of the subscription's socket, aborted when it closes. */
  constructor(socket: AbortSignal) {
    this.#socket = socket;
  }

  /** Whether the subscription itself was ended (its socket's close ends each of its subscriptions). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Aborted once the subscription or its socket ends. */
  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      this.#controller = new AbortController();
      if (this.#ended) this.#controller.abort(this.#reason);
      this.#signal = AbortSignal.any([this.#socket, this.#controller.signal]);
    }
    return this.#signal;
  }

  end(reason: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
