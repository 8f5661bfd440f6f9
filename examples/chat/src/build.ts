// Builds the chat into a folder a static server can serve: app.js (src/browser/app.tsx with
// React, @seqline/react and @seqline/client's browser entry, bundled by esbuild for browsers),
// index.html and styles.css. `npm run build -w @seqline/chat` writes examples/chat/dist/.
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const SOURCE = resolve(import.meta.dirname, 'browser');
export const DEFAULT_CHAT_DIST = resolve(import.meta.dirname, '../dist');

/** Writes the chat into `outDir` (default the package's dist/); returns the folder. */
export async function buildChat(outDir: string = DEFAULT_CHAT_DIST): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(SOURCE, 'app.tsx')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // @seqline/react's and @seqline/client's TypeScript source (their package.json `exports`), not
    // their published dist/: the example needs no build of them first.
    conditions: ['@seqline/source'],
    target: ['es2022'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true,
    sourcemap: true,
    logLevel: 'silent',
  });
  await Promise.all(['index.html', 'styles.css'].map((name) => copyFile(join(SOURCE, name), join(outDir, name))));
  return outDir;
}

if (process.argv[1] === import.meta.filename) await buildChat();
