// Runs Seqline's services as child processes for the local stack, each from its bundle
// (services/<name>/dist/main.js, service-bundle.ts) with plain node: each one's JSON logs go to
// <dataDir>/logs/<name>.log, its health is polled until it serves, and stopping sends SIGTERM
// (the service drains) and waits for the exit, with SIGKILL after a grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { healthPb } from '@seqline/proto';
import { grpcServing } from '@seqline/runtime';

export interface ServiceProcess {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

export function spawnService(root: string, name: string, bundle: string, env: NodeJS.ProcessEnv, logDir: string): ServiceProcess {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  // SEQLINE_CPU_PROF_DIR (benchmarks): each service writes a V8 CPU profile there when it exits.
  const profDir = env['SEQLINE_CPU_PROF_DIR'];
  const profile = profDir === undefined || profDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${name}.${process.pid}.cpuprofile`];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--enable-source-maps', bundle], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: Ctrl-C reaches us, and we stop services in order
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return {
    name,
    logFile,
    exited,
    stop: (graceMs = 15_000) =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
        log.end();
      })()),
  };
}

/** Polls the gRPC health service until it answers SERVING; rejects if the process exits first. */
export async function waitForGrpcHealth(address: string, service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  const client = new healthPb.HealthClient(address, credentials.createInsecure());
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  try {
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`${service.name} exited with code ${exitCode}:\n${await tail(service.logFile)}`);
      if (await grpcServing(client, 1000)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${service.name} not healthy within ${timeoutMs} ms:\n${await tail(service.logFile)}`);
  } finally {
    client.close();
  }
}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Polls an HTTP health URL until it answers 200; rejects if the process exits first. */
export async function waitForHttpHealth(url: string, service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${service.name} exited with code ${exitCode}:\n${await tail(service.logFile)}`);
    const healthy = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (healthy) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service.name} not healthy within ${timeoutMs} ms:\n${await tail(service.logFile)}`);
}
