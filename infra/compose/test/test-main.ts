// `npm run test:compose` (docs/deploy.md): builds the registry-free base images (cached) and the
// Seqline images, brings docker-compose.yml up with infra/compose/docker-compose.local.yml under
// a project name of its own and free 127.0.0.1 ports, checks it through the load balancer (SQL
// over HTTP, a subscription's snapshot and live change, a resume on the other gateway), checks
// the 3-node NATS cluster with every stream at 3 replicas and the two healthy storage replicas,
// and tears everything down (volumes included), also when a check fails. Prints timings.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { checkResumeElsewhere, checkSql, checkSubscription, retry, waitFor } from './checks.js';
import { buildImage, ensureEngine, findCompose, IMAGE, imageSize, LOCAL_NODE_IMAGE, removeStaging, run, stagingContext } from './docker.js';
import { checkNats } from './nats-checks.js';

const root = resolve(import.meta.dirname, '../../..');
const started = Date.now();
const timings: [string, number][] = [];

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  process.stdout.write(`▸ ${name}\n`);
  const value = await body();
  timings.push([name, Date.now() - t0]);
  process.stdout.write(`  ✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  return value;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const engine = await step('docker engine', () => ensureEngine());
console.log(`  engine ${engine}`);
const compose = findCompose();
await step('base images (debootstrap, cached)', () => run('bash', [join(root, 'infra/compose/build-base-images.sh')]));
const context = await stagingContext(root);
try {
  await step('Seqline image', () => buildImage(context));
} finally {
  removeStaging(context);
}
console.log(`  ${IMAGE} ${imageSize(IMAGE)} (its base ${LOCAL_NODE_IMAGE} ${imageSize(LOCAL_NODE_IMAGE)})`);

const project = `seqlinetest${process.pid}${randomBytes(2).toString('hex')}`;
const httpPort = await freePort();
const admin = { user: 'admin', password: randomBytes(12).toString('base64url') };
const env = {
  ...process.env,
  SEQLINE_COMPOSE_HTTP_PORT: String(httpPort),
  SEQLINE_COMPOSE_DASHBOARD_PORT: String(await freePort()),
  SEQLINE_ADMIN_PASSWORD: admin.password,
};
const composeArgs = ['-p', project, '-f', join(root, 'docker-compose.yml'), '-f', join(root, 'infra/compose/docker-compose.local.yml')];
const dc = (args: readonly string[], quiet = false): Promise<string> => run(compose.argv[0]!, [...compose.argv.slice(1), ...composeArgs, ...args], { env, quiet, cwd: root });

/** Health of every container of the project, by compose service name. */
async function health(): Promise<Record<string, string>> {
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], { quiet: true })).split('\n').filter(Boolean);
  if (ids.length === 0) return {};
  const out = await run('docker', ['inspect', '-f', '{{index .Config.Labels "com.docker.compose.service"}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}:{{.State.ExitCode}}{{end}} {{.RestartCount}}', ...ids], { quiet: true });
  const rows = out.trim().split('\n').map((l) => l.split(' ') as [string, string, string]);
  restarts = Object.fromEntries(rows.map(([service, , count]) => [service, Number(count)]));
  return Object.fromEntries(rows.map(([service, state]) => [service, state]));
}
/** Restarts per container at the last health(): a clean start has none. */
let restarts: Record<string, number> = {};

let failed = false;
try {
  await step('compose up (healthy)', async () => {
    await dc(['up', '-d', '--no-build', ...(compose.canWait ? ['--wait'] : [])]);
    const all = await waitFor('every container healthy', health, (h) => Object.entries(h).every(([s, v]) => v === 'healthy' || (s === 'secrets' && v === 'exited:0')), 120_000);
    console.log(`  ${Object.entries(all).sort().map(([s, v]) => `${s}=${v}`).join(' ')}`);
    const expected = ['dashboard', 'gateway-1', 'gateway-2', 'lb', 'nats-1', 'nats-2', 'nats-3', 'postgres', 'secrets', 'sequencer', 'storage-0', 'storage-1', 'write'];
    if (JSON.stringify(Object.keys(all).sort()) !== JSON.stringify(expected)) throw new Error(`containers: ${Object.keys(all).sort().join(', ')}`);
    const restarted = Object.entries(restarts).filter(([, n]) => n > 0);
    if (restarted.length > 0) throw new Error(`restarted during start-up: ${restarted.map(([s, n]) => `${s} ×${n}`).join(', ')}`);
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const sqlCheck = await step('SQL over HTTP through the load balancer', () => checkSql(base, admin));
  const first = await step('subscription: snapshot and a live change', () => checkSubscription(base, sqlCheck.token));
  const resumed = await step('resume on the other gateway', () => checkResumeElsewhere(base, sqlCheck.token, first.lastSeq, first.gateway));
  console.log(`  first subscription on ${first.gateway}, resume on ${resumed.gateway} (socket ${resumed.tries})`);
  const natsGet = (node: string, path: string): Promise<string> => dc(['exec', '-T', node, 'wget', '-q', '-O', '-', `http://127.0.0.1:8222${path}`], true);
  // A follower catches up within moments of a write; the check is retried until then.
  const nats = await step('NATS: a JetStream cluster of 3, every stream with 3 current replicas', () => retry(() => checkNats(natsGet), 30_000));
  console.log(`  ${nats.streams.length} streams at R3: ${nats.streams.join(', ')}`);
  await step('dashboard: page served and demo data seeded', async () => {
    const page = await fetch(`http://127.0.0.1:${env.SEQLINE_COMPOSE_DASHBOARD_PORT}/config.json`).then((r) => r.json() as Promise<{ gatewayUrl: string }>);
    if (page.gatewayUrl !== base) throw new Error(`the dashboard points the browser at ${page.gatewayUrl}, not ${base}`);
    await waitFor('the dashboard seed in its log', () => dc(['logs', '--no-color', 'dashboard'], true), (log) => log.includes('demo data seeded'), 60_000);
  });
} catch (err) {
  failed = true;
  console.error(`\n✗ ${err instanceof Error ? err.message : String(err)}\n`);
  await dc(['ps']).catch(() => undefined);
  await dc(['logs', '--no-color', '--tail', '30']).catch(() => undefined);
} finally {
  await step('compose down -v', () => dc(['down', '-v', '--remove-orphans', '-t', '20'], true));
}
console.log(`\ntimings: ${timings.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join('; ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(failed ? 'compose test FAILED' : 'compose test passed');
process.exit(failed ? 1 : 0);
