// Live benchmark (issue 5): realtime delivery through the gateway's WebSocket endpoint against the
// real local stack, everything (the clients included) on this machine.
//   1. Memory: the gateway's RSS and heap after a forced GC with no subscription, 1,000 and
//      10,000 idle ones (100 per socket).
//   2. Live: 1,000 WebSocket clients (10 per user, 100 users), one subscription each, while
//      writers INSERT 1,000 rows/s spread over the users (open loop, POST /v1/api/sql);
//      latency = the `change` received minus the write's acknowledgement (its HTTP response).
//   3. Saturation: at the same write rate, every socket adds subscriptions of the same query,
//      step by step, until deliveries stop keeping up (keptUp).
//   3b. Raw baseline (raw-server.ts): the same clients, ramp and frames, from a bare `ws` server
//      told each change over IPC instead of a write: the transport's fan-out limit on this machine.
//   4. Window (window.ts): the same number of clients on 10,000-row partitions, a plain
//      subscription then a window (`ORDER BY score DESC LIMIT 20`), each during 1,000 changes/s
//      that move rows in and out of the windows.
//   5. Baseline: the same 1,000 clients polling `SELECT … WHERE n >= <first row not yet seen>`
//      every second over HTTP during the same writes; latency = the poll that first shows a row
//      minus its write's acknowledgement. Last, because it loads the stack the most.
// Each change n is written by user n % users and must reach each of that user's subscribers
// exactly once (PhaseLog counts); the bench fails on any error event.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@seqline/testkit';
import { addMachineRest, machineCpuMs, measureCpu } from '../lib/cpu.ts';
import { GatewayInspector, inspectEnv } from '../lib/gateway-heap.ts';
import { setUpMessages, SqlClient } from '../lib/http.ts';
import { runLocalStack, type LocalStack } from '../lib/local-stack.ts';
import { Fleet } from './clients.ts';
import { insertMessage, PhaseLog, routeDelivery, writeMessages, type Latency } from './deliveries.ts';
import { RawServer } from './raw.ts';
import { report, reportMemory, reportResume, reportSaturationOnly, reportWindow } from './report.ts';
import { catchUpsFrom, resumeUsers, runResumeCase, type ResumeConfig, type ResumeResult } from './resume.ts';
import { runWindowCase, type WindowConfig, type WindowResult } from './window.ts';

const FULL = { users: 100, socketsPerUser: 10, rate: 1000, ms: 10_000, warmupMs: 2000, stepMs: 5000, fanOut: [2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 64], stopWhenBehind: true, memory: { sockets: 100, perSocket: 100 }, window: { rowsPerUser: 10_000, limit: 20 }, resume: { partitions: [100, 10_000, 100_000], turns: 5, otherChanges: 1_000_000 } as ResumeConfig };
// The smoke's windows are small, so some changes exhaust their slack and need a refill read.
const SMOKE = { users: 4, socketsPerUser: 2, rate: 100, ms: 1000, warmupMs: 300, stepMs: 500, fanOut: [2], stopWhenBehind: false, memory: { sockets: 4, perSocket: 5 }, window: { rowsPerUser: 100, limit: 3 }, resume: { partitions: [100, 1000], turns: 1, otherChanges: 2000 } as ResumeConfig };
export type LiveConfig = typeof FULL;
/** A file to write the gateway's heap snapshot to, with every idle subscription of the memory case held. */
const HEAP_SNAPSHOT_ENV = 'SEQLINE_BENCH_HEAP_SNAPSHOT';

export interface PhaseResult {
  readonly name: string;
  /** Subscribers per change (WebSocket subscriptions, or polling clients, of its user). */
  readonly fanOut: number;
  readonly offered: number;
  readonly acked: number;
  readonly failedWrites: number;
  readonly expected: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly foreign: number;
  /** Acknowledged writes per second, from the first request to the last acknowledgement. */
  readonly writesPerSecond: number;
  /** Deliveries per second from the first write to the last delivery. */
  readonly deliveredPerSecond: number;
  readonly fromAck: Latency;
  readonly fromRequest: Latency;
  /** The writes' own latency, request to acknowledgement. */
  readonly writes: Latency;
  /** CPU milliseconds per process over the phase (the bench client included), and the phase's wall time. */
  readonly cpuMs: Map<string, number>;
  readonly wallMs: number;
  /** Polls per second (the baseline only). */
  readonly polls?: number;
}

export interface MemoryResult {
  /** After a forced GC in the gateway: its RSS and its heap (V8's used heap and external memory). */
  readonly rssKb: readonly (readonly [subscriptions: number, kb: number])[];
  readonly heapKb: readonly (readonly [subscriptions: number, kb: number])[];
  /** V8's committed heap (heapTotal) at the same points: what of the RSS V8 keeps, used or not. */
  readonly heapTotalKb: readonly (readonly [subscriptions: number, kb: number])[];
  /** (RSS at the most − RSS at none) / subscriptions, and the slope between the last two points. */
  readonly kbPerSubscription: number;
  readonly kbPerSubscriptionSlope: number;
  /** The same of the heap. */
  readonly heapKbPerSubscription: number;
  readonly heapKbPerSubscriptionSlope: number;
}

export type Step = PhaseResult & { readonly keptUp: boolean };

/** The saturation ramp through the gateway, and the same ramp from the raw `ws` server. */
export interface SaturationResult {
  readonly live: PhaseResult;
  readonly saturation: readonly Step[];
  readonly raw: readonly Step[];
  /** The first change frame a client got from the gateway, and from the raw server. */
  readonly frames: { readonly seqline: string | undefined; readonly raw: string | undefined };
  readonly errors: readonly string[];
}

export interface LiveBenchResult extends SaturationResult {
  readonly memory: MemoryResult;
  readonly polling: PhaseResult;
  readonly window: WindowResult;
  readonly resume: ResumeResult;
}

export function runLiveBench({ smoke }: { smoke: boolean }): Promise<LiveBenchResult> {
  return withLiveStack(smoke, (bench) => bench.run());
}

/** `npm run bench -- live --memory`: the memory case alone. */
export function runLiveMemoryBench({ smoke }: { smoke: boolean }): Promise<MemoryResult> {
  return withLiveStack(smoke, (bench) => bench.runMemory());
}

/** `npm run bench -- live --saturation`: the live case, its saturation ramp and the raw baseline alone. */
export function runLiveSaturationBench({ smoke }: { smoke: boolean }): Promise<SaturationResult> {
  return withLiveStack(smoke, (bench) => bench.runSaturation());
}

/** `npm run bench -- live --resume`: the resume case alone. */
export function runLiveResumeBench({ smoke }: { smoke: boolean }): Promise<ResumeResult> {
  return withLiveStack(smoke, (bench) => bench.runResume());
}

/** Where a phase's changes come from: a write acknowledged (resolves true), and the process tree whose CPU is measured. */
interface Source {
  readonly pid: number;
  write(n: number): Promise<boolean>;
}

/** `npm run bench -- live --window`: the window case alone. */
export function runLiveWindowBench({ smoke }: { smoke: boolean }): Promise<WindowResult> {
  return withLiveStack(smoke, (bench) => bench.runWindow());
}

async function withLiveStack<T>(smoke: boolean, run: (bench: LiveBench) => Promise<T>): Promise<T> {
  // SEQLINE_BENCH_LIVE_RATE: another write rate, for a machine whose load keeps the writes under
  // 1,000/s. SEQLINE_BENCH_LIVE_FAN_OUT (e.g. `4,8`): these steps only, each run even when the one
  // before did not keep up (the CPU per delivery of a step, on a machine too loaded to keep up).
  const rate = Number(process.env['SEQLINE_BENCH_LIVE_RATE'] ?? FULL.rate);
  const steps = process.env['SEQLINE_BENCH_LIVE_FAN_OUT']?.split(',').map(Number);
  const config = smoke ? SMOKE : { ...FULL, rate, ...(steps === undefined ? {} : { fanOut: steps, stopWhenBehind: false }) };
  // 100 subscribe messages at once per socket (memory phase) exceed the default burst of 2 × 50.
  // A user's window snapshots (one per socket) may all run at once; the gateway's /metrics has
  // the window counters. The memory phase forces GCs in the gateway through its inspector.
  await using stack = await runLocalStack({ env: { SEQLINE_WS_MESSAGE_RATE: '1000', SEQLINE_USER_MAX_SNAPSHOTS: '20', SEQLINE_USER_MAX_WAITING: '100', ...inspectEnv() }, metrics: true });
  const http = new SqlClient(stack.url, 200);
  try {
    return await run(new LiveBench(stack, http, config));
  } finally {
    http.close();
  }
}

class LiveBench {
  readonly #stack: LocalStack;
  readonly #http: SqlClient;
  readonly #c: LiveConfig;
  readonly #logs: PhaseLog[] = [];
  #tokens: string[] = [];
  /** The first change number of the next phase. */
  #nextChange = 0;
  /** Deliveries outside every phase's writes: must stay 0. */
  #strays = 0;
  readonly #errors: string[] = [];
  /** Changes written through the gateway. */
  readonly #seqline: Source;

  constructor(stack: LocalStack, http: SqlClient, config: LiveConfig) {
    this.#stack = stack;
    this.#http = http;
    this.#c = config;
    this.#seqline = { pid: stack.pid, write: (n) => insertMessage(http, this.#tokens[n % this.#c.users]!, n) };
  }

  async run(): Promise<LiveBenchResult> {
    const { users, socketsPerUser } = this.#c;
    this.#tokens = await setUpMessages(this.#http, this.#stack, users);
    const memory = await this.#memory();
    const saturation = await this.#saturation();
    const window = await this.#window();
    const resume = await this.#resume();
    // Last: 1,000 polls a second load the stack more than anything before it.
    const polling = await this.#poll('polling every 1 s (baseline)', users * socketsPerUser);
    const errors = [...saturation.errors, ...window.errors, ...resume.errors, ...this.#errors, ...(this.#strays > 0 ? [`${this.#strays} deliveries of changes no phase wrote`] : [])];
    const result = { ...saturation, memory, polling, window, resume, errors };
    report(result, this.#c, this.#c === SMOKE);
    return result;
  }

  /** The saturation ramp and its raw baseline alone. */
  async runSaturation(): Promise<SaturationResult> {
    this.#tokens = await setUpMessages(this.#http, this.#stack, this.#c.users);
    const result = await this.#saturation();
    const errors = [...result.errors, ...this.#errors, ...(this.#strays > 0 ? [`${this.#strays} deliveries of changes no phase wrote`] : [])];
    reportSaturationOnly({ ...result, errors }, this.#c);
    return { ...result, errors };
  }

  /** The live case and the saturation ramp through the gateway, then the same ramp from the raw `ws` server. */
  async #saturation(): Promise<SaturationResult> {
    const gateway = await this.#ramp(this.#stack.url, this.#seqline, (perSocket) => (perSocket === 1 ? 'WebSocket subscription' : `${perSocket} subscriptions per socket`));
    await using raw = await RawServer.start(this.#tokens);
    const bare = await this.#ramp(raw.url, { pid: raw.pid, write: (n) => raw.change(n) }, (perSocket) => `raw ws, ${perSocket} per socket`);
    return { live: gateway.steps[0]!, saturation: gateway.steps, raw: bare.steps, frames: { seqline: gateway.frame, raw: bare.frame }, errors: [...gateway.errors, ...bare.errors] };
  }

  /**
   * A fleet of every client on `url`, one subscription per socket: a warm-up, the first step
   * (`ms` long), then a step per fanOut (more subscriptions per socket, `stepMs` each) while they
   * keep up (or all, without stopWhenBehind).
   */
  async #ramp(url: string, source: Source, name: (perSocket: number) => string): Promise<{ steps: Step[]; frame: string | undefined; errors: readonly string[] }> {
    const fleet = await Fleet.open(url, this.#tokens, this.#c.users * this.#c.socketsPerUser, (g, n, at) => this.#onChange(g, n, at));
    const steps: Step[] = [];
    try {
      await fleet.subscribe(1);
      await this.#phase(`${name(1)}: warm-up`, fleet, this.#c.warmupMs, source);
      const first = await this.#phase(name(1), fleet, this.#c.ms, source);
      steps.push({ ...first, keptUp: keptUp(first, this.#c.rate) });
      for (const perSocket of this.#c.fanOut) {
        if (fleet.errors.length > 0 || (this.#c.stopWhenBehind && !steps.at(-1)!.keptUp)) break;
        await fleet.subscribe(perSocket);
        const step = await this.#phase(name(perSocket), fleet, this.#c.stepMs, source);
        steps.push({ ...step, keptUp: keptUp(step, this.#c.rate) });
      }
    } finally {
      await fleet.close();
    }
    return { steps, frame: fleet.firstChange, errors: fleet.errors };
  }

  /** The memory case alone. */
  async runMemory(): Promise<MemoryResult> {
    this.#tokens = await setUpMessages(this.#http, this.#stack, this.#c.users);
    const memory = await this.#memory();
    reportMemory(memory, this.#c);
    return memory;
  }

  /** The window case alone. */
  async runWindow(): Promise<WindowResult> {
    this.#tokens = await setUpMessages(this.#http, this.#stack, this.#c.users);
    const result = await this.#window();
    reportWindow(result, this.#c);
    return result;
  }

  /** The resume case alone. */
  async runResume(): Promise<ResumeResult> {
    const result = await this.#resume();
    reportResume(result, this.#c.resume);
    return result;
  }

  /** The resume case: its own users (one partition each) in bench.messages. */
  async #resume(): Promise<ResumeResult> {
    const admin = await this.#http.login(this.#stack.user, this.#stack.password);
    if (this.#tokens.length === 0) this.#tokens = await setUpMessages(this.#http, this.#stack, 1);
    const metricsUrl = this.#stack.gatewayMetricsUrl;
    const natsUrl = this.#stack.natsUrl;
    if (metricsUrl === undefined || natsUrl === undefined) throw new Error('the resume case needs the gateway metrics URL and a single nats-server');
    const tokens = await resumeUsers(this.#http, admin, this.#c.resume.partitions.length + 1);
    return runResumeCase({ url: this.#stack.url, natsUrl, catchUps: () => catchUpsFrom(metricsUrl) }, this.#http, tokens, this.#c.resume);
  }

  /** The window case: its own table and clients, change numbers after the last phase's. */
  async #window(): Promise<WindowResult> {
    const { users, socketsPerUser, rate, ms } = this.#c;
    const config: WindowConfig = { users, socketsPerUser, rate, ms, ...this.#c.window };
    const admin = await this.#http.login(this.#stack.user, this.#stack.password);
    const metricsUrl = this.#stack.gatewayMetricsUrl;
    if (metricsUrl === undefined) throw new Error('the local stack has no gateway metrics URL');
    const result = await runWindowCase(this.#stack.url, this.#stack.pid, metricsUrl, admin, this.#tokens, this.#http, config, this.#nextChange);
    this.#nextChange = result.nextChange;
    return result;
  }

  /** Gateway memory after a forced GC with no subscription, with a tenth of them, and with all (idle, 100 per socket). */
  async #memory(): Promise<MemoryResult> {
    const { sockets, perSocket } = this.#c.memory;
    await using inspector = await GatewayInspector.connect(this.#stack.logDir);
    const heap: [number, number][] = [];
    const heapTotal: [number, number][] = [];
    const rss = async (subscriptions: number): Promise<number> => {
      const reading = await inspector.afterGc();
      heap.push([subscriptions, reading.heapKb]);
      heapTotal.push([subscriptions, reading.heapTotalKb]);
      return reading.rssKb;
    };
    const noChanges = (): void => {
      this.#strays++;
    };
    // Warm-up: the subscription path compiled and its pools grown before the first reading.
    const warm = await Fleet.open(this.#stack.url, this.#tokens, 1, noChanges);
    await warm.subscribe(perSocket);
    await warm.close();
    const points: [number, number][] = [[0, await rss(0)]];
    const fleets: Fleet[] = [];
    const tenth = Math.max(1, Math.round(sockets / 10));
    for (const count of [tenth, sockets - tenth]) {
      const fleet = await Fleet.open(this.#stack.url, this.#tokens, count, noChanges);
      fleets.push(fleet);
      await fleet.subscribe(perSocket);
      const subscriptions = fleets.reduce((sum, f) => sum + f.subscribers, 0);
      points.push([subscriptions, await rss(subscriptions)]);
      const snapshot = process.env[HEAP_SNAPSHOT_ENV];
      if (snapshot !== undefined && count !== tenth) await inspector.heapSnapshot(snapshot);
    }
    for (const f of fleets) await f.close();
    const errors = fleets.flatMap((f) => f.errors);
    if (errors.length > 0) throw new Error(`memory phase: ${errors.slice(0, 3).join('; ')}`);
    const perSubscription = (p: [number, number][]): { overall: number; slope: number } => {
      const [[, none], [n1, kb1], [n2, kb2]] = p as [[number, number], [number, number], [number, number]];
      return { overall: (kb2 - none) / n2, slope: (kb2 - kb1) / (n2 - n1) };
    };
    const r = perSubscription(points);
    const h = perSubscription(heap);
    return { rssKb: points, heapKb: heap, heapTotalKb: heapTotal, kbPerSubscription: r.overall, kbPerSubscriptionSlope: r.slope, heapKbPerSubscription: h.overall, heapKbPerSubscriptionSlope: h.slope };
  }

  /** A new phase's log: change numbers continue after the last phase's. */
  #newLog(ms: number, subscribers: number, userOf: (g: number) => number): PhaseLog {
    const log = new PhaseLog(this.#nextChange, Math.round((this.#c.rate * ms) / 1000), this.#c.users, subscribers, userOf);
    this.#logs.push(log);
    this.#nextChange = log.end;
    return log;
  }

  #onChange(g: number, n: number, at: number): void {
    if (!routeDelivery(this.#logs, g, n, at)) this.#strays++;
  }

  /** One phase of writes; waits (with a deadline) until every acknowledged change reached all its subscribers. */
  async #measure(name: string, fanOut: number, log: PhaseLog, ms: number, source = this.#seqline): Promise<PhaseResult> {
    const measuring = await measureCpu(source.pid);
    const machineBefore = await machineCpuMs();
    const start = performance.now();
    const failedWrites = await writeMessages(log, (n) => source.write(n), this.#c.rate, ms);
    const expected = log.expected;
    // Past the deadline the phase is measured as it stands (missing deliveries count against it).
    await waitFor(() => log.delivered >= expected, { timeoutMs: Math.max(10_000, ms), intervalMs: 20 }).catch(() => false);
    const wallMs = performance.now() - start;
    const cpu = await measuring.stop();
    // 'other processes' should be ~0: another load makes the figures worthless.
    await addMachineRest(cpu, machineBefore);
    const firstSent = log.sentAt[0] ?? Number.NaN;
    return {
      name,
      fanOut,
      ...log.counts(failedWrites),
      writesPerSecond: log.acked / ((log.lastAckedAt - firstSent) / 1000),
      deliveredPerSecond: log.delivered / ((log.lastReceivedAt - firstSent) / 1000),
      fromAck: log.latency('ack'),
      fromRequest: log.latency('sent'),
      writes: log.writeLatency(),
      cpuMs: new Map([...cpu].filter(([, v]) => v > 0)),
      wallMs,
    };
  }

  #phase(name: string, fleet: Fleet, ms: number, source: Source): Promise<PhaseResult> {
    const log = this.#newLog(ms, fleet.subscribers, (g) => fleet.userOf(g));
    return this.#measure(name, fleet.subscribers / this.#c.users, log, ms, source);
  }

  /** The baseline: `clients` pollers, each one SELECT a second (spread over the second), during the writes. */
  async #poll(name: string, clients: number): Promise<PhaseResult> {
    const users = this.#c.users;
    const log = this.#newLog(this.#c.ms, clients, (c) => c % users);
    // Each poller its own keep-alive connection, as separate clients would have; writes keep theirs.
    const pollHttp = new SqlClient(this.#stack.url, clients);
    const stop = new AbortController();
    setMaxListeners(clients + 10, stop.signal);
    const start = performance.now();
    let polls = 0;
    const poller = async (c: number): Promise<void> => {
      for (let due = start + (c / clients) * 1000; !stop.signal.aborted; due += 1000) {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) return;
        const r = await pollHttp.sql(this.#tokens[c % users]!, 'SELECT n FROM bench.messages WHERE n >= $1', [log.firstMissing(c)]).catch((err: unknown) => ({ status: 0, text: String(err) }));
        const at = performance.now();
        polls++;
        if (r.status !== 200) {
          this.#errors.push(`poll failed: ${r.status} ${r.text.slice(0, 200)}`);
          continue;
        }
        const rows = (JSON.parse(r.text) as { results: [{ rows: [unknown][] }] }).results[0].rows;
        for (const [n] of rows) log.record(c, Number(n), at, true);
        while (due + 1000 < performance.now()) due += 1000; // a poll slower than a second skips ticks
      }
    };
    const pollers = Promise.all(Array.from({ length: clients }, (_, c) => poller(c)));
    try {
      const result = await this.#measure(name, clients / users, log, this.#c.ms);
      return { ...result, polls: polls / ((performance.now() - start) / 1000) };
    } finally {
      stop.abort();
      await pollers;
      pollHttp.close();
    }
  }
}

/**
 * A step kept up when every change reached every subscriber once, the writes held 90% of the
 * offered rate, and deliveries kept pace with the acknowledged writes (within 5%: the backlog
 * after the last acknowledgement was under a twentieth of the step).
 */
function keptUp(p: PhaseResult, rate: number): boolean {
  const complete = p.failedWrites === 0 && p.delivered === p.expected && p.duplicates === 0 && p.foreign === 0;
  return complete && p.writesPerSecond >= 0.9 * rate && p.deliveredPerSecond >= 0.95 * p.writesPerSecond * p.fanOut;
}

