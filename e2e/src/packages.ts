// The packages Seqline publishes (infra/packages/published.json, one line each) and the rules
// their manifests follow: one version for all, nothing unpublished underneath, and what a
// registry page needs. packages.test.ts checks the repository against these rules;
// packages.int.test.ts builds, packs and installs them outside the repository.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Published {
  readonly name: string;
  /** Its folder, relative to the repository root. */
  readonly dir: string;
}

export const PUBLISHED: readonly Published[] = JSON.parse(readFileSync(join(ROOT, 'infra/packages/published.json'), 'utf8')) as Published[];

export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly type?: string;
  readonly engines?: Readonly<Record<string, string>>;
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string };
  readonly sideEffects?: boolean | readonly string[];
  readonly files?: readonly string[];
  readonly exports?: unknown;
  readonly bin?: Readonly<Record<string, string>>;
  readonly scripts?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
}

/** A workspace: its folder (relative to the root) and manifest. */
export interface Workspace {
  readonly dir: string;
  readonly manifest: Manifest;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
}

/** Every workspace of the root package.json (its globs are `dir/*` or a folder). */
export function workspaces(): Workspace[] {
  const globs = (readManifest('.') as Manifest & { workspaces: string[] }).workspaces;
  const dirs = globs.flatMap((g) => (g.endsWith('/*') ? readdirSync(join(ROOT, g.slice(0, -2))).map((d) => `${g.slice(0, -2)}/${d}`) : [g]));
  return dirs.filter((d) => existsSync(join(ROOT, d, 'package.json'))).map((dir) => ({ dir, manifest: readManifest(dir) }));
}

/** The export condition that points @seqline/* at their source inside the repository. */
export const SOURCE_CONDITION = '@seqline/source';

/** Every file an `exports` map or `bin` points at, except through the source condition. */
export function publishedTargets(manifest: Manifest): string[] {
  const out: string[] = [];
  const visit = (value: unknown, condition: string | undefined): void => {
    if (typeof value === 'string') {
      if (condition !== SOURCE_CONDITION) out.push(value);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) visit(inner, key.startsWith('.') ? undefined : key);
    }
  };
  visit(manifest.exports, undefined);
  visit(manifest.bin, undefined);
  return out;
}

/**
 * What is wrong with the published packages, as sentences (empty when nothing): each one public,
 * at the root's version, licensed, described for a registry, shipping only dist/, and depending
 * only on third-party packages or on other published ones at exactly that version.
 */
export function publishingProblems(root: Manifest, all: readonly Workspace[], published: readonly Published[], readme: (dir: string) => boolean): string[] {
  const problems: string[] = [];
  const byName = new Map(all.map((w) => [w.manifest.name, w]));
  const names = new Set(published.map((p) => p.name));
  for (const w of all) {
    if (w.manifest.private !== true && !names.has(w.manifest.name)) problems.push(`${w.manifest.name} is not private but not in infra/packages/published.json`);
  }
  for (const p of published) {
    const w = byName.get(p.name);
    if (w === undefined || w.dir !== p.dir) {
      problems.push(`${p.name}: no workspace at ${p.dir}`);
      continue;
    }
    const m = w.manifest;
    const says = (ok: boolean, problem: string): void => void (ok || problems.push(`${p.name}: ${problem}`));
    says(m.private !== true, 'is private');
    says(m.version === root.version, `version ${m.version} is not the repository's ${root.version}`);
    says(m.license === 'Apache-2.0', `license ${String(m.license)} is not Apache-2.0`);
    says(m.type === 'module', 'is not ESM ("type": "module")');
    says(m.engines?.['node'] !== undefined, 'has no engines.node');
    says(m.repository?.directory === p.dir && m.repository.url !== undefined, `repository does not name ${p.dir}`);
    says(m.sideEffects !== undefined, 'does not say whether it has side effects (sideEffects)');
    says(m.files !== undefined && m.files.length > 0 && m.files.every((f) => f.startsWith('dist/') || f === 'README.md' || f === 'LICENSE'), 'files is not a list of dist/, README.md and LICENSE');
    says(m.scripts?.['build'] !== undefined, 'has no build script');
    says(readme(p.dir), 'has no README.md');
    const targets = publishedTargets(m);
    says(targets.length > 0, 'exports and bin point at nothing');
    for (const t of targets) says(t.startsWith('./dist/') || t === './package.json', `exports or bin point at ${t}, outside dist/`);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
      for (const [dep, range] of Object.entries(m[field] ?? {})) {
        const target = byName.get(dep);
        if (target === undefined) continue; // a third-party package from the registry
        if (!names.has(dep)) problems.push(`${p.name}: ${field} has ${dep}, which is not published (bundle it instead)`);
        else if (range !== root.version) problems.push(`${p.name}: ${field} has ${dep}@${range}, not the shared version ${root.version}`);
      }
    }
  }
  return problems;
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (no shell), collecting its output. */
export function run(cmd: string, args: readonly string[], options: { readonly cwd: string; readonly env?: Readonly<Record<string, string | undefined>> }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Like run, failing with the command's output unless it exits 0. */
export async function mustRun(cmd: string, args: readonly string[], options: { readonly cwd: string; readonly env?: Readonly<Record<string, string | undefined>> }): Promise<Run> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${options.cwd}) exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** `npm run build` in each published package, in order (the CLI bundles against the client's dist/). */
export async function buildPublished(): Promise<void> {
  for (const p of PUBLISHED) await mustRun('npm', ['run', 'build'], { cwd: join(ROOT, p.dir) });
}
