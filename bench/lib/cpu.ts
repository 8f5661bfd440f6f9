// CPU time and memory per process of a process tree, from /proc (Linux): which part of the
// stack a benchmark's CPU goes to. Node services are named by their entry file, other programs by
// their command (a service run from its bundle, dist/main.js, too); processes of one name are summed (PostgreSQL's backends, say).
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly cpuMs: number;
  readonly name: string;
}

async function readProc(pid: number): Promise<Proc | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const entry = cmdline.find((a) => /\/(services|infra)\/[^/]+\/(src\/main\.ts|dist\/main\.js)$/.test(a)); // tsx, or the bundle npm start runs
    const name = entry ? (/\/(?:services|infra)\/([^/]+)\//.exec(entry)?.[1] ?? comm) : comm;
    return { pid, ppid, cpuMs: (ticks * 1000) / TICKS_PER_SECOND, name };
  } catch {
    return undefined; // exited while we looked
  }
}

/** `root` and its descendants, from /proc. */
async function procTree(root: number): Promise<Proc[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const procs = (await Promise.all(pids.map(readProc))).filter((p): p is Proc => p !== undefined);
  const children = new Map<number, Proc[]>();
  for (const p of procs) {
    const siblings = children.get(p.ppid);
    if (siblings === undefined) children.set(p.ppid, [p]);
    else siblings.push(p);
  }
  const tree = procs.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!.pid) ?? []));
  return tree;
}

/** CPU milliseconds used so far by `root` and its descendants, summed by process name. */
export async function cpuOfTree(root: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of await procTree(root)) out.set(p.name, (out.get(p.name) ?? 0) + p.cpuMs);
  return out;
}

/** The pids of `root`'s descendants named `name` (a service's entry folder, or a command). */
export async function pidsOfTree(root: number, name: string): Promise<number[]> {
  return (await procTree(root)).filter((p) => p.name === name).map((p) => p.pid);
}

/** CPU milliseconds the whole machine has spent busy (all cores; /proc/stat, idle and iowait excluded), and of that in softirq (network processing, loopback included, which no process is charged with). */
export async function machineCpuMs(): Promise<{ busy: number; softirq: number }> {
  const [, ...fields] = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!.trim().split(/\s+/);
  const ticks = fields.map(Number);
  const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0); // user … steal; guest time is inside user
  const ms = (t: number): number => (t * 1000) / TICKS_PER_SECOND;
  return { busy: ms(total - ticks[3]! - ticks[4]!), softirq: ms(ticks[6]!) };
}

/**
 * Adds to `cpuMs` (per process, measured since `before`) what the rest of the machine spent busy
 * since then as 'other processes' (another load on a shared machine), and 'softirq' (network
 * processing no process is charged with).
 */
export async function addMachineRest(cpuMs: Map<string, number>, before: { busy: number; softirq: number }): Promise<void> {
  const machine = await machineCpuMs();
  const softirq = machine.softirq - before.softirq;
  cpuMs.set('other processes', machine.busy - before.busy - softirq - [...cpuMs.values()].reduce((sum, v) => sum + v, 0));
  cpuMs.set('softirq', softirq);
}

/** Resident set size of a process in KiB (VmRSS in /proc/<pid>/status). */
export async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb);
}

/** The CPU each process name used between two readings (exited processes count as zero). */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, ms] of after) out.set(name, ms - (before.get(name) ?? 0));
  return out;
}

/** Starts measuring the CPU of `root`'s process tree and of this process ("bench client"); `stop` gives ms per process. */
export async function measureCpu(root: number): Promise<{ stop(): Promise<Map<string, number>> }> {
  const before = await cpuOfTree(root);
  const clientBefore = process.cpuUsage();
  return {
    async stop() {
      const client = process.cpuUsage(clientBefore);
      const cpu = cpuDelta(before, await cpuOfTree(root));
      cpu.set('bench client', (client.user + client.system) / 1000);
      return cpu;
    },
  };
}
