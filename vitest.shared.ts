// One vitest configuration for every package, two tiers chosen by file name (docs/architecture.md §7):
//   *.test.ts      pure unit tests: no I/O, milliseconds each
//   *.int.test.ts  integration tests against the real nats-server and PostgreSQL that
//                  libs/testkit starts once per run (vitest globalSetup)
// A package calls `projectConfig(import.meta.dirname)` from its own vitest.config.ts.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// In the repository, @seqline/* packages resolve to their TypeScript source through this export
// condition (their package.json `exports`), not to the dist/ they publish; tsconfig.base.json's
// customConditions says the same to tsc, and tools run through tsx get `--conditions`.
export const SOURCE_CONDITION = '@seqline/source';
// Vitest adds its own conditions (node, development) after these.
const RESOLVE = { resolve: { conditions: [SOURCE_CONDITION] }, ssr: { resolve: { conditions: [SOURCE_CONDITION] } } };

const INT_PATTERN = /\.int\.test\.ts$/;
const UNIT_PATTERN = /(?<!\.int)\.test\.ts$/;

export interface ProjectOptions {
  /** Start NATS and PostgreSQL for the integration tier (default true). */
  readonly services?: boolean;
}

// A worker runs its test files in one module graph, not a fresh one per file: importing a whole
// stack (services, the SQL parser's WebAssembly) again for each file was a third of the
// integration tier's time. Tests keep no state in modules (each starts its own stack with unique
// names), and the few that stub the environment restore it.
const ISOLATE = false;

export function projectConfig(dir: string, options: ProjectOptions = {}) {
  const files = listFiles(dir);
  const projects: TestProjectInlineConfiguration[] = [];
  if (files.some((f) => UNIT_PATTERN.test(f))) {
    projects.push({
      ...RESOLVE,
      test: {
        name: 'unit',
        root: dir,
        include: ['**/*.test.ts'],
        exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        testTimeout: 30_000,
        isolate: ISOLATE,
      },
    });
  }
  if (files.some((f) => INT_PATTERN.test(f))) {
    const services = options.services ?? true;
    projects.push({
      ...RESOLVE,
      test: {
        name: 'int',
        root: dir,
        include: ['**/*.int.test.ts'],
        exclude: ['**/node_modules/**', '**/dist/**'],
        globalSetup: services ? [resolve(import.meta.dirname, 'libs/testkit/src/global-setup.ts')] : [],
        testTimeout: 120_000,
        hookTimeout: 120_000,
        // Integration tests share one NATS and one PostgreSQL; isolation comes from
        // per-test names (libs/testkit), but the machine has 2 cores.
        maxWorkers: 2,
        isolate: ISOLATE,
        sequence: { groupOrder: 1 },
      },
    });
  }
  return defineConfig({
    test: {
      projects,
      // The JSON report lets `npm test` print one closing line for all packages.
      reporters: ['default', ['json', { outputFile: join(dir, 'dist/test-report.json') }]],
    },
  });
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}
