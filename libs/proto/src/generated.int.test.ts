import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../scripts/generate.mjs');

describe('generated protobuf code', () => {
  it('matches what protoc + ts-proto produce from proto/ today', () => {
    const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('generated code is up to date');
    expect(run.status).toBe(0);
  });
});
