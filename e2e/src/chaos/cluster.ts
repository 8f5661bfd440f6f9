// The cluster the fault campaign runs on: Seqline as separate processes on 127.0.0.1, every
// part of it something the nemesis can kill, pause, restart or cut off.
//
//   NATS        3 nodes, one JetStream cluster (R3 streams), routes through TCP proxies so a node
//               can be partitioned from the others (libs/testkit nats-cluster `partitionable`)
//   PostgreSQL  one durable server (fsync on) on a fixed port, restartable on the same data
//   sequencer   seq-1, seq-2 (worker ids 1 and 2), each with a clock the nemesis can skew
//   storage     storage-0, storage-1: replicas 0 and 1 of 2; storage-i asks seq-(i+1) first and
//               the other sequencer when that one is down
//   write       write-1, write-2
//   gateway     gateway-1, gateway-2, each on its own port; clients pick one and move on failure
//
// Storage, write and gateway reach their peers through gRPC "ipv4:a,b" targets (pick_first: the
// first that answers), as a Kubernetes Service would spread them. Every service is a child
// process started from its main.ts (the sequencer from ./sequencer-main.ts), with its JSON logs in
// <dir>/logs/<name>.log; a service counts as up once it logs "<service> serving". A service
// that exits by itself is restarted, as a deployment's supervisor would (ServiceProcess).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, pause, startNatsCluster, startPostgres, type NatsCluster, type PostgresServer } from '@seqline/testkit';

const root = resolve(import.meta.dirname, '../../..');
const START_TIMEOUT_MS = 90_000;

export const SERVICE_NAMES = ['seq-1', 'seq-2', 'storage-0', 'storage-1', 'write-1', 'write-2', 'gateway-1', 'gateway-2'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ChaosProcess {
  readonly name: ServiceName;
  readonly running: boolean;
  readonly paused: boolean;
  /** Starts the process (again) and resolves once it serves. */
  start(): Promise<void>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (the service drains), SIGKILL after a grace period. */
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Sends a signal to a running process (SIGUSR2: a sequencer re-reads its clock offset). */
  signal(sig: NodeJS.Signals): void;
  /** Times it exited by itself after serving (the supervisor restarted it). */
  readonly unplannedExits: number;
}

export interface ChaosCluster extends AsyncDisposable {
  readonly dir: string;
  /** HTTP base URL of each gateway, in order. */
  readonly gateways: readonly string[];
  readonly admin: { readonly user: string; readonly password: string };
  /** PostgreSQL as a superuser, with storage's database as the path. */
  readonly postgresUrl: string;
  readonly nats: NatsCluster;
  readonly prefix: string;
  readonly services: ReadonlyMap<ServiceName, ChaosProcess>;
  /** Restarts PostgreSQL: a fast shutdown (every connection is cut), then start on the same data. */
  restartPostgres(): Promise<void>;
  /** Sets a sequencer's clock offset (ms) and tells it to re-read it. */
  skewClock(name: 'seq-1' | 'seq-2', offsetMs: number): Promise<void>;
}

export interface ChaosClusterOptions {
  /** Directory for logs and NATS's data (created). */
  readonly dir: string;
  readonly shards?: number;
  /** Notes from the supervisor (a service that exited by itself and was restarted). */
  readonly log?: (line: string) => void;
}

export async function startChaosCluster(options: ChaosClusterOptions): Promise<ChaosCluster> {
  const dir = resolve(options.dir);
  const logs = join(dir, 'logs');
  await mkdir(logs, { recursive: true });
  const pgPort = await freePort();
  // PostgreSQL picks its data directory (when we are root it must be one the `postgres` OS user
  // can enter); restarts reuse it, and disposing the cluster removes it.
  let postgres: PostgresServer = await startPostgres({ port: pgPort, keepData: true, durable: true });
  const pgOptions = { port: pgPort, dataDir: postgres.dataDir, keepData: true, durable: true } as const;
  const stopPostgres = async (): Promise<void> => {
    await postgres.stop();
    await rm(pgOptions.dataDir, { recursive: true, force: true });
  };
  const disposers: (() => Promise<void>)[] = [];
  try {
    const nats = await startNatsCluster({ nodes: 3, storeDir: join(dir, 'nats'), partitionable: true, readyTimeoutMs: 60_000 });
    disposers.push(async () => nats[Symbol.asyncDispose]());
    const db = `seqline_chaos`;
    await createDatabase(postgres.url, db);
    const pgUrl = withDatabase(postgres.url, db);
    const runtimeUrl = new URL(pgUrl);
    runtimeUrl.username = 'seqline_storage';
    runtimeUrl.password = randomBytes(12).toString('hex');
    const admin = { user: 'admin', password: randomBytes(12).toString('base64url') };
    const prefix = 'chaos';
    const port = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (n) => [n, await freePort()] as const))) as Record<ServiceName, number>;
    const addr = (...names: ServiceName[]): string => `ipv4:${names.map((n) => `127.0.0.1:${port[n]}`).join(',')}`;
    const common = {
      SEQLINE_NATS_URL: nats.urls.join(','),
      SEQLINE_NATS_REPLICAS: '3',
      SEQLINE_BUS_PREFIX: prefix,
      SEQLINE_KV_PREFIX: prefix,
      SEQLINE_SHARDS: String(options.shards ?? 4),
      SEQLINE_METRICS_PORT: '0',
      SEQLINE_LOG_LEVEL: 'info',
    };
    const jwtSecret = randomBytes(32).toString('hex');
    const envOf: Record<ServiceName, Record<string, string>> = {
      'seq-1': { SEQLINE_SEQUENCER_PORT: String(port['seq-1']), SEQLINE_SEQUENCER_WORKER_ID: '1', CHAOS_CLOCK_FILE: join(dir, 'seq-1.clock') },
      'seq-2': { SEQLINE_SEQUENCER_PORT: String(port['seq-2']), SEQLINE_SEQUENCER_WORKER_ID: '2', CHAOS_CLOCK_FILE: join(dir, 'seq-2.clock') },
      'storage-0': storageEnv(0, 'seq-1', 'seq-2'),
      'storage-1': storageEnv(1, 'seq-2', 'seq-1'),
      'write-1': { SEQLINE_WRITE_PORT: String(port['write-1']), SEQLINE_STORAGE_ADDR: addr('storage-0', 'storage-1') },
      'write-2': { SEQLINE_WRITE_PORT: String(port['write-2']), SEQLINE_STORAGE_ADDR: addr('storage-1', 'storage-0') },
      'gateway-1': gatewayEnv('gateway-1', ['storage-0', 'storage-1'], ['write-1', 'write-2']),
      'gateway-2': gatewayEnv('gateway-2', ['storage-1', 'storage-0'], ['write-2', 'write-1']),
    };
    function storageEnv(replica: number, first: ServiceName, second: ServiceName): Record<string, string> {
      const name = `storage-${replica}` as ServiceName;
      return {
        SEQLINE_STORAGE_PORT: String(port[name]),
        SEQLINE_STORAGE_REPLICA: String(replica),
        SEQLINE_STORAGE_REPLICAS: '2',
        SEQLINE_SEQUENCER_ADDR: addr(first, second),
        SEQLINE_POSTGRES_URL: runtimeUrl.toString(),
        SEQLINE_POSTGRES_ADMIN_URL: pgUrl,
        SEQLINE_INSTANCE_ID: name,
      };
    }
    function gatewayEnv(name: ServiceName, storage: ServiceName[], write: ServiceName[]): Record<string, string> {
      return {
        SEQLINE_GATEWAY_PORT: String(port[name]),
        SEQLINE_STORAGE_ADDR: addr(...storage),
        SEQLINE_WRITE_ADDR: addr(...write),
        SEQLINE_JWT_SECRET: jwtSecret,
        SEQLINE_ADMIN_USER: admin.user,
        SEQLINE_ADMIN_PASSWORD: admin.password,
        SEQLINE_QUERY_RATE: '100000',
        SEQLINE_LOGIN_RATE: '100000',
        SEQLINE_WS_MESSAGE_RATE: '100000',
      };
    }
    const services = new Map<ServiceName, ChaosProcess>();
    for (const name of SERVICE_NAMES) {
      const entry = name.startsWith('seq-') ? 'e2e/src/chaos/sequencer-main.ts' : `services/${name.split('-')[0]!}/src/main.ts`;
      const service = new ServiceProcess(name, entry, { ...common, ...envOf[name] }, join(logs, `${name}.log`), options.log ?? (() => undefined));
      services.set(name, service);
      disposers.push(() => service.dispose());
    }
    for (const name of ['seq-1', 'seq-2'] as const) await writeFile(envOf[name]['CHAOS_CLOCK_FILE']!, '0');
    // Sequencers first, then one storage (it bootstraps the database), then the rest. A start can
    // fail while the new cluster still places its first R3 streams (a timeout creating a bucket).
    const start = (name: ServiceName): Promise<void> => retry(() => services.get(name)!.start());
    await Promise.all([start('seq-1'), start('seq-2')]);
    await start('storage-0');
    await start('storage-1');
    await Promise.all([start('write-1'), start('write-2')]);
    await Promise.all([start('gateway-1'), start('gateway-2')]);
    return {
      dir,
      gateways: [`http://127.0.0.1:${port['gateway-1']}`, `http://127.0.0.1:${port['gateway-2']}`],
      admin,
      postgresUrl: pgUrl,
      nats,
      prefix,
      services,
      async restartPostgres() {
        await postgres.stop();
        postgres = await startPostgres(pgOptions);
      },
      async skewClock(name, offsetMs) {
        await writeFile(envOf[name]['CHAOS_CLOCK_FILE']!, String(offsetMs));
        const service = services.get(name)!;
        if (service.running) service.signal('SIGUSR2');
      },
      async [Symbol.asyncDispose]() {
        for (const dispose of disposers.reverse()) await dispose();
        await stopPostgres();
      },
    };
  } catch (error) {
    for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
    await stopPostgres();
    throw error;
  }
}

/**
 * A start can fail while a dependency is still coming back (PostgreSQL, a NATS quorum), or, for
 * a sequencer, until its dead predecessor's worker-id lease expires (SEQLINE_SEQUENCER_LEASE_TTL_MS): retry.
 */
export async function retry(start: () => Promise<void>, attempts = 30): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await start();
      return;
    } catch (error) {
      if (i >= attempts) throw error;
      await pause(1000);
    }
  }
}

async function createDatabase(url: string, name: string): Promise<void> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const [found] = await sql`SELECT 1 AS one FROM pg_database WHERE datname = ${name}`;
    if (found === undefined) await sql.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await sql.end();
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** One service as a child process; a restart keeps its port and appends to its log. */
class ServiceProcess implements ChaosProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;
  /** Set by kill() and stop(): that exit is the nemesis's (or the end), not the service's own. */
  #intended = false;
  #disposed = false;
  /** Times the service exited by itself after serving, and was restarted by the supervisor. */
  unplannedExits = 0;

  constructor(
    readonly name: ServiceName,
    private readonly entry: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly logFile: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * A service that exits by itself (a sequencer whose lease lapsed, a crash) is started again
   * after a second, as Kubernetes or compose's restart policy would: the campaign tests the
   * cluster as it is deployed, supervised.
   */
  #supervise(): void {
    if (this.#intended || this.#disposed) return;
    this.unplannedExits++;
    this.log(`${this.name} exited by itself; restarting it (see ${this.logFile})`);
    void (async () => {
      while (!this.#disposed && !this.#intended && this.#child === undefined) {
        await pause(1000);
        if (this.#disposed || this.#intended) return;
        try {
          await this.start();
          return;
        } catch {
          // e.g. a sequencer waiting for its old lease to expire: try again
        }
      }
    })();
  }

  /** No more restarts; kills the process. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.kill();
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get paused(): boolean {
    return this.#paused;
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, this.entry)], {
      cwd: root,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    this.#paused = false;
    this.#intended = false;
    let serving = false;
    this.#exited = new Promise<void>((done) => child.once('exit', () => done()));
    void this.#exited.then(() => {
      if (this.#child === child) this.#child = undefined;
      if (serving) this.#supervise();
    });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const service = this.name.startsWith('seq-') ? 'sequencer' : this.name.split('-')[0]!;
    let tail = '';
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.name} did not serve within ${START_TIMEOUT_MS} ms; see ${this.logFile}`)), START_TIMEOUT_MS);
      child.stderr.on('data', (b: Buffer) => {
        log.write(b);
        tail = (tail + b.toString()).slice(-4096);
        if (tail.includes(`"${service} serving"`)) {
          serving = true;
          clearTimeout(timer);
          ready();
        }
      });
      void this.#exited.then(() => {
        clearTimeout(timer);
        fail(new Error(`${this.name} exited before serving:\n${tail}`));
      });
    });
  }

  async kill(): Promise<void> {
    this.#intended = true;
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
    this.#paused = false;
  }

  async stop(): Promise<void> {
    this.#intended = true;
    const child = this.#child;
    if (!child) return;
    if (this.#paused) this.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }

  pause(): void {
    if (!this.#child || this.#paused) return;
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (!this.#child || !this.#paused) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  signal(sig: NodeJS.Signals): void {
    this.#child?.kill(sig);
  }
}
