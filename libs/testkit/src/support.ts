// Small helpers every integration test needs: free TCP ports, names that cannot collide between
// test workers, abortable pauses and a bounded poll (`waitFor`) for code that runs outside
// vitest's own `vi.waitFor` (servers starting, scripts, global setup).
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A free TCP port on `host` (default 127.0.0.1) for a server the caller starts later (a child
 * process, a NATS or PostgreSQL it spawns). Chosen at random *below* the kernel's ephemeral range
 * (`net.ipv4.ip_local_port_range`) and checked by binding it: the kernel never hands such a port
 * to another process's port-0 listener or outgoing connection, so the port cannot be taken
 * between this check and the caller's bind by the system's own allocation (which happened with
 * ports from the ephemeral range under a full test run). A port is handed out once per process.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = nonEphemeralRange();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + randomInt(high - low + 1);
    if (handedOut.has(port)) continue;
    if (await canBind(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port in ${low}-${high} on ${host} after 100 tries`);
}

const handedOut = new Set<number>();
const LOWEST_PORT = 10_000;

/** Ports from LOWEST_PORT up to just below the ephemeral range (Linux default start: 32768). */
export function nonEphemeralRange(): readonly [number, number] {
  let ephemeralLow = 32_768;
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (first !== undefined && Number.isInteger(Number(first))) ephemeralLow = Number(first);
  } catch {
    // not Linux: keep the default
  }
  return ephemeralLow - 1 > LOWEST_PORT ? [LOWEST_PORT, ephemeralLow - 1] : [1024, 65_535];
}

async function canBind(port: number, host: string): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
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
