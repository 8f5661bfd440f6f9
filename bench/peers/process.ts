// A server process for the peers benchmark (zero-cache, the NOTIFY baseline's server): its own
// process group, so stopping it stops whatever it forked; its output kept for error messages;
// ready when `ready()` says so, failing early if it exits first.
import { spawn } from 'node:child_process';
import { waitFor } from '@seqline/testkit';
import { pidsOfTree } from '../lib/cpu.ts';

export interface ServerChild extends AsyncDisposable {
  readonly pid: number;
  output(): string;
}

export async function startServer(command: string, args: readonly string[], env: Record<string, string>, ready: () => Promise<boolean>, timeoutMs = 120_000): Promise<ServerChild> {
  const child = spawn(command, args, { detached: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((done) =>
    child.once('exit', (code) => {
      exitCode = code;
      done();
    }),
  );
  // zero-cache puts each worker it forks in a process group of its own: the whole tree is
  // looked up and killed, also when this process exits without stopping it (a crash).
  let tree: number[] = [];
  const killTree = (): void => {
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killTree);
  const stop = async (): Promise<void> => {
    tree = [child.pid!, ...(await pidsOfTree(child.pid!, 'node'))];
    if (exitCode === undefined) {
      process.kill(-child.pid!, 'SIGTERM');
      const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
    killTree();
    process.off('exit', killTree);
  };
  try {
    await waitFor(async () => exitCode !== undefined || (await ready().catch(() => false)), { timeoutMs, intervalMs: 100 });
    if (exitCode !== undefined) throw new Error(`exited with ${exitCode}`);
  } catch (error) {
    await stop();
    throw new Error(`${args.at(-1) ?? command} did not become ready: ${error instanceof Error ? error.message : String(error)}\n${out}`, { cause: error });
  }
  tree = [child.pid!, ...(await pidsOfTree(child.pid!, 'node'))];
  return { pid: child.pid!, output: () => out, [Symbol.asyncDispose]: stop };
}

/** True when GET `url` answers 200. */
export async function httpOk(url: string): Promise<boolean> {
  const r = await fetch(url).catch(() => undefined);
  return r?.status === 200;
}
