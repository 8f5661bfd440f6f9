// The whole Seqline stack for end-to-end tests: sequencer, storage, write and gateway in this
// process (or as child processes where a test kills one), against the run's real NATS and a
// fresh PostgreSQL database, isolated by a unique bus/KV prefix. Tests talk to it only through
// its public interfaces: HTTP, and JetStream for the change subjects.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { busNames, type BusNames } from '@seqline/bus';
import { gatewayConfigSchema, startGateway, type GatewayService } from '@seqline/gateway';
import { createLogger, parseConfig, startOpsServer, type LogLevel, type OpsServer, type Service } from '@seqline/runtime';
import { sequencerConfigSchema, startSequencer } from '@seqline/sequencer';
import { startStorage, storageConfigSchema } from '@seqline/storage';
import { createTestDatabase, deleteStreamsWithPrefix, freePort, natsConnection, testEnv, uniqueName } from '@seqline/testkit';
import { startWrite, writeConfigSchema } from '@seqline/write';

const root = resolve(import.meta.dirname, '../..');
const logLevel = (process.env['SEQLINE_TEST_LOG_LEVEL'] ?? 'error') as LogLevel;

export interface StackOptions {
  readonly shards?: number;
  /** Services to run as child processes (so a test can SIGKILL them). */
  readonly processes?: readonly ('storage' | 'write')[];
  readonly env?: Readonly<Record<string, string>>;
  /** A NATS of the test's own (e.g. one it restarts, or the nodes of a cluster); default: the run's shared one. */
  readonly natsUrl?: string | readonly string[];
  /** SEQLINE_NATS_REPLICAS of every service (3 on a 3-node cluster); default 1. */
  readonly natsReplicas?: number;
}

export interface Stack extends AsyncDisposable {
  readonly url: string;
  readonly names: BusNames;
  readonly prefix: string;
  /** The database as a superuser, for tests that inspect it directly. */
  readonly postgresUrl: string;
  /** The database as storage's runtime role. */
  readonly runtimePostgresUrl: string;
  /** The first of natsUrls. */
  readonly natsUrl: string;
  readonly natsUrls: readonly string[];
  readonly admin: { readonly user: string; readonly password: string };
  /** The gateway's JWT secret, for tests that forge or expire tokens. */
  readonly jwtSecret: string;
  readonly env: Readonly<Record<string, string>>;
  /** The in-process gateway behind `url` (its live tail's test hook: `liveTail.dropDeliveries`). */
  readonly gateway: GatewayService;
  /** Child processes by name (when started with `processes`). */
  readonly children: Map<string, ChildService>;
  /** The ops endpoint (`/metrics`, `/health`) of each in-process service, by name, as a base URL. */
  readonly ops: Readonly<Record<string, string>>;
  /** Starts (again) a service as a child process, resolving once it serves. */
  spawn(name: 'storage' | 'write' | 'gateway'): Promise<ChildService>;
}

export interface ChildService {
  readonly process: ChildProcess;
  /** The HTTP base URL of a spawned gateway. */
  readonly url?: string;
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const natsUrls = options.natsUrl === undefined ? [testEnv().natsUrl] : typeof options.natsUrl === 'string' ? [options.natsUrl] : [...options.natsUrl];
  const nats = { SEQLINE_NATS_URL: natsUrls.join(','), SEQLINE_NATS_REPLICAS: String(options.natsReplicas ?? 1) };
  const db = await createTestDatabase();
  const prefix = uniqueName('e2e');
  const logger = (service: string) => createLogger({ service, level: logLevel });
  const admin = { user: 'admin', password: randomBytes(12).toString('base64url') };
  const jwtSecret = randomBytes(32).toString('hex');
  const services: Service[] = [];
  const children = new Map<string, ChildService>();
  const sequencerAt = (port: number) => startSequencer(parseConfig(sequencerConfigSchema, { ...nats, SEQLINE_SEQUENCER_PORT: String(port), SEQLINE_KV_PREFIX: prefix }), { logger: logger('sequencer') });
  const sequencer = await sequencerAt(0);
  // Ops endpoints as main.ts serves them, on free ports (child processes get SEQLINE_METRICS_PORT=0).
  const opsServers: OpsServer[] = [];
  const ops: Record<string, string> = {};
  const serveOps = async (name: string, service: Service): Promise<void> => {
    const server = await startOpsServer({ host: '127.0.0.1', port: 0, version: 'test', registry: service.metrics!, checks: { service: () => service.checkReady?.() } });
    opsServers.push(server);
    ops[name] = server.url;
  };
  await serveOps('sequencer', sequencer);
  services.push(sequencer);
  const seqPort = (await sequencer.ready).port;
  // As an orchestrator restarts a process that exits: a sequencer that fails (it stops when
  // its worker-id lease was lost, e.g. NATS unreachable for longer than the lease while a node
  // was killed) is started again on its port, with a new lease. Until the stack is disposed.
  let disposed = false;
  const supervise = (running: Service): void => {
    running.run().catch(async () => {
      for (let attempt = 0; !disposed; attempt++) {
        try {
          const next = await sequencerAt(seqPort);
          services[services.indexOf(running)] = next;
          if (disposed) await next.stop();
          else supervise(next);
          return;
        } catch {
          await new Promise((done) => setTimeout(done, Math.min(2000, 100 * 2 ** attempt)));
        }
      }
    });
  };
  supervise(sequencer);
  // In-process services bind port 0 and report theirs; a child process gets a port picked by
  // freePort (outside the ephemeral range), kept for its restarts.
  const ports = { storage: 0, write: 0 };
  const common: Record<string, string> = {
    ...nats,
    SEQLINE_BUS_PREFIX: prefix,
    SEQLINE_SHARDS: String(options.shards ?? 4),
    SEQLINE_POSTGRES_URL: db.runtimeUrl,
    SEQLINE_POSTGRES_ADMIN_URL: db.url,
    SEQLINE_SEQUENCER_ADDR: `127.0.0.1:${seqPort}`,
    SEQLINE_LOG_LEVEL: logLevel,
    SEQLINE_METRICS_PORT: '0',
    ...options.env,
  };
  const addresses = (): Record<string, string> => ({
    SEQLINE_STORAGE_ADDR: `127.0.0.1:${ports.storage}`,
    SEQLINE_STORAGE_PORT: String(ports.storage),
    SEQLINE_WRITE_ADDR: `127.0.0.1:${ports.write}`,
    SEQLINE_WRITE_PORT: String(ports.write),
  });
  const spawnChild = async (name: 'storage' | 'write' | 'gateway'): Promise<ChildService> => {
    if (name !== 'gateway' && ports[name] === 0) ports[name] = await freePort();
    const gatewayPort = name === 'gateway' ? await freePort() : undefined;
    const env = { ...common, ...addresses(), ...(gatewayPort === undefined ? {} : { SEQLINE_GATEWAY_PORT: String(gatewayPort), SEQLINE_JWT_SECRET: jwtSecret }) };
    const child = await spawnService(name, env);
    children.set(name, child);
    return gatewayPort === undefined ? child : { ...child, url: `http://127.0.0.1:${gatewayPort}` };
  };
  if (options.processes?.includes('storage')) await spawnChild('storage');
  else {
    const storage = await startStorage(parseConfig(storageConfigSchema, { ...common, ...addresses() }), { logger: logger('storage') });
    services.push(storage);
    ports.storage = (await storage.ready).port;
    await serveOps('storage', storage);
  }
  if (options.processes?.includes('write')) await spawnChild('write');
  else {
    const write = await startWrite(parseConfig(writeConfigSchema, { ...common, ...addresses() }), { logger: logger('write') });
    services.push(write);
    ports.write = (await write.ready).port;
    await serveOps('write', write);
  }
  const gateway = await startGateway(
    parseConfig(gatewayConfigSchema, {
      SEQLINE_GATEWAY_PORT: '0',
      ...nats,
      SEQLINE_BUS_PREFIX: prefix,
      SEQLINE_STORAGE_ADDR: `127.0.0.1:${ports.storage}`,
      SEQLINE_WRITE_ADDR: `127.0.0.1:${ports.write}`,
      SEQLINE_JWT_SECRET: jwtSecret,
      SEQLINE_ADMIN_USER: admin.user,
      SEQLINE_ADMIN_PASSWORD: admin.password,
      SEQLINE_QUERY_RATE: '100000',
      SEQLINE_LOGIN_RATE: '100000',
      SEQLINE_LOG_LEVEL: logLevel,
      ...options.env,
    }),
    { logger: logger('gateway') },
  );
  services.push(gateway);
  await serveOps('gateway', gateway);
  const { port } = await gateway.ready;
  return {
    url: `http://127.0.0.1:${port}`,
    names: busNames(prefix),
    prefix,
    postgresUrl: db.url,
    runtimePostgresUrl: db.runtimeUrl,
    natsUrl: natsUrls[0]!,
    natsUrls,
    admin,
    jwtSecret,
    env: { ...common, ...addresses() },
    gateway,
    children,
    ops,
    spawn: spawnChild,
    async [Symbol.asyncDispose]() {
      disposed = true;
      for (const o of opsServers) await o.close();
      for (const s of services.reverse()) await s.stop();
      for (const c of children.values()) await c.kill('SIGKILL');
      // Streams on the run's shared NATS are removed; a NATS of the test's own goes with its store.
      if (options.natsUrl === undefined) {
        await using nc = await natsConnection(natsUrls);
        await deleteStreamsWithPrefix(nc, prefix.toUpperCase());
        await deleteStreamsWithPrefix(nc, `KV_${prefix}`);
      }
      await db[Symbol.asyncDispose]();
    },
  };
}

const SPAWN_TIMEOUT_MS = 60_000;

/** Runs services/<name>/src/main.ts as a child process; resolves once it logs that it serves. */
async function spawnService(name: 'storage' | 'write' | 'gateway', env: Readonly<Record<string, string>>): Promise<ChildService> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, `services/${name}/src/main.ts`)], {
    env: { ...process.env, ...env, SEQLINE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let log = '';
  const logDir = process.env['SEQLINE_TEST_LOG_DIR'];
  const logFile = logDir === undefined ? undefined : createWriteStream(join(logDir, `${env['SEQLINE_BUS_PREFIX']}-${name}-${child.pid}.log`));
  await new Promise<void>((ready, fail) => {
    // A child that never says it serves fails the test with its log, not the test's timeout.
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${name} did not serve within ${SPAWN_TIMEOUT_MS} ms:\n${log}`));
    }, SPAWN_TIMEOUT_MS);
    child.once('exit', () => clearTimeout(deadline));
    child.stderr.on('data', (b: Buffer) => {
      logFile?.write(b);
      log = (log + b.toString()).slice(-20_000);
      if (log.includes(`"${name} serving"`)) {
        clearTimeout(deadline);
        ready();
      }
    });
    void exited.then((code) => fail(new Error(`${name} exited with ${code}:\n${log}`)));
  });
  return {
    process: child,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
