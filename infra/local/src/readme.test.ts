// The README's configuration tables must list every variable the code reads, with its default.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENTED_SCHEMAS } from './config-docs.js';

const readme = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
const rows = (env: string): string[] => readme.split('\n').filter((l) => l.startsWith(`| \`${env}\` |`));

describe.each(DOCUMENTED_SCHEMAS.map(([title, schema]) => [title, schema] as const))('README configuration: %s', (_title, schema) => {
  it.each(Object.values(schema).map((f) => [f.env, f.defaultText, f.secret] as const))('documents %s with its default', (env, defaultText, secret) => {
    const lines = rows(env);
    expect(lines.length, `README has no row for ${env}`).toBeGreaterThan(0);
    if (defaultText !== undefined && !secret) expect(lines.some((l) => l.includes(defaultText))).toBe(true);
  });
});
