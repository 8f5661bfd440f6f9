// The image's HEALTHCHECK: `node /app/healthcheck.js` exits 0 when the program SEQLINE_SERVICE
// names serves in this container, 1 otherwise (the secrets init container has nothing to check). gRPC services answer the standard grpc.health.v1 check (overall
// status ""); the gateway and the dashboard answer HTTP on their port. Ports follow the same
// variables (and defaults) as the services, so a changed port is checked where it now is.
import { credentials } from '@grpc/grpc-js';
import { healthPb } from '@seqline/proto';
import { grpcServing } from '@seqline/runtime';
import { isProgram, type Program } from './programs.js';

const TIMEOUT_MS = 2500;

type Target = { readonly kind: 'grpc'; readonly env: string; readonly port: number } | { readonly kind: 'http'; readonly env: string; readonly port: number; readonly path: string };

const TARGETS: Record<Exclude<Program, 'secrets'>, Target> = {
  sequencer: { kind: 'grpc', env: 'SEQLINE_SEQUENCER_PORT', port: 50051 },
  storage: { kind: 'grpc', env: 'SEQLINE_STORAGE_PORT', port: 50052 },
  write: { kind: 'grpc', env: 'SEQLINE_WRITE_PORT', port: 50053 },
  gateway: { kind: 'http', env: 'SEQLINE_GATEWAY_PORT', port: 8080, path: '/health' },
  dashboard: { kind: 'http', env: 'SEQLINE_DASHBOARD_PORT', port: 8081, path: '/config.json' },
};

async function check(target: Target): Promise<boolean> {
  const port = process.env[target.env] ?? String(target.port);
  if (target.kind === 'grpc') {
    const client = new healthPb.HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
    return grpcServing(client, TIMEOUT_MS).finally(() => client.close());
  }
  return fetch(`http://127.0.0.1:${port}${target.path}`, { signal: AbortSignal.timeout(TIMEOUT_MS) }).then((r) => r.ok, () => false);
}

const name = process.env['SEQLINE_SERVICE'] ?? 'gateway';
if (!isProgram(name)) {
  console.error(`SEQLINE_SERVICE names no program: ${JSON.stringify(name)}`);
  process.exit(2);
}
if (name === 'secrets') process.exit(0);
const healthy = await check(TARGETS[name]);
if (!healthy) console.error(`${name} is not serving`);
process.exit(healthy ? 0 : 1);
