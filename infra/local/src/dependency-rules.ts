// The direction of dependencies between the workspace packages (docs/architecture.md §1):
//   - a service (services/*) never depends on or imports another service: what two services
//     share lives in a library (the sequencer's client is libs/sequencer-client);
//   - a library (libs/*) depends only on libraries, never on a service or an application;
//   - the wire contract (libs/protocol) does not reach the SQL parser (libs/sql), directly or
//     through other packages: the data model both use is libs/domain.
// Applications (e2e, bench, infra, examples) may depend on anything. A dependency counts if it is
// declared in package.json or imported by any source file (a package name, or a relative path
// into another package's folder).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface WorkspacePackage {
  /** Folder relative to the repository root, with `/`: `services/storage`. */
  readonly dir: string;
  readonly name: string;
  /** Names declared in dependencies, devDependencies, peerDependencies, optionalDependencies. */
  readonly declared: readonly string[];
  /** Every import: the file (relative to the package) and the workspace package it reaches. */
  readonly imports: readonly { readonly file: string; readonly target: string }[];
}

/** Pairs of package folders where the first must not reach the second, even transitively. */
export const FORBIDDEN_PATHS: readonly (readonly [string, string])[] = [['libs/protocol', 'libs/sql']];

type Tier = 'service' | 'lib' | 'app';

function tier(dir: string): Tier {
  if (dir.startsWith('services/')) return 'service';
  if (dir.startsWith('libs/')) return 'lib';
  return 'app';
}

/** One line per broken rule; empty when every dependency points the right way. */
export function dependencyViolations(packages: readonly WorkspacePackage[]): string[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const byDir = new Map(packages.map((p) => [p.dir, p]));
  const out: string[] = [];
  for (const p of packages) {
    const edges = [
      ...p.declared.map((name) => ({ target: byName.get(name), via: 'package.json' })),
      ...p.imports.map((i) => ({ target: byDir.get(i.target), via: i.file })),
    ];
    for (const { target, via } of edges) {
      if (target === undefined || target === p) continue;
      const problem = edgeProblem(tier(p.dir), tier(target.dir));
      if (problem !== undefined) out.push(`${p.dir} → ${target.dir} (${via}): ${problem}`);
    }
  }
  for (const [from, to] of FORBIDDEN_PATHS) {
    const path = findPath(byDir.get(from), to, byName, byDir);
    if (path !== undefined) out.push(`${from} reaches ${to}: ${path.join(' → ')}`);
  }
  return out;
}

function edgeProblem(from: Tier, to: Tier): string | undefined {
  if (from === 'service' && to === 'service') return 'a service must not depend on another service';
  if (from === 'lib' && to !== 'lib') return `a library must not depend on ${to === 'service' ? 'a service' : 'an application'}`;
  return undefined;
}

/** A chain of package folders from `start` to `goal` over declared and imported dependencies. */
function findPath(start: WorkspacePackage | undefined, goal: string, byName: Map<string, WorkspacePackage>, byDir: Map<string, WorkspacePackage>): string[] | undefined {
  if (start === undefined) return undefined;
  const previous = new Map<string, string | undefined>([[start.dir, undefined]]);
  const queue = [start];
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    if (p.dir === goal) {
      const path: string[] = [];
      for (let d: string | undefined = goal; d !== undefined; d = previous.get(d)) path.unshift(d);
      return path;
    }
    const next = [...p.declared.map((n) => byName.get(n)), ...p.imports.map((i) => byDir.get(i.target))];
    for (const q of next) {
      if (q === undefined || previous.has(q.dir)) continue;
      previous.set(q.dir, p.dir);
      queue.push(q);
    }
  }
  return undefined;
}

const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
const SKIP = new Set(['node_modules', 'dist', '.seqline']);
/** `from '…'`, `import '…'`, `import('…')`, `require('…')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"\n]+)['"]/g;

/** The repository's workspace packages, as the root package.json lists them (`dir/*` or `dir`). */
export function readWorkspace(root: string): WorkspacePackage[] {
  const globs = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  const dirs = globs.flatMap((g) =>
    g.endsWith('/*') ? (existsSync(join(root, g.slice(0, -2))) ? readdirSync(join(root, g.slice(0, -2))).map((d) => `${g.slice(0, -2)}/${d}`) : []) : [g],
  );
  const manifests = new Map(
    dirs.filter((d) => existsSync(join(root, d, 'package.json'))).map((d) => [d, JSON.parse(readFileSync(join(root, d, 'package.json'), 'utf8')) as Record<string, unknown>]),
  );
  const names = new Map([...manifests].map(([d, pkg]) => [String(pkg['name']), d]));
  const sections = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
  return [...manifests].map(([dir, pkg]) => ({
    dir,
    name: String(pkg['name']),
    declared: sections.flatMap((s) => Object.keys((pkg[s] as Record<string, string> | undefined) ?? {})),
    imports: importsOf(root, dir, names),
  }));
}

function importsOf(root: string, dir: string, names: ReadonlyMap<string, string>): WorkspacePackage['imports'] {
  const packageDirs = [...names.values()];
  const out: { file: string; target: string }[] = [];
  for (const file of sourceFiles(join(root, dir))) {
    const text = readFileSync(file, 'utf8');
    for (const [, specifier = ''] of text.matchAll(SPECIFIER)) {
      const target = specifier.startsWith('.') ? containing(relative(root, resolve(dirname(file), specifier)), packageDirs) : names.get(packageName(specifier));
      if (target !== undefined) out.push({ file: relative(join(root, dir), file).split(sep).join('/'), target });
    }
  }
  return out;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function containing(path: string, packageDirs: readonly string[]): string | undefined {
  const p = path.split(sep).join('/');
  return packageDirs.find((d) => p === d || p.startsWith(`${d}/`));
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (SOURCE.test(entry.name)) yield path;
  }
}
