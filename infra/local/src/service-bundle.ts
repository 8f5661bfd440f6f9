// The services as plain JavaScript: services/<name>/dist/main.js, one ESM file per service with
// the repository's own packages (@seqline/*, from their TypeScript sources through the
// `@seqline/source` export condition) bundled in
// and every npm package left external, found in node_modules at run time. So
// `node services/<name>/dist/main.js` runs from the checkout without tsx.
//
// `npm run build` writes them (each service's `build` script runs service-bundle-main.ts in the
// service's directory), and `npm start` bundles all four before it starts them: about 0.3 s in
// all, cheaper than deciding whether a bundle is stale. The image bundles these files once more
// with their npm packages inlined (infra/compose/src/bundle.ts).
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

export const SERVICES = ['sequencer', 'storage', 'write', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Bare imports other than @seqline/* (npm packages, node: built-ins) stay imports. */
const npmPackagesExternal: Plugin = {
  name: 'npm-packages-external',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@seqline/') ? undefined : { path: args.path, external: true }));
  },
};

/** A service's bundle: <serviceDir>/dist/main.js. */
export const bundleFile = (serviceDir: string): string => join(serviceDir, 'dist', 'main.js');

/** Bundles <serviceDir>/src/main.ts into bundleFile(serviceDir) (with a source map); the output's path. */
export async function bundleService(serviceDir: string): Promise<string> {
  const outfile = bundleFile(serviceDir);
  await build({
    entryPoints: [join(serviceDir, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    conditions: ['@seqline/source'],
    plugins: [npmPackagesExternal],
    logLevel: 'warning',
  });
  return outfile;
}
