import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { memoryLogger, parseConfig } from '@seqline/runtime';
import { MAX_SEQ_ID, seqIdToDate, type SeqId } from '@seqline/seq';
import { deleteStreamsWithPrefix, freePort, natsConnection, startNats, testEnv, uniqueName } from '@seqline/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSequencerClient, type SequencerClient } from '@seqline/sequencer-client';
import { sequencerConfigSchema, type SequencerConfig } from './config.js';
import { startSequencer, SequencerService } from './sequencer.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function config(prefix: string, env: Record<string, string> = {}, natsUrl = testEnv().natsUrl): SequencerConfig {
  return parseConfig(sequencerConfigSchema, { SEQLINE_NATS_URL: natsUrl, SEQLINE_SEQUENCER_PORT: '0', SEQLINE_KV_PREFIX: prefix, ...env });
}

async function sequencer(cfg: SequencerConfig, clock?: { now(): number }) {
  const service = await startSequencer(cfg, { logger: memoryLogger('sequencer'), ...(clock ? { clock } : {}) });
  const info = await service.ready;
  const client = createSequencerClient(`127.0.0.1:${info.port}`);
  const handle = { service, info, client, stop: async () => (client.close(), await service.stop()) };
  cleanups.push(handle.stop);
  return handle;
}

function isolatedPrefix(): string {
  const prefix = uniqueName('seq');
  cleanups.push(async () => {
    await using nc = await natsConnection();
    await deleteStreamsWithPrefix(nc, `KV_${prefix}`);
  });
  return prefix;
}

async function allocateAll(client: SequencerClient, calls: number, perCall: number, inFlight: number): Promise<SeqId[][]> {
  const responses: SeqId[][] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      next++;
      const { ranges } = await client.allocate(perCall);
      const ids: SeqId[] = [];
      for (const r of ranges) for (let i = 0n; i < BigInt(r.count); i++) ids.push((r.first + i) as SeqId);
      responses.push(ids);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return responses;
}

function expectAscending(ids: readonly SeqId[]): void {
  for (let i = 1; i < ids.length; i++) if (!((ids[i] as bigint) > (ids[i - 1] as bigint))) throw new Error(`not ascending at ${i}: ${ids[i - 1]} then ${ids[i]}`);
}

describe('sequencer over gRPC and NATS', () => {
  it('two sequencers allocating 100,000 ids concurrently: all unique, each response ascending', async () => {
    const prefix = isolatedPrefix();
    const [a, b] = await Promise.all([sequencer(config(prefix)), sequencer(config(prefix))]);
    expect(a.info.workerId).not.toBe(b.info.workerId);
    const [ra, rb] = await Promise.all([allocateAll(a.client, 100, 500, 8), allocateAll(b.client, 100, 500, 8)]);
    const all = [...ra, ...rb];
    expect(all).toHaveLength(200);
    for (const ids of all) {
      expect(ids).toHaveLength(500);
      expectAscending(ids);
    }
    const unique = new Set(all.flat());
    expect(unique.size).toBe(100_000);
  });

  it('rejects counts outside 1..65536 with INVALID_ARGUMENT and a message', async () => {
    const s = await sequencer(config(isolatedPrefix()));
    await expect(s.client.allocate(0)).rejects.toMatchObject({ code: 3, details: 'count must be between 1 and 65536, got 0' });
    await expect(s.client.allocate(65_537)).rejects.toMatchObject({ code: 3, details: 'count must be between 1 and 65536, got 65537' });
    const { ranges } = await s.client.allocate(65_536);
    expect(ranges.reduce((n, r) => n + r.count, 0)).toBe(65_536);
  });

  it('refuses to start a second sequencer configured with a worker id that is held', async () => {
    const prefix = isolatedPrefix();
    const first = await sequencer(config(prefix, { SEQLINE_SEQUENCER_WORKER_ID: '7', SEQLINE_INSTANCE_ID: 'first' }));
    expect(first.info.workerId).toBe(7);
    const second = new SequencerService(config(prefix, { SEQLINE_SEQUENCER_WORKER_ID: '7', SEQLINE_INSTANCE_ID: 'second' }), { logger: memoryLogger() });
    await expect(second.run()).rejects.toThrow(/^worker id 7 is already leased by first \(since /);
    await expect(second.ready).rejects.toMatchObject({ name: 'LeaseConflictError' });
    // The first one is unaffected, and once it stops (releasing its lease) the id is free.
    expect((await first.client.allocate(1)).workerId).toBe(7);
    await first.stop();
    const third = await sequencer(config(prefix, { SEQLINE_SEQUENCER_WORKER_ID: '7' }));
    expect(third.info.workerId).toBe(7);
  });

  it('after a restart with the clock moved back 5 s, the next id is above every id issued before', async () => {
    const prefix = isolatedPrefix();
    const cfg = config(prefix, { SEQLINE_SEQUENCER_WORKER_ID: '3' });
    const before = await sequencer(cfg);
    const issued = (await allocateAll(before.client, 20, 1000, 4)).flat();
    const highest = issued.reduce((m, id) => (id > m ? id : m), 0n);
    await before.stop();
    const back = { now: () => Date.now() - 5000 };
    const after = await sequencer(cfg, back);
    const { ranges } = await after.client.allocate(5000);
    expect(ranges[0]?.first).toBeGreaterThan(highest);
    expect(seqIdToDate(ranges[0]!.first).getTime()).toBeGreaterThanOrEqual(seqIdToDate(highest as SeqId).getTime());
    const all = ranges.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.first + BigInt(i)));
    expect(all).toHaveLength(5000);
    expect(all.every((id) => id > highest && id <= MAX_SEQ_ID)).toBe(true);
  });

  it('a sequencer process killed with SIGKILL is followed by ids above all it issued, even with the clock back', async () => {
    const prefix = isolatedPrefix();
    const port = await freePort();
    const opsPort = await freePort();
    const main = resolve(import.meta.dirname, 'main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, SEQLINE_NATS_URL: testEnv().natsUrl, SEQLINE_SEQUENCER_PORT: String(port), SEQLINE_KV_PREFIX: prefix, SEQLINE_SEQUENCER_WORKER_ID: '9', SEQLINE_METRICS_PORT: String(opsPort) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_code, signal) => done(signal)));
    cleanups.push(async () => void child.kill('SIGKILL'));
    const client = createSequencerClient(`127.0.0.1:${port}`);
    const issued = await vi.waitFor(() => client.allocate(4096), { timeout: 30_000, interval: 100 });
    const highest = issued.ranges.at(-1)!.first + BigInt(issued.ranges.at(-1)!.count - 1);
    // main.ts serves the ops endpoint on SEQLINE_METRICS_PORT.
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(/^seqline_nats_connected 1$/m);
    expect(metrics).toMatch(/^seqline_sequencer_ids_issued_total 4096$/m);
    expect((await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status).toBe(200);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    client.close();
    // Its lease on worker 9 is still live until it expires, so the next one leases another id.
    const next = await sequencer(config(prefix), { now: () => Date.now() - 5000 });
    expect(next.info.workerId).not.toBe(9);
    const { ranges } = await next.client.allocate(1);
    expect(ranges[0]!.first).toBeGreaterThan(highest);
  });

  it('with NATS unreachable at start it logs and retries with backoff, then serves once NATS is up', async () => {
    const port = await freePort();
    const logger = memoryLogger('sequencer');
    const cfg = config(uniqueName('seq'), {}, `nats://127.0.0.1:${port}`);
    const service = new SequencerService(cfg, { logger });
    const running = service.run();
    cleanups.push(() => service.stop());
    const retries = () => logger.records.filter((r) => r['msg'] === 'cannot reach NATS; retrying');
    await vi.waitFor(() => expect(retries().length).toBeGreaterThanOrEqual(3), { timeout: 20_000, interval: 50 });
    const attempts = retries().map((r) => r['attempt']);
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
    expect(retries()[0]).toMatchObject({ level: 'warn', servers: [`nats://127.0.0.1:${port}`] });
    const delays = retries().map((r) => r['retryInMs'] as number);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[0]).toBeLessThanOrEqual(200);
    expect(delays[2]).toBeGreaterThanOrEqual(400);
    await using nats = await startNats({ port });
    const info = await service.ready;
    const client = createSequencerClient(`127.0.0.1:${info.port}`);
    expect((await client.allocate(10)).ranges.reduce((n, r) => n + r.count, 0)).toBe(10);
    client.close();
    await service.stop();
    await running;
    expect(nats.url).toBe(`nats://127.0.0.1:${port}`);
  });
});
