// SEQLINE_NATS_REPLICAS on a real 3-node cluster: streams and buckets made with one replica are
// moved to three in place, keeping their messages and entries.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { natsConnection, startNatsCluster, uniqueName, waitFor } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { ensureBucket } from './kv.js';
import { busNames } from './names.js';
import { DEFAULT_STREAM_LIMITS, ensureStreams } from './streams.js';

describe('replicas on a cluster', () => {
  it('creates R1 streams and buckets, then moves them to R3 without losing data', async () => {
    await using cluster = await startNatsCluster({ nodes: 3 });
    await using nc = await natsConnection(cluster.urls);
    const jsm = await jetstreamManager(nc);
    const names = busNames(uniqueName('rep'));
    const bucket = uniqueName('rep_kv');

    await ensureStreams(nc, names, { ...DEFAULT_STREAM_LIMITS, replicas: 1 });
    const kv1 = await ensureBucket(nc, bucket, { history: 1, replicas: 1 });
    await kv1.put('k', 'v');
    await jetstream(nc).publish(names.ops(0), 'op');
    const replicas = async (): Promise<number[]> =>
      Promise.all([names.opsStream, names.changesStream, `KV_${bucket}`].map(async (s) => (await jsm.streams.info(s)).config.num_replicas));
    expect(await replicas()).toEqual([1, 1, 1]);

    await ensureStreams(nc, names, { ...DEFAULT_STREAM_LIMITS, replicas: 3 });
    const kv3 = await ensureBucket(nc, bucket, { history: 1, replicas: 3 });
    expect(await replicas()).toEqual([3, 3, 3]);
    await waitFor(async () => (await jsm.streams.info(names.opsStream)).cluster?.replicas?.length === 2, { timeoutMs: 20_000 });
    expect((await kv3.get('k'))?.string()).toBe('v');
    expect((await jsm.streams.info(names.opsStream)).state.messages).toBe(1);
  });
});
