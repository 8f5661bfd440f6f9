// Prints the users benchmark's figures per step, the baseline next to them, and the target.
import type { StepResult, UsersBenchResult, UsersConfig } from './bench.ts';

/** Seqline's CPU per delivered change with the most idle users, at most this times its value with the fewest. */
const TARGET_GROWTH = 1.2;

const f = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '-');
const us = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} µs` : '-');

/** The gateway's CPU per delivered change, µs. */
export function gatewayUsPerChange(s: StepResult): number {
  return (1000 * s.gatewayCpuMs) / s.delivered;
}

/**
 * The gateway's CPU per delivered change above what it spends with no writes at all: the step's
 * CPU less the quiet rate over the step's wall time, µs. The quiet part is what the idle users
 * cost by themselves (their pings, the credential re-checks, GC of a larger heap); it is charged to
 * the step's changes in proportion to how long the step took, so on a loaded machine it
 * dominates the total: this shows the rest.
 */
export function gatewayUsPerChangeAboveQuiet(s: StepResult): number {
  return (1000 * (s.gatewayCpuMs - (s.quietCpuMsPerS * s.wallMs) / 1000)) / s.delivered;
}

/** The baseline's CPU per change it filtered, µs. */
export function baselineUsPerChange(s: StepResult): number {
  return (1000 * s.baseline.cpuMs) / s.baseline.changes;
}

export function reportUsers(r: UsersBenchResult, c: UsersConfig, smoke: boolean): void {
  console.log(`\nusers benchmark${smoke ? ' (smoke run)' : ''}: ${f(c.rate)} single-row INSERTs/s for ${c.ms / 1000} s per step to ${c.active} active users (one subscriber each), while idle users hold one socket and one subscription each\n`);
  const line = (cells: string[]): void => console.log(cells.map((x, i) => x.padStart(i === 0 ? 10 : 13)).join(''));
  line(['idle users', 'delivered', 'missing', 'p50 ack', 'p99 ack', 'gw CPU/chg', 'vs first', 'gw quiet', 'of which', 'above quiet', 'vs first', 'gw RSS', 'filter-all', 'vs first']);
  const [first] = r.steps;
  for (const s of r.steps) {
    line([
      f(s.idle),
      f(s.delivered),
      f(s.expected - s.delivered),
      ms(s.fromAck.p50),
      ms(s.fromAck.p99),
      us(gatewayUsPerChange(s)),
      `${(gatewayUsPerChange(s) / gatewayUsPerChange(first!)).toFixed(2)}×`,
      `${(s.quietCpuMsPerS / 10).toFixed(1)}%`,
      us((s.quietCpuMsPerS * s.wallMs) / s.delivered),
      us(gatewayUsPerChangeAboveQuiet(s)),
      `${(gatewayUsPerChangeAboveQuiet(s) / gatewayUsPerChangeAboveQuiet(first!)).toFixed(2)}×`,
      `${f(s.gatewayRssKb / 1024)} MB`,
      us(baselineUsPerChange(s)),
      `${(baselineUsPerChange(s) / baselineUsPerChange(first!)).toFixed(2)}×`,
    ]);
  }
  console.log('(gw CPU/chg: the gateway process\'s CPU over the step, HTTP writes included, per delivered change; gw quiet: the gateway\'s CPU with no writes, % of a core;\n of which: the quiet rate over the step\'s wall time, per delivered change; above quiet: gw CPU/chg less that;\n filter-all: the baseline\'s CPU per change, every subscription evaluated on every change; ack: from the write\'s HTTP response to the change on its subscriber\'s socket)');
  const last = r.steps.at(-1)!;
  const growth = gatewayUsPerChange(last) / gatewayUsPerChange(first!);
  console.log(`\ntarget: gateway CPU per delivered change at ${f(last.idle)} idle users <= ${TARGET_GROWTH}× its value at ${f(first!.idle)}: ${growth.toFixed(2)}× ${growth <= TARGET_GROWTH ? 'MET' : 'MISSED'} (above the quiet part: ${(gatewayUsPerChangeAboveQuiet(last) / gatewayUsPerChangeAboveQuiet(first!)).toFixed(2)}×; filter-all: ${(baselineUsPerChange(last) / baselineUsPerChange(first!)).toFixed(2)}×)`);
  console.log(`changes received by idle users: ${f(r.idleChanges)}`);
  if (r.errors.length > 0) console.log(`errors (${r.errors.length}): ${r.errors.slice(0, 5).join('; ')}`);
}
