// Storage on its own: DDL over gRPC, ops published straight to the shard subjects, results on
// the reply subject, changes on the owner's subject, redelivered ops not applied twice, and a
// second replica kept off a shard that is owned.
import { credentials, Metadata } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { busNames, decodeResults, shardOf } from '@seqline/bus';
import { busPb, storagePb } from '@seqline/proto';
import { memoryLogger, parseConfig } from '@seqline/runtime';
import { startTestSequencer } from '@seqline/sequencer-client/testing';
import { createTestDatabase, deleteStreamsWithPrefix, natsConnection, testEnv, uniqueName } from '@seqline/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { storageConfigSchema } from './config.js';
import { startStorage, StorageService } from './storage.js';

const SHARDS = 2;
const storageLogger = memoryLogger('storage');
let prefix: string;
let env: Record<string, string>;
let client: storagePb.StorageClient;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  prefix = uniqueName('st');
  const db = await createTestDatabase();
  const sequencer = await startTestSequencer();
  env = {
    SEQLINE_POSTGRES_URL: db.runtimeUrl,
    SEQLINE_POSTGRES_ADMIN_URL: db.url,
    SEQLINE_NATS_URL: testEnv().natsUrl,
    SEQLINE_STORAGE_PORT: '0',
    SEQLINE_SEQUENCER_ADDR: sequencer.address,
    SEQLINE_BUS_PREFIX: prefix,
    SEQLINE_SHARDS: String(SHARDS),
  };
  const storage = await startStorage(parseConfig(storageConfigSchema, env), { logger: storageLogger });
  client = new storagePb.StorageClient(`127.0.0.1:${(await storage.ready).port}`, credentials.createInsecure());
  stops.push(async () => client.close(), () => storage.stop(), () => sequencer.stop(), async () => {
    await db[Symbol.asyncDispose]();
  });
  stops.push(async () => {
    await using nc = await natsConnection();
    await deleteStreamsWithPrefix(nc, prefix.toUpperCase());
    await deleteStreamsWithPrefix(nc, `KV_${prefix}`);
  });
  const dba = { userId: 'root', role: 'dba' };
  await admin(dba, 'CREATE NAMESPACE app');
  await admin(dba, "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT NOT NULL) WITH (TYPE='USER')");
});

afterAll(async () => {
  for (const stop of stops) await stop();
});

function admin(caller: storagePb.Caller, sql: string): Promise<storagePb.AdminResponse> {
  return new Promise((resolve, reject) => client.admin({ caller, sql, namespace: '' }, new Metadata(), {}, (err, res) => (err ? reject(err) : resolve(res))));
}

let opCounter = 0;
function op(owner: string, statement: string, params: unknown[] = []): busPb.Op {
  return { opId: `${prefix}-${++opCounter}`, actor: owner, actorRole: 'user', owner, namespace: 'app', table: 't', statement, paramsJson: JSON.stringify(params), issuedAtUs: BigInt(Date.now()) * 1000n, replyTo: '', traceparent: '', statements: [] };
}

/** Publishes ops and collects their results from the reply subject. */
async function submit(ops: busPb.Op[]): Promise<busPb.OpResult[]> {
  await using nc = await natsConnection();
  const inbox = `${prefix}.results.test.${opCounter}`;
  const sub = nc.subscribe(`${inbox}.*`);
  const js = jetstream(nc);
  const names = busNames(prefix);
  for (const o of ops) await js.publish(names.ops(shardOf(o.owner, SHARDS)), busPb.Op.encode({ ...o, replyTo: `${inbox}.${o.opId}` }).finish(), { msgID: o.opId });
  const results = new Map<string, busPb.OpResult>();
  for await (const m of sub) {
    for (const r of decodeResults(m.subject, m.data)) results.set(r.opId, r);
    if (results.size === ops.length) sub.unsubscribe();
  }
  return ops.map((o) => results.get(o.opId)!);
}

describe('storage', () => {
  it('applies ops in order, answering each, and a failing op does not stop the shard', async () => {
    const results = await submit([
      op('alice', "INSERT INTO app.t (id, v) VALUES (1, 'a'), (2, 'b')"),
      op('alice', "INSERT INTO app.t (id, v) VALUES (2, 'dup')"),
      op('alice', 'INSERT INTO app.t (id, v) VALUES (3, NULL)'),
      op('alice', "UPDATE app.t SET v = v || '!' WHERE id = 1"),
      op('alice', 'DELETE FROM app.t WHERE id = 2'),
    ]);
    expect(results.map((r) => [r.ok, r.message || r.errorCode]), JSON.stringify(results.map((r) => r.errorMessage))).toEqual([
      [true, 'Inserted 2 row(s)'],
      [false, 'SQL_EXECUTION_ERROR'],
      [false, 'SQL_EXECUTION_ERROR'],
      [true, 'Updated 1 row(s)'],
      [true, 'Deleted 1 row(s)'],
    ]);
    expect(results[1]?.errorMessage).toMatch(/duplicate primary key/);
    expect(results[3]!.seq).toBeGreaterThan(results[0]!.seq);
  });

  it('keeps a second replica off the shards this one owns', async () => {
    const logger = memoryLogger('storage-2');
    const second = new StorageService(parseConfig(storageConfigSchema, { ...env, SEQLINE_INSTANCE_ID: 'second' }), { logger });
    const running = second.run();
    await second.ready;
    await vi.waitFor(() => expect(logger.records.some((r) => r['msg'] === 'shards held by another storage replica; waiting')).toBe(true), { timeout: 10_000 });
    expect(logger.records.some((r) => r['msg'] === 'applying shard')).toBe(false);
    await second.stop();
    await running;
  });
});
