// Server child processes for tests: spawn, keep the tail of their output for error messages,
// wait for a line of output, stop with a bounded grace period, and make sure none outlives us.
//
// Orphan protection, two layers (a server spawned by a test must not run forever):
//   1. a process 'exit' handler that signals every live server synchronously. It covers normal
//      exits and process.exit(), but not SIGKILL of the test process or a crash in native code.
//   2. a tiny watchdog shell per server that blocks reading a pipe from this process. The kernel
//      closes the pipe however we die, even on SIGKILL; the watchdog then signals the server,
//      waits up to 5 s for it to go (SIGKILL after that) and removes its data directory. On a
//      normal stop we write `release` and the watchdog exits without touching anything.
// Limitation: if the watchdog itself is killed (e.g. `kill -9` on the whole process group), a
// server can still linger; its data directory stays in os.tmpdir().
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { Socket } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly pid: number;
  /** Resolves (never rejects) once the process has exited and its output pipes are closed. */
  readonly exited: Promise<ExitInfo>;
  /** Aborted when the process exits: use it to cut pauses and polls short. */
  readonly exitSignal: AbortSignal;
  /** The last ~16 KiB of stdout and stderr. */
  output(): string;
  /** Resolves once the output contains `text`; rejects if the process exits or time runs out. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs; resolves when the process is gone. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo>;
}

export interface SpawnServerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Signal for a server we leave behind (SIGKILL for NATS, SIGQUIT for PostgreSQL). */
  readonly orphanSignal: NodeJS.Signals;
  /** Directory the watchdog removes after an orphaned server is gone. */
  readonly orphanCleanupDir?: string;
}

const OUTPUT_LIMIT = 16 * 1024;

export async function spawnServer(binary: string, args: readonly string[], options: SpawnServerOptions): Promise<ServerProcess> {
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches the parent, which stops servers in order.
    detached: true,
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => {
      child.off('error', reject);
      resolve();
    });
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error(`${binary}: spawned without a pid`);
  return manage(child, child.pid, options);
}

function manage(child: ChildProcess, pid: number, options: SpawnServerOptions): ServerProcess {
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  // Late errors (a failed kill) must not crash the test process; the exit path reports them.
  child.on('error', (error) => onData(Buffer.from(`\n[spawn error] ${error.message}\n`)));

  const release = guardProcess(pid, options.orphanSignal, options.orphanCleanupDir);
  const exitController = new AbortController();
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('close', (code, signal) => {
      release();
      exitController.abort();
      resolve({ code, signal });
    });
  });

  const waitForOutput = (text: string, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        waiters.delete(check);
        clearTimeout(timer);
        exitController.signal.removeEventListener('abort', onExit);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        if (output.includes(text)) finish();
      };
      const onExit = (): void => finish(new Error(`exited before printing "${text}"`));
      const timer = setTimeout(() => finish(new Error(`did not print "${text}" within ${timeoutMs} ms`)), timeoutMs);
      waiters.add(check);
      exitController.signal.addEventListener('abort', onExit, { once: true });
      check();
      if (exitController.signal.aborted) onExit();
    });

  const stop = async (signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo> => {
    if (exitController.signal.aborted) return exited;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return { pid, exited, exitSignal: exitController.signal, output: () => output, waitForOutput, stop };
}

/** Human-readable exit status. */
export function describeExit(exit: ExitInfo): string {
  return exit.signal === null ? `exit code ${String(exit.code)}` : `signal ${exit.signal}`;
}

const execFileAsync = promisify(execFile);

/** Runs a command to completion; a non-zero exit throws with the command's output. */
export async function runCommand(binary: string, args: readonly string[], options: Omit<SpawnServerOptions, 'orphanSignal'>): Promise<void> {
  try {
    await execFileAsync(binary, args, {
      env: options.env ?? process.env,
      maxBuffer: 4 * 1024 * 1024,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message?: string };
    const text = [failure.stderr, failure.stdout].filter((part) => part !== undefined && part !== '').join('\n');
    throw new Error(`${binary} ${args.join(' ')} failed: ${failure.message ?? String(error)}\n${text}`, { cause: error });
  }
}

/** The first candidate that is an executable file; bare names are looked up in PATH. */
export async function findExecutable(candidates: readonly string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    const paths = isAbsolute(candidate) || candidate.includes('/')
      ? [candidate]
      : (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, candidate));
    for (const path of paths) {
      if (await isExecutable(path)) return path;
    }
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---- orphan protection -------------------------------------------------------------------

const live = new Map<number, NodeJS.Signals>();
let exitHandlerInstalled = false;

function killLiveServers(): void {
  for (const [pid, signal] of live) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

// $1 pid, $2 signal name without SIG, $3 directory to remove ('' for none).
const WATCHDOG = [
  "trap '' INT HUP",
  'IFS= read -r line',
  '[ "$line" = release ] && exit 0',
  'kill -s "$2" "$1" 2>/dev/null',
  'n=0',
  'while kill -0 "$1" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n+1)); done',
  'kill -s KILL "$1" 2>/dev/null',
  '[ -n "$3" ] && rm -rf -- "$3"',
  'exit 0',
].join('\n');

/**
 * Protects against leaving the process `pid` behind (see the header). Returns `release`, to be
 * called once the process has exited normally; calling it again does nothing.
 */
export function guardProcess(pid: number, signal: NodeJS.Signals, cleanupDir?: string): () => void {
  if (!exitHandlerInstalled) {
    process.on('exit', killLiveServers);
    exitHandlerInstalled = true;
  }
  live.set(pid, signal);
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'seqline-watchdog', String(pid), signal.replace(/^SIG/, ''), cleanupDir ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // The watchdog must never keep the event loop alive, nor crash us if /bin/sh is missing.
  watchdog.on('error', () => undefined);
  watchdog.unref();
  const pipe = watchdog.stdin;
  if (pipe instanceof Socket) pipe.unref();
  pipe.on('error', () => undefined);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    live.delete(pid);
    if (pipe.writable) pipe.end('release\n');
  };
}
