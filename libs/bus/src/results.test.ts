import type { busPb } from '@seqline/proto';
import { describe, expect, it } from 'vitest';
import { decodeResults, resultMessages } from './results.js';

const result = (opId: string): busPb.OpResult => ({ opId, ok: true, rowCount: 1n, message: 'Inserted 1 row(s)', errorCode: '', errorMessage: '', seq: 42n, returningJson: '', streamSeq: 7n, shard: 0, statements: [] });

describe('op results on the bus', () => {
  it('sends one message per write instance: a batch for several results, the op subject for one', () => {
    const messages = resultMessages([
      { replyTo: 's.results.w1.a', result: result('a') },
      { replyTo: 's.results.w2.b', result: result('b') },
      { replyTo: '', result: result('nobody') },
      { replyTo: 's.results.w1.c', result: result('c') },
    ]);
    expect(messages.map((m) => m.subject)).toEqual(['s.results.w1._batch', 's.results.w2.b']);
    expect(messages.map((m) => decodeResults(m.subject, m.data).map((r) => r.opId))).toEqual([['a', 'c'], ['b']]);
    expect(decodeResults(messages[1]!.subject, messages[1]!.data)).toEqual([result('b')]);
  });
});
