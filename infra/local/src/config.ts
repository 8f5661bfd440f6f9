// Configuration of the local stack (`npm start`), declared once for `--help` and the README.
import { parseArgs } from 'node:util';
import { bool, type ConfigOf, type Env, oneOf, optionalStr, port, str } from '@seqline/runtime';

export const localStackSchema = {
  dataDir: str({ env: 'SEQLINE_DATA_DIR', default: '.seqline', description: 'local data: NATS store, PostgreSQL cluster, generated secrets, logs' }),
  natsPort: port({ env: 'SEQLINE_LOCAL_NATS_PORT', default: 14222, description: 'port of the local nats-server (JetStream); in cluster mode, of the first node (the others take the next ports)' }),
  natsCluster: bool({ env: 'SEQLINE_LOCAL_NATS_CLUSTER', default: false, description: 'run a 3-node NATS JetStream cluster (routes on 127.0.0.1) instead of one nats-server, with every stream and bucket on 3 replicas; `npm start -- --cluster` sets it' }),
  natsClusterPort: port({ env: 'SEQLINE_LOCAL_NATS_CLUSTER_PORT', default: 14248, description: 'cluster mode: route port of the first NATS node (the others take the next ports)' }),
  postgresPort: port({ env: 'SEQLINE_LOCAL_POSTGRES_PORT', default: 15432, description: 'port of the local PostgreSQL' }),
  postgresUrl: optionalStr({ env: 'SEQLINE_POSTGRES_URL', description: 'use this PostgreSQL instead of starting one: storage\'s runtime role (no SUPERUSER or BYPASSRLS; SEQLINE_POSTGRES_ADMIN_URL is passed on to storage)', secret: true }),
  postgresMode: oneOf({
    env: 'SEQLINE_POSTGRES_MODE',
    values: ['embedded', 'system'] as const,
    default: 'embedded',
    description: 'embedded = PostgreSQL binaries from npm; system = the machine\'s /usr/lib/postgresql',
  }),
  sequencerPort: port({ env: 'SEQLINE_SEQUENCER_PORT', default: 50051, description: 'sequencer gRPC port' }),
  storagePort: port({ env: 'SEQLINE_STORAGE_PORT', default: 50052, description: 'storage gRPC port' }),
  writePort: port({ env: 'SEQLINE_WRITE_PORT', default: 50053, description: 'write gRPC port' }),
  gatewayPort: port({ env: 'SEQLINE_GATEWAY_PORT', default: 8080, description: 'gateway HTTP and WebSocket port' }),
  metricsPort: port({ env: 'SEQLINE_LOCAL_METRICS_PORT', default: 9461, description: 'first of the four ops ports (/metrics, /health) of sequencer, storage, write and gateway, in that order (0 = any free port for each)' }),
  dashboardPort: port({ env: 'SEQLINE_DASHBOARD_PORT', default: 8081, description: 'port of the example support dashboard (examples/dashboard; 0 = any free port)' }),
  chatPort: port({ env: 'SEQLINE_CHAT_PORT', default: 8082, description: 'port of the example chat (examples/chat; 0 = any free port)' }),
  examples: bool({ env: 'SEQLINE_LOCAL_EXAMPLES', default: true, description: 'serve the example support dashboard and chat, with their demo data; the chat\'s relay consumes its outbox changes and the demo data adds tables, so benchmarks turn them off' }),
  adminUser: str({ env: 'SEQLINE_ADMIN_USER', default: 'admin', description: 'the first DBA, created at start if no DBA exists' }),
  adminPassword: optionalStr({ env: 'SEQLINE_ADMIN_PASSWORD', description: 'its password (generated into <data dir>/secrets.json when unset)', secret: true }),
} as const;

export type LocalStackConfig = ConfigOf<typeof localStackSchema>;

/** Nodes of the local NATS cluster (`--cluster`). */
export const LOCAL_CLUSTER_NODES = 3;

export type StartCommand = { readonly kind: 'help' } | { readonly kind: 'start'; readonly env: Env };

/**
 * `npm start -- [--cluster] [--help]`: the flags become the environment the stack's schema reads
 * (`--cluster` is SEQLINE_LOCAL_NATS_CLUSTER=true). Unknown arguments throw.
 */
export function parseStartArgs(argv: readonly string[], env: Env): StartCommand {
  const { values } = parseArgs({ args: [...argv], options: { cluster: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  if (values.help === true) return { kind: 'help' };
  return { kind: 'start', env: values.cluster === true ? { ...env, SEQLINE_LOCAL_NATS_CLUSTER: 'true' } : env };
}

/** Client and route ports of the local cluster's nodes: consecutive from the configured first ones (0: free ports). */
export function localClusterPorts(config: Pick<LocalStackConfig, 'natsPort' | 'natsClusterPort'>): { readonly ports?: number[]; readonly clusterPorts?: number[] } {
  const range = (first: number): number[] | undefined => (first === 0 ? undefined : Array.from({ length: LOCAL_CLUSTER_NODES }, (_, i) => first + i));
  const ports = range(config.natsPort);
  const clusterPorts = range(config.natsClusterPort);
  return { ...(ports === undefined ? {} : { ports }), ...(clusterPorts === undefined ? {} : { clusterPorts }) };
}
