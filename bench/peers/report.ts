// The peers benchmark's printout: the systems side by side, each figure's ratio to Seqline's
// (the first system of the run), then every phase with its CPU per process.
import type { Phase, PeerResult, PeersConfig } from './bench.ts';

const f = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–');

/** The highest delivered changes/s of a step that kept up (the fixed-rate phase included). */
export function maxKeptUp(r: PeerResult): number {
  return Math.max(0, ...r.ramp.filter((p) => p.keptUp).map((p) => p.deliveredPerSecond));
}

export function kbPerSubscription(r: PeerResult): number {
  return (r.rssKb[1] - r.rssKb[0]) / r.subscriptions;
}

export function snapshotRowsPerSecond(r: PeerResult): number {
  return r.snapshotRows / (Math.min(...r.snapshotMs) / 1000);
}

export function report(results: readonly PeerResult[], c: PeersConfig, smoke: boolean): void {
  console.log(`\npeers benchmark${smoke ? ' (smoke run)' : ''}: ${c.clients} clients over ${c.users} users, each subscribed to its own rows; writes ramped through ${c.ramp.map((r) => f(r)).join(', ')} /s (${c.stepMs / 1000} s each, ${f(c.rate)}/s for ${c.ms / 1000} s: the latency figures) until one falls behind; initial sync of ${f(c.snapshotRows)} rows\n`);
  const rows: [label: string, get: (r: PeerResult) => number, digits: number][] = [
    [`writes/s at the fixed ${f(c.rate)}/s`, (r) => r.live.writesPerSecond, 0],
    [`delivered/s at the fixed rate (${f((c.rate * c.clients) / c.users)} asked)`, (r) => r.live.deliveredPerSecond, 0],
    [`p50 write → client, from the request (ms)`, (r) => r.live.fromRequest.p50, 1],
    [`p99 write → client, from the request (ms)`, (r) => r.live.fromRequest.p99, 1],
    [`p50 from the write's acknowledgement (ms)`, (r) => r.live.fromAck.p50, 1],
    [`p99 from the write's acknowledgement (ms)`, (r) => r.live.fromAck.p99, 1],
    ['highest delivered changes/s kept up', maxKeptUp, 0],
    ['server memory per subscription (KB)', kbPerSubscription, 1],
    [`initial sync of ${f(c.snapshotRows)} rows (rows/s)`, snapshotRowsPerSecond, 0],
  ];
  const base = results[0];
  const head = ['', ...results.map((r) => r.name), ...results.slice(1).map((r) => `${r.name} / ${base?.name ?? ''}`)];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const [label, get, digits] of rows) {
    const values = results.map(get);
    const ratios = values.slice(1).map((v) => (base === undefined ? Number.NaN : v / get(base)));
    console.log(`| ${[label, ...values.map((v) => f(v, digits)), ...ratios.map((x) => `${f(x, 2)}×`)].join(' | ')} |`);
  }
}

/** One system's phases, printed as soon as it has run (a later system's failure loses nothing). */
export function reportPeer(r: PeerResult): void {
  console.log(`\n${r.name}: initial sync ${r.snapshotMs.map((ms) => `${f(ms)} ms`).join(', ')}; server RSS ${f(r.rssKb[0] / 1024, 1)} → ${f(r.rssKb[1] / 1024, 1)} MB with ${f(r.subscriptions)} subscriptions`);
  console.log(`${'phase'.padEnd(26)}${'writes/s'.padStart(10)}${'delivered/s'.padStart(13)}${'p50 req'.padStart(10)}${'p99 req'.padStart(10)}${'p50 ack'.padStart(10)}${'p99 ack'.padStart(10)}  kept up  deliveries (expected)  CPU per process`);
  for (const p of r.ramp) console.log(phaseLine(`${f(p.rate)}/s${p === r.live ? ' (fixed)' : ''}`, p));
  if (r.errors.length > 0) console.log(`errors: ${r.errors.slice(0, 5).join('; ')}`);
}

function phaseLine(name: string, p: Phase): string {
  const ms = (x: number): string => `${f(x, 1)}`.padStart(10);
  const cpu = [...p.cpuMs].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${f((v / p.wallMs) * 100)}%`).join(', ');
  const missing = p.failedWrites > 0 ? `, ${p.failedWrites} writes failed` : '';
  return `${name.padEnd(26)}${f(p.writesPerSecond).padStart(10)}${f(p.deliveredPerSecond).padStart(13)}${ms(p.fromRequest.p50)}${ms(p.fromRequest.p99)}${ms(p.fromAck.p50)}${ms(p.fromAck.p99)}  ${(p.keptUp ? 'yes' : 'no').padEnd(7)}  ${f(p.delivered)} (${f(p.expected)}${p.duplicates > 0 ? `, ${p.duplicates} dup` : ''}${missing})  ${cpu}`;
}
