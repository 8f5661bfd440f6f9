// Least privilege (issue 10) against a real PostgreSQL and a running storage: storage's session
// is neither a superuser nor BYPASSRLS (and a superuser URL is refused at start, exit 78); as
// seqline_writer with an owner set, nothing outside that owner's partition can be read or
// written; the dangerous built-ins are not executable by the writer or the reader; an op whose
// statement calls one is refused by PostgreSQL and stores nothing; and a database made by a
// superuser before (an older data directory) is handed to the runtime role and keeps working.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { memoryLogger, parseConfig } from '@seqline/runtime';
import { initSql, parseStatements, READER_ROLE, SETTING_USER_ID, WRITER_ROLE } from '@seqline/sql';
import { TEST_RUNTIME_ROLE, waitFor } from '@seqline/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from './admin.js';
import { CatalogCache } from './catalog.js';
import { storageConfigSchema } from './config.js';
import { connectPostgres } from './db.js';
import { migrate } from './migrations.js';
import { startStorage } from './storage.js';
import { storageHarness, type StorageHarness } from './testing.js';

let h: StorageHarness;
let superuser: postgres.Sql;
let runtime: postgres.Sql;

beforeAll(async () => {
  h = await storageHarness('priv');
  const storage = await h.start();
  await h.admin(storage, ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')", "CREATE TABLE app.s (id INT PRIMARY KEY, v TEXT) WITH (TYPE='SHARED')"]);
  superuser = postgres(h.db.url, { max: 1, onnotice: () => {} });
  runtime = postgres(h.db.runtimeUrl, { max: 1, onnotice: () => {} });
  await superuser`INSERT INTO app.t (_user_id, id, v, _seq, _deleted) VALUES ('alice', 1, 'alice-row', 1, false), ('bob', 1, 'bob-canary', 2, false)`;
  await superuser`INSERT INTO app.s (id, v, _seq, _deleted) VALUES (1, 'shared-canary', 3, false)`;
});

afterAll(async () => {
  await superuser.end();
  await runtime.end();
  await h[Symbol.asyncDispose]();
});

type Outcome = { readonly count: number; readonly rows: readonly unknown[] } | { readonly code: string };

/** `statement` as the runtime role switched to `role`, with the owner (and the reader's user) set as storage sets them. */
async function as(role: string, owner: string, statement: string): Promise<Outcome> {
  try {
    return await runtime.begin(async (tx) => {
      await tx`SELECT set_config('seqline.owner', ${owner}, true), set_config(${SETTING_USER_ID}, ${owner}, true)`;
      await tx.unsafe(`SET LOCAL ROLE ${role}`);
      const result = await tx.unsafe(statement);
      return { count: result.count, rows: [...result] };
    });
  } catch (err) {
    return { code: (err as { code: string }).code };
  }
}

describe("storage's PostgreSQL session", () => {
  it('is neither a superuser nor BYPASSRLS', async () => {
    const sessions = await waitFor(async () => {
      const rows = await superuser<{ user: string; super: boolean; bypass: boolean }[]>`
        SELECT DISTINCT a.usename AS user, r.rolsuper AS super, r.rolbypassrls AS bypass
        FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
        WHERE a.datname = current_database() AND a.application_name = 'seqline-storage'`;
      return rows.length > 0 ? rows : undefined;
    });
    expect(sessions).toEqual([{ user: TEST_RUNTIME_ROLE, super: false, bypass: false }]);
  });

  it('refuses to start as a superuser: a configuration error, exit 78', async () => {
    const env = { SEQLINE_POSTGRES_URL: h.db.url, SEQLINE_STORAGE_PORT: '0', SEQLINE_METRICS_PORT: '0', SEQLINE_BUS_PREFIX: h.prefix, SEQLINE_LOG_LEVEL: 'error' };
    await expect(startStorage(parseConfig(storageConfigSchema, env), { logger: memoryLogger() })).rejects.toMatchObject({
      name: 'ConfigError',
      problems: expect.arrayContaining(['SEQLINE_POSTGRES_URL: role "postgres" is a superuser; storage must run as a role without SUPERUSER']) as unknown,
    });
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'main.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    expect(await new Promise<number | null>((done) => child.once('exit', done))).toBe(78);
    expect(out).toContain('is a superuser');
  }, 60_000);
});

describe('the writer, with owner alice', () => {
  const denied = { code: '42501' };

  it("neither reads nor writes bob's partition", async () => {
    expect(await as(WRITER_ROLE, 'alice', 'SELECT _user_id, v FROM app.t ORDER BY _user_id')).toEqual({ count: 1, rows: [{ _user_id: 'alice', v: 'alice-row' }] });
    expect(await as(WRITER_ROLE, 'alice', "SELECT v FROM app.t WHERE _user_id = 'bob' FOR UPDATE")).toEqual({ count: 0, rows: [] });
    expect(await as(WRITER_ROLE, 'alice', "INSERT INTO app.t (_user_id, id, v, _seq) VALUES ('bob', 2, 'planted', 9)")).toEqual(denied);
    expect(await as(WRITER_ROLE, 'alice', "UPDATE app.t SET v = 'defaced' WHERE _user_id = 'bob'")).toEqual({ count: 0, rows: [] });
    expect(await as(WRITER_ROLE, 'alice', "UPDATE app.t SET _user_id = 'bob' WHERE _user_id = 'alice'")).toEqual(denied);
    expect(await as(WRITER_ROLE, 'alice', "DELETE FROM app.t WHERE _user_id = 'bob'")).toEqual(denied);
    expect(await as(WRITER_ROLE, 'alice', "INSERT INTO app.t (_user_id, id, v, _seq) SELECT 'alice', id + 100, v, _seq FROM app.t WHERE _user_id = 'bob'")).toEqual({ count: 0, rows: [] });
    expect(await as(WRITER_ROLE, 'alice', 'SELECT * FROM app.t__p0')).toEqual(denied);
    expect(await as(WRITER_ROLE, 'alice', 'SELECT * FROM seqline.users')).toEqual(denied);
    expect(await superuser`SELECT _user_id, id, v FROM app.t ORDER BY _user_id, id`).toEqual([
      { _user_id: 'alice', id: 1, v: 'alice-row' },
      { _user_id: 'bob', id: 1, v: 'bob-canary' },
    ]);
  });

  it('neither reads nor writes a SHARED table; the shared owner token does', async () => {
    expect(await as(WRITER_ROLE, 'alice', 'SELECT v FROM app.s')).toEqual({ count: 0, rows: [] });
    expect(await as(WRITER_ROLE, 'alice', "INSERT INTO app.s (id, v, _seq) VALUES (2, 'planted', 9)")).toEqual(denied);
    expect(await as(WRITER_ROLE, 'alice', "UPDATE app.s SET v = 'defaced'")).toEqual({ count: 0, rows: [] });
    expect(await as(WRITER_ROLE, '_shared', 'SELECT v FROM app.s')).toEqual({ count: 1, rows: [{ v: 'shared-canary' }] });
    expect(await as(WRITER_ROLE, '_shared', 'SELECT v FROM app.t')).toEqual({ count: 0, rows: [] });
  });
});

describe('dangerous built-ins', () => {
  const calls = [
    "SELECT pg_read_file('postgresql.conf')",
    "SELECT * FROM ts_stat('SELECT to_tsvector(v) FROM app.t')",
    "SELECT query_to_xml('SELECT * FROM app.t', true, true, '')",
    'SELECT pg_sleep(0)',
    'SELECT pg_advisory_lock(1)',
    "SELECT lo_import('/etc/hostname')",
    "SELECT set_config('seqline.owner', 'bob', true)",
    "SELECT current_setting('data_directory')",
  ];

  it.each([WRITER_ROLE, READER_ROLE])('are refused to %s (insufficient_privilege)', async (role) => {
    for (const call of calls) expect({ call, outcome: await as(role, 'alice', call) }).toEqual({ call, outcome: { code: '42501' } });
    // The policies' own function stays executable.
    expect(await as(role, 'alice', "SELECT current_setting('seqline.owner') AS o")).toEqual({ count: 1, rows: [{ o: 'alice' }] });
  });

  it('refuse an op that calls them through field notation, storing nothing', async () => {
    const statements = [
      "INSERT INTO app.t (id, v) VALUES (10, ('data_directory'::text).current_setting)",
      "INSERT INTO app.t (id, v) VALUES (11, ('postgresql.conf'::text).pg_read_file)",
      "UPDATE app.t SET v = ('data_directory'::text).current_setting WHERE id = 1",
    ];
    for (const [i, statement] of statements.entries()) await h.publish({ opId: `${h.prefix}-f${i}`, owner: 'alice', table: 't', statement }, 1);
    const results = (await waitFor(() => (h.results.length >= statements.length ? h.results.slice(0, statements.length) : undefined)))!;
    expect(results.map((r) => ({ opId: r.opId, ok: r.ok }))).toEqual(statements.map((_, i) => ({ opId: `${h.prefix}-f${i}`, ok: false })));
    const [dir] = await superuser<{ d: string }[]>`SELECT current_setting('data_directory') AS d`;
    for (const r of results) expect(r.errorMessage).not.toContain(dir!.d);
    expect(await superuser`SELECT _user_id, id, v FROM app.t ORDER BY _user_id, id`).toEqual([
      { _user_id: 'alice', id: 1, v: 'alice-row' },
      { _user_id: 'bob', id: 1, v: 'bob-canary' },
    ]);
  });
});

describe('a database made by a superuser before', () => {
  it('is handed to the runtime role at start-up and its tables get the writer policies', async () => {
    await using old = await storageHarness('privold');
    const sql = connectPostgres(old.db.url, { max: 1 });
    try {
      await initSql();
      await migrate(sql, 2);
      const catalog = new CatalogCache(sql);
      await catalog.reload();
      for (const text of ['CREATE NAMESPACE app', "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')"]) {
        await runAdmin({ sql, catalog, hashPartitions: 2 }, parseStatements(text)[0] as never, { userId: 'root', role: 'dba' });
      }
      await sql`INSERT INTO app.t (_user_id, id, v, _seq, _deleted) VALUES ('alice', 1, 'before', 1, false)`;
      await old.start();
      await old.publish({ opId: `${old.prefix}-u`, owner: 'alice', table: 't', statement: "UPDATE app.t SET v = 'after' WHERE id = 1" }, 1);
      const [result] = (await waitFor(() => (old.results.length > 0 ? old.results : undefined)))!;
      expect({ ok: result!.ok, rows: result!.rowCount, error: result!.errorMessage }).toEqual({ ok: true, rows: 1n, error: '' });
      expect(await sql`SELECT v FROM app.t`).toEqual([{ v: 'after' }]);
      const owners = await sql<{ owner: string; n: number }[]>`
        SELECT pg_get_userbyid(c.relowner) AS owner, count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('app', 'seqline') AND c.relkind IN ('r', 'p', 'v') GROUP BY 1`;
      expect(owners.map((o) => o.owner)).toEqual([TEST_RUNTIME_ROLE]);
    } finally {
      await sql.end();
    }
  }, 60_000);
});
