// Self time of V8 CPU profiles (the .cpuprofile files SEQLINE_CPU_PROF_DIR makes the local
// stack's services write, or --cpu-prof): per file, its total, then the functions and the
// packages with the most self time, in ms and as a share of the process's busy time (idle
// excluded). `node --import tsx bench/profile-top.ts <file.cpuprofile>… [--top N]
// [--window FROM,TO] [--callers FUNCTION [--depth N]] [--timeline]`.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * The profile's samples taken between `from` and `to`, in seconds of the clock profiles share
 * (V8's monotonic clock: the processes of one machine can be compared). The bench loads are
 * found with `--timeline`: busy ms per second.
 */
export function within(profile: CpuProfile, from: number, to: number): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t / 1e6 >= from && t / 1e6 < to) {
      samples.push(id);
      timeDeltas.push(delta);
    }
  });
  return { ...profile, samples, timeDeltas };
}

/** Busy ms in each second of the profile, by the shared clock's second. */
export function timeline(profile: CpuProfile): Map<number, number> {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const out = new Map<number, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    const second = Math.floor(t / 1e6);
    if (!idle.has(id)) out.set(second, (out.get(second) ?? 0) + delta / 1000);
  });
  return out;
}

/** Self time in ms by function and by package, busy time only. */
export function selfTimes(profile: CpuProfile): { busyMs: number; functions: Map<string, number>; packages: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined || node.callFrame.functionName === '(idle)') return;
    busyMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
    const pkg = packageOf(url) ?? functionName;
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms);
  });
  return { busyMs, functions, packages };
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/(services|libs)\//, '$1/');
}

function packageOf(url: string): string | undefined {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m !== null) return m[1];
  if (url.startsWith('node:')) return 'node (built-in modules)';
  if (url === '') return undefined;
  return 'seqline';
}

function top(map: Map<string, number>, n: number, busyMs: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `  ${ms.toFixed(0).padStart(7)} ms ${((ms / busyMs) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

/** Total time (self and below) of the call paths, `depth` callers up, that lead to functions named `name`. */
export function callers(profile: CpuProfile, name: string, depth: number): Map<string, number> {
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const path: ProfileNode[] = [];
    for (let n = byId.get(id); n !== undefined; n = parent.get(n.id)) path.push(n);
    const at = path.findIndex((n) => n.callFrame.functionName === name);
    if (at < 0) return;
    const key = path
      .slice(at, at + depth + 1)
      .map((n) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`)
      .join(' < ');
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return out;
}

async function main(args: string[]): Promise<void> {
  const option = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const n = Number(option('--top') ?? 25);
  const caller = option('--callers');
  const files = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1]?.startsWith('--') === true && args[i - 1] !== '--timeline'));
  const window = option('--window')?.split(',').map(Number);
  for (const file of files) {
    const whole = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    if (args.includes('--timeline')) {
      console.log(`\n${basename(file)}: busy ms per second`);
      for (const [second, ms] of timeline(whole)) console.log(`  ${second} ${ms.toFixed(0)}`);
      continue;
    }
    const profile = window === undefined ? whole : within(whole, window[0]!, window[1]!);
    if (caller !== undefined) {
      const busy = selfTimes(profile).busyMs;
      console.log(`\n${basename(file)}: call paths to ${caller}`);
      console.log(top(callers(profile, caller, Number(option('--depth') ?? 6)), n, busy).join('\n'));
      continue;
    }
    const { busyMs, functions, packages } = selfTimes(profile);
    console.log(`\n${basename(file)}: ${busyMs.toFixed(0)} ms busy`);
    console.log(' packages:');
    console.log(top(packages, 10, busyMs).join('\n'));
    console.log(' functions:');
    console.log(top(functions, n, busyMs).join('\n'));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
