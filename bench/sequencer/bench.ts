// Sequencer benchmark (issue 2): ids/s from AllocateIds over gRPC with batches of 1, 100 and
// 1,000 (64 calls in flight), against a trivial grpc-js echo call (the transport's limit) and
// the same generator called in-process (the minting limit: 4,096 ids per ms per worker).
// The sequencer and the echo server each run in their own process, as in production; the
// client runs here. Both servers use one core each at most; the machine has two.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { SeqIdGenerator } from '@seqline/seq';
import { createSequencerClient } from '@seqline/sequencer-client';
import { freePort, startNats, uniqueName } from '@seqline/testkit';
import { echoDefinition } from './echo-server.ts';

const IN_FLIGHT = 64;
const root = resolve(import.meta.dirname, '../..');

export interface Rate {
  readonly calls: number;
  readonly ids: number;
  readonly seconds: number;
}

/** Keeps `IN_FLIGHT` calls going for `ms` (after a warm-up) and counts completions. */
async function measure(call: () => Promise<number>, ms: number): Promise<Rate> {
  const runFor = async (duration: number): Promise<Rate> => {
    const end = performance.now() + duration;
    let calls = 0;
    let ids = 0;
    const start = performance.now();
    const lane = async (): Promise<void> => {
      while (performance.now() < end) {
        const n = await call(); // read before adding: `ids += await` would lose concurrent updates
        ids += n;
        calls++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    return { calls, ids, seconds: (performance.now() - start) / 1000 };
  };
  await runFor(Math.min(1000, ms / 3));
  return runFor(ms);
}

/** Starts a process and resolves with it and the first output line that `ready` accepts. */
async function spawnReady(args: string[], env: NodeJS.ProcessEnv, ready: (line: string) => boolean): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  const line = await new Promise<string>((done, fail) => {
    const onData = (b: Buffer): void => {
      buffered += b.toString();
      const found = buffered.split('\n').find(ready);
      if (found !== undefined) done(found);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${args.join(' ')} exited with ${code}:\n${buffered}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, line };
}

export interface SequencerBenchResult {
  readonly cases: readonly (readonly [string, Rate])[];
  readonly inProcessIdsPerSecond: number;
}

export async function runSequencerBench({ smoke }: { smoke: boolean }): Promise<SequencerBenchResult> {
  const ms = smoke ? 300 : 5000;
  await using nats = await startNats();
  const seqPort = await freePort();
  const { child: sequencer } = await spawnReady(
    [join(root, 'services/sequencer/src/main.ts')],
    { ...process.env, SEQLINE_NATS_URL: nats.url, SEQLINE_SEQUENCER_PORT: String(seqPort), SEQLINE_METRICS_PORT: '0', SEQLINE_KV_PREFIX: uniqueName('bench'), SEQLINE_LOG_LEVEL: 'info' },
    (l) => l.includes('"sequencer serving"'),
  );
  const { child: echo, line: echoPort } = await spawnReady([join(root, 'bench/sequencer/echo-server.ts')], process.env, (l) => /^\d+$/.test(l.trim()));
  try {
    const EchoClient = makeGenericClientConstructor(echoDefinition, 'Echo');
    const echoClient = new EchoClient(`127.0.0.1:${echoPort.trim()}`, credentials.createInsecure());
    const payload = Buffer.from([8, 1]); // the size of an AllocateIdsRequest{count: 1}
    const echoCall = (): Promise<number> =>
      new Promise((done, fail) => (echoClient as unknown as EchoFn).echo(payload, (err) => (err ? fail(err) : done(1))));
    const client = createSequencerClient(`127.0.0.1:${seqPort}`);
    const results: [string, Rate][] = [];
    results.push(['grpc-js echo (transport limit)', await measure(echoCall, ms)]);
    for (const batch of [1, 100, 1000]) {
      const rate = await measure(async () => (await client.allocate(batch)).ranges.reduce((n, r) => n + r.count, 0), ms);
      results.push([`AllocateIds batch ${batch}`, rate]);
    }
    client.close();
    echoClient.close();
    const inProcess = generatorRate(ms);
    report(results, inProcess, smoke);
    return { cases: results, inProcessIdsPerSecond: inProcess.ids / inProcess.seconds };
  } finally {
    sequencer.kill('SIGTERM');
    echo.kill('SIGTERM');
    await Promise.all([once(sequencer, 'exit'), once(echo, 'exit')]);
  }
}

type EchoFn = { echo(req: Buffer, cb: (err: Error | null) => void): void };

function generatorRate(ms: number): { ids: number; seconds: number } {
  const gen = new SeqIdGenerator({ workerId: 1 });
  const start = performance.now();
  let ids = 0;
  while (performance.now() - start < ms) {
    for (const r of gen.allocate(1000)) ids += r.count;
  }
  return { ids, seconds: (performance.now() - start) / 1000 };
}

function report(results: [string, Rate][], inProcess: { ids: number; seconds: number }, smoke: boolean): void {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const echoRate = results[0]![1].calls / results[0]![1].seconds;
  console.log(`\nsequencer benchmark${smoke ? ' (smoke run)' : ''}: ${IN_FLIGHT} calls in flight, ${results[0]![1].seconds.toFixed(1)} s each\n`);
  console.log(`${'case'.padEnd(32)}${'calls/s'.padStart(12)}${'ids/s'.padStart(14)}${'vs echo'.padStart(10)}`);
  for (const [name, r] of results) {
    const calls = r.calls / r.seconds;
    console.log(`${name.padEnd(32)}${fmt(calls).padStart(12)}${fmt(r.ids / r.seconds).padStart(14)}${`${((calls / echoRate) * 100).toFixed(0)}%`.padStart(10)}`);
  }
  console.log(`${'generator in-process, 1000/call'.padEnd(32)}${''.padStart(12)}${fmt(inProcess.ids / inProcess.seconds).padStart(14)}`);
  const batch1 = results[1]![1];
  const batch1000 = results[3]![1];
  const ratio = batch1.calls / batch1.seconds / echoRate;
  const ids1000 = batch1000.ids / batch1000.seconds;
  console.log(`\ntarget: batch-1 calls/s >= 75% of echo: ${(ratio * 100).toFixed(0)}% ${ratio >= 0.75 ? 'MET' : 'MISSED'}`);
  console.log(`target: batch-1000 >= 1,000,000 ids/s: ${fmt(ids1000)} ${ids1000 >= 1_000_000 ? 'MET' : 'MISSED'}`);
}
