// Small helpers every integration test needs: free TCP ports, names that cannot collide between
// test workers, abortable pauses and a bounded poll (`waitFor`) for code that runs outside
// vitest's own `vi.waitFor` (servers starting, scripts, global setup).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on `host` (default 127.0.0.1) by binding port 0 and
 * releasing it. Another process may take the port before the caller binds it; the window is
 * small because the kernel hands out ephemeral ports in rotation.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`freePort: unexpected listen address ${String(address)} on ${host}`);
  }
  return address.port;
}

let counter = 0;
const MAX_PREFIX = 30;

/**
 * A name made of [A-Za-z0-9_] only: the prefix (other characters become `_`), the process id,
 * a per-process counter and 40 random bits, so two calls never collide, not even across
 * vitest workers (forks differ by pid, threads by the random part). Short enough (< 63 bytes)
 * for a PostgreSQL identifier; valid as a NATS stream name, KV bucket, subject token or schema
 * (PostgreSQL folds unquoted identifiers to lower case, so quote it if the prefix has capitals).
 */
export function uniqueName(prefix: string): string {
  let head = prefix.replace(/[^A-Za-z0-9_]/g, '_').slice(0, MAX_PREFIX);
  if (head === '') head = 'n';
  if (/^[0-9]/.test(head)) head = `n${head}`;
  counter += 1;
  const random = randomBytes(5).readUIntBE(0, 5).toString(36);
  return `${head}_${process.pid}_${counter}_${random}`;
}

/**
 * Resolves after `ms`, or as soon as `signal` aborts (it never rejects). The timer and the
 * abort listener are both removed whichever comes first.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface WaitForOptions {
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 25 ms). */
  readonly intervalMs?: number;
  /** Start of the timeout error message. */
  readonly message?: string;
}

/**
 * Calls `check` until it returns a truthy value without throwing, and returns that value.
 * On timeout it throws an Error with `message`, the elapsed time and the last error (also set as
 * `cause`). Always makes at least one attempt; an attempt that is running when the deadline
 * passes is allowed to finish.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitForOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 25;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let outcome: Attempt<T>;
  for (;;) {
    outcome = await attempt(check);
    if (outcome.ok && outcome.value) return outcome.value;
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await pause(Math.min(intervalMs, remaining));
  }
  const head = options.message ?? 'waitFor: condition not met';
  const elapsed = `after ${Date.now() - started} ms`;
  if (outcome.ok) throw new Error(`${head} (${elapsed}; last result was falsy)`);
  throw new Error(`${head} (${elapsed}; last error: ${describeError(outcome.error)})`, { cause: outcome.error });
}

type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

async function attempt<T>(check: () => T | Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await check() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A one-line description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
