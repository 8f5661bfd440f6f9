import { memoryLogger, RunningState } from '@seqline/runtime';
import { freePort, testEnv } from '@seqline/testkit';
import { describe, expect, it, vi } from 'vitest';
import { connectNats } from './connect.js';

describe('connectNats', () => {
  it('connects on the first attempt when NATS is up, and logs where', async () => {
    const logger = memoryLogger('bus');
    const state = new RunningState('t');
    const nc = await connectNats({ servers: [testEnv().natsUrl], name: 't', logger, state });
    expect(nc).toBeDefined();
    expect(logger.records.map((r) => [r['msg'], r['attempt']])).toEqual([['connected to NATS', 1]]);
    await nc?.close();
  });

  it('retries with growing delays while NATS is unreachable, and gives up with undefined when stopped', async () => {
    const port = await freePort();
    const logger = memoryLogger('bus');
    const state = new RunningState('t', { random: () => 1, backoff: { initialMs: 20, maxMs: 80 } });
    const result = connectNats({ servers: [`nats://127.0.0.1:${port}`], name: 't', logger, state, connectTimeoutMs: 200 });
    await vi.waitFor(() => expect(logger.records.length).toBeGreaterThanOrEqual(4), { timeout: 10_000, interval: 10 });
    state.stop();
    expect(await result).toBeUndefined();
    const retries = logger.records.filter((r) => r['msg'] === 'cannot reach NATS; retrying');
    expect(retries.slice(0, 4).map((r) => [r['attempt'], r['retryInMs']])).toEqual([
      [1, 20],
      [2, 40],
      [3, 80],
      [4, 80],
    ]);
    expect(retries[0]?.['servers']).toEqual([`nats://127.0.0.1:${port}`]);
  });
});
