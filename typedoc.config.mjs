// The API reference (`npm run docs` → docs/api/, not committed): typedoc over every published
// package that has a typedoc.json of its own (@seqline/client and @seqline/react; @seqline/cli
// if it ever exports an API). Warnings are errors, so a broken reference or an exported symbol that
// points at an unexported type fails the build; infra/local/src/docs.test.ts runs it in `npm test`.
import { existsSync } from 'node:fs';

const PACKAGES = ['libs/client', 'libs/react', 'libs/cli'];

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'Seqline API reference',
  entryPointStrategy: 'packages',
  entryPoints: PACKAGES.filter((dir) => ['typedoc.json', 'package.json'].every((f) => existsSync(new URL(`${dir}/${f}`, import.meta.url)))),
  out: 'docs/api',
  readme: 'none',
  validation: { notExported: true, invalidLink: true, notDocumented: false },
  treatWarningsAsErrors: true,
  // No links to a hosted repository: a clone's remote (if any) says nothing about where readers browse.
  disableSources: true,
};
