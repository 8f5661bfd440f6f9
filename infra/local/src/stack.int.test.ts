// Drives the start command the way a person does: run it, wait for "ready", use the services,
// press Ctrl-C (SIGINT to the whole process group), and check that everything stopped; and the
// way a supervisor does: SIGTERM to the start command's process alone.
import { execFileSync, spawn } from 'node:child_process';
import { chmod, lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSequencerClient } from '@seqline/sequencer-client';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, natsConnection } from '@seqline/testkit';
import postgres from 'postgres';
import WebSocket from 'ws';
import { afterAll, describe, expect, it, vi } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Ports {
  readonly nats: number;
  readonly pg: number;
  readonly seq: number;
  readonly storage: number;
  readonly write: number;
  readonly gateway: number;
  readonly dashboard: number;
}

/** `main`: infra/local/src/main.ts itself; `npm`: `npm start`, the README's command. */
type Entry = 'main' | 'npm';
const ENTRY: Record<Entry, readonly [string, ...string[]]> = {
  main: [process.execPath, '--conditions=@seqline/source', '--import', 'tsx', join(root, 'infra/local/src/main.ts')],
  npm: ['npm', 'start', '--'],
};

async function runStack(dataDir: string, ports: Ports, args: readonly string[] = [], env: Record<string, string> = {}, entry: Entry = 'main') {
  const [command, ...entryArgs] = ENTRY[entry];
  const child = spawn(command, [...entryArgs, ...args], {
    cwd: root,
    detached: true, // its own process group, like a terminal job
    env: {
      ...process.env,
      SEQLINE_DATA_DIR: dataDir,
      SEQLINE_LOCAL_NATS_PORT: String(ports.nats),
      SEQLINE_LOCAL_POSTGRES_PORT: String(ports.pg),
      SEQLINE_SEQUENCER_PORT: String(ports.seq),
      SEQLINE_STORAGE_PORT: String(ports.storage),
      SEQLINE_WRITE_PORT: String(ports.write),
      SEQLINE_GATEWAY_PORT: String(ports.gateway),
      SEQLINE_LOCAL_METRICS_PORT: '0',
      SEQLINE_DASHBOARD_PORT: String(ports.dashboard),
      SEQLINE_CHAT_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  let exitCode: number | null | undefined;
  let exitSignal: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code, signal) => {
      exitSignal = signal;
      done((exitCode = code));
    }),
  );
  await vi.waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`start command exited with ${exitCode}:\n${out}`);
      expect(out).toMatch(/password: \S+/);
      expect(out).toMatch(/dashboard: \S+ .*password: \S+/);
      expect(out).toMatch(/chat: \S+ .*password: \S+/);
    },
    { timeout: 90_000, interval: 100 },
  );
  const ctrlC = async (): Promise<number | null> => {
    process.kill(-child.pid!, 'SIGINT');
    return exited;
  };
  /** SIGTERM to the start command's process alone, as a supervisor or `timeout` sends it; how it exited. */
  const terminate = async (): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    process.kill(child.pid!, 'SIGTERM');
    const code = await exited;
    return { code, signal: exitSignal };
  };
  return { pid: child.pid!, output: () => out, ctrlC, terminate };
}

interface ProcessRow {
  readonly pid: number;
  readonly ppid: number;
  readonly zombie: boolean;
  readonly command: string;
}

function processTable(): ProcessRow[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((row) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(row))
    .flatMap((m) => (m === null ? [] : [{ pid: Number(m[1]), ppid: Number(m[2]), zombie: m[3]!.startsWith('Z'), command: m[4]! }]));
}

/** Every process below `pid` (children, their children, …) that is running (a zombie has exited). */
function descendants(pid: number): ProcessRow[] {
  const table = processTable();
  const found: ProcessRow[] = [];
  const walk = (parent: number): void => {
    for (const row of table) {
      if (row.ppid !== parent || row.zombie) continue;
      found.push(row);
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}

/** Those of `rows` still running (same pid and command, not a zombie). */
function stillRunning(rows: readonly ProcessRow[]): ProcessRow[] {
  const now = processTable();
  return rows.filter((row) => now.some((n) => n.pid === row.pid && n.command === row.command && !n.zombie));
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** The printed dashboard URL serves the page and the gateway's URL; a printed demo agent sees its seeded tickets. */
async function expectDashboard(text: string, ports: Ports): Promise<void> {
  const [, url, agent, password] = /dashboard: (\S+)\s+sign in as (\S+) or \S+, password: (\S+)/.exec(text) ?? [];
  expect(url).toBe(`http://127.0.0.1:${ports.dashboard}`);
  expect(text).toMatch(new RegExp(`dashboard\\s+http://127\\.0\\.0\\.1:${ports.dashboard}\\s+serving\n`));
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<title>Seqline support dashboard</title>');
  expect((await fetch(`${url}/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect(await (await fetch(`${url}/config.json`)).json()).toEqual({ gatewayUrl: `http://127.0.0.1:${ports.gateway}` });
  expect(await selectRows(ports.gateway, agent!, password!, 'SELECT count(*) FROM app.tickets')).toEqual([['3']]);
}

/** The printed chat URL serves the page; a printed demo user sees the rooms, the relay delivers alice's message to bob. */
async function expectChat(text: string, ports: Ports): Promise<void> {
  const [, url, password] = /chat: (\S+)\s+sign in as alice, bob, carol, password: (\S+)/.exec(text) ?? [];
  expect(text).toMatch(/chat\s+http:\/\/127\.0\.0\.1:\d+\s+serving\n/);
  expect(await (await fetch(`${url}/`)).text()).toContain('<title>Seqline chat</title>');
  expect(await selectRows(ports.gateway, 'bob', password!, 'SELECT id FROM chat.rooms ORDER BY id')).toEqual([['alice-bob'], ['team']]);
  const id = `m-${Date.now()}`;
  await selectRows(ports.gateway, 'alice', password!, `INSERT INTO chat.outbox (id, room_id, body) VALUES ('${id}', 'alice-bob', 'hi')`);
  await expect.poll(() => selectRows(ports.gateway, 'bob', password!, `SELECT author, body FROM chat.messages WHERE id = '${id}'`), { timeout: 15_000 }).toEqual([['alice', 'hi']]);
}

/** Logs in and runs a SELECT over HTTP; its rows. */
async function selectRows(gatewayPort: number, user: string, password: string, sql: string): Promise<unknown[] | undefined> {
  const login = await fetch(`http://127.0.0.1:${gatewayPort}/v1/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const read = await fetch(`http://127.0.0.1:${gatewayPort}/v1/api/sql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ sql }),
  });
  return ((await read.json()) as { results: { rows: unknown[] }[] }).results[0]?.rows;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start (infra/local)', () => {
  it('brings up NATS, PostgreSQL and the sequencer, reports them healthy, starts a service that died again, and stops cleanly on Ctrl-C; data survives a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'seqline-stack-'));
    dirs.push(dataDir);
    await chmod(dataDir, 0o755); // like a checkout: PostgreSQL runs as another OS user when we are root
    const ports: Ports = { nats: await freePort(), pg: await freePort(), seq: await freePort(), storage: await freePort(), write: await freePort(), gateway: await freePort(), dashboard: await freePort() };

    const first = await runStack(dataDir, ports);
    const text = first.output();
    expect(text).toMatch(new RegExp(`NATS\\s+nats://127\\.0\\.0\\.1:${ports.nats}\\s+healthy`));
    expect(text).toMatch(new RegExp(`PostgreSQL\\s+postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${ports.pg}/postgres\\s+healthy`));
    expect(text).toMatch(new RegExp(`sequencer\\s+127\\.0\\.0\\.1:${ports.seq} \\(gRPC\\)\\s+healthy`));
    expect(text).toMatch(new RegExp(`storage\\s+127\\.0\\.0\\.1:${ports.storage} \\(gRPC\\)\\s+healthy`));
    expect(text).toMatch(new RegExp(`write\\s+127\\.0\\.0\\.1:${ports.write} \\(gRPC\\)\\s+healthy`));
    expect(text).toContain(`Seqline ready at http://127.0.0.1:${ports.gateway}\n`);
    const [, user, password] = /user: (\S+)\s+password: (\S+)/.exec(text) ?? [];
    expect(user).toBe('admin');
    const login = await fetch(`http://127.0.0.1:${ports.gateway}/v1/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    // The gateway process serves realtime subscriptions too.
    const ws = new WebSocket(`ws://127.0.0.1:${ports.gateway}/v1/ws?compress=false`, { headers: { authorization: `Bearer ${token}` } });
    const greeting = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data.toString()));
      ws.once('error', reject);
    });
    ws.close();
    expect(JSON.parse(greeting)).toEqual({ type: 'auth_success', user: 'admin', role: 'dba', protocol: { serialization: 'json', compression: 'none' } });
    const created = await fetch(`http://127.0.0.1:${ports.gateway}/v1/api/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ sql: "CREATE NAMESPACE demo; CREATE TABLE demo.notes (id INT PRIMARY KEY, body TEXT) WITH (TYPE='USER'); INSERT INTO demo.notes (id, body) VALUES (1, 'kept')" }),
    });
    expect(created.status).toBe(200);
    await expectDashboard(text, ports);
    await expectChat(text, ports);

    // A service that dies is started again on its ports, as compose or Kubernetes would.
    const sequencers = descendants(first.pid).filter((p) => p.command.includes('services/sequencer/dist/main.js'));
    expect(sequencers).toHaveLength(1);
    process.kill(sequencers[0]!.pid, 'SIGKILL');
    await vi.waitFor(() => expect(first.output()).toContain('sequencer healthy again\n'), { timeout: 60_000, interval: 100 });
    expect(first.output()).toContain('sequencer exited unexpectedly (code null); starting it again in 1 s (restart 1 of at most 5 within 10 min)');
    const restarted = descendants(first.pid).filter((p) => p.command.includes('services/sequencer/dist/main.js'));
    expect(restarted.map((p) => p.pid)).not.toContain(sequencers[0]!.pid);
    expect(restarted).toHaveLength(1);
    // Writes take their _seq from it again (the write service reconnects; the key makes a retry apply once).
    await expect
      .poll(
        async () =>
          (
            await fetch(`http://127.0.0.1:${ports.gateway}/v1/api/sql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': 'after-the-restart' },
              body: JSON.stringify({ sql: "INSERT INTO demo.notes (id, body) VALUES (2, 'after the restart')" }),
            })
          ).status,
        { timeout: 30_000, interval: 500 },
      )
      .toBe(200);

    const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as { postgresPassword: string };
    expect(secrets.postgresPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);

    const client = createSequencerClient(`127.0.0.1:${ports.seq}`);
    const { ranges } = await client.allocate(10);
    client.close();
    expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(10);
    const sql = postgres(`postgres://postgres:${secrets.postgresPassword}@127.0.0.1:${ports.pg}/postgres`, { max: 1 });
    await sql`create table kept (v int)`;
    await sql`insert into kept values (42)`;
    await sql.end();

    const pids = (await readFile(join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0];
    expect(await first.ctrlC()).toBe(0);
    expect(first.output()).toMatch(/stopping…\nstopped\n$/);
    expect(alive(Number(pids))).toBe(false);

    const second = await runStack(dataDir, ports);
    expect(await selectRows(ports.gateway, user!, password!, 'SELECT id, body FROM demo.notes ORDER BY id')).toEqual([[1, 'kept'], [2, 'after the restart']]);
    const again = postgres(`postgres://postgres:${secrets.postgresPassword}@127.0.0.1:${ports.pg}/postgres`, { max: 1 });
    expect(await again`select v from kept`).toEqual([{ v: 42 }]);
    await again.end();
    await expectDashboard(second.output(), ports); // seeded once: still three tickets each
    expect(await second.ctrlC()).toBe(0);
  });

  it('as root with its data inside a directory closed to the postgres OS user, comes up; SIGTERM to `npm start` alone stops the whole stack', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'seqline-closed-')); // mode 0700, like `mktemp -d` or /root
    dirs.push(closed);
    const dataDir = join(closed, '.seqline');
    const ports: Ports = { nats: await freePort(), pg: await freePort(), seq: await freePort(), storage: await freePort(), write: await freePort(), gateway: await freePort(), dashboard: await freePort() };
    const stack = await runStack(dataDir, ports, [], {}, 'npm');
    const pgLink = join(dataDir, 'postgres');
    // Not root: PostgreSQL runs as us and keeps its data in place.
    const pgDir = process.getuid?.() === 0 ? await readlink(pgLink) : pgLink;
    await using _external = { [Symbol.asyncDispose]: () => (pgDir === pgLink ? Promise.resolve() : rm(pgDir, { recursive: true, force: true })) };
    if (process.getuid?.() === 0) {
      expect((await lstat(pgLink)).isSymbolicLink()).toBe(true);
      expect(pgDir).toMatch(/^\/var\/lib\/seqline\/postgres-[A-Za-z0-9]{6}$/);
      const info = await stat(pgDir);
      expect([info.uid, info.mode & 0o777]).toEqual([Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0o700]);
      expect(stack.output()).toContain(`(PostgreSQL's data is in ${pgDir}: the postgres OS user cannot enter ${dataDir})`);
    }
    const [, user, password] = /user: (\S+)\s+password: (\S+)/.exec(stack.output()) ?? [];
    expect(await selectRows(ports.gateway, user!, password!, 'SELECT 1 AS one')).toEqual([[1]]);

    const postmaster = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const running = descendants(stack.pid);
    const kind = (p: ProcessRow): string | undefined =>
      p.pid === postmaster ? 'postgres' : p.command.includes('nats-server') ? 'nats-server' : /services\/(\w+)\/dist\/main\.js/.exec(p.command)?.[1];
    const servers = running.filter((p) => kind(p) !== undefined);
    // NATS, the postmaster and the four services, each from its bundle (not through tsx).
    expect(servers.map(kind).sort()).toEqual(['gateway', 'nats-server', 'postgres', 'sequencer', 'storage', 'write']);
    const watched = [ports.nats, ports.pg, ports.seq, ports.storage, ports.write, ports.gateway, ports.dashboard];
    expect(await Promise.all(watched.map(listening))).toEqual(watched.map(() => true));

    // npm passes SIGTERM on to its script (bootstrap.mjs, through `exec`) and exits as it does.
    expect(await stack.terminate()).toEqual({ code: 0, signal: null });
    expect(stack.output()).toMatch(/stopping…\nstopped\n$/);
    expect(stillRunning(servers)).toEqual([]); // stopped before the start command exited
    // The rest (PostgreSQL's own children, the watchdog shells) go right after.
    await vi.waitFor(() => expect(stillRunning(running)).toEqual([]), { timeout: 10_000, interval: 100 });
    expect(await Promise.all(watched.map(listening))).toEqual(watched.map(() => false));
  });

  it('with --cluster runs three NATS nodes, gives the services every URL and keeps streams and buckets on 3 replicas', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'seqline-stack-'));
    dirs.push(dataDir);
    await chmod(dataDir, 0o755);
    const ports: Ports = { nats: 0, pg: await freePort(), seq: await freePort(), storage: await freePort(), write: await freePort(), gateway: await freePort(), dashboard: 0 };
    const stack = await runStack(dataDir, ports, ['--cluster'], { SEQLINE_LOCAL_NATS_CLUSTER_PORT: '0' });
    const [, list = ''] = /NATS\s+(\S+)\s+healthy \(3-node cluster\)/.exec(stack.output()) ?? [];
    const urls = list.split(',');
    expect(urls).toHaveLength(3);
    expect(urls.every((u) => /^nats:\/\/127\.0\.0\.1:\d+$/.test(u))).toBe(true);
    const [, user, password] = /user: (\S+)\s+password: (\S+)/.exec(stack.output()) ?? [];
    expect(await selectRows(ports.gateway, user!, password!, 'SELECT 1 AS one')).toEqual([[1]]);
    {
      await using nc = await natsConnection(urls);
      const jsm = await jetstreamManager(nc);
      const replicas: Record<string, number> = {};
      for await (const si of jsm.streams.list()) replicas[si.config.name] = si.config.num_replicas;
      expect(replicas).toEqual({ SEQLINE_OPS: 3, SEQLINE_CHANGES: 3, KV_seqline_sequencer_leases: 3, KV_seqline_sequencer_hwm: 3, KV_seqline_gateways: 3, KV_seqline_consumers: 3 });
    }
    expect(await stack.ctrlC()).toBe(0);
    for (const url of urls) await expect(natsConnection(url, { reconnect: false })).rejects.toThrow();
  });

  it('prints its configuration with --help', async () => {
    const child = spawn(process.execPath, ['--conditions=@seqline/source', '--import', 'tsx', join(root, 'infra/local/src/main.ts'), '--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(code).toBe(0);
    expect(out).toContain('--cluster');
    for (const name of ['SEQLINE_LOCAL_NATS_CLUSTER', 'SEQLINE_DATA_DIR', 'SEQLINE_LOCAL_NATS_PORT', 'SEQLINE_LOCAL_POSTGRES_PORT', 'SEQLINE_POSTGRES_URL', 'SEQLINE_SEQUENCER_PORT', 'SEQLINE_GATEWAY_PORT', 'SEQLINE_DASHBOARD_PORT', 'SEQLINE_ADMIN_USER']) {
      expect(out).toContain(name);
    }
  });
});
