import { jetstreamManager } from '@nats-io/jetstream';
import { deleteStreamsWithPrefix, natsConnection, readSubject, uniqueName } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { JsPublisher, PublishError } from './publisher.js';

describe('JsPublisher', () => {
  it('publishes with acknowledgements, drops a repeated Nats-Msg-Id, sends headers, and fails where no stream listens', async () => {
    await using nc = await natsConnection();
    const name = uniqueName('PUB').toUpperCase();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`], max_msg_size: 1024, duplicate_window: 60_000_000_000 });
    const publisher = new JsPublisher(nc, { timeoutMs: 2000 });
    try {
      const data = (s: string): Uint8Array => new TextEncoder().encode(s);
      const acks = await Promise.all(['a', 'b', 'c'].map((id) => publisher.publish(`${name}.x`, data(id), { msgID: id, headers: { 'Seqline-Seq': `seq-${id}` } })));
      expect(acks).toEqual([
        { stream: name, seq: 1, duplicate: false },
        { stream: name, seq: 2, duplicate: false },
        { stream: name, seq: 3, duplicate: false },
      ]);
      expect(await publisher.publish(`${name}.x`, data('b again'), { msgID: 'b' })).toEqual({ stream: name, seq: 2, duplicate: true });
      const stored = await readSubject(name, `${name}.x`);
      expect(stored.map((m) => [new TextDecoder().decode(m.data), m.header('Seqline-Seq'), m.header('Nats-Msg-Id')])).toEqual([
        ['a', 'seq-a', 'a'],
        ['b', 'seq-b', 'b'],
        ['c', 'seq-c', 'c'],
      ]);

      const tooBig = await publisher.publish(`${name}.x`, new Uint8Array(4096), { msgID: 'big' }).catch((e: unknown) => e);
      expect(tooBig).toBeInstanceOf(PublishError);
      expect((tooBig as Error).message).toBe('JetStream refused the message: message size exceeds maximum allowed (10054)');

      const nowhere = await publisher.publish(`${uniqueName('nostream')}.x`, data('x'), { msgID: 'n' }).catch((e: unknown) => e);
      expect(nowhere).toBeInstanceOf(PublishError);
      expect((nowhere as Error).message).toBe('no responders: no stream holds this subject');
    } finally {
      publisher.close();
      await deleteStreamsWithPrefix(nc, name);
    }
    await expect(publisher.publish(`${name}.x`, new Uint8Array(1), { msgID: 'late' })).rejects.toThrow('the publisher is closed');
  });

  it('hands the publishes of one turn to the connection together at its end, in call order', async () => {
    await using nc = await natsConnection();
    const name = uniqueName('PUBTURN').toUpperCase();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    const publisher = new JsPublisher(nc, { timeoutMs: 2000 });
    try {
      const before = nc.stats().outMsgs;
      // Three publishes from separate continuations of one turn, as the write service's ops are.
      const publish = async (id: string, hops: number): Promise<number> => {
        for (let i = 0; i < hops; i++) await Promise.resolve();
        return (await publisher.publish(`${name}.x`, new TextEncoder().encode(id), { msgID: id })).seq;
      };
      const seqs = Promise.all([publish('a', 0), publish('b', 2), publish('c', 4)]);
      for (let i = 0; i < 10; i++) await Promise.resolve();
      expect(nc.stats().outMsgs - before).toBe(0);
      expect(await seqs).toEqual([1, 2, 3]);
      expect(nc.stats().outMsgs - before).toBe(3);
      expect((await readSubject(name, `${name}.x`)).map((m) => new TextDecoder().decode(m.data))).toEqual(['a', 'b', 'c']);
    } finally {
      publisher.close();
      await deleteStreamsWithPrefix(nc, name);
    }
  });
});
