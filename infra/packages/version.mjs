#!/usr/bin/env node
// Moves every published package (published.json) to one version, with the repository's root
// package.json, and their dependencies on each other to that exact version:
//
//   node infra/packages/version.mjs 0.2.0
//
// e2e/src/packages.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const version = process.argv[2];
if (version === undefined || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  process.stderr.write('usage: node infra/packages/version.mjs <major.minor.patch[-pre]>\n');
  process.exit(2);
}
const published = JSON.parse(readFileSync(join(import.meta.dirname, 'published.json'), 'utf8'));
const names = new Set(published.map((p) => p.name));
for (const dir of ['.', ...published.map((p) => p.dir)]) {
  const file = join(root, dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.version = version;
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) if (names.has(name)) manifest[field][name] = version;
  }
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`${manifest.name}: ${version}\n`);
}
process.stdout.write('run `npm install` to update package-lock.json\n');
