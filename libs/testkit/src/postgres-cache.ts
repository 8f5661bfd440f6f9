// A copy of the embedded PostgreSQL binaries that the `postgres` OS user can run.
//
// As root, PostgreSQL runs as the `postgres` OS user, and that user cannot run binaries inside a
// checkout it cannot enter (a clone under /root or in a `mktemp -d` folder). Opening the
// checkout or the user's home to it is not ours to do, so the package's native directory
// (bin/, lib/, share/; the binaries find lib/ and share/ relative to themselves) is copied once
// into a root-owned, world-readable cache: <cache root>/postgres-<sha256 of the tree, 16 hex>,
// the cache root being /var/cache/seqline, or <os.tmpdir()>/seqline-cache-<uid> where /var/cache
// cannot be written (a read-only /var).
//
// Trust: the cache root must be a real directory owned by us (root, when a copy is needed) and
// writable by nobody else, or we refuse it. A copy is made in a temporary directory beside its final name, hashed, and
// renamed into place only when its digest matches the source's; a copy whose digest no longer
// matches (edited, damaged) is replaced. Two processes filling the cache at once both copy and
// one rename wins; the other's copy is removed.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, readdir, readFile, readlink, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Cache roots in order of preference. */
export const DEFAULT_CACHE_ROOTS: readonly string[] = ['/var/cache/seqline', join(tmpdir(), `seqline-cache-${process.getuid?.() ?? 'user'}`)];

/**
 * sha256 over a directory tree: every entry's relative path and kind, a file's executable bit
 * and content, a symbolic link's target; entries in byte order of their names.
 */
export async function treeDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    for (const name of names) {
      const path = join(dir, rel, name);
      const entry = join(rel, name);
      const info = await lstat(path);
      if (info.isSymbolicLink()) {
        hash.update(`l ${entry} ${await readlink(path)}\0`);
      } else if (info.isDirectory()) {
        hash.update(`d ${entry}\0`);
        await walk(entry);
      } else if (info.isFile()) {
        hash.update(`f ${entry} ${(info.mode & 0o111) === 0 ? '-' : 'x'} ${info.size}\0`);
        hash.update(await readFile(path));
      } else {
        throw new Error(`${path}: not a file, directory or symbolic link`);
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

/** The cached copy of `sourceDir` (made now if missing or not identical); its path. */
export async function cachedCopy(sourceDir: string, cacheRoot: string): Promise<string> {
  await trustedDirectory(cacheRoot);
  const digest = await treeDigest(sourceDir);
  const target = join(cacheRoot, `postgres-${digest.slice(0, 16)}`);
  if (await isCopyOf(target, digest)) return target;
  await rm(target, { recursive: true, force: true });
  const staging = join(cacheRoot, `.staging-${randomBytes(6).toString('hex')}`);
  try {
    await cp(sourceDir, staging, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await worldReadable(staging);
    const copied = await treeDigest(staging);
    if (copied !== digest) throw new Error(`the copy of ${sourceDir} in ${staging} differs from it (sha256 ${copied} ≠ ${digest})`);
    await rename(staging, target).catch(async (error: unknown) => {
      // Another process renamed its own copy into place first: keep that one if it is whole.
      if (!(await isCopyOf(target, digest))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}

async function isCopyOf(dir: string, digest: string): Promise<boolean> {
  try {
    await trustedDirectory(dir);
    return (await treeDigest(dir)) === digest;
  } catch {
    return false;
  }
}

/** Creates `dir` (mode 0755) if missing; throws unless it is a real directory owned by us that only we may write. */
export async function trustedDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a directory owned by this user (uid ${process.getuid?.()}) that only it may write: remove it and run this again`);
  }
}

/** Directories 0755, files 0755 or 0644 (by their executable bit): readable by the server's OS user, writable by us only. */
async function worldReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await worldReadable(path);
    else if (entry.isFile()) await chmod(path, ((await lstat(path)).mode & 0o111) === 0 ? 0o644 : 0o755);
  }
}
