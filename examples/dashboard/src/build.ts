// Builds the dashboard into a folder a static server can serve: app.js (src/browser/app.ts and
// @seqline/client's browser entry, bundled by esbuild for browsers), index.html and styles.css.
// `npm run build -w @seqline/dashboard` writes examples/dashboard/dist/.
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const SOURCE = resolve(import.meta.dirname, 'browser');
export const DEFAULT_DIST = resolve(import.meta.dirname, '../dist');
export const DASHBOARD_FILES = ['index.html', 'app.js', 'app.js.map', 'styles.css'] as const;

/** Writes the dashboard into `outDir` (default the package's dist/); returns the folder. */
export async function buildDashboard(outDir: string = DEFAULT_DIST): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(SOURCE, 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // @seqline/client's TypeScript source (its package.json `exports`), not its published dist/.
    conditions: ['@seqline/source'],
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    logLevel: 'silent',
  });
  await Promise.all(['index.html', 'styles.css'].map((name) => copyFile(join(SOURCE, name), join(outDir, name))));
  return outDir;
}

if (process.argv[1] === import.meta.filename) await buildDashboard();
