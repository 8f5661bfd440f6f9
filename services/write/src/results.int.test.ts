import { resultMessages } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { natsConnection, uniqueName } from '@seqline/testkit';
import { describe, expect, it } from 'vitest';
import { ResultInbox } from './results.js';

const result = (opId: string): busPb.OpResult => ({ opId, ok: true, rowCount: 1n, message: 'Inserted 1 row(s)', errorCode: '', errorMessage: '', seq: 42n, returningJson: '', streamSeq: 7n, shard: 0, statements: [] });

describe('ResultInbox', () => {
  it('hands each result to its waiter, and times out with undefined', async () => {
    await using nc = await natsConnection();
    const inbox = new ResultInbox(nc, `${uniqueName('w')}.results.test`);
    const a = inbox.wait('op-a', 10_000);
    const b = inbox.wait('op-b', 50);
    nc.publish(inbox.replyTo('op-a'), busPb.OpResult.encode(result('op-a')).finish());
    expect(await a.promise).toEqual(result('op-a'));
    expect(await b.promise).toBeUndefined();
    const c = inbox.wait('op-c', 10_000);
    c.cancel();
    expect(await c.promise).toBeUndefined();
    inbox.close();
  });

  it('hands out the results of a batch message each to its waiter', async () => {
    await using nc = await natsConnection();
    const inbox = new ResultInbox(nc, `${uniqueName('w')}.results.test`);
    const waits = ['op-d', 'op-e'].map((id) => inbox.wait(id, 10_000));
    const [batch] = resultMessages(['op-d', 'op-e'].map((id) => ({ replyTo: inbox.replyTo(id), result: result(id) })));
    expect(batch!.subject).toBe(`${inbox.subject}._batch`);
    nc.publish(batch!.subject, batch!.data);
    expect(await Promise.all(waits.map((w) => w.promise))).toEqual([result('op-d'), result('op-e')]);
    inbox.close();
  });
});
