// The embedded binaries from a directory the `postgres` OS user cannot enter (a checkout under
// /root or in a `mktemp -d` folder), and the cache of their verified copy (postgres-cache.ts).
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, serverOsUser } from './postgres-common.js';
import { cachedCopy, treeDigest } from './postgres-cache.js';
import { embeddedNativeDir, runnableEmbeddedBinaries, startEmbeddedPostgres } from './postgres-embedded.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A new directory; `mode` 0o700 is what `mktemp -d` makes, 0o755 one others may enter. */
async function tempDir(mode: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'seqline-cache-test-'));
  dirs.push(dir);
  await chmod(dir, mode);
  return dir;
}

const BKI = join('share', 'postgresql', 'postgres.bki');

/** A small stand-in for a native directory: an executable, a library and its symbolic link, a data file. */
async function fakeNativeDir(): Promise<string> {
  const dir = join(await tempDir(0o700), 'native');
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'lib'));
  await mkdir(join(dir, 'share', 'postgresql'), { recursive: true });
  await writeFile(join(dir, 'bin', 'initdb'), '#!/bin/sh\necho initdb\n', { mode: 0o700 });
  await writeFile(join(dir, 'bin', 'postgres'), '#!/bin/sh\necho postgres\n', { mode: 0o700 });
  await writeFile(join(dir, 'lib', 'libpq.so.5.15'), 'library', { mode: 0o600 });
  await symlink('libpq.so.5.15', join(dir, 'lib', 'libpq.so.5'));
  await writeFile(join(dir, BKI), 'catalog', { mode: 0o600 });
  return dir;
}

describe('embedded PostgreSQL from a directory closed to the postgres OS user', () => {
  it('starts from a copy in the cache (as root) and serves queries', async () => {
    const closed = await tempDir(0o700);
    const nativeDir = join(closed, 'native');
    await cp(embeddedNativeDir(), nativeDir, { recursive: true, verbatimSymlinks: true });
    const cacheRoot = join(await tempDir(0o755), 'cache');

    await using server = await startEmbeddedPostgres({ nativeDir, cacheRoots: [cacheRoot] });
    const sql = postgres(server.url, { max: 1 });
    expect(await sql`select current_user as "user", 40 + 2 as answer`).toEqual([{ user: 'postgres', answer: 42 }]);
    await sql.end();

    const digest = await treeDigest(nativeDir);
    // Not root: the server runs as us and uses the binaries where they are.
    expect(await readdir(cacheRoot).catch(() => [])).toEqual(isRoot() ? [`postgres-${digest.slice(0, 16)}`] : []);
    if (isRoot()) {
      const copy = join(cacheRoot, `postgres-${digest.slice(0, 16)}`);
      const info = await stat(join(copy, 'bin', 'postgres'));
      expect([info.uid, info.mode & 0o777]).toEqual([0, 0o755]); // root's, readable and runnable by all
      expect(await treeDigest(copy)).toBe(digest);
      // The server runs the copy.
      const pid = Number((await readFile(join(server.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline.split('\0')[0]).toBe(join(copy, 'bin', 'postgres'));
    }
  });
});

describe('runnableEmbeddedBinaries', () => {
  it('passes over a cache root it cannot use and takes the next', async () => {
    const source = await fakeNativeDir();
    const untrusted = await tempDir(0o777);
    const cacheRoot = join(await tempDir(0o755), 'cache');
    const owner = await serverOsUser();
    const bin = await runnableEmbeddedBinaries(source, owner, [untrusted, cacheRoot]);
    const copy = join(cacheRoot, `postgres-${(await treeDigest(source)).slice(0, 16)}`);
    // Not root: the binaries are used where they are.
    expect(bin).toEqual(owner === undefined ? { initdb: join(source, 'bin', 'initdb'), postgres: join(source, 'bin', 'postgres') } : { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') });
    expect(await readdir(untrusted)).toEqual([]);
  });

  it('fails with one line when no cache root can be used', async () => {
    const owner = await serverOsUser();
    const source = await fakeNativeDir();
    const untrusted = await tempDir(0o777);
    const error = await runnableEmbeddedBinaries(source, owner, [untrusted]).catch((e: unknown) => e);
    // Not root: nothing to copy, so nothing can fail.
    if (owner === undefined) expect(error).toEqual({ initdb: join(source, 'bin', 'initdb'), postgres: join(source, 'bin', 'postgres') });
    else expect(error).toBeInstanceOf(Error);
    if (owner !== undefined) expect((error as Error).message).toBe(
      `PostgreSQL runs as the OS user postgres, which cannot reach ${source}, and no copy of the binaries could be made for it (${untrusted} is not a directory owned by this user (uid 0) that only it may write: remove it and run this again)`,
    );
  });
});

describe('cachedCopy', () => {
  it('copies once into a world-readable directory of ours named by the content hash, and reuses it', async () => {
    const source = await fakeNativeDir();
    const cacheRoot = join(await tempDir(0o755), 'cache');
    const copy = await cachedCopy(source, cacheRoot);
    expect(copy).toBe(join(cacheRoot, `postgres-${(await treeDigest(source)).slice(0, 16)}`));
    expect(await readdir(cacheRoot)).toEqual([`postgres-${(await treeDigest(source)).slice(0, 16)}`]);
    const modes = async (...parts: string[]): Promise<number> => (await lstat(join(copy, ...parts))).mode & 0o777;
    expect([await modes(), await modes('bin'), await modes('bin', 'postgres'), await modes('lib', 'libpq.so.5.15'), await modes(BKI)]).toEqual([0o755, 0o755, 0o755, 0o644, 0o644]);
    expect((await lstat(join(copy, 'lib', 'libpq.so.5'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(copy, 'lib', 'libpq.so.5'), 'utf8')).toBe('library');

    const before = await stat(join(copy, BKI));
    expect(await cachedCopy(source, cacheRoot)).toBe(copy);
    expect((await stat(join(copy, BKI))).ino).toBe(before.ino); // reused, not copied again
  });

  it('replaces a copy that no longer matches its source', async () => {
    const source = await fakeNativeDir();
    const cacheRoot = join(await tempDir(0o755), 'cache');
    const copy = await cachedCopy(source, cacheRoot);
    await writeFile(join(copy, 'bin', 'postgres'), '#!/bin/sh\necho tampered\n');
    expect(await cachedCopy(source, cacheRoot)).toBe(copy);
    expect(await readFile(join(copy, 'bin', 'postgres'), 'utf8')).toBe('#!/bin/sh\necho postgres\n');
    expect(await readdir(cacheRoot)).toEqual([copy.slice(cacheRoot.length + 1)]); // no staging directory left
  });

  it('makes a different copy for different binaries', async () => {
    const source = await fakeNativeDir();
    const cacheRoot = join(await tempDir(0o755), 'cache');
    const first = await cachedCopy(source, cacheRoot);
    await chmod(join(source, BKI), 0o700); // the executable bit counts
    const second = await cachedCopy(source, cacheRoot);
    expect(second).not.toBe(first);
    expect((await readdir(cacheRoot)).sort()).toEqual([first, second].map((p) => p.slice(cacheRoot.length + 1)).sort());
  });

  it('refuses a cache root that others may write', async () => {
    const source = await fakeNativeDir();
    const cacheRoot = await tempDir(0o777);
    await expect(cachedCopy(source, cacheRoot)).rejects.toThrow(`${cacheRoot} is not a directory owned by this user (uid ${process.getuid?.()}) that only it may write: remove it and run this again`);
  });
});
