// Builds @seqline/react for publishing: dist/index.js, one ESM bundle for browsers and Node
// (React and @seqline/client stay imports: they are peer dependencies), and dist/*.d.ts from tsc.
import { execFileSync } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
// The previous build's output goes; anything else in dist/ (vitest's test-report.json) stays.
const dist = resolve(here, 'dist');
const previous = await readdir(dist, { recursive: true }).catch(() => [] as string[]);
await Promise.all(previous.filter((f) => /\.(js|js\.map|d\.ts)$/.test(f)).map((f) => rm(resolve(dist, f), { force: true })));
await build({
  entryPoints: [resolve(here, 'src/index.ts')],
  outfile: resolve(here, 'dist/index.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: ['es2022'],
  external: ['react', '@seqline/client'],
  sourcemap: true,
  logLevel: 'warning',
});
execFileSync(process.execPath, [resolve(here, '../../node_modules/typescript/bin/tsc'), '-p', resolve(here, 'tsconfig.build.json')], { stdio: 'inherit' });
