// The sequencer's configuration, declared once; `--help` and the README print this schema.
import { natsReplicasField } from '@seqline/bus';
import { type ConfigOf, int, oneOf, optionalInt, optionalStr, port, str, urls, LOG_LEVELS } from '@seqline/runtime';

export const sequencerConfigSchema = {
  natsUrls: urls({
    env: 'SEQLINE_NATS_URL',
    default: ['nats://127.0.0.1:14222'],
    protocols: ['nats', 'tls'],
    description: 'NATS server URL(s), comma-separated',
  }),
  natsReplicas: natsReplicasField,
  host: str({ env: 'SEQLINE_SEQUENCER_HOST', default: '127.0.0.1', description: 'address the gRPC server binds' }),
  port: port({ env: 'SEQLINE_SEQUENCER_PORT', default: 50051, description: 'gRPC port (0 = any free port)' }),
  workerId: optionalInt({
    env: 'SEQLINE_SEQUENCER_WORKER_ID',
    min: 0,
    max: 1023,
    description: 'worker id 0..1023 (e.g. the StatefulSet ordinal); unset = lease a free one',
  }),
  instanceId: optionalStr({ env: 'SEQLINE_INSTANCE_ID', description: 'name of this process in leases and logs (default host:pid)' }),
  bucketPrefix: str({
    env: 'SEQLINE_KV_PREFIX',
    default: 'seqline',
    pattern: /^[A-Za-z0-9_-]+$/,
    description: 'prefix of the JetStream key-value buckets (<prefix>_sequencer_leases, <prefix>_sequencer_hwm)',
  }),
  leaseTtlMs: int({
    env: 'SEQLINE_SEQUENCER_LEASE_TTL_MS',
    default: 10_000,
    min: 1000,
    max: 600_000,
    description: 'a worker-id lease not renewed for this long expires; renewed every third of it',
  }),
  reserveMs: int({
    env: 'SEQLINE_SEQUENCER_RESERVE_MS',
    default: 2000,
    min: 10,
    max: 60_000,
    description: 'how far ahead of the last issued id the durable high-water mark is written',
  }),
  metricsPort: port({ env: 'SEQLINE_METRICS_PORT', default: 9461, description: 'ops HTTP port of the process started by main.ts: GET /metrics (Prometheus), /health, /healthz, /readyz; same address as the service (0 = any free port)' }),
  logLevel: oneOf({ env: 'SEQLINE_LOG_LEVEL', values: LOG_LEVELS, default: 'info', description: 'log level' }),
} as const;

export type SequencerConfig = ConfigOf<typeof sequencerConfigSchema>;
