// The lifecycle every Seqline service shares, written once: `run()` starts up (once) and
// resolves when the service has stopped; `ready` resolves with what the service serves on
// (port, worker id…) or rejects if start-up failed; `stop()` is idempotent; a failure while
// running (`fail(err)`) stops the service and makes `run()` reject with it, so the process
// exits non-zero and is restarted. Services implement `startUp()` and `shutdown()` only.
import type { Service } from './service.js';
import { newRegistry, type Registry } from './metrics.js';
import { type RunningState } from './running-state.js';

export abstract class ServiceHost<Info> implements Service {
  abstract readonly id: string;
  readonly ready: Promise<Info>;
  /** Owns the abort signal, backoff and timers of the service; stopped by stop(). */
  protected readonly state: RunningState;
  /** This instance's metrics (metrics.ts); served on the ops port by serviceMain. */
  readonly metrics: Registry = newRegistry();
  #isReady = false;
  #resolveReady!: (info: Info) => void;
  #rejectReady!: (err: unknown) => void;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #failure: unknown;

  constructor(state: RunningState) {
    this.state = state;
    this.ready = new Promise<Info>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // also observed through run()
  }

  /** Connects, binds and starts serving; resolves with what `ready` reports. */
  protected abstract startUp(): Promise<Info>;
  /** Releases everything startUp() acquired (whatever part of it ran). */
  protected abstract shutdown(): Promise<void>;

  run(): Promise<void> {
    this.#running ??= this.#main();
    return this.#running;
  }

  drain(): Promise<void> {
    return this.stop();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.state.stop();
      await this.shutdown();
      this.#rejectReady(new Error(`${this.id} stopped`));
    })();
    return this.#stopping;
  }

  checkReady(): void {
    if (!this.#isReady) throw new Error('starting');
    if (!this.state.shouldRun()) throw new Error('stopping');
  }

  /** Stops the service because of `err`; run() then rejects with it. */
  protected fail(err: unknown): void {
    this.#failure ??= err;
    this.state.stop(err);
  }

  async #main(): Promise<void> {
    try {
      this.#resolveReady(await this.startUp());
      this.#isReady = true;
    } catch (err) {
      this.#rejectReady(err);
      await this.stop();
      throw err;
    }
    if (this.state.shouldRun()) {
      await new Promise<void>((resolve) => this.state.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    await this.stop();
    if (this.#failure !== undefined) throw this.#failure instanceof Error ? this.#failure : new Error(`${this.id} failed`, { cause: this.#failure });
  }
}
