// The silence timeout of WebSockets (docs/protocol.md §4, keep-alive): a socket silent for
// `idleMs` is closed. One timer for every socket of the endpoint, not one per socket re-armed on
// each frame: the sockets are kept in order of their last frame (a Map in insertion order, where
// a frame moves its socket to the end), and a sweep every `idleMs / 10` (20 ms to 1 s) closes
// them from the front while they are silent for `idleMs`, stopping at the first that is not. A
// frame costs a Map delete and set, a sweep the sockets it closes; a socket is closed between
// `idleMs` and `idleMs` plus one sweep after its last frame. (A timer per socket, cleared and set
// again on every ping of an idle client, was an allocation and two timer-list operations each.)
// Time the gateway itself stood still (a sweep that runs late: a long GC, a heap snapshot, an
// overloaded machine) does not count as the clients' silence: their frames of that time are
// still unread in the sockets, so that sweep only closes sockets silent for longer.
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
  readonly #periodMs: number;
  #lastSweep: number;

  constructor(options: IdleSweepOptions<T>) {
    this.#o = options;
    this.#periodMs = Math.min(1000, Math.max(20, Math.floor(options.idleMs / 10)));
    this.#lastSweep = options.now();
    this.#timer = setInterval(() => this.sweep(), this.#periodMs);
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
    const now = this.#o.now();
    const stalledMs = Math.max(0, now - this.#lastSweep - this.#periodMs);
    this.#lastSweep = now;
    const silentSince = now - this.#o.idleMs - stalledMs;
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
