// The compose stack's dashboard container: serves the example support dashboard
// (examples/dashboard, built into the image by bundle.ts) with the gateway URL the browser
// uses, and seeds its demo data through the gateway (the load balancer inside the network) once
// that answers; the page is served meanwhile. The local stack does the same in
// infra/local/src/dashboard.ts.
import { join } from 'node:path';
import { DEMO_AGENTS, seedDemo, serveDashboard } from '@seqline/dashboard';
import { backoffDelay, int, port, sleep, str } from '@seqline/runtime';
import { configOrExit } from './entry-config.js';

const schema = {
  host: str({ env: 'SEQLINE_DASHBOARD_HOST', default: '0.0.0.0', description: 'address the dashboard binds' }),
  port: port({ env: 'SEQLINE_DASHBOARD_PORT', default: 8081, description: 'its HTTP port' }),
  dir: str({ env: 'SEQLINE_DASHBOARD_DIR', default: join(import.meta.dirname, 'dashboard'), description: 'the built page' }),
  publicGatewayUrl: str({ env: 'SEQLINE_DASHBOARD_PUBLIC_GATEWAY_URL', default: 'http://127.0.0.1:8080', description: 'the gateway as the browser reaches it' }),
  gatewayUrl: str({ env: 'SEQLINE_DASHBOARD_GATEWAY_URL', default: 'http://lb:8080', description: 'the gateway as this container reaches it (for the seed)' }),
  adminUser: str({ env: 'SEQLINE_ADMIN_USER', default: 'admin', description: 'a DBA that seeds the demo' }),
  adminPassword: str({ env: 'SEQLINE_ADMIN_PASSWORD', secret: true, description: 'its password' }),
  demoPassword: str({ env: 'SEQLINE_DEMO_PASSWORD', secret: true, description: "the demo agents' password" }),
  seedTimeoutMs: int({ env: 'SEQLINE_DASHBOARD_SEED_TIMEOUT_MS', default: 120_000, min: 1000, description: 'how long seeding is retried' }),
} as const;

const config = configOrExit(schema);
const server = await serveDashboard({ dir: config.dir, gatewayUrl: config.publicGatewayUrl, port: config.port, host: config.host });
console.log(`dashboard serving on ${server.url} for the gateway at ${config.publicGatewayUrl}`);

const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stop.abort();
    void server.close().then(() => process.exit(0));
  });
}

const deadline = Date.now() + config.seedTimeoutMs;
for (let attempt = 0; !stop.signal.aborted; attempt++) {
  try {
    const created = await seedDemo({ url: config.gatewayUrl, admin: { user: config.adminUser, password: config.adminPassword }, password: config.demoPassword });
    console.log(`demo data seeded (agents created now: ${created.length === 0 ? 'none' : created.join(', ')}); sign in as ${DEMO_AGENTS.join(' or ')}`);
    break;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (Date.now() > deadline) {
      console.error(`demo data not seeded: ${message}`);
      break;
    }
    console.log(`seeding the demo data failed (${message}); retrying`);
    await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 5000 }), stop.signal).catch(() => undefined);
  }
}
