// Drives the start command the way a person does: run it, wait for "ready", use the services,
// press Ctrl-C (SIGINT to the whole process group), and check that everything stopped.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSequencerClient } from '@seqline/sequencer';
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

async function runStack(dataDir: string, ports: Ports, args: readonly string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'infra/local/src/main.ts'), ...args], {
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
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done((exitCode = code))));
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
  return { output: () => out, ctrlC };
}

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
  it('brings up NATS, PostgreSQL and the sequencer, reports them healthy, and stops cleanly on Ctrl-C; data survives a restart', async () => {
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
    expect(await selectRows(ports.gateway, user!, password!, 'SELECT id, body FROM demo.notes')).toEqual([[1, 'kept']]);
    const again = postgres(`postgres://postgres:${secrets.postgresPassword}@127.0.0.1:${ports.pg}/postgres`, { max: 1 });
    expect(await again`select v from kept`).toEqual([{ v: 42 }]);
    await again.end();
    await expectDashboard(second.output(), ports); // seeded once: still three tickets each
    expect(await second.ctrlC()).toBe(0);
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
      expect(replicas).toEqual({ SEQLINE_OPS: 3, SEQLINE_CHANGES: 3, KV_seqline_sequencer_leases: 3, KV_seqline_sequencer_hwm: 3, KV_seqline_gateways: 3 });
    }
    expect(await stack.ctrlC()).toBe(0);
    for (const url of urls) await expect(natsConnection(url, { reconnect: false })).rejects.toThrow();
  });

  it('prints its configuration with --help', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'infra/local/src/main.ts'), '--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
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
