import { jetstreamManager } from '@nats-io/jetstream';
import { natsConnection, uniqueName } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { ensureBucket } from './kv.js';

describe('ensureBucket (single server)', () => {
  it('creates a bucket once with the given history, TTL and replicas, and moves an existing one to another replica count', async () => {
    await using nc = await natsConnection();
    const bucket = uniqueName('kv');
    const jsm = await jetstreamManager(nc);
    try {
      const kv = await ensureBucket(nc, bucket, { history: 1, ttlMs: 30_000, replicas: 1 });
      await kv.put('k', 'v1');
      const again = await ensureBucket(nc, bucket, { history: 1, ttlMs: 30_000, replicas: 1 });
      expect((await again.get('k'))?.string()).toBe('v1');
      const { config } = await jsm.streams.info(`KV_${bucket}`);
      expect([config.num_replicas, config.max_msgs_per_subject, config.max_age]).toEqual([1, 1, 30_000_000_000]);
      // A bucket made with another count is moved to the new one (a single server records it and keeps one copy).
      await ensureBucket(nc, bucket, { history: 1, ttlMs: 30_000, replicas: 3 });
      expect((await jsm.streams.info(`KV_${bucket}`)).config.num_replicas).toBe(3);
      expect((await again.get('k'))?.string()).toBe('v1');
    } finally {
      await jsm.streams.delete(`KV_${bucket}`);
    }
  });
});
