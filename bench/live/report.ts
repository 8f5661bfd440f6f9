// Prints the live benchmark's figures, the baseline next to them, and the targets.
import type { LiveBenchResult, LiveConfig, MemoryResult, PhaseResult, SaturationResult, Step } from './bench.ts';
import { RAW_SERVER_NAME } from './raw-server.ts';
import type { ResumeConfig, ResumeResult } from './resume.ts';
import type { WindowResult } from './window.ts';

const TARGET = { p50Ms: 10, p99Ms: 50, deliveredPerSecond: 5000, kbPerSubscription: 2, windowShare: 0.6, rawShare: 0.8, resumeOverLiveOnly: 2, resumeOverSnapshot: 1 } as const;

const f = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '-');
const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');

/** The highest delivery rate of a step that kept up (0 when none did). */
export function saturationPoint(steps: readonly Step[]): number {
  return Math.max(0, ...steps.filter((s) => s.keptUp).map((s) => s.deliveredPerSecond));
}

const line = (cells: string[]): void => console.log(cells.map((x, i) => (i === 0 ? x.padEnd(30) : x.padStart(12))).join(''));

const cpu = (p: PhaseResult): string => {
  const all = [...p.cpuMs].reduce((sum, [, v]) => sum + v, 0);
  return `${((100 * all) / p.wallMs).toFixed(0)}% in all; ${[...p.cpuMs].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((100 * v) / p.wallMs).toFixed(0)}%`).join(', ')}`;
};

export function report(r: LiveBenchResult, c: LiveConfig, smoke: boolean): void {
  const clients = c.users * c.socketsPerUser;
  console.log(`\nlive benchmark${smoke ? ' (smoke run)' : ''}: ${f(clients)} clients (${c.socketsPerUser} per user, ${c.users} users), single-row INSERTs at ${f(c.rate)}/s for ${c.ms / 1000} s\n`);
  const header = ['case', 'writes/s', 'deliv./s', 'p50 ack', 'p99 ack', 'p50 req', 'p99 req', 'missing', 'dup'];
  const row = (p: PhaseResult): void =>
    line([p.name, f(p.writesPerSecond), f(p.deliveredPerSecond), ms(p.fromAck.p50), ms(p.fromAck.p99), ms(p.fromRequest.p50), ms(p.fromRequest.p99), f(p.expected - p.delivered), f(p.duplicates)]);
  line(header);
  row(r.live);
  row(r.polling);
  console.log('(ack: from the write’s HTTP response; req: from its request’s start; writes/s: first request to last acknowledgement;\n deliveries/s: changes × clients received, first write to last delivery)');
  if (r.polling.polls !== undefined) console.log(`polling: ${f(r.polling.polls)} SELECTs/s served of ${f(clients)}/s offered`);
  console.log(`the writes themselves (request → acknowledgement) p50/p99: live ${ms(r.live.writes.p50)} / ${ms(r.live.writes.p99)}, polling ${ms(r.polling.writes.p50)} / ${ms(r.polling.writes.p99)}`);
  console.log(`CPU, % of one core, live: ${cpu(r.live)}`);
  console.log(`CPU, % of one core, polling: ${cpu(r.polling)}`);

  reportSaturation(r, c);

  reportMemory(r.memory, c);
  reportWindow(r.window, c);
  reportResume(r.resume, c.resume);

  const best = saturationPoint(r.saturation);
  const m = r.memory;
  const kb = Math.max(m.kbPerSubscription, m.kbPerSubscriptionSlope);
  console.log('');
  console.log(`target: p50 <= ${TARGET.p50Ms} ms at ${f(c.rate)} changes/s: ${ms(r.live.fromAck.p50)} ${verdict(r.live.fromAck.p50 <= TARGET.p50Ms)}`);
  console.log(`target: p99 <= ${TARGET.p99Ms} ms at ${f(c.rate)} changes/s: ${ms(r.live.fromAck.p99)} ${verdict(r.live.fromAck.p99 <= TARGET.p99Ms)}`);
  console.log(`target: >= ${f(TARGET.deliveredPerSecond)} delivered changes/s: ${f(best)} ${verdict(best >= TARGET.deliveredPerSecond)}`);
  console.log(`target: <= ${TARGET.kbPerSubscription} KB per idle subscription (RSS after a forced GC): ${kb.toFixed(2)} KB ${verdict(kb <= TARGET.kbPerSubscription)}`);
  if (r.errors.length > 0) console.log(`errors (${r.errors.length}): ${r.errors.slice(0, 5).join('; ')}`);
}

/** The saturation ramp through the gateway and from the raw `ws` server, and their ratio (target: at least 80%). */
export function reportSaturation(r: SaturationResult, c: LiveConfig): void {
  console.log(`\nsaturation: ${f(c.rate)} changes/s, every socket adds subscriptions of the same query, ${c.stepMs / 1000} s per step (the first ${c.ms / 1000} s);`);
  console.log(`raw ws: the same clients and ramp, the same frames from a bare ws server told each change over IPC\n`);
  line(['step', 'writes/s', 'write p99', 'deliv./s', 'p50 ack', 'p99 ack', 'offered', 'missing', 'kept up', 'srv CPU/1k']);
  for (const s of [...r.saturation, ...r.raw]) {
    const server = s.cpuMs.get('gateway') ?? s.cpuMs.get(RAW_SERVER_NAME) ?? 0;
    line([s.name, f(s.writesPerSecond), ms(s.writes.p99), f(s.deliveredPerSecond), ms(s.fromAck.p50), ms(s.fromAck.p99), f(s.expected / (s.offered / c.rate)), f(s.expected - s.delivered), s.keptUp ? 'yes' : 'no', ms((1000 * server) / s.delivered)]);
  }
  if (r.saturation.length > 0) console.log(`CPU, % of one core, last gateway step: ${cpu(r.saturation.at(-1)!)}`);
  if (r.raw.length > 0) console.log(`CPU, % of one core, last raw step: ${cpu(r.raw.at(-1)!)}`);
  console.log(`first change frame, gateway: ${r.frames.seqline ?? '-'}\n                  raw server: ${r.frames.raw ?? '-'}`);
  const seqline = saturationPoint(r.saturation);
  const raw = saturationPoint(r.raw);
  const share = seqline / raw;
  const ceiling = r.raw.length > 0 && r.raw.every((s) => s.keptUp) ? ' (the raw server kept up at every step: its limit is higher)' : '';
  console.log(`saturation point: Seqline ${f(seqline)} deliveries/s, raw ws ${f(raw)}${ceiling}`);
  console.log(`target: saturation point >= ${100 * TARGET.rawShare}% of the raw WebSocket fan-out limit: ${(100 * share).toFixed(0)}% ${verdict(share >= TARGET.rawShare)}`);
}

/** `live --saturation`: the saturation ramp, its raw baseline and the errors. */
export function reportSaturationOnly(r: SaturationResult, c: LiveConfig): void {
  reportSaturation(r, c);
  if (r.errors.length > 0) console.log(`errors (${r.errors.length}): ${r.errors.slice(0, 5).join('; ')}`);
}

/** The memory case: the gateway after a forced GC, per idle subscription. */
export function reportMemory(m: MemoryResult, c: LiveConfig): void {
  console.log(`\ngateway after a forced GC, with idle subscriptions (${c.memory.perSocket} per socket): RSS ${m.rssKb.map(([n, kb]) => `${f(n)}: ${f(kb)} KB`).join(', ')}; heap ${m.heapKb.map(([n, kb]) => `${f(n)}: ${f(kb)} KB`).join(', ')}; V8 heap committed ${m.heapTotalKb.map(([n, kb]) => `${f(n)}: ${f(kb)} KB`).join(', ')}`);
  console.log(`per idle subscription: RSS ${m.kbPerSubscription.toFixed(2)} KB overall, ${m.kbPerSubscriptionSlope.toFixed(2)} KB marginal; heap ${m.heapKbPerSubscription.toFixed(2)} KB overall, ${m.heapKbPerSubscriptionSlope.toFixed(2)} KB marginal`);
}

/** The window case's figures, its baseline (the plain subscription) and its target. */
export function reportWindow(w: WindowResult, c: LiveConfig): void {
  const clients = c.users * c.socketsPerUser;
  console.log(`\nwindow: ${f(clients)} clients on partitions of ${f(c.window.rowsPerUser)} rows, ${f(c.rate)} changes/s for ${c.ms / 1000} s (top, insert, out of the window, delete: 2:1:3:4)\n`);
  line(['case', 'writes/s', 'events/s', 'p50 ack', 'p99 ack', 'events', 'missing', 'dup', 'wrong win.']);
  for (const p of [w.window, w.plain]) {
    line([p.name, f(p.writesPerSecond), f(p.eventsPerSecond), ms(p.fromAck.p50), ms(p.fromAck.p99), f(p.events), f(p.expected - p.delivered), f(p.duplicates + p.foreign), f(p.wrongWindows)]);
  }
  const share = w.window.eventsPerSecond / w.plain.eventsPerSecond;
  const perChange = (p: typeof w.plain, name: string): string => `${((1000 * (p.cpuMs.get(name) ?? 0)) / p.acked).toFixed(0)} ms`;
  console.log(`the writes themselves (request → acknowledgement) p50/p99: window ${ms(w.window.writes.p50)} / ${ms(w.window.writes.p99)}, plain ${ms(w.plain.writes.p50)} / ${ms(w.plain.writes.p99)}`);
  const perEvent = (p: typeof w.plain): string => `${((1000 * (p.cpuMs.get('gateway') ?? 0)) / p.events).toFixed(0)} µs`;
  console.log(`gateway CPU per event received, window / plain: ${perEvent(w.window)} / ${perEvent(w.plain)}`);
  console.log(`CPU per 1,000 changes, window / plain: gateway ${perChange(w.window, 'gateway')} / ${perChange(w.plain, 'gateway')}, storage ${perChange(w.window, 'storage')} / ${perChange(w.plain, 'storage')}`);
  console.log(`(latency: the plain subscription over every change, the window over the changes that enter at the top; wrong win.: clients not ending with exactly the final window)`);
  console.log(`window: ${f(w.window.windowChanges)} row changes applied to windows, ${f(w.window.refills)} refill reads: ${((1000 * w.window.refills) / w.window.acked).toFixed(1)} per 1,000 changes, ${((1000 * w.window.refills) / w.window.windowChanges).toFixed(2)} per 1,000 window changes`);

  console.log(`target: window deliveries/s >= ${100 * TARGET.windowShare}% of the plain subscription's: ${(100 * share).toFixed(0)}% ${verdict(share >= TARGET.windowShare)}`);
  if (w.errors.length > 0) console.log(`window errors (${w.errors.length}): ${w.errors.slice(0, 5).join('; ')}`);
}

/** The resume case: per partition, a resume after the missed changes against a live-only subscribe and the full snapshot. */
export function reportResume(r: ResumeResult, c: ResumeConfig): void {
  console.log(`\nresume: per partition, a new socket (open, authenticate, subscribe) each turn; medians of ${c.turns} turns`);
  console.log('resume: from a cursor, until the missed changes are in; live only: until the ack; snapshot: until its last batch\n');
  line(['partition', 'resume', 'live only', 'snapshot', 'res./live', 'res./snap.', 'res. bytes', 'snap. bytes', 'path']);
  for (const p of r.rows) {
    const paths = Object.entries(p.paths).map(([k, v]) => `${k} ${v}`).join(', ');
    line([p.name.slice(0, 30), ms(p.resume.ms), ms(p.liveOnly.ms), ms(p.snapshot.ms), `${(p.resume.ms / p.liveOnly.ms).toFixed(2)}×`, `${(p.resume.ms / p.snapshot.ms).toFixed(2)}×`, f(p.resume.bytes), f(p.snapshot.bytes), paths]);
  }
  const worstLive = Math.max(...r.rows.map((p) => p.resume.ms / p.liveOnly.ms));
  const worstSnapshot = Math.max(...r.rows.map((p) => p.resume.ms / p.snapshot.ms));
  console.log(`target: resume within ${TARGET.resumeOverLiveOnly}× of a live-only subscribe (worst partition): ${worstLive.toFixed(2)}× ${verdict(worstLive <= TARGET.resumeOverLiveOnly)}`);
  console.log(`target: resume never slower than the snapshot it replaces (worst partition): ${worstSnapshot.toFixed(2)}× ${verdict(worstSnapshot <= TARGET.resumeOverSnapshot)}`);
  if (r.errors.length > 0) console.log(`resume errors (${r.errors.length}): ${r.errors.slice(0, 5).join('; ')}`);
}
