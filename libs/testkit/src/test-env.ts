// What an integration test file uses: the NATS and PostgreSQL that global-setup.ts started for
// the whole run (testEnv), a database of its own (createTestDatabase), a NATS connection that
// disposes itself (natsConnection) and cleanup of the streams it made (deleteStreamsWithPrefix).
// Every helper returns an AsyncDisposable, meant for `await using`.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import postgres from 'postgres';
import { inject } from 'vitest';
import { uniqueName } from './support.js';

export interface TestEnv {
  /** nats://127.0.0.1:<port>, JetStream enabled. */
  readonly natsUrl: string;
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres, a superuser. */
  readonly postgresUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    seqline: TestEnv;
  }
}

export const TEST_ENV_KEY = 'seqline';

const NO_TEST_ENV =
  'testEnv(): no test services were provided. Name the test file *.int.test.ts so vitest runs ' +
  'libs/testkit/src/global-setup.ts (see vitest.shared.ts), or set SEQLINE_TEST_NATS_URL and SEQLINE_TEST_POSTGRES_URL';

/**
 * The services of this test run: what global-setup.ts provided (vitest `inject`), else the
 * SEQLINE_TEST_NATS_URL / SEQLINE_TEST_POSTGRES_URL environment variables (for code running
 * outside a vitest worker).
 */
export function testEnv(): TestEnv {
  let provided: TestEnv | undefined;
  try {
    provided = inject(TEST_ENV_KEY);
  } catch {
    // Not inside a vitest worker: inject() throws there.
    provided = undefined;
  }
  if (provided !== undefined) return provided;
  const natsUrl = process.env['SEQLINE_TEST_NATS_URL'];
  const postgresUrl = process.env['SEQLINE_TEST_POSTGRES_URL'];
  if (natsUrl !== undefined && natsUrl !== '' && postgresUrl !== undefined && postgresUrl !== '') {
    return { natsUrl, postgresUrl };
  }
  throw new Error(NO_TEST_ENV);
}

export interface TestDatabase extends AsyncDisposable {
  /** The server URL with this database as the path (the superuser: storage's admin URL). */
  readonly url: string;
  /**
   * This database as storage's runtime role (TEST_RUNTIME_ROLE): what SEQLINE_POSTGRES_URL is
   * given, with `url` as SEQLINE_POSTGRES_ADMIN_URL. Storage creates the role at its first
   * start on the cluster; it is cluster-wide, one for every test database.
   */
  readonly runtimeUrl: string;
  readonly name: string;
}

/** Storage's runtime role in tests, and its fixed password (a throwaway cluster on 127.0.0.1). */
export const TEST_RUNTIME_ROLE = 'seqline_storage';
export const TEST_RUNTIME_PASSWORD = 'seqline-storage-test';

/**
 * CREATE DATABASE with a unique lower-case name (t_<pid>_<counter>_<random>); disposing drops
 * it WITH (FORCE), which also ends connections still open to it. Disposing twice is harmless.
 */
export async function createTestDatabase(env: TestEnv = testEnv()): Promise<TestDatabase> {
  const name = uniqueName('t').toLowerCase();
  await asAdmin(env.postgresUrl, (sql) => sql.unsafe(`CREATE DATABASE "${name}"`));
  const url = new URL(env.postgresUrl);
  url.pathname = `/${name}`;
  const runtime = new URL(url);
  runtime.username = TEST_RUNTIME_ROLE;
  runtime.password = TEST_RUNTIME_PASSWORD;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    runtimeUrl: runtime.toString(),
    name,
    [Symbol.asyncDispose]: () => {
      dropped ??= asAdmin(env.postgresUrl, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      return dropped;
    },
  };
}

async function asAdmin(url: string, run: (sql: postgres.Sql) => PromiseLike<unknown>): Promise<void> {
  // onnotice: postgres.js prints notices (e.g. "database does not exist, skipping") by default.
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await run(sql);
  } finally {
    await sql.end();
  }
}

/**
 * A NATS connection (default: the test run's server) whose disposal drains it: subscriptions
 * finish what they have, pending publishes are flushed, then it closes.
 */
export async function natsConnection(
  url?: string | readonly string[],
  options: Omit<NodeConnectionOptions, 'servers'> = {},
): Promise<NatsConnection & AsyncDisposable> {
  const servers = url === undefined ? testEnv().natsUrl : typeof url === 'string' ? url : [...url];
  const nc = await connect({ name: 'seqline-testkit', ...options, servers });
  const dispose = async (): Promise<void> => {
    if (nc.isClosed()) return;
    try {
      await nc.drain();
    } catch {
      // Draining fails when the connection closed meanwhile (or is draining); close is idempotent.
      await nc.close();
    }
  };
  return Object.assign(nc, { [Symbol.asyncDispose]: dispose });
}

/**
 * Deletes every JetStream stream whose name starts with `prefix`, and the streams behind KV
 * buckets (KV_<bucket>) and object stores (OBJ_<bucket>) whose bucket name starts with it.
 */
export async function deleteStreamsWithPrefix(nc: NatsConnection, prefix: string): Promise<void> {
  if (prefix === '') throw new Error('deleteStreamsWithPrefix: an empty prefix would delete every stream');
  const jsm = await jetstreamManager(nc);
  const doomed: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (name.startsWith(prefix) || name.startsWith(`KV_${prefix}`) || name.startsWith(`OBJ_${prefix}`)) doomed.push(name);
  }
  await Promise.all(doomed.map((name) => jsm.streams.delete(name)));
}

/** A message read back from a stream: its payload and headers. */
export interface StoredMessage {
  readonly data: Uint8Array;
  readonly header: (name: string) => string | undefined;
}

/**
 * Everything on one subject of a stream, from the start: what a resuming reader would see.
 * The subject's message count comes from the stream first, so the read knows when it is done
 * (no waiting for a quiet period). nats-server 2.9 has no multi-filter consumers, so this uses
 * an ephemeral pull consumer with one filter subject.
 */
export async function readSubject(stream: string, subject: string, natsUrl?: string | readonly string[]): Promise<StoredMessage[]> {
  await using nc = await natsConnection(natsUrl);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const expected = info.state.subjects?.[subject] ?? 0;
  if (expected === 0) return [];
  const ci = await jsm.consumers.add(stream, { filter_subject: subject, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 30_000_000_000 });
  try {
    const consumer = await jetstream(nc).consumers.get(stream, ci.name);
    const out: StoredMessage[] = [];
    while (out.length < expected) {
      const batch = await consumer.fetch({ max_messages: expected - out.length, expires: 5000 });
      for await (const m of batch) out.push({ data: m.data, header: (name) => m.headers?.get(name) || undefined });
    }
    return out;
  } finally {
    await jsm.consumers.delete(stream, ci.name).catch(() => {});
  }
}
