// Prints the README's configuration tables from the services' own schemas:
// `node --import tsx infra/local/src/config-docs.ts`. readme.test.ts checks the README against
// the same schemas, so a new variable cannot go undocumented.
import type { ConfigSchema } from '@seqline/runtime';
import { gatewayConfigSchema } from '@seqline/gateway';
import { sequencerConfigSchema } from '@seqline/sequencer';
import { storageConfigSchema } from '@seqline/storage';
import { writeConfigSchema } from '@seqline/write';
import { localStackSchema } from './config.js';

export const DOCUMENTED_SCHEMAS: readonly (readonly [string, ConfigSchema])[] = [
  ['Local stack (`npm start`)', localStackSchema],
  ['Gateway', gatewayConfigSchema],
  ['Write', writeConfigSchema],
  ['Storage', storageConfigSchema],
  ['Sequencer', sequencerConfigSchema],
];

export function configTable(schema: ConfigSchema): string {
  const rows = Object.values(schema).map((f) => {
    const def = f.defaultText === undefined ? '(unset)' : f.secret ? '(secret)' : /^\d+$/.test(f.defaultText) ? f.defaultText : `\`${f.defaultText}\``;
    return `| \`${f.env}\` | ${def} | ${f.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] === import.meta.filename) {
  for (const [title, schema] of DOCUMENTED_SCHEMAS) console.log(`### ${title}\n\n${configTable(schema)}\n`);
}
