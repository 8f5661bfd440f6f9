// The image's programs as self-contained bundles (the Dockerfile's build stage runs this after
// `npm install`): each service's src/main.ts with the repository's own packages (from their
// TypeScript source) and its npm packages inlined, next to the health check, the secrets init
// and the dashboard entry, and the dashboard page built for browsers (buildDashboard). Nothing
// else is built first: `npm run build`'s outputs (the services' dist/main.js with npm packages
// external, the SDK's type declarations) are for the repository and for npm, not the image. The
// runtime stage then needs no node_modules at all, only OUT_DIR:
//   seqline.js (the entry: runs the program SEQLINE_SERVICE names) sequencer.js storage.js
//   write.js gateway.js dashboard.js secrets.js healthcheck.js
//   libpg-query.wasm (PostgreSQL's parser, loaded from beside the bundle) and dashboard/ (the page).
// Usage: node --conditions=@seqline/source --import tsx infra/compose/src/bundle.ts OUT_DIR
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { buildDashboard } from '@seqline/dashboard';
import { build } from 'esbuild';
import { SERVICES } from './programs.js';

const root = resolve(import.meta.dirname, '../../..');
const TOOLS = ['seqline', 'healthcheck', 'secrets', 'dashboard'] as const;

/** ESM bundles of CommonJS packages (grpc-js, libpg-query's loader) still call require and read __dirname. */
const BANNER = [
  'import { createRequire as __seqlineRequire } from "node:module";',
  'import { fileURLToPath as __seqlinePath } from "node:url";',
  'import { dirname as __seqlineDir } from "node:path";',
  'const require = __seqlineRequire(import.meta.url);',
  'const __filename = __seqlinePath(import.meta.url);',
  'const __dirname = __seqlineDir(__filename);',
].join(' ');

const outDir = resolve(process.argv[2] ?? 'dist-image');
await mkdir(outDir, { recursive: true });
const entries: [string, string][] = [
  ...SERVICES.map((s): [string, string] => [s, join(root, 'services', s, 'src/main.ts')]),
  ...TOOLS.map((t): [string, string] => [t, join(import.meta.dirname, `${t}-main.ts`)]),
];
for (const [name, entry] of entries) {
  await build({
    entryPoints: [entry],
    outfile: join(outDir, `${name}.js`),
    bundle: true,
    platform: 'node',
    // @seqline/* from their TypeScript source (their package.json `exports`), not a published dist/.
    conditions: ['@seqline/source'],
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    legalComments: 'none',
    logLevel: 'warning',
  });
  console.log(`${name}.js ${((await stat(join(outDir, `${name}.js`))).size / 1e6).toFixed(1)} MB`);
}
const sqlPackage = createRequire(join(root, 'libs/sql/package.json')).resolve('libpg-query/package.json');
await copyFile(join(dirname(sqlPackage), 'wasm/libpg-query.wasm'), join(outDir, 'libpg-query.wasm'));
await buildDashboard(join(outDir, 'dashboard'));
console.log('dashboard/ (the page)');
