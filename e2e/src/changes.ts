// Reads everything on a change subject from JetStream, from the start: what a resuming client
// would see. The subject's message count comes from the stream first, so the read knows when
// it is done (no waiting for a quiet period). nats-server 2.9 has no multi-filter consumers,
// so this uses an ephemeral pull consumer with one filter subject.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { busPb } from '@seqline/proto';
import { natsConnection } from '@seqline/testkit';

export async function readChanges(stream: string, subject: string, natsUrl?: string): Promise<busPb.Change[]> {
  await using nc = await natsConnection(natsUrl);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const expected = info.state.subjects?.[subject] ?? 0;
  if (expected === 0) return [];
  const ci = await jsm.consumers.add(stream, { filter_subject: subject, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 30_000_000_000 });
  try {
    const consumer = await jetstream(nc).consumers.get(stream, ci.name);
    const out: busPb.Change[] = [];
    while (out.length < expected) {
      const batch = await consumer.fetch({ max_messages: expected - out.length, expires: 5000 });
      for await (const m of batch) out.push(busPb.Change.decode(m.data));
    }
    return out;
  } finally {
    await jsm.consumers.delete(stream, ci.name).catch(() => {});
  }
}
