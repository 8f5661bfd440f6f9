import { memoryLogger, RunningState, type Timers } from '@seqline/runtime';
import { describe, expect, it } from 'vitest';
import { OutboxPublisher, type OutboxRow } from './outbox.js';

/** Timers that note each delay asked for and fire at once. */
function recordingTimers(): Timers & { readonly delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => 0,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return setImmediate(fn);
    },
    clearTimeout: (h) => clearImmediate(h as NodeJS.Immediate),
  };
}

const row = (subject: string, seq: number): OutboxRow => ({ id: String(seq), subject, seq: String(seq), payload: Buffer.from([seq]) });

/** A publisher whose sends of each message id in `failing` fail that many times; `sent` lists every attempt. */
function flakyPublisher(failing: Record<string, number>) {
  const sent: string[] = [];
  const left = new Map(Object.entries(failing));
  return {
    sent,
    publish(_subject: string, _data: Uint8Array, options: { msgID: string }) {
      sent.push(options.msgID);
      const n = left.get(options.msgID) ?? 0;
      if (n > 0) {
        left.set(options.msgID, n - 1);
        return Promise.reject(new Error('no responders: no stream holds this subject'));
      }
      return Promise.resolve({ stream: 'changes', seq: sent.length, duplicate: false });
    },
  };
}

const BACKOFF = { initialMs: 100, maxMs: 400, jitter: 0 };

describe('OutboxPublisher', () => {
  it('retries with its own capped backoff, leaving the apply loop\'s backoff untouched', async () => {
    const timers = recordingTimers();
    const state = new RunningState('apply', { timers, backoff: { initialMs: 1000, maxMs: 60_000, jitter: 0 } });
    const logger = memoryLogger();
    const publisher = flakyPublisher({ 's.a:1': 4 });
    const outbox = new OutboxPublisher({ publisher, state, logger, backoff: BACKOFF });
    await outbox.publish([row('s.a', 1)]);
    expect(timers.delays).toEqual([100, 200, 400, 400]);
    expect(logger.records.filter((r) => r['msg'] === 'cannot publish committed changes; retrying').map((r) => [r['attempt'], r['delayMs']])).toEqual([
      [0, 100],
      [1, 200],
      [2, 400],
      [3, 400],
    ]);
    expect(publisher.sent).toEqual(['s.a:1', 's.a:1', 's.a:1', 's.a:1', 's.a:1']);
    expect(outbox.failures).toBe(0);
    expect(state.nextBackoffMs()).toBe(1000);
  });

  it('starts again from the initial delay after a success', async () => {
    const timers = recordingTimers();
    const state = new RunningState('apply', { timers });
    const publisher = flakyPublisher({ 's.a:1': 3, 's.a:2': 1 });
    const outbox = new OutboxPublisher({ publisher, state, logger: memoryLogger(), backoff: BACKOFF });
    await outbox.publish([row('s.a', 1)]);
    await outbox.publish([row('s.a', 2)]);
    expect(timers.delays).toEqual([100, 200, 400, 100]);
  });

  it('sends again from the first change not acknowledged, in order', async () => {
    const state = new RunningState('apply', { timers: recordingTimers() });
    const publisher = flakyPublisher({ 's.a:2': 1 });
    const outbox = new OutboxPublisher({ publisher, state, logger: memoryLogger(), backoff: BACKOFF });
    await outbox.publish([row('s.a', 1), row('s.a', 2), row('s.b', 3)]);
    expect(publisher.sent).toEqual(['s.a:1', 's.a:2', 's.b:3', 's.a:2', 's.b:3']);
  });

  it('gives up with the publish error when the state stops', async () => {
    const state = new RunningState('apply');
    const publisher = flakyPublisher({ 's.a:1': Infinity });
    const outbox = new OutboxPublisher({ publisher, state, logger: memoryLogger(), backoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
    const publishing = outbox.publish([row('s.a', 1)]);
    await expect.poll(() => publisher.sent.length).toBe(1);
    state.stop();
    await expect(publishing).rejects.toThrow('no responders');
    expect(outbox.failures).toBe(1);
  });
});
