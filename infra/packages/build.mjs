#!/usr/bin/env node
// Builds a publishable package into its dist/, run from the package's folder by its `build` script:
//
//   node ../../infra/packages/build.mjs <entry.ts>… [--types] [--browser <name>]… [--shebang]
//
// - esbuild bundles each entry into dist/<name>.js: ESM, ES2022, code shared by entries in
//   dist/chunks/ (one copy of each class, so `instanceof` holds across entries). The package's
//   own dependencies and Node's built-ins stay imports; everything else, the private workspace
//   libraries such as @seqline/seq, is bundled in, so the package depends on nothing unpublished.
// - --types: tsc writes the declarations; those of bundled workspace libraries go to
//   dist/<lib>/ and the imports of them are rewritten to relative ones. A declaration that still
//   imports a package the manifest does not depend on fails the build.
// - --browser <name>: dist/<name>.js must bundle for browsers with nothing external (no Node
//   built-ins, no `ws`), or the build fails.
// - --shebang: each entry starts with `#!/usr/bin/env node` (a `bin`).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(join(root, 'package.json'));
const { build } = require('esbuild');

/** The export condition that points @seqline/* at their TypeScript source in the repository. */
const SOURCE_CONDITION = '@seqline/source';
/** Files of an earlier run that are not the build's (vitest's report) survive a rebuild. */
const KEEP = new Set(['test-report.json']);

const { values: flags, positionals: entries } = parseArgs({
  allowPositionals: true,
  options: { types: { type: 'boolean', default: false }, browser: { type: 'string', multiple: true, default: [] }, shebang: { type: 'boolean', default: false } },
});
const pkgDir = process.cwd();
const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const dist = join(pkgDir, 'dist');
const external = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
const started = Date.now();

if (entries.length === 0) throw new Error('usage: build.mjs <entry.ts>… [--types] [--browser <name>]… [--shebang]');
clean();
const bundled = await bundle();
for (const name of flags.browser) await checkBrowser(name);
if (flags.types) declarations(bundled);
process.stdout.write(`${manifest.name}: built dist/ in ${Date.now() - started} ms\n`);

function clean() {
  if (!existsSync(dist)) return;
  for (const name of readdirSync(dist)) if (!KEEP.has(name)) rmSync(join(dist, name), { recursive: true, force: true });
}

/** Bundles the entries; returns the workspace folders (other than this one) whose code went in. */
async function bundle() {
  const { metafile } = await build({
    entryPoints: entries.map((e) => join(pkgDir, e)),
    outdir: dist,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: [SOURCE_CONDITION],
    external: [...external, ...external.map((d) => `${d}/*`), 'node:*'],
    ...(flags.shebang ? { banner: { js: '#!/usr/bin/env node' } } : {}),
    logLevel: 'warning',
    metafile: true,
  });
  const self = relative(root, pkgDir);
  const dirs = new Set(Object.keys(metafile.inputs).map((input) => relative(root, resolve(input)).split(sep).slice(0, 2).join(sep)));
  return workspaceDirs().filter((dir) => dirs.has(dir) && dir !== self);
}

/** Bundles dist/<name>.js as a browser app would, with no externals, and fails on any Node-only import. */
async function checkBrowser(name) {
  const result = await build({ entryPoints: [join(dist, `${name}.js`)], bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent' }).catch((err) => err);
  if (result instanceof Error) throw new Error(`dist/${name}.js does not bundle for browsers without externals:\n${(result.errors ?? [result]).map((e) => e.text ?? e.message).join('\n')}`);
}

/**
 * tsc's declarations of the entries, laid out next to the bundles. The bundled libraries' entries
 * are root files too: tsc emits nothing for a file it reached through node_modules.
 */
function declarations(bundled) {
  const staging = join(dist, '.types');
  const config = join(dist, 'tsconfig.types.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: '../tsconfig.json',
      files: [...bundled.map((dir) => relative(dist, join(root, dir, 'src/index.ts'))), ...entries.map((e) => join('..', e))],
      include: [],
      compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, declarationDir: './.types', rootDir: relative(dist, root) },
    }),
  );
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { stdio: 'inherit' });
  // The package's own declarations go to dist/, each bundled workspace library's to dist/<lib>/;
  // declarations of the package's dependencies (tsc followed them into their source) are dropped.
  const moved = new Map([[join(relative(root, pkgDir), 'src'), dist]]);
  const rewrites = new Map();
  for (const dir of bundled) {
    const lib = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    moved.set(join(dir, 'src'), join(dist, basename(dir)));
    rewrites.set(lib.name, join(dist, basename(dir), 'index.js'));
  }
  for (const [from, to] of moved) cpSync(join(staging, from), to, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  rmSync(config);
  for (const file of walk(dist).filter((f) => f.endsWith('.d.ts'))) rewriteImports(file, rewrites);
}

function rewriteImports(file, rewrites) {
  const text = readFileSync(file, 'utf8').replace(/(from |import\()'([^']+)'/g, (all, head, spec) => {
    const target = rewrites.get(spec);
    if (target !== undefined) {
      const rel = relative(dirname(file), target).split(sep).join('/');
      return `${head}'${rel.startsWith('.') ? rel : `./${rel}`}'`;
    }
    const bare = !spec.startsWith('.') && !spec.startsWith('node:');
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (bare && !external.includes(pkg)) throw new Error(`${relative(pkgDir, file)} imports ${spec}, which ${manifest.name} does not depend on`);
    return all;
  });
  writeFileSync(file, text);
}

function workspaceDirs() {
  return ['libs', 'services', 'examples'].flatMap((group) =>
    existsSync(join(root, group)) ? readdirSync(join(root, group)).map((d) => join(group, d)).filter((d) => existsSync(join(root, d, 'package.json'))) : [],
  );
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
