// Hostile tenants, part A (issue 10): least privilege on the write path. The attack
// called functions through field notation in an INSERT, which storage applied as the PostgreSQL
// superuser without row-level security: the data directory, a file, and (through ts_stat)
// another tenant's rows landed in the attacker's partition. Whatever the rewrite admits, storage
// now applies each op as seqline_writer under row-level security keyed on the op's owner, as a
// runtime role that is not a superuser, and the dangerous built-ins are not executable by the
// writer or the reader. Each check ends with the bystander served.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBystander, expectServed, type Bystander } from './bystander.js';
import { login, ok, sql } from './client.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let bystander: Bystander;
let mallory: string;
let superuser: postgres.Sql;
let dataDirectory: string;

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  bystander = await createBystander(stack, admin, 'app');
  await ok(stack.url, admin, "CREATE TABLE app.t (id INT PRIMARY KEY, v TEXT) WITH (TYPE='USER')");
  await ok(stack.url, admin, "CREATE USER mallory WITH PASSWORD 'mallory-pass-1' ROLE user");
  await ok(stack.url, admin, "CREATE USER bob WITH PASSWORD 'bob-pass-123' ROLE user");
  mallory = await login(stack.url, 'mallory', 'mallory-pass-1');
  await ok(stack.url, await login(stack.url, 'bob', 'bob-pass-123'), "INSERT INTO app.t (id, v) VALUES (1, 'bob-canary')");
  superuser = postgres(stack.postgresUrl, { max: 1, onnotice: () => {} });
  const [row] = await superuser<{ d: string }[]>`SELECT current_setting('data_directory') AS d`;
  dataDirectory = row!.d;
});

afterAll(async () => {
  await superuser?.end();
  await stack?.[Symbol.asyncDispose]();
});

/** Everything mallory can read back of app.t, and every message she was answered with. */
function leaked(texts: readonly string[]): string[] {
  return texts.filter((t) => t.includes(dataDirectory) || t.includes('bob-canary') || t.includes('listen_addresses') || t.includes('seqline_storage'));
}

describe('the write path, as a hostile tenant', () => {
  it("stores nothing of the server's through field notation, and answers without its text", async () => {
    const attacks = [
      "INSERT INTO app.t (id, v) VALUES (10, ('data_directory'::text).current_setting)",
      "INSERT INTO app.t (id, v) VALUES (11, ('postgresql.conf'::text).pg_read_file)",
      "INSERT INTO app.t (id, v) VALUES (12, ('bob'::text).pg_read_file)",
      "INSERT INTO app.t (id, v) VALUES (13, ('SELECT to_tsvector(v) FROM app.t'::text).ts_stat::text)",
      "INSERT INTO app.t (id, v) VALUES (14, ('select 1'::text).pg_sleep::text)",
      "INSERT INTO app.t (id, v) VALUES (15, (('/etc/hostname')::text).lo_import::text)",
      "UPDATE app.t SET v = ('data_directory'::text).current_setting WHERE id = 1",
    ];
    const answers: string[] = [];
    for (const attack of attacks) {
      const r = await sql(stack.url, mallory, attack);
      answers.push(JSON.stringify(r.body));
    }
    const rows = await ok(stack.url, mallory, 'SELECT id, v FROM app.t ORDER BY id');
    expect(leaked([...answers, ...rows.map((r) => JSON.stringify(r))])).toEqual([]);
    // Nothing the attacks computed was stored, in mallory's partition or anywhere else.
    expect(await superuser`SELECT _user_id, id, v FROM app.t ORDER BY _user_id, id`).toEqual([{ _user_id: 'bob', id: 1, v: 'bob-canary' }]);
    await expectServed(stack, bystander);
  });

  it("runs storage as a role that is neither a superuser nor BYPASSRLS, and the writer and reader can't call the dangerous built-ins", async () => {
    const sessions = await superuser<{ super: boolean; bypass: boolean }[]>`
      SELECT DISTINCT r.rolsuper AS super, r.rolbypassrls AS bypass FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
      WHERE a.datname = current_database() AND a.application_name = 'seqline-storage'`;
    expect(sessions).toEqual([{ super: false, bypass: false }]);
    const functions = [
      'pg_catalog.pg_read_file(text)',
      'pg_catalog.pg_read_binary_file(text)',
      'pg_catalog.ts_stat(text)',
      'pg_catalog.query_to_xml(text, boolean, boolean, text)',
      'pg_catalog.pg_sleep(double precision)',
      'pg_catalog.pg_advisory_lock(bigint)',
      'pg_catalog.lo_import(text)',
      'pg_catalog.pg_notify(text, text)',
      'pg_catalog.pg_terminate_backend(integer, bigint)',
      'pg_catalog.set_config(text, text, boolean)',
    ];
    const granted = await superuser<{ role: string; fn: string }[]>`
      SELECT r.role, f.fn FROM unnest(${['seqline_writer', 'seqline_reader']}::text[]) AS r(role), unnest(${functions}::text[]) AS f(fn)
      WHERE has_function_privilege(r.role, f.fn, 'EXECUTE')`;
    expect(granted).toEqual([]);
    await expectServed(stack, bystander);
  });

  it("admits the writer, with mallory's owner set, to nothing of bob's: the copy the issue made copies no row", async () => {
    const runtime = postgres(stack.runtimePostgresUrl, { max: 1, onnotice: () => {} });
    try {
      const asWriter = (statement: string): Promise<number | string> =>
        runtime
          .begin(async (tx) => {
            await tx`SELECT set_config('seqline.owner', 'mallory', true)`;
            await tx.unsafe('SET LOCAL ROLE seqline_writer');
            return (await tx.unsafe(statement)).count;
          })
          .catch((err: { code: string }) => err.code);
      expect(await asWriter("INSERT INTO app.t (_user_id, id, v, _seq) SELECT 'mallory', id + 100, v, _seq FROM app.t WHERE _user_id = 'bob'")).toBe(0);
      expect(await asWriter("INSERT INTO app.t (_user_id, id, v, _seq) SELECT 'mallory', 200, user_id, 1 FROM seqline.users")).toBe('42501');
      expect(await asWriter("UPDATE app.t SET v = 'defaced' WHERE _user_id = 'bob'")).toBe(0);
      expect(await asWriter("INSERT INTO app.t (_user_id, id, v, _seq) VALUES ('bob', 300, 'planted', 1)")).toBe('42501');
      expect(await superuser`SELECT _user_id, id, v FROM app.t ORDER BY _user_id, id`).toEqual([{ _user_id: 'bob', id: 1, v: 'bob-canary' }]);
    } finally {
      await runtime.end();
    }
    await expectServed(stack, bystander);
  });
});
