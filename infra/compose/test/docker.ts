// Docker plumbing of the compose test (test-main.ts): the engine (started when it is installed
// but not running), the compose CLI (the `docker compose` plugin or
// Debian's docker-compose v1), and the Seqline images built from a staging build context.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const IMAGE = 'seqline/seqline:dev';
export const LOCAL_NODE_IMAGE = 'seqline-local/node:20';

/** Runs a command, inheriting stdout/stderr unless `quiet`; throws on a non-zero exit. Returns stdout when quiet. */
export async function run(cmd: string, args: readonly string[], options: { quiet?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', options.quiet ? 'pipe' : 'inherit', options.quiet ? 'pipe' : 'inherit'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` exited with ${code}${err === '' ? '' : `:\n${err.trim().split('\n').slice(-20).join('\n')}`}`);
  return out;
}

const succeeds = (cmd: string, args: readonly string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const onPath = (bin: string): boolean => succeeds('sh', ['-c', `command -v ${bin}`]);

/**
 * Makes sure a Docker engine answers; starts Debian's dockerd when it is installed and we are
 * root, with the storage driver dockerd picks: overlay2 where the kernel has overlayfs, vfs
 * (which copies every layer whole, several times slower to build on) where it has not.
 */
export async function ensureEngine(deadlineMs = 60_000): Promise<string> {
  if (succeeds('docker', ['info'])) return 'running';
  if (!onPath('dockerd')) throw new Error('no Docker engine answers and dockerd is not installed: apt-get install docker.io docker-compose debootstrap (or start your engine)');
  if (process.getuid?.() !== 0) throw new Error('no Docker engine answers: start dockerd (as root: dockerd &)');
  const log = openSync('/tmp/seqline-dockerd.log', 'a');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (succeeds('docker', ['info'])) return `started (dockerd, storage driver ${spawnSync('docker', ['info', '-f', '{{.Driver}}'], { encoding: 'utf8' }).stdout.trim()}, log /tmp/seqline-dockerd.log)`;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('dockerd did not answer within 60 s; see /tmp/seqline-dockerd.log');
}

export interface Compose {
  /** The command and its leading arguments, e.g. ['docker', 'compose'] or ['docker-compose']. */
  readonly argv: readonly string[];
  /** The plugin (v2) waits for health itself with `up --wait`. */
  readonly canWait: boolean;
}

export function findCompose(): Compose {
  if (succeeds('docker', ['compose', 'version'])) return { argv: ['docker', 'compose'], canWait: true };
  if (succeeds('docker-compose', ['version'])) return { argv: ['docker-compose'], canWait: false };
  throw new Error('neither `docker compose` nor `docker-compose` is installed: apt-get install docker-compose');
}

/**
 * A build context for the Seqline image that carries this checkout's node_modules: containers
 * here reach no npm registry, so the Dockerfile's `npm install` must find everything installed
 * (it then changes nothing). Hard links (`cp -al`), so it costs no copy; files in it are only
 * unlinked, never written. A copy where /var/tmp is another file system. The caller removes it.
 */
export async function stagingContext(root: string): Promise<string> {
  const dir = join(mkdtempSync('/var/tmp/seqline-compose-'), 'context');
  await run('cp', ['-al', root, dir], { quiet: true }).catch(async () => {
    rmSync(dir, { recursive: true, force: true });
    await run('cp', ['-a', root, dir]);
  });
  for (const name of ['.git', '.dockerignore']) rmSync(join(dir, name), { recursive: true, force: true });
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((line) => line.trim() !== '**/node_modules');
  writeFileSync(join(dir, '.dockerignore'), ignore.join('\n'));
  return dir;
}

/** Builds the Seqline image (IMAGE) on the local Node base. */
export async function buildImage(context: string): Promise<void> {
  const env = succeeds('docker', ['buildx', 'version']) ? process.env : { ...process.env, DOCKER_BUILDKIT: '0' };
  await run('docker', ['build', '-q', '--build-arg', `NODE_IMAGE=${LOCAL_NODE_IMAGE}`, '--build-arg', 'NPM_INSTALL_FLAGS=--offline', '-t', IMAGE, context], { quiet: true, env });
}

export function imageSize(name: string): string {
  const out = spawnSync('docker', ['image', 'inspect', '-f', '{{.Size}}', name], { encoding: 'utf8' }).stdout.trim();
  return `${(Number(out) / 1e6).toFixed(0)} MB`;
}

/** Removes the staging context made by stagingContext. */
export function removeStaging(context: string): void {
  rmSync(join(context, '..'), { recursive: true, force: true });
}
