// The worker loop (consume.ts) against a scripted server: it handles a batch in order and acks
// its last change once; a failing handler gets the handled part acked, the failed change nak'ed,
// and the same change again next; stop() acks what was handled and releases the worker.
import { describe, expect, it } from 'vitest';
import { startConsumer, type ConsumedChange } from './consume.js';
import { ServerError } from './errors.js';

const change = (n: number): ConsumedChange => ({ token: `t${n}`, owner: 'alice', seq: String(n), prev_seq: String(n - 1), op_id: `op${n}`, committed_at: 0, rows: [{ kind: 'insert', seq: String(n), new: { n } }] });

/** A server that answers fetches from `batches` (then empty ones) and records every call. */
function server(batches: ConsumedChange[][]) {
  const calls: string[] = [];
  let empty: () => void = () => {};
  const drained = new Promise<void>((resolve) => (empty = resolve));
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const b = body as { token?: string; nak?: boolean };
    calls.push(path === '/v1/api/consume/ack' ? `${b.nak === true ? 'nak' : 'ack'} ${b.token}` : path.replace('/v1/api/consume', 'fetch').replace('fetch/', ''));
    if (path !== '/v1/api/consume') return {};
    const next = batches.shift();
    if (next === undefined) {
      empty();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return { changes: next ?? [] };
  };
  return { calls, post, drained };
}

const OPTIONS = { worker: 'w', random: () => 0, now: () => 0, backoff: { baseMs: 1, capMs: 1 } };

describe('the consumer loop', () => {
  it('handles a batch in order and acknowledges it with its last token', async () => {
    const s = server([[change(1), change(2), change(3)]]);
    const seen: number[] = [];
    const consumer = startConsumer(s.post, 'app.t', 'g', (c) => void seen.push(Number(c.seq)), OPTIONS);
    await s.drained;
    await consumer.stop();
    expect(seen).toEqual([1, 2, 3]);
    expect(s.calls.slice(0, 2)).toEqual(['fetch', 'ack t3']);
    expect(s.calls.at(-1)).toBe('release');
  });

  it('acks what was handled, naks the failed change and handles it again before the rest', async () => {
    const s = server([[change(1), change(2), change(3)], [change(2), change(3)]]);
    const seen: number[] = [];
    let failed = false;
    const errors: unknown[] = [];
    const consumer = startConsumer(
      s.post,
      'app.t',
      'g',
      (c) => {
        if (c.seq === '2' && !failed) {
          failed = true;
          throw new Error('boom');
        }
        seen.push(Number(c.seq));
      },
      { ...OPTIONS, onError: (e) => errors.push(e) },
    );
    await s.drained;
    await consumer.stop();
    expect(seen).toEqual([1, 2, 3]);
    expect(s.calls.slice(0, 5)).toEqual(['fetch', 'ack t1', 'nak t2', 'fetch', 'ack t3']);
    expect(errors).toHaveLength(1);
  });

  it('ends with the server\'s refusal when retrying cannot help', async () => {
    const post = async (): Promise<Record<string, unknown>> => {
      throw new ServerError('PERMISSION_DENIED', 'consuming changes needs a service or system account', 403);
    };
    const consumer = startConsumer(post, 'app.t', 'g', () => {}, OPTIONS);
    await expect(consumer.done).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });
});
