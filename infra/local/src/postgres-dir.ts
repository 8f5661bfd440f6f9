// Where `npm start` keeps its PostgreSQL cluster.
//
// In <data dir>/postgres, beside the rest of the local data, whenever PostgreSQL's OS user can
// get there: always when we are not root (the server runs as us), and as root when the
// `postgres` user can enter the data directory. A checkout under /root or in a `mktemp -d`
// folder is closed to that user, and opening it (or anyone's home) is not ours to do: the
// cluster then lives in /var/lib/seqline/postgres-<random> (that directory root's, mode 0755;
// the cluster the postgres user's, mode 0700) and <data dir>/postgres is a symbolic link to it.
// Removing <data dir> therefore starts afresh, with new secrets, as everywhere else; the old
// cluster stays in /var/lib/seqline until removed by hand.
//
// A symbolic link <data dir>/postgres is followed only to such a cluster: the cluster's
// directory is handed to the postgres user (chown), which must never happen to whatever a link
// inside a checkout happens to name.
import { lstat, mkdtemp, readlink, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { serverCanReach, serverOsUser, trustedDirectory } from '@seqline/testkit';

export const EXTERNAL_POSTGRES_ROOT = '/var/lib/seqline';

export interface LocalPostgresDir {
  readonly path: string;
  /** True when the cluster lives outside the data directory (under EXTERNAL_POSTGRES_ROOT). */
  readonly external: boolean;
}

export async function localPostgresDir(dataDir: string, externalRoot: string = EXTERNAL_POSTGRES_ROOT): Promise<LocalPostgresDir> {
  const inPlace = join(dataDir, 'postgres');
  const existing = await lstat(inPlace).catch(() => undefined);
  if (existing?.isSymbolicLink() === true) return { path: await followLink(inPlace, externalRoot), external: true };
  const owner = await serverOsUser();
  if (owner === undefined || existing !== undefined || (await serverCanReach(owner, dataDir, 'x'))) return { path: inPlace, external: false };
  await trustedDirectory(externalRoot);
  const cluster = await mkdtemp(join(externalRoot, 'postgres-'));
  await symlink(cluster, inPlace);
  return { path: cluster, external: true };
}

async function followLink(link: string, externalRoot: string): Promise<string> {
  const target = resolve(dirname(link), await readlink(link));
  if (dirname(target) !== resolve(externalRoot) || !basename(target).startsWith('postgres-')) {
    throw new Error(`${link} is a symbolic link to ${target}, not to a cluster in ${externalRoot}: remove it`);
  }
  return target;
}
