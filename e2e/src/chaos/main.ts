// `npm run chaos -- [--faults N] [--seed S] [--minutes M] [--dir D]`: a fault campaign on a local
// multi-process cluster (./campaign.ts), then the checker's report. `--check <history.jsonl>`
// checks a recorded history again without running anything. Exit code 0: no violation.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCampaign } from './campaign.js';
import { check, type CheckResult } from './checker.js';
import { readHistory } from './history.js';
import { FAULT_KINDS, type FaultKind, type FaultRecord } from './nemesis.js';

const HELP = `npm run chaos -- [options]: a Jepsen-style fault campaign against a local Seqline cluster
(3 NATS nodes, PostgreSQL, 2 sequencers, 2 storage replicas, 2 write services, 2 gateways, all
separate processes) while writers and WebSocket subscribers run; then checks the history.

  --faults N     faults to inject (default 12): kill, pause, nats-kill, nats-partition,
                 pg-restart, clock-skew, each kind once per ${FAULT_KINDS.length} in a seeded order
  --seed S       seed of the fault schedule and the workload (default: the time); print it to replay
  --kinds K,…    only these fault kinds (default: all)
  --minutes M    stop injecting after M minutes even if fewer faults ran (default: no limit)
  --bound MS     ms after the last fault within which every subscriber must have every write (30000)
  --dir D        where the history, logs and data go (default .chaos/<seed>)
  --check FILE   only check a recorded history (history.jsonl) and print the report
  --help         this text`;

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const complain = (line: string): void => void process.stderr.write(`${line}\n`);

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: '12' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
    bound: { type: 'string', default: '30000' },
    dir: { type: 'string' },
    check: { type: 'string' },
    kinds: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

function int(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    complain(`--${name} must be an integer >= ${min}, not ${text}`);
    process.exit(2);
  }
  return n;
}

if (values.help) {
  say(HELP);
  process.exit(0);
}
const bound = int('bound', values.bound, 1)!;
if (values.check !== undefined) {
  const result = check(await readHistory(resolve(values.check)), { bound });
  report(result, []);
  process.exit(result.ok ? 0 : 1);
}
const seed = int('seed', values.seed, 0) ?? (Date.now() % 2 ** 31);
const faults = int('faults', values.faults, 0)!;
const minutes = int('minutes', values.minutes, 1);
const kinds = values.kinds?.split(',').map((k) => k.trim());
const unknown = kinds?.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k)) ?? [];
if (unknown.length > 0 || kinds?.length === 0) {
  complain(`--kinds takes a comma-separated list of ${FAULT_KINDS.join(', ')}; not ${unknown.join(', ') || '(empty)'}`);
  process.exit(2);
}
const dir = resolve(values.dir ?? join('.chaos', String(seed)));
say(`chaos: seed ${seed}, ${faults} faults${minutes === undefined ? '' : `, at most ${minutes} min`}, in ${dir}`);
const run = await runCampaign({ dir, seed, faults, boundMs: bound, ...(kinds === undefined ? {} : { kinds: kinds as FaultKind[] }), ...(minutes === undefined ? {} : { maxMs: minutes * 60_000 }), log: (l) => say(`  ${new Date().toISOString().slice(11, 19)} ${l}`) });
report(run.result, run.faults);
const exits = Object.entries(run.unplannedExits);
say(`services that exited by themselves (restarted by the supervisor): ${exits.length === 0 ? 'none' : exits.map(([n, c]) => `${n} ${c}`).join(', ')}`);
say(`elapsed ${(run.elapsedMs / 1000).toFixed(0)} s; history ${run.historyPath}; replay with --seed ${seed}`);
process.exit(run.result.ok ? 0 : 1);

function report(result: CheckResult, faultList: readonly FaultRecord[]): void {
  const s = result.stats;
  const byKind = new Map<string, number>();
  for (const f of faultList) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  say(`faults: ${s.faults}${byKind.size ? ` (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
  say(`writes: ${s.writes.invoked} (ok ${s.writes.ok}, failed ${s.writes.failed}, indeterminate ${s.writes.indeterminate})`);
  say(`deliveries: ${s.deliveries}, resumes: ${s.resumes}`);
  say(`longest window without an acknowledged write: ${s.longestUnavailableMs} ms`);
  say(`converged ${s.convergeMs ?? '-'} ms after the last fault`);
  if (result.ok) say('violations: 0');
  else {
    say(`violations: ${result.violations.length}`);
    const seen = new Set<string>();
    for (const v of result.violations) {
      if (seen.has(v.kind)) continue;
      seen.add(v.kind);
      say(`  ${v.kind}: ${v.message}\n    first counterexample: ${JSON.stringify(v.event)}`);
    }
  }
}
