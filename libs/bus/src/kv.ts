// Key-value buckets a service relies on, created with the replica count of the deployment
// (SEQLINE_NATS_REPLICAS). nats.js's `Kvm.create` leaves an existing bucket as it is; a bucket
// made earlier with another replica count is moved to this one here, which JetStream does in
// place on a cluster (nats-server 2.9 alone records the count and keeps one copy).
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { sleep } from '@seqline/runtime';

export interface BucketOptions {
  readonly history: number;
  /** Entries expire after this long (ms); unset = never. */
  readonly ttlMs?: number;
  readonly replicas: number;
}

export async function ensureBucket(nc: NatsConnection, bucket: string, options: BucketOptions): Promise<KV> {
  const kv = await new Kvm(nc).create(bucket, { history: options.history, replicas: options.replicas, ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs }) });
  await ensureReplicas(nc, `KV_${bucket}`, options.replicas);
  await waitForStreamLeader(nc, `KV_${bucket}`);
  return kv;
}

/**
 * Resolves once the stream has a leader. A replicated stream just made or moved takes writes only
 * after its replicas elected one; a publish before that finds no responder, which nats.js reports
 * as JetStreamNotEnabled (a gateway's first directory entry failed so on the 3-node compose
 * cluster, docs/deploy.md). A server without a cluster answers with its own leadership at once.
 */
export async function waitForStreamLeader(nc: NatsConnection, stream: string, timeoutMs = 30_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info !== undefined && (info.cluster === undefined || (info.cluster.leader ?? '') !== '')) return;
    if (Date.now() > deadline) throw new Error(`stream ${stream} has no leader after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Sets `num_replicas` of an existing stream when it differs. */
export async function ensureReplicas(nc: NatsConnection, stream: string, replicas: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const { config } = await jsm.streams.info(stream);
  if (config.num_replicas !== replicas) await jsm.streams.update(stream, { ...config, num_replicas: replicas });
}
