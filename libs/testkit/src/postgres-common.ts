// What both ways of running PostgreSQL for tests share: the server contract, the credentials,
// the settings that make a throwaway cluster fast, the data directory and the OS user.
//
// PostgreSQL refuses to run as root. When we are root, the server runs as the `postgres` OS user
// and its data directory lives in os.tmpdir() (a directory under /root is not reachable for that
// user), owned by it with mode 0700. Whether that user can reach a path is asked of the system
// itself (serverCanReach runs `test` as that user), so modes, ACLs and mounts all count.
import { execFile } from 'node:child_process';
import { access, chown, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface PostgresServer {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres (a superuser). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Shuts the server down (fast shutdown) and, unless keepData, removes dataDir. Idempotent. */
  stop(): Promise<void>;
  /** Same as stop(). */
  [Symbol.asyncDispose](): Promise<void>;
}

export type PostgresMode = 'embedded' | 'system';

export interface StartPostgresOptions {
  /** Default: env SEQLINE_TEST_POSTGRES ('embedded' or 'system'), else 'embedded'. */
  readonly mode?: PostgresMode;
  readonly port?: number;
  /** Default: a new directory in os.tmpdir(). An initialised directory is reused as it is. */
  readonly dataDir?: string;
  /** Keep dataDir after stop (default false). */
  readonly keepData?: boolean;
  /** The superuser's password, set when the cluster is created (default "postgres"). */
  readonly password?: string;
  /** fsync and full-page writes on, for data that must survive a crash (default false). */
  readonly durable?: boolean;
}

export const PG_USER = 'postgres';
export const PG_PASSWORD = 'postgres';
export const STARTUP_TIMEOUT_MS = 30_000;
export const STOP_GRACE_MS = 15_000;
export const READY_LINE = 'database system is ready to accept connections';

export function postgresUrl(port: number, password: string = PG_PASSWORD): string {
  return `postgres://${PG_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/** initdb flags: no fsync during init, UTF-8, the C locale (byte order, same on every OS). */
export const INITDB_FLAGS: readonly string[] = ['--no-sync', '--encoding=UTF8', '--locale=C'];

/**
 * Server settings: TCP on 127.0.0.1 only, no Unix socket (nothing to clean up, no clash in
 * /tmp), room for many test connections, and durability off unless asked for (test data is
 * thrown away).
 */
export function serverFlags(durable = false): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    ...(durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    lc_messages: 'C',
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

const execFileAsync = promisify(execFile);

/** The `postgres` OS user when we are root (PostgreSQL will not run as root), else undefined. */
export async function serverOsUser(): Promise<OsUser | undefined> {
  if (!isRoot()) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', PG_USER]).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', PG_USER]).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    if (Number.isNaN(uid) || Number.isNaN(gid)) throw new Error('id printed no number');
    return { name: PG_USER, uid, gid };
  } catch (error) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as: ' +
        'install PostgreSQL with `apt-get install postgresql` (it creates the user) or create it with `useradd --system postgres`',
      { cause: error },
    );
  }
}

export interface DataDir {
  readonly path: string;
  /** True when the directory already holds a cluster (PG_VERSION exists): skip initdb. */
  readonly initialised: boolean;
}

/** Creates (or reuses) the data directory, owned by the server's OS user. */
export async function prepareDataDir(dataDir: string | undefined, owner: OsUser | undefined): Promise<DataDir> {
  const path = dataDir ?? (await mkdtemp(join(tmpdir(), 'seqline-pg-')));
  await mkdir(path, { recursive: true, mode: 0o700 });
  const initialised = await exists(join(path, 'PG_VERSION'));
  if (owner !== undefined && !initialised) await chown(path, owner.uid, owner.gid);
  if (owner !== undefined && !(await serverCanReach(owner, path, 'w'))) {
    throw new Error(`PostgreSQL runs as the OS user ${owner.name}, which cannot enter its data directory ${path} (a parent directory is closed to it): choose a data directory that user can reach`);
  }
  return { path, initialised };
}

/**
 * Whether `owner` can search (x), read (r) or write (w) `path`, every parent directory
 * included: `test -<access>` run as that user, with the same uid and gid (and no other groups)
 * the server gets.
 */
export async function serverCanReach(owner: OsUser, path: string, access: 'x' | 'r' | 'w'): Promise<boolean> {
  try {
    await execFileAsync('/bin/sh', ['-c', `test -${access} "$1"`, 'seqline-reach', path], { uid: owner.uid, gid: owner.gid, cwd: '/' });
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `promise`; if it is not settled within `ms`, calls `onTimeout` once and keeps waiting. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  const timer = setTimeout(onTimeout, ms);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}
