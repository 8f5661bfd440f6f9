// Configuration of the local stack (`npm start`), declared once for `--help` and the README.
import { type ConfigOf, oneOf, optionalStr, port, str } from '@seqline/runtime';

export const localStackSchema = {
  dataDir: str({ env: 'SEQLINE_DATA_DIR', default: '.seqline', description: 'local data: NATS store, PostgreSQL cluster, generated secrets, logs' }),
  natsPort: port({ env: 'SEQLINE_LOCAL_NATS_PORT', default: 14222, description: 'port of the local nats-server (JetStream)' }),
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
  adminUser: str({ env: 'SEQLINE_ADMIN_USER', default: 'admin', description: 'the first DBA, created at start if no DBA exists' }),
  adminPassword: optionalStr({ env: 'SEQLINE_ADMIN_PASSWORD', description: 'its password (generated into <data dir>/secrets.json when unset)', secret: true }),
} as const;

export type LocalStackConfig = ConfigOf<typeof localStackSchema>;
