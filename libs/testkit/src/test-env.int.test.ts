// The services global-setup.ts provides, reached through testEnv(): NATS with JetStream and
// PostgreSQL, plus the per-test helpers (createTestDatabase, deleteStreamsWithPrefix).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, deleteStreamsWithPrefix, natsConnection, testEnv } from './index.js';
import { uniqueName } from './support.js';

/** A postgres.js client that ends itself on dispose. */
function sqlClient(url: string): postgres.Sql & AsyncDisposable {
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  return Object.assign(sql, { [Symbol.asyncDispose]: () => sql.end() });
}

async function streamNames(nc: Awaited<ReturnType<typeof natsConnection>>): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  return names;
}

describe('testEnv', () => {
  it('provides the URLs of both services on 127.0.0.1', () => {
    const env = testEnv();
    expect(env.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(env.postgresUrl).toMatch(/^postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/);
  });

  it('reaches NATS with JetStream: a published message reads back exactly', async () => {
    await using nc = await natsConnection();
    const name = uniqueName('tk_env');
    await using _cleanup = { [Symbol.asyncDispose]: () => deleteStreamsWithPrefix(nc, name) };
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`] });

    const ack = await jetstream(nc).publish(`${name}.greeting`, 'hello');

    expect({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }).toEqual({ stream: name, seq: 1, duplicate: false });
    const stored = await jsm.streams.getMessage(name, { seq: 1 });
    expect({ subject: stored?.subject, data: stored?.string() }).toEqual({ subject: `${name}.greeting`, data: 'hello' });
    expect((await jsm.streams.info(name)).state.messages).toBe(1);
  });

  it('reaches PostgreSQL', async () => {
    await using sql = sqlClient(testEnv().postgresUrl);
    expect(await sql`select 1 + 1 as sum`).toEqual([{ sum: 2 }]);
  });
});

describe('createTestDatabase', () => {
  it('creates a database to connect to and drops it on dispose, even with a connection open', async () => {
    await using admin = sqlClient(testEnv().postgresUrl);
    const exists = async (name: string): Promise<boolean> =>
      (await admin`select 1 from pg_database where datname = ${name}`).length === 1;
    let name: string;
    {
      await using db = await createTestDatabase();
      name = db.name;
      expect(name).toMatch(/^t_\d+_\d+_[a-z0-9]+$/);
      expect(await exists(name)).toBe(true);
      const sql = postgres(db.url, { max: 1 });
      expect(await sql`select current_database() as db`).toEqual([{ db: name }]);
      // Left open on purpose: DROP DATABASE ... WITH (FORCE) must end it. `end()` after.
      await db[Symbol.asyncDispose]();
      await sql.end({ timeout: 0 });
    }
    expect(await exists(name)).toBe(false);
  });

  it('gives every call its own database', async () => {
    await using a = await createTestDatabase();
    await using b = await createTestDatabase();
    expect(a.name).not.toBe(b.name);
    expect(new URL(a.url).pathname).toBe(`/${a.name}`);
  });
});

describe('deleteStreamsWithPrefix', () => {
  it('deletes the streams and KV buckets with the prefix and nothing else', async () => {
    await using nc = await natsConnection();
    const prefix = uniqueName('tk_del');
    const other = uniqueName('tk_keep');
    await using _cleanup = { [Symbol.asyncDispose]: () => deleteStreamsWithPrefix(nc, other) };
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${prefix}_a`, subjects: [`${prefix}.a`] });
    await jsm.streams.add({ name: other, subjects: [`${other}.a`] });
    await new Kvm(nc).create(`${prefix}_kv`);
    expect((await streamNames(nc)).filter((n) => n.includes(prefix)).sort()).toEqual([`KV_${prefix}_kv`, `${prefix}_a`]);

    await deleteStreamsWithPrefix(nc, prefix);

    const left = await streamNames(nc);
    expect(left.filter((n) => n.includes(prefix))).toEqual([]);
    expect(left).toContain(other);
  });

  it('refuses an empty prefix', async () => {
    await using nc = await natsConnection();
    await expect(deleteStreamsWithPrefix(nc, '')).rejects.toThrow('empty prefix');
  });
});
