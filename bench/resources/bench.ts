// Resource benchmark (issue 11): the CPU and memory of each service process of the real local
// stack, idle and under write load, the figures the Kubernetes requests and limits in
// infra/k8s come from (docs/kubernetes.md). Three phases on one stack: idle, an open loop of
// single-row INSERTs at a fixed rate, and a closed loop of 50 clients (as many writes as the
// machine takes). Each phase reports, per process, the CPU used (in cores: CPU ms per wall ms)
// and the largest resident set size seen (sampled every 250 ms from /proc).
import { cpuDelta, cpuOfTree, pidsOfTree, rssKb } from '../lib/cpu.ts';
import { setUpMessages, SqlClient } from '../lib/http.ts';
import { runLocalStack } from '../lib/local-stack.ts';
import { closedLoop, openLoop, type LoadResult } from '../lib/stats.ts';

const SERVICES = ['sequencer', 'storage', 'write', 'gateway'] as const;
const USERS = 20;
const CLIENTS = 50;
const RATE = 500;
const SAMPLE_MS = 250;

interface Phase {
  readonly name: string;
  readonly load: LoadResult | undefined;
  /** CPU cores used on average over the phase, by service. */
  readonly cores: Map<string, number>;
  /** Largest RSS seen during the phase, MiB, by service. */
  readonly rssMiB: Map<string, number>;
}

export async function runResourcesBench({ smoke }: { smoke: boolean }): Promise<Phase[]> {
  const ms = smoke ? 1500 : 15_000;
  await using stack = await runLocalStack();
  const client = new SqlClient(stack.url, CLIENTS * 2);
  const tokens = await setUpMessages(client, stack, USERS);
  const insert = async (i: number): Promise<boolean> => {
    const r = await client.sql(tokens[i % USERS]!, 'INSERT INTO bench.messages (body, n) VALUES ($1, $2)', [`message ${i}`, i]).catch(() => undefined);
    return r?.status === 200;
  };
  const pids = new Map(await Promise.all(SERVICES.map(async (s) => [s, (await pidsOfTree(stack.pid, s))[0]!] as const)));
  const measure = async (name: string, run: () => Promise<LoadResult | undefined>): Promise<Phase> => {
    const rssMiB = new Map<string, number>();
    const sample = async (): Promise<void> => {
      for (const [s, pid] of pids) rssMiB.set(s, Math.max(rssMiB.get(s) ?? 0, (await rssKb(pid)) / 1024));
    };
    const before = await cpuOfTree(stack.pid);
    const t0 = performance.now();
    const sampler = setInterval(() => void sample(), SAMPLE_MS);
    const load = await run();
    clearInterval(sampler);
    await sample();
    const wall = performance.now() - t0;
    const cpu = cpuDelta(before, await cpuOfTree(stack.pid));
    return { name, load, rssMiB, cores: new Map(SERVICES.map((s) => [s, (cpu.get(s) ?? 0) / wall])) };
  };
  const idle = await measure('idle', () => new Promise((done) => setTimeout(() => done(undefined), ms)));
  const paced = await measure(`open loop ${smoke ? 50 : RATE} writes/s`, () => openLoop(insert, smoke ? 50 : RATE, ms));
  const saturated = await measure(`closed loop, ${CLIENTS} clients`, () => closedLoop(insert, CLIENTS, ms));
  const phases = [idle, paced, saturated];
  report(phases, smoke);
  return phases;
}

function report(phases: readonly Phase[], smoke: boolean): void {
  console.log(`\nresources benchmark${smoke ? ' (smoke run)' : ''}: CPU in cores (average over the phase), RSS in MiB (largest sample)\n`);
  console.log(`${'phase'.padEnd(30)}${'writes/s'.padStart(10)}${SERVICES.map((s) => `${s} cpu`.padStart(15) + `${s} rss`.padStart(15)).join('')}`);
  for (const p of phases) {
    const rate = p.load === undefined ? '-' : String(Math.round(p.load.ok / p.load.seconds));
    const cells = SERVICES.map((s) => (p.cores.get(s) ?? 0).toFixed(3).padStart(15) + (p.rssMiB.get(s) ?? 0).toFixed(0).padStart(15));
    console.log(`${p.name.padEnd(30)}${rate.padStart(10)}${cells.join('')}`);
  }
}
