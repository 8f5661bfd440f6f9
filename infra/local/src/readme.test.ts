// The README's configuration tables must list every variable the code reads, with its default.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigSchema } from '@seqline/runtime';
import { sequencerConfigSchema } from '@seqline/sequencer';
import { describe, expect, it } from 'vitest';
import { localStackSchema } from './config.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
const row = (env: string): string | undefined => readme.split('\n').find((l) => l.startsWith(`| \`${env}\` |`));

describe.each([
  ['local stack', localStackSchema],
  ['sequencer', sequencerConfigSchema],
] as [string, ConfigSchema][])('README configuration: %s', (_name, schema) => {
  it.each(Object.values(schema).map((f) => [f.env, f.defaultText] as const))('documents %s with its default', (env, defaultText) => {
    const line = row(env);
    expect(line, `README has no row for ${env}`).toBeDefined();
    if (defaultText !== undefined) expect(line).toContain(defaultText);
  });
});
