// Dependencies point the right way (dependency-rules.ts): checked on this repository, and the
// checker itself on small made-up workspaces so a broken rule is known to be reported.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencyViolations, readWorkspace, type WorkspacePackage } from './dependency-rules.js';

const root = resolve(import.meta.dirname, '../../..');

function pkg(dir: string, declared: string[] = [], imports: { file: string; target: string }[] = []): WorkspacePackage {
  return { dir, name: `@x/${dir.split('/').pop() ?? dir}`, declared, imports };
}

describe('this repository', () => {
  const workspace = readWorkspace(root);

  it('reads every workspace package, with its declared and imported dependencies', () => {
    const dirs = workspace.map((p) => p.dir);
    expect(dirs).toEqual(expect.arrayContaining(['libs/domain', 'libs/protocol', 'libs/sql', 'libs/sequencer-client', 'services/sequencer', 'services/storage', 'e2e']));
    const storage = workspace.find((p) => p.dir === 'services/storage');
    expect(storage?.declared).toContain('@seqline/sequencer-client');
    expect(storage?.imports).toContainEqual({ file: 'src/storage.ts', target: 'libs/sequencer-client' });
  });

  it('has no service depending on another, no library on a service, and no path from protocol to sql', () => {
    expect(dependencyViolations(workspace)).toEqual([]);
  });
});

describe('dependencyViolations', () => {
  it('reports a service declaring or importing another service, by name or by relative path', () => {
    const storage = pkg('services/storage', ['@x/sequencer'], [{ file: 'src/ids.ts', target: 'services/sequencer' }]);
    expect(dependencyViolations([storage, pkg('services/sequencer')])).toEqual([
      'services/storage → services/sequencer (package.json): a service must not depend on another service',
      'services/storage → services/sequencer (src/ids.ts): a service must not depend on another service',
    ]);
  });

  it('reports a library depending on a service or an application, and allows applications anything', () => {
    const lib = pkg('libs/a', ['@x/gateway', '@x/e2e', '@x/b']);
    const e2e = pkg('e2e', ['@x/gateway', '@x/a']);
    expect(dependencyViolations([lib, pkg('libs/b'), pkg('services/gateway'), e2e])).toEqual([
      'libs/a → services/gateway (package.json): a library must not depend on a service',
      'libs/a → e2e (package.json): a library must not depend on an application',
    ]);
  });

  it('reports libs/protocol reaching libs/sql through other packages', () => {
    const protocol = pkg('libs/protocol', ['@x/domain']);
    const domain = pkg('libs/domain', [], [{ file: 'src/types.ts', target: 'libs/sql' }]);
    expect(dependencyViolations([protocol, domain, pkg('libs/sql')])).toEqual(['libs/protocol reaches libs/sql: libs/protocol → libs/domain → libs/sql']);
  });

  it('ignores a package importing its own files and packages outside the workspace', () => {
    expect(dependencyViolations([pkg('services/write', ['zod'], [{ file: 'src/a.ts', target: 'services/write' }])])).toEqual([]);
  });
});

describe('readWorkspace', () => {
  it('finds imports by package name, dynamic import, require and relative path into another package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seqline-deps-'));
    const write = (path: string, text: string): void => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    try {
      write('package.json', JSON.stringify({ workspaces: ['libs/*', 'services/*', 'e2e'] }));
      write('services/a/package.json', JSON.stringify({ name: '@x/a', dependencies: { zod: '*' } }));
      write('services/b/package.json', JSON.stringify({ name: '@x/b' }));
      write('libs/c/package.json', JSON.stringify({ name: '@x/c', devDependencies: { '@x/b': '*' } }));
      write('services/a/src/x.ts', "import { y } from '../../b/src/y.js';\nexport const z = await import('@x/b/deep');\nimport './own.js';\n");
      write('services/a/src/y.cjs', "const c = require('@x/c');\n");
      write('services/a/node_modules/@x/b/index.js', "import '@x/b';\n");
      expect(dependencyViolations(readWorkspace(dir))).toEqual([
        'libs/c → services/b (package.json): a library must not depend on a service',
        'services/a → services/b (src/x.ts): a service must not depend on another service',
        'services/a → services/b (src/x.ts): a service must not depend on another service',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
