// The silence timeout of WebSockets (docs/protocol.md §4, keep-alive): a socket silent for
// `idleMs` is closed. One timer for every socket of the endpoint, not one per socket re-armed on
// each frame: the sockets are kept in order of their last frame (a Map in insertion order, where
// a frame moves its socket to the end), and a sweep every `idleMs / 10` (20 ms to 1 s) closes
// them from the front while they are silent for `idleMs`, stopping at the first that is not. A
// frame costs a Map delete and set, a sweep the sockets it closes; a socket is closed between
// `idleMs` and `idleMs` plus one sweep after its last frame. (A timer per socket, cleared and set
// again on every ping of an idle client, was an allocation and two timer-list operations each.)
export interface IdleSweepOptions<T> {
  readonly idleMs: number;
  /** Monotonic ms. */
  readonly now: () => number;
  /** Called once for a socket silent for `idleMs` (it is forgotten first). */
  readonly onIdle: (socket: T) => void;
}

export class IdleSweep<T> {
  readonly #o: IdleSweepOptions<T>;
  /** Each socket's last frame (monotonic ms), the oldest first. */
  readonly #lastFrame = new Map<T, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: IdleSweepOptions<T>) {
    this.#o = options;
    this.#timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(20, Math.floor(options.idleMs / 10))));
    this.#timer.unref();
  }

  /** `socket` was heard from now (a new socket too). */
  touch(socket: T): void {
    this.#lastFrame.delete(socket);
    this.#lastFrame.set(socket, this.#o.now());
  }

  /** Stops watching `socket` (it closed). */
  forget(socket: T): void {
    this.#lastFrame.delete(socket);
  }

  /** Closes the sockets silent for `idleMs` (run by the timer; public for tests). */
  sweep(): void {
    const silentSince = this.#o.now() - this.#o.idleMs;
    for (const [socket, at] of this.#lastFrame) {
      if (at > silentSince) return;
      this.#lastFrame.delete(socket);
      this.#o.onIdle(socket);
    }
  }

  /** Sockets watched (for tests). */
  get size(): number {
    return this.#lastFrame.size;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#lastFrame.clear();
  }
}
