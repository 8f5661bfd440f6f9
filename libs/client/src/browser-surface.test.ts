// The browser entry (index.ts) must not reach Node-only code: follow its imports (relative ones
// and @seqline/seq's) and check that none is a Node module, `ws`, or uses Node's globals.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const PACKAGES: Record<string, string> = { '@seqline/seq': resolve(import.meta.dirname, '../../seq/src/index.ts') };

function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
    seen.set(file, specifiers);
    for (const s of specifiers) {
      if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
      else if (PACKAGES[s] !== undefined) visit(PACKAGES[s]);
    }
  };
  visit(entry);
  return seen;
}

describe('the browser entry', () => {
  it('imports nothing Node-only, directly or through @seqline/seq', () => {
    const files = reachable(resolve(import.meta.dirname, 'index.ts'));
    expect([...files.keys()].some((f) => f.endsWith('node.ts'))).toBe(false);
    for (const [file, specifiers] of files) {
      const external = specifiers.filter((s) => !s.startsWith('.') && PACKAGES[s] === undefined);
      expect({ file, external }).toEqual({ file, external: [] });
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect({ file, nodeGlobals: /\b(Buffer|process|require|__dirname)\b/.test(code) }).toEqual({ file, nodeGlobals: false });
    }
    expect(files.size).toBeGreaterThan(8);
  });

  it('is what node.ts adds to, not the other way round', () => {
    const node = reachable(resolve(import.meta.dirname, 'node.ts'));
    expect(node.get(resolve(import.meta.dirname, 'node.ts'))).toEqual(expect.arrayContaining(['ws', 'node:fs/promises']));
  });
});
