// Peers benchmark (issue 15): Seqline, Rocicorp Zero and a PostgreSQL LISTEN/NOTIFY + re-query
// baseline, one after the other in one run, on this machine and the same workload:
//   1. Initial sync: a new client of `reader` subscribes to its 100,000 rows (best of the runs).
//   2. Memory: the server's RSS (Seqline's gateway, zero-cache's process tree, the NOTIFY server)
//      before and after 1,000 clients (10 per user, 100 users) subscribe to their own rows.
//   3. Ramp: writes (open loop, spread over the users, each change delivered to its user's 10
//      clients) at 1, 2, 5, 10, 25, 50, 100, 250, 500, 1,000, 2,000, … per second, 5 s a step,
//      until a step does not keep up (a change missing, the writes under 90% of the offered
//      rate, or deliveries more than 5% slower than the writes were sent: measured from the
//      first delivery to the last, so a steady latency is not counted as falling behind, a
//      growing one is). The step at 1,000/s lasts 10 s and gives the
//      latency: write → client from the write's request start (and from its acknowledgement).
//      A system behind before 1,000/s still runs that step (its latency then grows), and stops.
// Change n is written by user n % users and must reach each of that user's clients exactly once
// and nobody else (PhaseLog counts, as in the live benchmark); the bench fails on any error.
// SEQLINE_BENCH_PEERS=seqline,zero,notify runs a subset.
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@seqline/testkit';
import { addMachineRest, machineCpuMs, measureCpu } from '../lib/cpu.ts';
import { openLoop } from '../lib/stats.ts';
import type { PhaseResult } from '../live/bench.ts';
import { PhaseLog } from '../live/deliveries.ts';
import { startNotifyPeer } from './notify.ts';
import type { Peer, PeerClients, PeerConfig } from './peer.ts';
import { report, reportPeer } from './report.ts';
import { startSeqlinePeer } from './seqline.ts';
import { startZeroPeer } from './zero.ts';

// `ramp` holds the fixed `rate` (run for `ms`, the others for `stepMs`); rates below it find
// where a system that cannot take the fixed rate still keeps up.
const FULL = { users: 100, clients: 1000, rate: 1000, ms: 10_000, warmupMs: 2000, ramp: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 3000, 4000, 6000, 8000, 12_000], stepMs: 5000, stopWhenBehind: true, drainMs: 30_000, snapshotRows: 100_000, snapshotRuns: 2, settleMs: 2000 };
const SMOKE = { users: 4, clients: 8, rate: 50, ms: 1000, warmupMs: 200, ramp: [25, 50], stepMs: 500, stopWhenBehind: false, drainMs: 10_000, snapshotRows: 2000, snapshotRuns: 1, settleMs: 0 };
export type PeersConfig = typeof FULL;

export const PEERS = {
  seqline: startSeqlinePeer,
  zero: startZeroPeer,
  notify: startNotifyPeer,
} as const satisfies Record<string, (config: PeerConfig) => Promise<Peer>>;
export type PeerName = keyof typeof PEERS;

/** A phase as the live benchmark measures one, at a write rate, and whether it kept up. */
export type Phase = PhaseResult & { readonly rate: number; readonly keptUp: boolean };

export interface PeerResult {
  readonly name: string;
  readonly snapshotMs: readonly number[];
  readonly snapshotRows: number;
  readonly rssKb: readonly [before: number, after: number];
  readonly subscriptions: number;
  /** The phase at the fixed rate (also the step of `ramp` at that rate). */
  readonly live: Phase;
  /** Every step run, in order. */
  readonly ramp: readonly Phase[];
  readonly errors: readonly string[];
}

export async function runPeersBench({ smoke }: { smoke: boolean }, only: readonly PeerName[] = selected()): Promise<PeerResult[]> {
  const config = smoke ? SMOKE : FULL;
  const results: PeerResult[] = [];
  const failures: Error[] = [];
  for (const name of only) {
    console.log(`peers: ${name}…`);
    try {
      await using peer = await PEERS[name]({ users: config.users, snapshotRows: config.snapshotRows });
      const result = await new PeerRun(peer, config).run();
      reportPeer(result);
      results.push(result);
    } catch (error) {
      console.log(`peers: ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      failures.push(new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }
  report(results, config, smoke);
  if (failures.length > 0) throw new AggregateError(failures, failures.map((e) => e.message).join('\n'));
  return results;
}

function selected(): PeerName[] {
  const names = (process.env['SEQLINE_BENCH_PEERS'] ?? 'seqline,zero,notify').split(',').filter((n) => n !== '');
  const unknown = names.filter((n) => !(n in PEERS));
  if (unknown.length > 0) throw new Error(`SEQLINE_BENCH_PEERS: unknown ${unknown.join(', ')}; use ${Object.keys(PEERS).join(',')}`);
  return names as PeerName[];
}

class PeerRun {
  readonly #peer: Peer;
  readonly #c: PeersConfig;
  readonly #logs: PhaseLog[] = [];
  #next = 0;
  /** Deliveries of changes no phase wrote: must stay 0. */
  #strays = 0;

  constructor(peer: Peer, config: PeersConfig) {
    this.#peer = peer;
    this.#c = config;
  }

  async run(): Promise<PeerResult> {
    const c = this.#c;
    const snapshotMs: number[] = [];
    for (let i = 0; i < c.snapshotRuns; i++) snapshotMs.push(await this.#peer.snapshot(c.snapshotRows));
    await sleep(c.settleMs); // let the snapshot's allocations settle (no GC can be forced from outside)
    const before = await this.#peer.serverRssKb();
    const clients = await this.#peer.openClients(c.clients, (g, n, at) => this.#onChange(g, n, at));
    const ramp: Phase[] = [];
    try {
      await sleep(c.settleMs);
      const after = await this.#peer.serverRssKb();
      await this.#phase(clients, c.ramp[0]!, c.warmupMs);
      let behind = false;
      for (const rate of c.ramp) {
        if (clients.errors.length > 0) break;
        // Once a step fell behind, only the fixed rate is still run (for its latency), then no more.
        if (behind && ramp.some((p) => p.rate === c.rate)) break;
        if (behind && rate !== c.rate) continue;
        await this.#drain();
        const step = await this.#phase(clients, rate, rate === c.rate ? c.ms : c.stepMs);
        ramp.push(step);
        behind ||= c.stopWhenBehind && !step.keptUp;
      }
      const live = ramp.find((p) => p.rate === c.rate);
      if (live === undefined) throw new Error(`${this.#peer.name}: no phase at ${c.rate} writes/s; errors: ${clients.errors.slice(0, 3).join('; ')}`);
      const errors = [...clients.errors, ...(this.#strays > 0 ? [`${this.#strays} deliveries of changes no phase wrote`] : [])];
      return { name: this.#peer.name, snapshotMs, snapshotRows: c.snapshotRows, rssKb: [before, after], subscriptions: c.clients, live, ramp, errors };
    } finally {
      await clients.close();
    }
  }

  /** Client g got change n: counted in the phase that wrote it (the last one starting at or below n). */
  #onChange(g: number, n: number, at: number): void {
    const log = this.#logs.findLast((l) => n >= l.base);
    if (log?.holds(n) === true) log.record(g, n, at);
    else this.#strays++;
  }

  /** Waits (up to drainMs) until every earlier change has reached its clients, so a backlog does not spill into the next step. */
  async #drain(): Promise<void> {
    await waitFor(() => this.#logs.every((l) => l.delivered >= l.expected), { timeoutMs: this.#c.drainMs, intervalMs: 50 }).catch(() => false);
  }

  /** Writes at `rate` for `ms`; waits (with a deadline) until every acknowledged change reached all its subscribers. */
  async #phase(clients: PeerClients, rate: number, ms: number): Promise<Phase> {
    const { users } = this.#c;
    const log = new PhaseLog(this.#next, Math.round((rate * ms) / 1000), users, this.#c.clients, (g) => g % users);
    this.#logs.push(log);
    this.#next = log.end;
    const cpu = await measureCpu(this.#peer.pid);
    const machineBefore = await machineCpuMs();
    const start = performance.now();
    const writes = await openLoop(async (i) => {
      const n = log.base + i;
      log.sentAt[i] = performance.now();
      if (!(await this.#peer.write(n % users, n).catch(() => false))) return false;
      log.ackedAt[i] = performance.now();
      return true;
    }, rate, ms);
    // Past the deadline the phase is measured as it stands (missing deliveries count against it).
    await waitFor(() => log.delivered >= log.expected || clients.errors.length > 0, { timeoutMs: Math.max(10_000, ms), intervalMs: 20 }).catch(() => false);
    const wallMs = performance.now() - start;
    const cpuMs = await cpu.stop();
    await addMachineRest(cpuMs, machineBefore);
    const firstSent = log.sentAt[0] ?? Number.NaN;
    const fanOut = this.#c.clients / users;
    const writesPerSecond = log.acked / ((log.lastAckedAt - firstSent) / 1000);
    // Deliveries over their own span (first to last), against the writes' sending span: a system
    // whose latency is steady keeps pace; one that builds a backlog stretches its deliveries.
    const deliveredPerSecond = log.delivered / ((log.lastReceivedAt - log.firstReceivedAt) / 1000);
    const sentPerSecond = log.acked / ((lastSentAt(log) - firstSent) / 1000);
    const complete = writes.failed === 0 && log.delivered === log.expected && log.duplicates === 0 && log.foreign === 0;
    return {
      name: `${rate} writes/s`,
      fanOut,
      rate,
      offered: log.total,
      acked: log.acked,
      failedWrites: writes.failed,
      expected: log.expected,
      delivered: log.delivered,
      duplicates: log.duplicates,
      foreign: log.foreign,
      writesPerSecond,
      deliveredPerSecond,
      fromRequest: log.latency('sent'),
      fromAck: log.latency('ack'),
      writes: log.writeLatency(),
      keptUp: complete && writesPerSecond >= 0.9 * rate && deliveredPerSecond >= 0.95 * sentPerSecond * fanOut,
      cpuMs: new Map([...cpuMs].filter(([, v]) => v > 0)),
      wallMs,
    };
  }
}

/** When the phase's last write was sent. */
function lastSentAt(log: PhaseLog): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const at of log.sentAt) if (at > last) last = at; // NaN (never sent) compares false
  return last;
}
