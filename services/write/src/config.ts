// The write service's configuration, declared once; `--help` and the README print it.
import { natsReplicasField } from '@seqline/bus';
import { type ConfigOf, int, LOG_LEVELS, oneOf, optionalStr, port, str, urls } from '@seqline/runtime';

export const writeConfigSchema = {
  natsUrls: urls({ env: 'SEQLINE_NATS_URL', default: ['nats://127.0.0.1:14222'], protocols: ['nats', 'tls'], description: 'NATS server URL(s), comma-separated' }),
  natsReplicas: natsReplicasField,
  host: str({ env: 'SEQLINE_WRITE_HOST', default: '127.0.0.1', description: 'address the gRPC server binds' }),
  port: port({ env: 'SEQLINE_WRITE_PORT', default: 50053, description: 'gRPC port (0 = any free port)' }),
  storageAddr: str({ env: 'SEQLINE_STORAGE_ADDR', default: '127.0.0.1:50052', description: 'storage gRPC address' }),
  busPrefix: str({ env: 'SEQLINE_BUS_PREFIX', default: 'seqline', pattern: /^[A-Za-z0-9_-]+$/, description: 'prefix of NATS subjects and streams' }),
  shards: int({ env: 'SEQLINE_SHARDS', default: 16, min: 1, max: 4096, description: 'number of op-log shards (the same in every service; never change it on live data)' }),
  maxOpBytes: int({ env: 'SEQLINE_MAX_OP_BYTES', default: 983_040, min: 1024, max: 64 * 1024 * 1024, description: 'largest write (statement and parameters, encoded) published to the ops log; over it ROW_TOO_LARGE and nothing is written; kept 4 KiB below the NATS server\'s max_payload whatever is set' }),
  maxTransactionStatements: int({ env: 'SEQLINE_MAX_TRANSACTION_STATEMENTS', default: 1000, min: 1, max: 100_000, description: 'most statements between BEGIN and COMMIT in one transaction (INVALID_TRANSACTION over it); the whole transaction is also one write under SEQLINE_MAX_OP_BYTES' }),
  resultTimeoutMs: int({ env: 'SEQLINE_WRITE_TIMEOUT_MS', default: 10_000, min: 100, description: 'how long a write waits for its op to be applied' }),
  instanceId: optionalStr({ env: 'SEQLINE_INSTANCE_ID', description: 'name of this process in subjects and logs (default host-pid)' }),
  metricsPort: port({ env: 'SEQLINE_METRICS_PORT', default: 9463, description: 'ops HTTP port of the process started by main.ts: GET /metrics (Prometheus), /health, /healthz, /readyz; same address as the service (0 = any free port)' }),
  logLevel: oneOf({ env: 'SEQLINE_LOG_LEVEL', values: LOG_LEVELS, default: 'info', description: 'log level' }),
} as const;

export type WriteConfig = ConfigOf<typeof writeConfigSchema>;
