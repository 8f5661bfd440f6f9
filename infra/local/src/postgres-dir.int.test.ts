// Where `npm start` puts its PostgreSQL cluster (postgres-dir.ts): in place when the postgres OS
// user can get there, else in the external root behind a symbolic link; links elsewhere refused.
import { chmod, lstat, mkdir, mkdtemp, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localPostgresDir } from './postgres-dir.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(mode: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'seqline-pgdir-test-'));
  dirs.push(dir);
  await chmod(dir, mode);
  return dir;
}

const root = process.getuid?.() === 0;

describe('localPostgresDir', () => {
  it('keeps the cluster in <data dir>/postgres when the postgres OS user can enter the data directory', async () => {
    const dataDir = join(await tempDir(0o755), '.seqline');
    await mkdir(dataDir, { mode: 0o755 });
    expect(await localPostgresDir(dataDir, join(await tempDir(0o755), 'external'))).toEqual({ path: join(dataDir, 'postgres'), external: false });
  });

  it('as root, moves it out of a data directory closed to that user, behind a link it follows next time', async () => {
    const dataDir = join(await tempDir(0o700), '.seqline');
    await mkdir(dataDir);
    const externalRoot = join(await tempDir(0o755), 'external');
    const first = await localPostgresDir(dataDir, externalRoot);
    if (!root) {
      expect(first).toEqual({ path: join(dataDir, 'postgres'), external: false }); // the server runs as us
      return;
    }
    expect(first.external).toBe(true);
    expect(first.path).toMatch(new RegExp(`^${externalRoot}/postgres-[A-Za-z0-9]{6}$`));
    expect(await readlink(join(dataDir, 'postgres'))).toBe(first.path);
    expect(((await lstat(externalRoot)).mode & 0o777).toString(8)).toBe('755');
    expect(await localPostgresDir(dataDir, externalRoot)).toEqual(first);
  });

  it('refuses a link <data dir>/postgres to anything but a cluster in the external root', async () => {
    const dataDir = await tempDir(0o755);
    const externalRoot = join(await tempDir(0o755), 'external');
    await symlink('/etc', join(dataDir, 'postgres'));
    await expect(localPostgresDir(dataDir, externalRoot)).rejects.toThrow(`${join(dataDir, 'postgres')} is a symbolic link to /etc, not to a cluster in ${externalRoot}: remove it`);
  });
});
