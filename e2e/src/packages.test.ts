// The published packages' manifests (packages.ts): one version for all, nothing private or
// unpublished underneath, the fields a registry needs; and the rules themselves catch each
// kind of mistake.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED, publishingProblems, readManifest, ROOT, workspaces, type Manifest, type Workspace } from './packages.js';

const readme = (dir: string): boolean => existsSync(join(ROOT, dir, 'README.md'));

describe('the published packages', () => {
  it('follow the rules: one version, public, licensed, only dist/ shipped, nothing unpublished underneath', () => {
    expect(PUBLISHED.map((p) => p.name)).toEqual(expect.arrayContaining(['@seqline/client', '@seqline/cli']));
    expect(publishingProblems(readManifest('.'), workspaces(), PUBLISHED, readme)).toEqual([]);
  });

  it('each ship the repository LICENSE (Apache-2.0) as it is', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    for (const p of PUBLISHED) expect({ dir: p.dir, same: existsSync(join(ROOT, p.dir, 'LICENSE')) && readFileSync(join(ROOT, p.dir, 'LICENSE'), 'utf8') === license }).toEqual({ dir: p.dir, same: true });
  });
});

describe('the rules', () => {
  const good = (name: string, dir: string, extra: Partial<Manifest> = {}): Workspace => ({
    dir,
    manifest: {
      name,
      version: '1.2.3',
      license: 'Apache-2.0',
      type: 'module',
      engines: { node: '>=20' },
      repository: { type: 'git', url: 'git+https://example.invalid/seqline.git', directory: dir },
      sideEffects: false,
      files: ['dist/**/*.js', 'README.md', 'LICENSE'],
      exports: { '.': { '@seqline/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
      scripts: { build: 'build' },
      ...extra,
    },
  });
  const root: Manifest = { name: 'seqline', version: '1.2.3', private: true };
  const lib = good('@x/lib', 'libs/lib', { private: true });
  const published = [
    { name: '@x/a', dir: 'libs/a' },
    { name: '@x/b', dir: 'libs/b' },
  ];
  const check = (a: Partial<Manifest>, b: Partial<Manifest> = {}) => publishingProblems(root, [lib, good('@x/a', 'libs/a', a), good('@x/b', 'libs/b', b)], published, () => true);

  it('pass packages that depend on each other at the shared version and on the registry', () => {
    expect(check({ dependencies: { '@x/b': '1.2.3', ws: '~8.18.3' } })).toEqual([]);
  });

  it('catch versions that moved apart, from the root or from each other', () => {
    expect(check({ version: '1.2.4' })).toEqual(["@x/a: version 1.2.4 is not the repository's 1.2.3"]);
    expect(check({ dependencies: { '@x/b': '*' } })).toEqual(['@x/a: dependencies has @x/b@*, not the shared version 1.2.3']);
  });

  it('catch a dependency on a private or unpublished workspace package', () => {
    expect(check({ dependencies: { '@x/lib': '*' } })).toEqual(['@x/a: dependencies has @x/lib, which is not published (bundle it instead)']);
    expect(check({}, { peerDependencies: { '@x/lib': '1.2.3' } })).toEqual(['@x/b: peerDependencies has @x/lib, which is not published (bundle it instead)']);
  });

  it('catch a private, unlicensed or source-shipping package, and a public one missing from the list', () => {
    expect(check({ private: true, license: 'MIT' })).toEqual(['@x/a: is private', '@x/a: license MIT is not Apache-2.0']);
    expect(check({ exports: { '.': './src/index.ts' }, files: ['src'] })).toEqual([
      '@x/a: files is not a list of dist/, README.md and LICENSE',
      '@x/a: exports or bin point at ./src/index.ts, outside dist/',
    ]);
    expect(check({ bin: { a: './bin/a.mjs' }, exports: undefined })).toEqual(['@x/a: exports or bin point at ./bin/a.mjs, outside dist/']);
    const stray = good('@x/c', 'libs/c');
    expect(publishingProblems(root, [lib, good('@x/a', 'libs/a'), good('@x/b', 'libs/b'), stray], published, () => true)).toEqual([
      '@x/c is not private but not in infra/packages/published.json',
    ]);
  });
});
