// Creates (or updates) the streams at start-up: each service makes sure of the streams it
// publishes to (write: the ops log; storage: both, and it alone configures the change log), so
// the order services start in does not matter.
import { jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { waitForStreamLeader } from './kv.js';
import type { BusNames } from './names.js';

export interface StreamLimits {
  /** How long ops stay in the log after being applied (ns). */
  readonly opsMaxAgeMs: number;
  /** How long changes stay for resume; older resumes use storage's compacted catch-up. */
  readonly changesMaxAgeMs: number;
  /** Changes kept per subject at most (-1 = no limit); older resumes use the compacted catch-up. */
  readonly changesMaxPerSubject: number;
  /** A publish repeated with the same Nats-Msg-Id within this window is dropped. */
  readonly duplicateWindowMs: number;
  readonly replicas: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  opsMaxAgeMs: 7 * 24 * 3600_000,
  changesMaxAgeMs: 7 * 24 * 3600_000,
  changesMaxPerSubject: -1,
  duplicateWindowMs: 10 * 60_000,
  replicas: 1,
};

const nanos = (ms: number): number => ms * 1_000_000;

export type StreamKind = 'ops' | 'changes';

export async function ensureStreams(nc: NatsConnection, names: BusNames, limits: StreamLimits = DEFAULT_STREAM_LIMITS, streams: readonly StreamKind[] = ['ops', 'changes']): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const all: Record<StreamKind, Partial<StreamConfig> & { name: string; max_age: number }> = {
    ops: { name: names.opsStream, subjects: [names.opsWildcard()], max_age: nanos(limits.opsMaxAgeMs) },
    changes: { name: names.changesStream, subjects: [names.changesWildcard()], max_age: nanos(limits.changesMaxAgeMs), max_msgs_per_subject: limits.changesMaxPerSubject, allow_direct: true },
  };
  for (const c of streams.map((k) => all[k])) {
    const config = {
      ...c,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: Math.min(nanos(limits.duplicateWindowMs), c.max_age),
      num_replicas: limits.replicas,
    };
    try {
      await jsm.streams.add(config);
    } catch (err) {
      if (!/already in use|exists/i.test(err instanceof Error ? err.message : String(err))) throw err;
      await jsm.streams.update(config.name, config);
    }
    await waitForStreamLeader(nc, config.name);
  }
}
