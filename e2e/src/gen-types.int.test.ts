// `seqline gen types` against the real stack, run as a user runs it (a child process, the CLI's
// source through tsx): the file it prints typechecks under the strictest settings, and the rows
// @seqline/client returns for `SELECT *` (every data type, with values and with NULLs) are values
// of the generated row type: written out as a TypeScript literal of that type, they typecheck, and
// the same literal with one cell of another type does not. Only tables the user may read are typed.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createClient, type Row } from '@seqline/client/node';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok } from './client.js';
import { startStack, type Stack } from './stack.js';

const MAIN = resolve(import.meta.dirname, '../../libs/cli/src/main.ts');
const NODE_ARGS = ['--conditions=@seqline/source', '--import', import.meta.resolve('tsx'), MAIN];
const ALICE = { user: 'alice', password: 'alice-pass-1' };

const KINDS = `CREATE TABLE app.kinds (
  id BIGINT PRIMARY KEY, flag BOOLEAN NOT NULL, small SMALLINT, n INT NOT NULL, big BIGINT, f FLOAT, d DOUBLE NOT NULL,
  price DECIMAL(10,2), title TEXT NOT NULL, note TEXT, raw BYTES, doc JSON, at TIMESTAMP, day DATE, dt DATETIME NOT NULL DEFAULT NOW(),
  t TIME, u UUID) WITH (TYPE='USER')`;
const FULL = `INSERT INTO app.kinds (id, flag, small, n, big, f, d, price, title, note, raw, doc, at, day, dt, t, u) VALUES
  (9007199254740993, true, 7, 42, -9007199254740993, 1.5, 2.25, 12.34, 'full', 'a note', '\\x0102ff', '{"k":[1,2]}', '2026-12-01 10:00:00.123456', '2026-12-01', '2026-12-02 11:00:00', '12:34:56.789', '0190c8a2-9c5e-7c3a-8f1b-1234567890ab')`;
const NULLS = "INSERT INTO app.kinds (id, flag, n, d, title) VALUES (2, false, 0, 0, 'nulls')";

let stack: Stack;
let home: string;

beforeAll(async () => {
  stack = await startStack();
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  for (const ddl of ['CREATE NAMESPACE app', KINDS, "CREATE TABLE app.rooms (id TEXT PRIMARY KEY, title TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')", "CREATE TABLE app.audit (id TEXT PRIMARY KEY) WITH (TYPE='SHARED', ACCESS_LEVEL='DBA')", `CREATE USER alice WITH PASSWORD '${ALICE.password}' ROLE user`]) {
    await ok(stack.url, admin, ddl);
  }
  const alice = await login(stack.url, ALICE.user, ALICE.password);
  await ok(stack.url, alice, FULL);
  await ok(stack.url, alice, NULLS);
  home = await mkdtemp(join(tmpdir(), 'seqline-gen-'));
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  if (home !== undefined) await rm(home, { recursive: true, force: true });
});

function seqline(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: home,
    env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, HOME: home, SEQLINE_CONFIG_DIR: join(home, 'config'), SEQLINE_USER: ALICE.user, SEQLINE_PASSWORD: ALICE.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((done) => child.once('close', (code) => done({ code, stdout, stderr })));
}

/** A value as a TypeScript literal: bigints as `1n`, arrays and objects spelled out. */
function literal(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${literal(x)}`).join(', ')} }`;
  return JSON.stringify(v);
}

/** TypeScript's diagnostics for `files` (written to `dir`), under the repository's strict settings. */
async function typecheck(dir: string, files: Record<string, string>): Promise<string[]> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const options: ts.CompilerOptions = {
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const program = ts.createProgram(Object.keys(files).map((name) => join(dir, name)), options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('seqline gen types', () => {
  it('writes row types that typecheck and that the rows the client returns are values of', async () => {
    const gen = await seqline(['gen', 'types', '--url', stack.url]);
    expect([gen.code, gen.stderr]).toEqual([0, '']);
    expect(gen.stdout).toContain(
      [
        '/** app.kinds (USER table) */',
        'export type AppKinds = {',
        '  id: bigint;',
        '  flag: boolean;',
        '  small: number | null;',
        '  n: number;',
        '  big: bigint | null;',
        '  f: number | null;',
        '  d: number;',
        '  price: string | null;',
        '  title: string;',
        '  note: string | null;',
        '  raw: number[] | null;',
        '  doc: string | null; // JSON text',
        '  at: number | null; // µs since the epoch',
        '  day: number | null; // days since the epoch',
        '  dt: number; // µs since the epoch',
        '  t: number | null; // µs since midnight',
        '  u: string | null;',
        '  _seq: bigint;',
        '  _deleted: boolean;',
        '};',
      ].join('\n'),
    );
    // alice may not read the DBA table: it is not typed.
    expect([...gen.stdout.matchAll(/^export (?:type|interface) (\w+)/gm)].map((m) => m[1])).toEqual(['AppKinds', 'AppRooms', 'Tables']);

    const client = createClient({ url: stack.url, auth: ALICE });
    let rows: Row[];
    try {
      rows = (await client.query('SELECT * FROM app.kinds ORDER BY id')).rows;
    } finally {
      client.close();
    }
    expect(rows.map((r) => r['title'])).toEqual(['nulls', 'full']);
    expect(rows[1]!['id']).toBe(9007199254740993n);

    const dir = await mkdtemp(join(home, 'check-'));
    const good = await typecheck(dir, {
      'schema.ts': gen.stdout,
      // AppKinds also satisfies the SDK's constraint on T (T extends Row, Row = Record<string, unknown>).
      'rows.ts': `import type { AppKinds, Tables } from './schema.js';\nexport const rows: AppKinds[] = ${literal(rows)};\nexport const first: Tables['app.kinds'] | undefined = rows[0];\ntype Typed<T extends Record<string, unknown>> = T[];\nexport const typed: Typed<AppKinds> = rows;\n`,
    });
    expect(good).toEqual([]);
    // The check can fail: the same rows with the id as the wire's string, and with a column too many.
    const bad = await typecheck(dir, {
      'schema.ts': gen.stdout,
      'rows.ts': `import type { AppKinds } from './schema.js';\nexport const rows: AppKinds[] = ${literal([{ ...rows[0], id: String(rows[0]!['id']) }, { ...rows[1], extra: 1 }])};\n`,
    });
    expect(bad).toEqual(["Type 'string' is not assignable to type 'bigint'.", "Object literal may only specify known properties, and '\"extra\"' does not exist in type 'AppKinds'."]);
  });

  it('types BIGINT as string with --bigint string, and one namespace with --namespace', async () => {
    const gen = await seqline(['gen', 'types', '--url', stack.url, '--bigint', 'string', '--namespace', 'app']);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain('(namespace app)');
    expect(gen.stdout).toContain('  id: string;\n  flag: boolean;');
    expect(gen.stdout).toContain('  _seq: string;');
    const none = await seqline(['gen', 'types', '--url', stack.url, '--namespace', 'default']);
    expect([none.code, [...none.stdout.matchAll(/^export (?:type|interface) (\w+)/gm)].map((m) => m[1])]).toEqual([0, ['Tables']]);
  });
});
