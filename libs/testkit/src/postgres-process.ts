// Runs a PostgreSQL cluster from a pair of binaries (initdb, postgres): the machine's packages
// (postgres-system.ts) or the npm package's (postgres-embedded.ts).
//
// initdb and the postmaster are spawned directly with the `postgres` OS user's uid/gid when we
// are root (Node drops root's groups too). That does what `runuser -u postgres --` does without
// the extra runuser process in between, so signals reach the postmaster and its exit status is
// the server's. Their working directory is `/`: the caller's may be closed to that user.
// Readiness is the postmaster's own "ready to accept connections" line (messages are forced to
// English with lc_messages=C), not a poll.
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExit, runCommand, spawnServer, type ServerProcess, type SpawnServerOptions } from './child-process.js';
import {
  INITDB_FLAGS,
  PG_PASSWORD,
  PG_USER,
  READY_LINE,
  STARTUP_TIMEOUT_MS,
  STOP_GRACE_MS,
  postgresUrl,
  prepareDataDir,
  serverFlags,
  type OsUser,
  type PostgresServer,
  type StartPostgresOptions,
} from './postgres-common.js';
import { freePort } from './support.js';

export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

type SpawnAs = Omit<SpawnServerOptions, 'orphanSignal' | 'orphanCleanupDir'>;

/** Creates the cluster if its data directory holds none, starts it and waits until it accepts connections. */
export async function runPostgres(bin: PostgresBinaries, owner: OsUser | undefined, options: StartPostgresOptions): Promise<PostgresServer> {
  const keepData = options.keepData ?? false;
  const dataDir = await prepareDataDir(options.dataDir, owner);
  const spawnAs: SpawnAs = { cwd: '/', env: { ...process.env, LC_ALL: 'C' }, ...owner };
  try {
    if (!dataDir.initialised) await initdb(bin, dataDir.path, owner, spawnAs, options.password ?? PG_PASSWORD);
    const port = options.port ?? (await freePort());
    const proc = await spawnServer(bin.postgres, ['-D', dataDir.path, '-p', String(port), ...serverFlags(options.durable)], {
      ...spawnAs,
      orphanSignal: 'SIGQUIT',
      ...(keepData ? {} : { orphanCleanupDir: dataDir.path }),
    });
    await waitUntilReady(proc, port);
    return new PostgresProcess(proc, port, dataDir.path, keepData, options.password ?? PG_PASSWORD);
  } catch (error) {
    if (!keepData) await rm(dataDir.path, { recursive: true, force: true });
    throw error;
  }
}

async function initdb(bin: PostgresBinaries, dataDir: string, owner: OsUser | undefined, spawnAs: SpawnAs, password: string): Promise<void> {
  // initdb reads the superuser's password from a file the server's user must be able to read.
  const secretDir = await mkdtemp(join(tmpdir(), 'seqline-pwfile-'));
  const pwfile = join(secretDir, 'pw');
  try {
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner !== undefined) {
      await chown(secretDir, owner.uid, owner.gid);
      await chown(pwfile, owner.uid, owner.gid);
    }
    const args = ['-D', dataDir, `--username=${PG_USER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', ...INITDB_FLAGS];
    await runCommand(bin.initdb, args, spawnAs);
  } finally {
    await rm(secretDir, { recursive: true, force: true });
  }
}

async function waitUntilReady(proc: ServerProcess, port: number): Promise<void> {
  try {
    await proc.waitForOutput(READY_LINE, STARTUP_TIMEOUT_MS);
  } catch (error) {
    await proc.stop('SIGQUIT', STOP_GRACE_MS);
    const exit = await proc.exited;
    throw new Error(
      `PostgreSQL did not start on 127.0.0.1:${port} (${error instanceof Error ? error.message : String(error)}; ${describeExit(exit)}):\n${proc.output()}`,
      { cause: error },
    );
  }
}

class PostgresProcess implements PostgresServer {
  readonly url: string;
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly proc: ServerProcess,
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
    // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit.
    await this.proc.stop('SIGINT', STOP_GRACE_MS);
    if (!this.keepData) await rm(this.dataDir, { recursive: true, force: true });
  }
}
