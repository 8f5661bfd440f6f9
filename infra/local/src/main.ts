// `npm start`: the whole stack on this machine. NATS (JetStream) and PostgreSQL with their data
// under SEQLINE_DATA_DIR (kept between runs), then every service, bundled to plain JavaScript
// first (service-bundle.ts) and each reported healthy; SIGINT (Ctrl-C) or SIGTERM stops the
// services (they drain), then PostgreSQL, then NATS, and so does the loss of the process that
// started us (its parent process changes). A service that exits meanwhile is started again
// (supervise). `--cluster`: three NATS nodes in one JetStream
// cluster (data in <data dir>/nats-cluster), services given every node's URL and
// SEQLINE_NATS_REPLICAS=3.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, describeConfig, parseConfig } from '@seqline/runtime';
import { startNats, startNatsCluster, startPostgres, type PostgresServer } from '@seqline/testkit';
import postgres from 'postgres';
import { LOCAL_CLUSTER_NODES, localClusterPorts, localStackSchema, parseStartArgs } from './config.js';
import { startChat, type LocalChat } from './chat.js';
import { startDashboard, type LocalDashboard } from './dashboard.js';
import { localPostgresDir } from './postgres-dir.js';
import { loadOrCreateSecrets, STORAGE_ROLE } from './secrets.js';
import { bundleFile, bundleService, SERVICES, type ServiceName } from './service-bundle.js';
import { spawnService, waitForGrpcHealth, waitForHttpHealth, type ServiceProcess } from './services.js';

const root = resolve(import.meta.dirname, '../../..');

let command;
try {
  command = parseStartArgs(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}; see npm start -- --help`);
  process.exit(64);
}
if (command.kind === 'help') {
  console.log(`npm start [-- --cluster]: run Seqline locally (NATS, PostgreSQL and every service).

  --cluster   a 3-node NATS JetStream cluster on 127.0.0.1 instead of one nats-server; every
              service gets all three URLs and keeps its streams and buckets on 3 replicas
              (the same as SEQLINE_LOCAL_NATS_CLUSTER=true)

Environment:
${describeConfig(localStackSchema)}

Each service also reads its own variables (see README.md); Ctrl-C, SIGINT or SIGTERM stops everything.`);
  process.exit(0);
}

let config;
try {
  config = parseConfig(localStackSchema, command.env);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(78);
}
const dataDir = resolve(root, config.dataDir);
const logDir = join(dataDir, 'logs');
mkdirSync(logDir, { recursive: true });
const secrets = loadOrCreateSecrets(dataDir);

let nats: { stop(): Promise<void> } | undefined;
let pg: PostgresServer | undefined;
const services: ServiceProcess[] = [];
let dashboard: LocalDashboard | undefined;
let chat: LocalChat | undefined;
let stopping = false;

/** Stops services, then PostgreSQL, then NATS, and exits. Later calls (a second Ctrl-C) wait for the first. */
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('stopping…');
  await dashboard?.server.close();
  await chat?.server.close();
  await chat?.relay?.stop();
  for (const s of [...services].reverse()) await s.stop();
  await pg?.stop();
  await nats?.stop();
  console.log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
// Whoever started us is gone (killed outright): nobody is left to stop the stack but us.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void stopAll(0);
}, 500).unref();

/** How to start a service again and when it is back. */
interface Supervised {
  readonly start: () => ServiceProcess;
  readonly ready: (service: ServiceProcess) => Promise<void>;
}

/**
 * A service that exits while the stack runs is started again on its ports, as compose's
 * `restart: unless-stopped` or Kubernetes would (a sequencer that lost its worker-id lease stops
 * by design), after 1 s, doubling up to 30 s. More than RESTARTS.max exits of one service within
 * RESTARTS.windowMs is a fault to look at, not to hide: the stack stops then, with exit code 1.
 */
const RESTARTS = { max: 5, windowMs: 10 * 60_000, firstDelayMs: 1000, maxDelayMs: 30_000 };

function supervise(entry: Supervised, index: number): void {
  const exits: number[] = [];
  const watch = (service: ServiceProcess): void => {
    void service.exited.then(async (code) => {
      if (stopping) return;
      await service.stop(); // it has exited: this closes its log
      const now = Date.now();
      while (exits.length > 0 && now - exits[0]! > RESTARTS.windowMs) exits.shift();
      if (exits.length >= RESTARTS.max) {
        console.error(`${service.name} exited unexpectedly (code ${code}), ${RESTARTS.max + 1} times within ${RESTARTS.windowMs / 60_000} min; stopping the stack; see ${service.logFile}`);
        void stopAll(1);
        return;
      }
      exits.push(now);
      const delayMs = Math.min(RESTARTS.firstDelayMs * 2 ** (exits.length - 1), RESTARTS.maxDelayMs);
      console.error(`${service.name} exited unexpectedly (code ${code}); starting it again in ${delayMs / 1000} s (restart ${exits.length} of at most ${RESTARTS.max} within ${RESTARTS.windowMs / 60_000} min); see ${service.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (stopping) return;
      const next = entry.start();
      services[index] = next;
      watch(next);
      try {
        await entry.ready(next);
        console.log(`${next.name} healthy again`);
      } catch (err) {
        // Exited again (its exit is handled above), or not healthy in time (left running: its log says why).
        if (!stopping) console.error(`${next.name} not healthy after its restart: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      }
    });
  };
  watch(services[index]!);
}

const line = (name: string, where: string, state: string): void => console.log(`  ${name.padEnd(11)} ${where.padEnd(46)} ${state}`);

try {
  console.log(`Seqline local stack (data in ${dataDir})`);
  const bundled = Date.now();
  const serviceDir = (name: ServiceName): string => join(root, 'services', name);
  await Promise.all(SERVICES.map((name) => bundleService(serviceDir(name))));
  line('services', 'services/<name>/dist/main.js', `bundled in ${Date.now() - bundled} ms`);

  let natsUrls: readonly string[];
  if (config.natsCluster) {
    const cluster = await startNatsCluster({ nodes: LOCAL_CLUSTER_NODES, ...localClusterPorts(config), storeDir: join(dataDir, 'nats-cluster'), name: 'seqline-local', readyTimeoutMs: 60_000 });
    nats = cluster;
    natsUrls = cluster.urls;
    line('NATS', `${cluster.urls.join(',')}`, `healthy (${LOCAL_CLUSTER_NODES}-node cluster)`);
  } else {
    const server = await startNats({ port: config.natsPort, storeDir: join(dataDir, 'nats') });
    nats = server;
    natsUrls = [server.url];
    line('NATS', server.url, 'healthy');
  }

  // Storage runs as a runtime role without SUPERUSER or BYPASSRLS; with the local cluster it is
  // made at storage's start-up through the superuser's URL (SEQLINE_POSTGRES_ADMIN_URL). With
  // SEQLINE_POSTGRES_URL, that URL is storage's runtime role (and an admin URL may be passed on).
  let postgresUrl = config.postgresUrl;
  let storageUrls: Record<string, string> = postgresUrl === undefined ? {} : { SEQLINE_POSTGRES_URL: postgresUrl };
  if (postgresUrl === undefined) {
    const pgDir = await localPostgresDir(dataDir);
    if (pgDir.external) console.log(`  (PostgreSQL's data is in ${pgDir.path}: the postgres OS user cannot enter ${dataDir})`);
    pg = await startPostgres({
      mode: config.postgresMode,
      port: config.postgresPort,
      dataDir: pgDir.path,
      keepData: true,
      durable: true,
      password: secrets.postgresPassword,
    });
    postgresUrl = pg.url;
    const runtime = new URL(pg.url);
    runtime.username = STORAGE_ROLE;
    runtime.password = secrets.storagePassword;
    storageUrls = { SEQLINE_POSTGRES_URL: runtime.toString(), SEQLINE_POSTGRES_ADMIN_URL: pg.url };
  }
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  await sql`select 1`;
  await sql.end();
  line('PostgreSQL', postgresUrl.replace(/:[^:@/]*@/, ':***@'), 'healthy');

  const adminPassword = config.adminPassword ?? secrets.adminPassword;
  const env = {
    ...process.env,
    SEQLINE_NATS_URL: natsUrls.join(','),
    ...(config.natsCluster ? { SEQLINE_NATS_REPLICAS: String(LOCAL_CLUSTER_NODES) } : {}),
    ...storageUrls,
    SEQLINE_SEQUENCER_PORT: String(config.sequencerPort),
    SEQLINE_STORAGE_PORT: String(config.storagePort),
    SEQLINE_WRITE_PORT: String(config.writePort),
    SEQLINE_GATEWAY_PORT: String(config.gatewayPort),
    SEQLINE_SEQUENCER_ADDR: `127.0.0.1:${config.sequencerPort}`,
    SEQLINE_STORAGE_ADDR: `127.0.0.1:${config.storagePort}`,
    SEQLINE_WRITE_ADDR: `127.0.0.1:${config.writePort}`,
    SEQLINE_JWT_SECRET: process.env['SEQLINE_JWT_SECRET'] ?? secrets.jwtSecret,
    SEQLINE_ADMIN_USER: config.adminUser,
    SEQLINE_ADMIN_PASSWORD: adminPassword,
  };
  // Each service's ops port (/metrics, /health): consecutive from SEQLINE_LOCAL_METRICS_PORT, or any free one with 0.
  const opsPort = (i: number): number => (config.metricsPort === 0 ? 0 : config.metricsPort + i);
  const metricsUrls: string[] = [];
  const url = `http://127.0.0.1:${config.gatewayPort}`;
  const supervised: Supervised[] = [];
  for (const [i, [name, port]] of ([
    ['sequencer', config.sequencerPort],
    ['storage', config.storagePort],
    ['write', config.writePort],
  ] as const).entries()) {
    const entry: Supervised = {
      start: () => spawnService(root, name, bundleFile(serviceDir(name)), { ...env, SEQLINE_METRICS_PORT: String(opsPort(i)) }, logDir),
      ready: (service) => waitForGrpcHealth(`127.0.0.1:${port}`, service),
    };
    const service = entry.start();
    services.push(service);
    supervised.push(entry);
    await entry.ready(service);
    line(name, `127.0.0.1:${port} (gRPC)`, 'healthy');
    if (opsPort(i) !== 0) metricsUrls.push(`http://127.0.0.1:${opsPort(i)}/metrics`);
  }
  const gatewayEntry: Supervised = {
    start: () => spawnService(root, 'gateway', bundleFile(serviceDir('gateway')), { ...env, SEQLINE_METRICS_PORT: String(opsPort(3)) }, logDir),
    ready: (service) => waitForHttpHealth(`${url}/health`, service),
  };
  const gateway = gatewayEntry.start();
  if (opsPort(3) !== 0) metricsUrls.push(`http://127.0.0.1:${opsPort(3)}/metrics`);
  services.push(gateway);
  supervised.push(gatewayEntry);
  await gatewayEntry.ready(gateway);
  line('gateway', `${url} (HTTP; WebSocket ws://127.0.0.1:${config.gatewayPort}/v1/ws)`, 'healthy');
  if (config.examples) {
    dashboard = await startDashboard({ gatewayUrl: url, admin: { user: config.adminUser, password: adminPassword }, agentPassword: secrets.demoPassword, port: config.dashboardPort, outDir: join(dataDir, 'dashboard') });
    line('dashboard', dashboard.server.url, dashboard.seedError === undefined ? 'serving' : `serving (demo data not seeded: ${dashboard.seedError})`);
    chat = await startChat({ gatewayUrl: url, admin: { user: config.adminUser, password: adminPassword }, password: secrets.demoPassword, relayPassword: secrets.chatRelayPassword, port: config.chatPort, outDir: join(dataDir, 'chat') });
    line('chat', chat.server.url, chat.seedError === undefined ? 'serving' : `serving (demo data not seeded: ${chat.seedError})`);
  }

  console.log(`\nSeqline ready at ${url}`);
  console.log(`  user: ${config.adminUser}   password: ${adminPassword}${config.adminPassword === undefined ? ` (generated, kept in ${join(dataDir, 'secrets.json')})` : ''}`);
  if (dashboard !== undefined) console.log(`  dashboard: ${dashboard.server.url}   sign in as ${dashboard.agents.join(' or ')}, password: ${secrets.demoPassword}`);
  if (chat !== undefined) console.log(`  chat: ${chat.server.url}   sign in as ${chat.users.join(', ')}, password: ${secrets.demoPassword}`);
  if (metricsUrls.length > 0) console.log(`  metrics: ${metricsUrls.join(' ')}`);
  console.log(`  logs: ${logDir}; Ctrl-C stops the stack.`);
  supervised.forEach((entry, i) => supervise(entry, i));
} catch (err) {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
