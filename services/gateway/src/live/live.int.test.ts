// The live tail and history reads against a real nats-server with JetStream.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { busNames, ensureStreams, lastChange } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { SeqIdGenerator } from '@seqline/seq';
import { deleteStreamsWithPrefix, natsConnection, startNats, uniqueName } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { ChangeHub } from './change-hub.js';
import { readHistory, walkHistory } from './history.js';

const ids = new SeqIdGenerator({ workerId: 7 });

/** A chain of changes on one subject: each with `rows` row versions, chained by prev_seq. */
function chain(rowsPerChange: readonly number[], after = 0n): busPb.Change[] {
  let prev = after;
  return rowsPerChange.map((n, i) => {
    const rows = Array.from({ length: n }, () => ({ kind: 'insert', seq: ids.next(), oldJson: '', newJson: JSON.stringify({ i }) }));
    const seq = rows.at(-1)!.seq;
    const change: busPb.Change = { owner: 'alice', namespace: 'app', table: 't', seq, prevSeq: prev, opId: `op${i}`, committedAtUs: 0n, rows };
    prev = seq;
    return change;
  });
}

describe('ChangeHub', () => {
  it('shares one NATS subscription per subject between its listeners, and drops it with the last', async () => {
    await using nc = await natsConnection();
    const hub = new ChangeHub(nc);
    const subject = `${uniqueName('hub')}.changes.alice.app.t`;
    const a: busPb.Change[] = [];
    const b: busPb.Change[] = [];
    const c: busPb.Change[] = [];
    const [la, lb, lc] = [a, b, c].map((got) => ({ onChange: (ch: busPb.Change) => void got.push(ch), onReconnect: () => {} }));
    hub.listen(subject, la!);
    hub.listen(subject, lb!);
    hub.listen(`${subject}2`, lc!);
    expect(hub.subscriptions).toBe(2);
    await hub.flush();
    const changes = chain([1, 2, 1]);
    for (const ch of changes) nc.publish(subject, busPb.Change.encode(ch).finish());
    await expect.poll(() => [a.length, b.length]).toEqual([3, 3]);
    expect(a.map((ch) => ch.seq)).toEqual(changes.map((ch) => ch.seq));
    expect(c).toEqual([]);
    hub.unlisten(subject, la!);
    hub.unlisten(subject, la!); // twice is harmless
    expect(hub.subscriptions).toBe(2);
    hub.dropDeliveries((ch) => ch.opId === 'dropped');
    nc.publish(subject, busPb.Change.encode({ ...changes[0]!, opId: 'dropped' }).finish());
    nc.publish(subject, busPb.Change.encode({ ...changes[0]!, opId: 'kept' }).finish());
    await expect.poll(() => b.map((ch) => ch.opId)).toEqual(['op0', 'op1', 'op2', 'kept']);
    expect(a).toHaveLength(3);
    hub.unlisten(subject, lb!);
    hub.unlisten(`${subject}2`, lc!);
    expect(hub.subscriptions).toBe(0);
    hub.close();
  });
});

describe('ChangeHub reconnects', () => {
  it('tells every listener of every subject once the connection to a restarted NATS is back, and no longer after unlisten or close', async () => {
    await using server = await startNats();
    await using nc = await natsConnection(server.url, { maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    const hub = new ChangeHub(nc);
    const calls = [0, 0, 0];
    const listeners = calls.map((_, i) => ({ onChange: () => {}, onReconnect: () => void calls[i]!++ }));
    hub.listen('rc.a', listeners[0]!);
    hub.listen('rc.a', listeners[1]!);
    hub.listen('rc.b', listeners[2]!);
    await server.restart();
    await expect.poll(() => calls, { timeout: 15_000 }).toEqual([1, 1, 1]);
    hub.unlisten('rc.a', listeners[0]!);
    hub.reconnected();
    expect(calls).toEqual([1, 2, 2]);
    hub.close();
    hub.reconnected();
    expect(calls).toEqual([1, 2, 2]);
  });
});

/** A bus of its own with alice's change subject in it; disposing deletes its streams. */
async function changeStream() {
  const nc = await natsConnection();
  const names = busNames(uniqueName('hist'));
  await ensureStreams(nc, names);
  return {
    nc,
    names,
    js: jetstream(nc),
    subject: names.changes('alice', 'app', 't'),
    async [Symbol.asyncDispose]() {
      await deleteStreamsWithPrefix(nc, names.changesStream.replace(/_CHANGES$/, ''));
      await nc[Symbol.asyncDispose]();
    },
  };
}

describe('readHistory', () => {
  it('reads the changes after a _seq, says whether the stream still covers that range, and trims a split change', async () => {
    await using stream = await changeStream();
    const { nc, names, js, subject } = stream;
    const changes = chain([1, 3, 1, 2]);
    for (const ch of changes) await js.publish(subject, busPb.Change.encode(ch).finish());
    const read = async (after: bigint) => {
      const h = await readHistory(nc, names.changesStream, subject, after, { skewMs: 5000, batch: 2 });
      return { covered: h.covered, changes: h.changes.map((ch) => [ch.opId, ch.rows.length]) };
    };
    expect(await read(0n)).toEqual({ covered: true, changes: [['op0', 1], ['op1', 3], ['op2', 1], ['op3', 2]] });
    expect(await read(changes[1]!.seq)).toEqual({ covered: true, changes: [['op2', 1], ['op3', 2]] });
    // A client that got the first row of op1 only: the other two rows of op1 come again.
    expect(await read(changes[1]!.rows[0]!.seq)).toEqual({ covered: true, changes: [['op1', 2], ['op2', 1], ['op3', 2]] });
    expect(await read(changes[3]!.seq)).toEqual({ covered: true, changes: [] });
    expect(await readHistory(nc, names.changesStream, names.changes('bob', 'app', 't'), 0n, { skewMs: 5000 })).toEqual({ changes: [], covered: false });

    // The stream's limits dropped the two oldest changes: a read from before them is not covered.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.deleteMessage(names.changesStream, 1);
    await jsm.streams.deleteMessage(names.changesStream, 2);
    expect(await read(0n)).toEqual({ covered: false, changes: [['op2', 1], ['op3', 2]] });
    expect(await read(changes[1]!.seq)).toEqual({ covered: true, changes: [['op2', 1], ['op3', 2]] });

    // A change missing in the middle of the range: not covered either.
    const more = chain([1, 1, 1], changes.at(-1)!.seq);
    for (const ch of more) await js.publish(subject, busPb.Change.encode(ch).finish());
    await jsm.streams.deleteMessage(names.changesStream, 6);
    const afterGap = await readHistory(nc, names.changesStream, subject, changes[3]!.seq, { skewMs: 5000, batch: 1 });
    expect([afterGap.covered, afterGap.changes.map((ch) => ch.seq)]).toEqual([false, [more[0]!.seq, more[2]!.seq]]);
  });

  it('reads a long history in byte-bounded pulls without waiting out a pull\'s expiry between them', async () => {
    await using stream = await changeStream();
    const { nc, names, js, subject } = stream;
    const changes = chain(Array.from({ length: 450 }, () => 1));
    await Promise.all(changes.map((ch) => js.publish(subject, busPb.Change.encode(ch).finish())));
    const started = performance.now();
    const h = await readHistory(nc, names.changesStream, subject, changes[9]!.seq, { skewMs: 5000 });
    const elapsed = performance.now() - started;
    expect([h.covered, h.changes.length, h.changes[0]!.seq, h.changes.at(-1)!.seq]).toEqual([true, 440, changes[10]!.seq, changes[449]!.seq]);
    // A pull of nats.js's default 100 messages that stops short of the byte bound used to sit
    // until its 5 s expiry: 440 changes took 20 s. Small messages in memory take milliseconds.
    expect(elapsed).toBeLessThan(5000);
  });

  it('walks a resume\'s history with direct gets among other subjects\' messages, within its budget of gets, as exactly as a consumer read', async () => {
    await using stream = await changeStream();
    const { nc, names, js, subject } = stream;
    const changes = chain([1, 3, 1, 2, 1, 1]);
    const others = chain([1, 1, 1, 1, 1, 1, 1]).map((c) => ({ ...c, owner: 'bob' }));
    // bob's messages around and between alice's: the walk skips them by subject.
    for (const [i, ch] of changes.entries()) {
      await js.publish(names.changes('bob', 'app', 't'), busPb.Change.encode(others[i]!).finish());
      await js.publish(subject, busPb.Change.encode(ch).finish());
    }
    await js.publish(names.changes('bob', 'app', 't'), busPb.Change.encode(others[6]!).finish());
    const jsm = await jetstreamManager(nc);
    const read = async (after: bigint, directReads = 64) => {
      const h = await readHistory(nc, names.changesStream, subject, after, { skewMs: 5000, directReads });
      return { covered: h.covered, changes: h.changes.map((ch) => [ch.opId, ch.rows.length]) };
    };
    /** The walk alone: 'costly' past its budget. */
    const walk = async (after: bigint, reads: number) => {
      const head = (await lastChange(jsm, names.changesStream, subject))!;
      const h = await walkHistory(jsm, names.changesStream, subject, after, { seq: head.streamSeq, change: head.change }, reads);
      return h === 'costly' ? h : { covered: h.covered, changes: h.changes.map((ch) => [ch.opId, ch.rows.length]) };
    };
    const all = [['op0', 1], ['op1', 3], ['op2', 1], ['op3', 2], ['op4', 1], ['op5', 1]];
    expect(await read(0n)).toEqual({ covered: true, changes: all });
    expect(await read(changes[2]!.seq)).toEqual({ covered: true, changes: all.slice(3) });
    expect(await read(changes[1]!.rows[0]!.seq)).toEqual({ covered: true, changes: [['op1', 2], ...all.slice(2)] });
    expect(await read(changes[5]!.seq)).toEqual({ covered: true, changes: [] });
    // One change missed: the head itself chains to the cursor, no get beyond it.
    expect(await walk(changes[4]!.seq, 0)).toEqual({ covered: true, changes: [['op5', 1]] });
    // Two missed: one round of probes back (stream sequences 11, 10, 8, 4 and 1: the stream
    // holds 13 messages) finds op4; with 7 gets, one at each of the 2 sequences up to the head
    // at once; with 6, one get forward (op4's next message is the head); 5 are not enough.
    expect(await walk(changes[3]!.seq, 7)).toEqual({ covered: true, changes: all.slice(4) });
    expect(await walk(changes[3]!.seq, 6)).toEqual({ covered: true, changes: all.slice(4) });
    expect(await walk(changes[3]!.seq, 5)).toBe('costly');
    expect(await walk(0n, 3)).toBe('costly');
    // Past its budget, readHistory reads on with a consumer: the same answer.
    expect(await read(changes[3]!.seq, 5)).toEqual({ covered: true, changes: all.slice(4) });
    expect(await read(0n, 3)).toEqual({ covered: true, changes: all });
    // The same answers as the consumer read.
    for (const after of [0n, changes[1]!.rows[0]!.seq, changes[2]!.seq, changes[4]!.seq]) {
      const walked = await readHistory(nc, names.changesStream, subject, after, { skewMs: 5000, directReads: 64 });
      expect(walked).toEqual(await readHistory(nc, names.changesStream, subject, after, { skewMs: 5000 }));
    }

    // The stream dropped alice's first change (stream sequence 2): a walk from before it is not covered.
    await jsm.streams.deleteMessage(names.changesStream, 2);
    expect(await walk(0n, 64)).toMatchObject({ covered: false });
    expect(await read(0n)).toMatchObject({ covered: false });
    expect(await read(changes[0]!.seq)).toEqual({ covered: true, changes: all.slice(1) });
    // A change missing in the middle (op3, stream sequence 8): not covered either.
    await jsm.streams.deleteMessage(names.changesStream, 8);
    expect(await walk(changes[1]!.seq, 64)).toMatchObject({ covered: false });
    expect(await read(changes[1]!.seq)).toMatchObject({ covered: false });
    expect(await read(changes[3]!.seq)).toEqual({ covered: true, changes: all.slice(4) });
  });
});
