// PostgreSQL from the machine's own packages (Debian/Ubuntu: /usr/lib/postgresql/<major>/bin,
// the newest major wins; elsewhere initdb and postgres from PATH).
//
// initdb and the postmaster are spawned directly with the `postgres` OS user's uid/gid when we
// are root (Node drops root's groups too). That does what `runuser -u postgres --` does without
// the extra runuser process in between, so signals reach the postmaster and its exit status is
// the server's. Readiness is the postmaster's own "ready to accept connections" line (messages
// are forced to English with lc_messages=C), not a poll.
import { chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeExit,
  findExecutable,
  runCommand,
  spawnServer,
  type ServerProcess,
  type SpawnServerOptions,
} from './child-process.js';
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
  serverOsUser,
  type OsUser,
  type PostgresServer,
  type StartPostgresOptions,
} from './postgres-common.js';
import { freePort } from './support.js';

export const POSTGRES_MISSING =
  'PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/<version>/bin or PATH: ' +
  'install them with `apt-get install postgresql` (Debian/Ubuntu), or use the embedded mode (unset SEQLINE_TEST_POSTGRES)';

const DEBIAN_ROOT = '/usr/lib/postgresql';

type SpawnAs = Omit<SpawnServerOptions, 'orphanSignal' | 'orphanCleanupDir'>;

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

export async function startSystemPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const bin = await findBinaries();
  const owner = await serverOsUser();
  const keepData = options.keepData ?? false;
  const dataDir = await prepareDataDir(options.dataDir, owner);
  const spawnAs: SpawnAs = { cwd: tmpdir(), env: { ...process.env, LC_ALL: 'C' }, ...owner };
  try {
    if (!dataDir.initialised) await initdb(bin, dataDir.path, owner, spawnAs, options.password ?? PG_PASSWORD);
    const port = options.port ?? (await freePort());
    const proc = await spawnServer(bin.postgres, ['-D', dataDir.path, '-p', String(port), ...serverFlags(options.durable)], {
      ...spawnAs,
      orphanSignal: 'SIGQUIT',
      ...(keepData ? {} : { orphanCleanupDir: dataDir.path }),
    });
    await waitUntilReady(proc, port);
    return new SystemPostgres(proc, port, dataDir.path, keepData, options.password ?? PG_PASSWORD);
  } catch (error) {
    if (!keepData) await rm(dataDir.path, { recursive: true, force: true });
    throw error;
  }
}

async function findBinaries(): Promise<Binaries> {
  const majors = await readdir(DEBIAN_ROOT).catch(() => [] as string[]);
  const newestFirst = majors.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const major of newestFirst) {
    const dir = join(DEBIAN_ROOT, major, 'bin');
    const initdb = await findExecutable([join(dir, 'initdb')]);
    const postgres = await findExecutable([join(dir, 'postgres')]);
    if (initdb !== undefined && postgres !== undefined) return { initdb, postgres };
  }
  const initdb = await findExecutable(['initdb']);
  const postgres = await findExecutable(['postgres']);
  if (initdb !== undefined && postgres !== undefined) return { initdb, postgres };
  throw new Error(POSTGRES_MISSING);
}

async function initdb(bin: Binaries, dataDir: string, owner: OsUser | undefined, spawnAs: SpawnAs, password: string): Promise<void> {
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

class SystemPostgres implements PostgresServer {
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
