// The documentation in the repository (README.md and docs/): every relative link leads to a file
// of the repository, nothing points outside it, every `docs/<file>.md §N` that a source comment
// cites is a section of that file, every setting the protocol and the guides name exists, and
// the API reference (typedoc over the published packages) builds without a warning.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.nx', '.seqline', 'api', 'gen', 'test-output']);

function walk(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path, keep));
    else if (keep(entry.name)) out.push(path);
  }
  return out;
}

const DOCS = [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs'), (f) => f.endsWith('.md'))];
const read = (file: string): string => readFileSync(file, 'utf8');
const rel = (file: string): string => relative(ROOT, file);

/** Markdown link targets `](target)` outside code spans and fenced blocks. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe('the documentation', () => {
  it('finds the documents', () => {
    for (const name of ['docs/protocol.md', 'docs/architecture.md', 'docs/operations.md', 'docs/quickstart.md', 'docs/guides/offline-first.md', 'docs/guides/auth-and-roles.md']) {
      expect(DOCS.map(rel), name).toContain(name);
    }
  });

  it.each(DOCS.map((f) => [rel(f), f]))('%s: every relative link leads to a file of the repository', (_name, file) => {
    const broken: string[] = [];
    for (const target of links(read(file))) {
      if (/^(https?:|mailto:)/.test(target) || target.startsWith('#')) continue;
      const path = resolve(dirname(file), decodeURIComponent(target.split('#')[0]!));
      const inside = !relative(ROOT, path).startsWith('..');
      if (!inside || !existsSync(path)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it.each(DOCS.map((f) => [rel(f), f]))('%s: names no place outside the repository', (_name, file) => {
    const outside = read(file).match(/\.\.\/shared\b|(?:^|[\s(`'"])\/(?:work|root|home|tmp|Users)\/[^\s)`'"]*|file:\/\/\S+/gm) ?? [];
    expect(outside).toEqual([]);
  });

  it('cites only sections that exist', () => {
    const sections = new Map<string, Set<string>>();
    for (const doc of ['protocol', 'architecture']) {
      const headings = read(join(ROOT, 'docs', `${doc}.md`)).match(/^## \d+\./gm) ?? [];
      sections.set(doc, new Set(headings.map((h) => h.slice(3, -1))));
    }
    const sources = walk(ROOT, (f) => /\.(ts|tsx|mjs|js|md|proto)$/.test(f));
    const dangling: string[] = [];
    for (const file of sources) {
      for (const m of read(file).matchAll(/docs\/(protocol|architecture)\.md §(\d+)/g)) {
        if (!sections.get(m[1]!)!.has(m[2]!)) dangling.push(`${rel(file)}: ${m[0]}`);
      }
    }
    expect(sources.length).toBeGreaterThan(100);
    expect(dangling).toEqual([]);
  });

  it('has no source file that points at documents outside the repository', () => {
    const sources = walk(ROOT, (f) => /\.(ts|tsx|mjs|js|proto|json|ya?ml)$/.test(f));
    const outside = sources.filter((f) => /\.\.\/shared\/|\/work\/shared\b/.test(read(f))).map(rel);
    expect(outside).toEqual([]);
  });

  it('names only settings the README documents (protocol, quick start, guides)', () => {
    const readme = read(join(ROOT, 'README.md'));
    const files = [join(ROOT, 'docs/protocol.md'), join(ROOT, 'docs/quickstart.md'), ...walk(join(ROOT, 'docs/guides'), (f) => f.endsWith('.md'))];
    const unknown = files.flatMap((f) => [...new Set(read(f).match(/SEQLINE_[A-Z0-9_]+/g) ?? [])].filter((v) => !readme.includes(`\`${v}\``)).map((v) => `${rel(f)}: ${v}`));
    expect(unknown).toEqual([]);
  });

  // typedoc takes a few seconds (it type-checks the packages), hence the timeout.
  it('builds the API reference without a warning', { timeout: 180_000 }, async () => {
    const bin = join(ROOT, 'node_modules/typedoc/bin/typedoc');
    expect(statSync(bin).isFile()).toBe(true);
    const run = await promisify(execFile)(process.execPath, [bin, '--emit', 'none'], { cwd: ROOT }).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    expect(run.output).toContain('Converting project at ./libs/client');
    expect(run.output).not.toMatch(/\[(warning|error)\]/);
    expect(run.code).toBe(0);
  });
});
