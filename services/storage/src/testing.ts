// Test support for storage's integration tests: a stand-in sequencer (real gRPC, from
// @seqline/sequencer-client/testing), a fresh database and bus prefix,
// storage instances started on them, ops published straight to the ops log, and the op results
// they answer with. Everything is torn down by `await using`.
import { credentials, Metadata } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { busNames, decodeResults, shardOf, type BusNames } from '@seqline/bus';
import { busPb, storagePb } from '@seqline/proto';
import { memoryLogger, parseConfig, type Logger } from '@seqline/runtime';
import { startTestSequencer } from '@seqline/sequencer-client/testing';
import type postgres from 'postgres';
import { createTestDatabase, deleteStreamsWithPrefix, natsConnection, testEnv, uniqueName, type TestDatabase } from '@seqline/testkit';
import { storageConfigSchema } from './config.js';
import { startStorage, type StorageService } from './storage.js';

export interface StorageHarness extends AsyncDisposable {
  readonly prefix: string;
  readonly names: BusNames;
  readonly db: TestDatabase;
  readonly nc: NatsConnection;
  /** Op results received, in arrival order (a redelivered op's stored result may come twice). */
  readonly results: busPb.OpResult[];
  /** Starts a storage replica; SEQLINE_SHARDS and the other variables can be overridden. */
  start(env?: Record<string, string>, logger?: Logger): Promise<StorageService>;
  /** Runs DDL through a storage replica's Admin call, as a DBA. */
  admin(storage: StorageService, statements: readonly string[]): Promise<void>;
  /**
   * Publishes an op for `owner` to its shard (of `shards`), answered on the test's result
   * subject; with `statements`, a transaction op of those statements (tables in namespace app).
   */
  publish(op: { opId: string; owner: string; table: string; statement: string; params?: readonly unknown[]; statements?: readonly { table: string; statement: string }[] }, shards: number): Promise<void>;
}

export async function storageHarness(name: string, options: { readonly postgresUrl?: string } = {}): Promise<StorageHarness> {
  const prefix = uniqueName(name);
  const names = busNames(prefix);
  const db = await createTestDatabase(options.postgresUrl === undefined ? testEnv() : { ...testEnv(), postgresUrl: options.postgresUrl });
  const nc = await natsConnection();
  const sequencer = await startTestSequencer();
  const started: StorageService[] = [];
  const results: busPb.OpResult[] = [];
  const sub = nc.subscribe(`${prefix}.results.t.*`);
  void (async () => {
    for await (const m of sub) results.push(...decodeResults(m.subject, m.data));
  })();
  const js = jetstream(nc);
  return {
    prefix,
    names,
    db,
    nc,
    results,
    async start(env = {}, logger = memoryLogger()) {
      const config = parseConfig(storageConfigSchema, {
        SEQLINE_POSTGRES_URL: db.runtimeUrl,
        SEQLINE_POSTGRES_ADMIN_URL: db.url,
        SEQLINE_NATS_URL: testEnv().natsUrl,
        SEQLINE_STORAGE_PORT: '0',
        SEQLINE_SEQUENCER_ADDR: sequencer.address,
        SEQLINE_BUS_PREFIX: prefix,
        SEQLINE_SHARDS: '1',
        ...env,
      });
      const storage = await startStorage(config, { logger });
      started.push(storage);
      return storage;
    },
    async admin(storage, statements) {
      const client = new storagePb.StorageClient(`127.0.0.1:${(await storage.ready).port}`, credentials.createInsecure());
      try {
        for (const sql of statements) {
          await new Promise((resolve, reject) => client.admin({ caller: { userId: 'root', role: 'dba' }, sql, namespace: '' }, new Metadata(), {}, (err, res) => (err ? reject(err) : resolve(res))));
        }
      } finally {
        client.close();
      }
    },
    async publish({ opId, owner, table, statement, params = [], statements = [] }, shards) {
      const op: busPb.Op = {
        opId,
        actor: owner,
        actorRole: 'user',
        owner,
        namespace: 'app',
        table,
        statement,
        paramsJson: JSON.stringify(params),
        issuedAtUs: BigInt(Date.now()) * 1000n,
        replyTo: `${prefix}.results.t.${opId}`,
        traceparent: '',
        statements: statements.map((s) => ({ namespace: 'app', table: s.table, statement: s.statement, paramsJson: '[]' })),
      };
      await js.publish(names.ops(shardOf(owner, shards)), busPb.Op.encode(op).finish(), { msgID: opId });
    },
    async [Symbol.asyncDispose]() {
      sub.unsubscribe();
      for (const s of started) await s.stop();
      await sequencer.stop();
      await deleteStreamsWithPrefix(nc, prefix.toUpperCase());
      await deleteStreamsWithPrefix(nc, `KV_${prefix}`);
      await nc.close();
      await db[Symbol.asyncDispose]();
    },
  };
}

/** Settings that let an apply transaction wait on a test's lock as long as the test holds it. */
export const NO_TIMEOUTS = { SEQLINE_APPLY_LOCK_TIMEOUT_MS: '600000', SEQLINE_APPLY_STATEMENT_TIMEOUT_MS: '600000' } as const;

/** Sessions of this database waiting for a lock. */
export async function lockWaiters(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ c: number }[]>`SELECT count(*)::int AS c FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`;
  return row?.c ?? 0;
}
