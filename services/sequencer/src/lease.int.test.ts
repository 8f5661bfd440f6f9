// Worker-id leases against a real JetStream key-value bucket.
//
// Regression (found by the fault campaign): a renewal whose write reached the bucket but whose
// acknowledgement was lost (the NATS node holding the bucket's leader died at that moment) was
// taken for a takeover: the entry's revision had moved, so the sequencer declared its lease lost
// and exited, and with every sequencer doing so at once no write could get ids. An entry that
// moved but still names this holder is this holder's own write: the lease is kept.
import { ensureBucket } from '@seqline/bus';
import { natsConnection, uniqueName, deleteStreamsWithPrefix } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from './errors.js';
import { WorkerLease } from './lease.js';

async function bucket() {
  const nc = await natsConnection();
  const name = uniqueName('lease');
  const kv = await ensureBucket(nc, name, { history: 1, ttlMs: 10_000, replicas: 1 });
  return Object.assign(kv, {
    async [Symbol.asyncDispose]() {
      await deleteStreamsWithPrefix(nc, `KV_${name}`);
      await nc.close();
    },
  });
}

const options = { instance: 'seq-a', ttlMs: 10_000, monotonic: () => performance.now() };

describe('WorkerLease.renew', () => {
  it('keeps the lease when the entry moved by its own earlier write whose acknowledgement was lost', async () => {
    await using kv = await bucket();
    const lease = await WorkerLease.acquire(kv, 3, options);
    const entry = (await kv.get('worker.3'))!;
    await kv.update('worker.3', entry.value, entry.revision); // our renewal, applied, answer lost
    await lease.renew();
    expect(lease.lost).toBeUndefined();
    await lease.renew(); // and it goes on renewing at the adopted revision
    expect([lease.lost, (await kv.get('worker.3'))!.string()]).toEqual([undefined, entry.string()]);
  });

  it('is lost when another holder wrote the entry', async () => {
    await using kv = await bucket();
    const lease = await WorkerLease.acquire(kv, 4, options);
    const entry = (await kv.get('worker.4'))!;
    await kv.update('worker.4', JSON.stringify({ instance: 'seq-b', acquiredAt: new Date().toISOString() }), entry.revision);
    await expect(lease.renew()).rejects.toBeInstanceOf(LeaseLostError);
    expect(lease.lost).toBeInstanceOf(LeaseLostError);
  });
});
