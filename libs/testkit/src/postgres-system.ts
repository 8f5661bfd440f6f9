// PostgreSQL from the machine's own packages (Debian/Ubuntu: /usr/lib/postgresql/<major>/bin,
// the newest major wins; elsewhere initdb and postgres from PATH), run by postgres-process.ts.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable } from './child-process.js';
import { serverCanReach, serverOsUser, type PostgresServer, type StartPostgresOptions } from './postgres-common.js';
import { runPostgres, type PostgresBinaries } from './postgres-process.js';

export const POSTGRES_MISSING =
  'PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/<version>/bin or PATH: ' +
  'install them with `apt-get install postgresql` (Debian/Ubuntu), or use the embedded mode (unset SEQLINE_TEST_POSTGRES)';

const DEBIAN_ROOT = '/usr/lib/postgresql';

export async function startSystemPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const bin = await findBinaries();
  const owner = await serverOsUser();
  if (owner !== undefined && !(await serverCanReach(owner, bin.postgres, 'x'))) {
    throw new Error(`PostgreSQL runs as the OS user ${owner.name}, which cannot run ${bin.postgres}: install PostgreSQL where that user can reach it (apt-get install postgresql)`);
  }
  return runPostgres(bin, owner, options);
}

async function findBinaries(): Promise<PostgresBinaries> {
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
