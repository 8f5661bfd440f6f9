// Runs the real local stack (`npm start`'s infra/local) with a throwaway data directory and
// free ports, for benchmarks: the same processes users run, each service its own process.
import { spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@seqline/testkit';

const root = resolve(import.meta.dirname, '../..');

export interface LocalStack extends AsyncDisposable {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly postgresUrl: string;
  /** The stack's root process: its tree holds every service, NATS and PostgreSQL. */
  readonly pid: number;
  /** The gateway's Prometheus endpoint (with `metrics: true`). */
  readonly gatewayMetricsUrl?: string;
  /** The single nats-server's URL (undefined on a cluster). */
  readonly natsUrl?: string;
  /** The secret the gateway signs and checks tokens with (the stack's secrets.json). */
  readonly jwtSecret: string;
  /** Each service's log (`<name>.log`), stdout and stderr. */
  readonly logDir: string;
}

/** Set (to 1) by `npm run bench -- <name> --cluster`: the stack runs on a 3-node NATS cluster with R3 streams. */
export const BENCH_CLUSTER_ENV = 'SEQLINE_BENCH_NATS_CLUSTER';

/**
 * `env` adds to (or overrides) the services' environment, e.g. SEQLINE_WS_* limits. `metrics`
 * opens the services' ops ports (four consecutive ones from a free port: sequencer, storage,
 * write, gateway).
 */
export async function runLocalStack(options: { env?: Record<string, string>; metrics?: boolean } = {}): Promise<LocalStack> {
  const cluster = process.env[BENCH_CLUSTER_ENV] === '1';
  const dataDir = await mkdtemp(join(tmpdir(), 'seqline-bench-'));
  await chmod(dataDir, 0o755);
  const ports = { nats: await freePort(), pg: await freePort(), seq: await freePort(), storage: await freePort(), write: await freePort(), gateway: await freePort() };
  const metricsPort = options.metrics === true ? await freePort() : 0;
  const child = spawn(process.execPath, ['--conditions=@seqline/source', '--import', 'tsx', join(root, 'infra/local/src/main.ts')], {
    cwd: root,
    detached: true,
    env: {
      ...process.env,
      SEQLINE_DATA_DIR: dataDir,
      // A cluster takes three client and three route ports of its own choosing.
      ...(cluster ? { SEQLINE_LOCAL_NATS_CLUSTER: 'true', SEQLINE_LOCAL_NATS_PORT: '0', SEQLINE_LOCAL_NATS_CLUSTER_PORT: '0' } : { SEQLINE_LOCAL_NATS_PORT: String(ports.nats) }),
      SEQLINE_LOCAL_POSTGRES_PORT: String(ports.pg),
      SEQLINE_SEQUENCER_PORT: String(ports.seq),
      SEQLINE_STORAGE_PORT: String(ports.storage),
      SEQLINE_WRITE_PORT: String(ports.write),
      SEQLINE_GATEWAY_PORT: String(ports.gateway),
      SEQLINE_LOCAL_METRICS_PORT: String(metricsPort),
      // No example dashboard or chat: the chat's relay (a change consumer now; it polled the
      // gateway 4 times a second once, about 15% of a core) is work the benchmarks do not measure.
      SEQLINE_LOCAL_EXAMPLES: 'false',
      SEQLINE_QUERY_RATE: '1000000',
      SEQLINE_LOGIN_RATE: '100000',
      SEQLINE_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  await new Promise<void>((ready, fail) => {
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (/password: \S+/.test(out)) ready();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => fail(new Error(`local stack exited with ${code}:\n${out}`)));
  });
  const url = /Seqline ready at (\S+)/.exec(out)?.[1] ?? '';
  const [, user = '', password = ''] = /user: (\S+)\s+password: (\S+)/.exec(out) ?? [];
  const secrets = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as { postgresPassword: string; jwtSecret: string };
  return {
    url,
    pid: child.pid!,
    ...(metricsPort === 0 ? {} : { gatewayMetricsUrl: `http://127.0.0.1:${metricsPort + 3}/metrics` }),
    ...(cluster ? {} : { natsUrl: `nats://127.0.0.1:${ports.nats}` }),
    jwtSecret: secrets.jwtSecret,
    logDir: join(dataDir, 'logs'),
    user,
    password,
    postgresUrl: `postgres://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${ports.pg}/postgres`,
    async [Symbol.asyncDispose]() {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
      const keep = process.env['SEQLINE_BENCH_LOG_DIR'];
      if (keep !== undefined) await cp(join(dataDir, 'logs'), keep, { recursive: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
