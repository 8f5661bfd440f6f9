// The storage service's configuration, declared once; `--help` and the README print it.
import { type ConfigOf, int, LOG_LEVELS, oneOf, optionalStr, port, str, urls } from '@seqline/runtime';

export const storageConfigSchema = {
  postgresUrl: str({ env: 'SEQLINE_POSTGRES_URL', description: 'PostgreSQL connection URL (the local stack sets it)', secret: true }),
  natsUrls: urls({ env: 'SEQLINE_NATS_URL', default: ['nats://127.0.0.1:14222'], protocols: ['nats', 'tls'], description: 'NATS server URL(s), comma-separated' }),
  host: str({ env: 'SEQLINE_STORAGE_HOST', default: '127.0.0.1', description: 'address the gRPC server binds' }),
  port: port({ env: 'SEQLINE_STORAGE_PORT', default: 50052, description: 'gRPC port (0 = any free port)' }),
  sequencerAddr: str({ env: 'SEQLINE_SEQUENCER_ADDR', default: '127.0.0.1:50051', description: 'sequencer gRPC address' }),
  busPrefix: str({ env: 'SEQLINE_BUS_PREFIX', default: 'seqline', pattern: /^[A-Za-z0-9_-]+$/, description: 'prefix of NATS subjects and streams' }),
  shards: int({ env: 'SEQLINE_SHARDS', default: 16, min: 1, max: 4096, description: 'number of op-log shards (the same in every service; never change it on live data)' }),
  replica: int({ env: 'SEQLINE_STORAGE_REPLICA', default: 0, min: 0, description: 'this replica i of M applies the shards s with s mod M = i' }),
  replicas: int({ env: 'SEQLINE_STORAGE_REPLICAS', default: 1, min: 1, description: 'M: number of storage replicas applying shards' }),
  applyBatch: int({ env: 'SEQLINE_APPLY_BATCH', default: 200, min: 1, max: 10_000, description: 'most ops applied in one PostgreSQL transaction' }),
  applyPreparedStatements: int({ env: 'SEQLINE_APPLY_PREPARED_STATEMENTS', default: 500, min: 0, max: 100_000, description: 'distinct write statements kept prepared on the apply connection (more are run unprepared)' }),
  ackWaitMs: int({ env: 'SEQLINE_APPLY_ACK_WAIT_MS', default: 5000, min: 1000, max: 600_000, description: 'ops pulled but not acknowledged within this time are redelivered (after a crash, the new owner waits this long)' }),
  maxRowBytes: int({ env: 'SEQLINE_MAX_ROW_BYTES', default: 262_144, min: 1024, max: 64 * 1024 * 1024, description: 'largest row image (as JSON) a write may leave; a write over it is refused with ROW_TOO_LARGE and nothing of it is written' }),
  maxChangeBytes: int({ env: 'SEQLINE_MAX_CHANGE_BYTES', default: 983_040, min: 8192, max: 64 * 1024 * 1024, description: 'largest change message of one statement (all its row images); over it ROW_TOO_LARGE; kept 4 KiB below the NATS server\'s max_payload whatever is set' }),
  applyStatementTimeoutMs: int({ env: 'SEQLINE_APPLY_STATEMENT_TIMEOUT_MS', default: 2000, min: 100, max: 600_000, description: 'statement timeout in the apply transaction: a write running longer fails alone (SQL_EXECUTION_ERROR) and its shard goes on' }),
  applyLockTimeoutMs: int({ env: 'SEQLINE_APPLY_LOCK_TIMEOUT_MS', default: 2000, min: 100, max: 600_000, description: 'lock timeout in the apply transaction: a write waiting longer for a lock fails alone and its shard goes on' }),
  hashPartitions: int({ env: 'SEQLINE_HASH_PARTITIONS', default: 8, min: 1, max: 1024, description: 'hash partitions of each new USER table' }),
  queryDefaultLimit: int({ env: 'SEQLINE_QUERY_DEFAULT_LIMIT', default: 1000, min: 1, description: 'rows a SELECT without LIMIT returns at most' }),
  queryMaxRows: int({ env: 'SEQLINE_QUERY_MAX_ROWS', default: 10_000, min: 1, description: 'rows any SELECT returns at most' }),
  queryTimeoutMs: int({ env: 'SEQLINE_QUERY_TIMEOUT_MS', default: 10_000, min: 100, description: 'statement timeout of a SELECT' }),
  snapshotBatch: int({ env: 'SEQLINE_SNAPSHOT_BATCH', default: 1000, min: 1, description: 'rows per snapshot batch when a subscription sets no batch_size' }),
  snapshotMaxBatch: int({ env: 'SEQLINE_SNAPSHOT_MAX_BATCH', default: 10_000, min: 1, description: 'largest batch_size a subscription may ask for' }),
  snapshotMaxBatchBytes: int({ env: 'SEQLINE_SNAPSHOT_MAX_BATCH_BYTES', default: 1_048_576, min: 65_536, max: 3 * 1024 * 1024, description: 'a snapshot or catch-up batch holds at most this many bytes of rows (more rows go in further batches; gRPC caps a message at 4 MiB)' }),
  snapshotTimeoutMs: int({ env: 'SEQLINE_SNAPSHOT_TIMEOUT_MS', default: 300_000, min: 1000, description: 'a snapshot transaction (paused by a slow or client-paced reader included) is ended after this long' }),
  idBlock: int({ env: 'SEQLINE_ID_BLOCK', default: 1000, min: 1, max: 65_536, description: 'ids fetched from the sequencer per call' }),
  purgeIntervalMs: int({ env: 'SEQLINE_PURGE_INTERVAL_MS', default: 60_000, min: 1000, description: 'how often tombstones past their retention and old op results are purged' }),
  opResultRetentionHours: int({ env: 'SEQLINE_OP_RESULT_RETENTION_HOURS', default: 24, min: 1, description: 'how long op results are kept for idempotent retries' }),
  instanceId: optionalStr({ env: 'SEQLINE_INSTANCE_ID', description: 'name of this process in logs and shard ownership (default host:pid)' }),
  changesMaxAgeMs: int({ env: 'SEQLINE_CHANGES_MAX_AGE_MS', default: 604_800_000, min: 60_000, description: 'how long the change log keeps changes for resumes (older resumes use storage\'s compacted catch-up)' }),
  changesMaxPerSubject: int({ env: 'SEQLINE_CHANGES_MAX_PER_SUBJECT', default: -1, min: -1, description: 'changes the log keeps per partition at most (-1 = no limit)' }),
  logLevel: oneOf({ env: 'SEQLINE_LOG_LEVEL', values: LOG_LEVELS, default: 'info', description: 'log level' }),
} as const;

export type StorageConfig = ConfigOf<typeof storageConfigSchema>;
