// The published packages as a user gets them, outside the monorepo: each one (packages.ts,
// infra/packages/published.json) is built, packed with `npm pack`, and the tarballs installed
// into a fresh project in a temporary folder (no workspace links; third-party dependencies such
// as ws and any peer dependencies come from the registry). There:
//   (a) plain `node` runs an app on @seqline/client/node against the running stack;
//   (b) tsc type-checks a strict consumer of the client and of the React hooks with
//       moduleResolution nodenext (with Node's types) and bundler (with the DOM's, no @types/node);
//   (c) esbuild bundles a browser app on the client and the React hooks (platform browser,
//       nothing external) that runs in Chromium;
//   (d) plain `node` runs the packed `seqline` binary.
// The consumer's sources are in e2e/consumer/.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, ok } from './client.js';
import { buildPublished, mustRun, PUBLISHED, readManifest, ROOT, run, type Manifest } from './packages.js';
import { startStack, type Stack } from './stack.js';

/** Where infra/local/bootstrap.mjs looks too: SEQLINE_CHROMIUM, /usr/bin/chromium, then PATH. */
const CHROMIUM = [process.env['SEQLINE_CHROMIUM'], '/usr/bin/chromium', ...(process.env['PATH'] ?? '').split(':').filter((d) => d !== '').map((d) => join(d, 'chromium'))].find(
  (p): p is string => p !== undefined && existsSync(p),
);
const CONSUMER = join(import.meta.dirname, '../consumer');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const VERSION = readManifest('.').version;

interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly string[];
}

let stack: Stack;
let dir: string;
let project: string;
let browser: Browser | undefined;
const packed: Packed[] = [];
const timings: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[name] = Date.now() - started;
  }
}

/** Builds and packs every published package, and installs the tarballs into a new project. */
async function install(): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'seqline-packages-'));
  project = join(dir, 'project');
  await mkdir(project);
  await timed('build', buildPublished);
  await timed('pack', async () => {
    for (const p of PUBLISHED) {
      const { stdout } = await mustRun('npm', ['pack', '--json', '--pack-destination', dir], { cwd: join(ROOT, p.dir) });
      const [info] = JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
      packed.push({ name: p.name, filename: join(dir, info!.filename), size: info!.size, unpackedSize: info!.unpackedSize, files: info!.files.map((f) => f.path).sort() });
    }
  });
  // Peer dependencies are the app's to install, from the registry, as a user would.
  const peers = PUBLISHED.flatMap((p) => Object.entries(readManifest(p.dir).peerDependencies ?? {}))
    .filter(([name]) => !PUBLISHED.some((p) => p.name === name))
    .map(([name, range]) => `${name}@${range}`);
  await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'seqline-consumer', private: true, type: 'module' }, null, 2)}\n`);
  // A Node project in TypeScript has Node's types (the repository's version); the browser one does
  // not. A React app has react-dom and React's types, at the versions the repository tests with.
  const nodeTypes = `@types/node@${(readManifest('.').devDependencies ?? {})['@types/node']}`;
  const reactDev = readManifest('e2e').devDependencies ?? {}; // the versions the React tests use
  const reactApp = ['react-dom', '@types/react'].map((name) => `${name}@${reactDev[name]}`);
  await timed('install', () => mustRun('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...packed.map((p) => p.filename), ...peers, nodeTypes, ...reactApp], { cwd: project }));
  await cp(CONSUMER, project, { recursive: true });
}

/** A static site on a free loopback port: `files` answers each path. */
async function serve(files: (path: string) => { type: string; body: string }): Promise<AsyncDisposable & { url: string }> {
  const server = createServer((req, res) => {
    const { type, body } = files(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    [Symbol.asyncDispose]: () => new Promise<void>((done) => server.close(() => done())),
  };
}

beforeAll(async () => {
  if (CHROMIUM === undefined) throw new Error("no Chromium: install Debian's chromium package (npm test does) or set SEQLINE_CHROMIUM to a Chromium or Chrome binary");
  // Both at once; a failure of either still leaves afterAll the stack to stop.
  const [started, installed] = await Promise.allSettled([startStack(), install()]);
  if (started.status === 'fulfilled') stack = started.value;
  for (const r of [started, installed]) if (r.status === 'rejected') throw r.reason;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false });
});

afterAll(async () => {
  await browser?.close();
  await stack?.[Symbol.asyncDispose]();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  process.stdout.write(
    `packages: build ${timings['build']} ms, pack ${timings['pack']} ms, install ${timings['install']} ms; ${packed.map((p) => `${p.name} ${p.size} B packed, ${p.unpackedSize} B unpacked`).join('; ')}\n`,
  );
});

describe('the published packages, installed from their tarballs outside the repository', () => {
  it('ship dist/, README.md, LICENSE and a public manifest at the shared version, nothing else', async () => {
    expect(packed.map((p) => p.name)).toEqual(PUBLISHED.map((p) => p.name));
    for (const p of packed) {
      expect(p.files.filter((f) => !f.startsWith('dist/'))).toEqual(['LICENSE', 'README.md', 'package.json']);
      expect(p.files.filter((f) => /\.test\.|\.ts$|\.map$|test-report/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
      const installed = JSON.parse(await readFile(join(project, 'node_modules', p.name, 'package.json'), 'utf8')) as Manifest;
      expect({ name: installed.name, version: installed.version, private: installed.private }).toEqual({ name: p.name, version: VERSION, private: undefined });
    }
    // Nothing of the monorepo came along: only the packages and their third-party dependencies.
    const lock = JSON.parse(await readFile(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean }> };
    const names = Object.keys(lock.packages).filter((k) => k !== '');
    expect(names.filter((k) => k.includes('@seqline/')).sort()).toEqual(PUBLISHED.map((p) => `node_modules/${p.name}`).sort());
    expect(names.filter((k) => lock.packages[k]!.link === true)).toEqual([]);
  });

  it('(a) run in plain Node: log in, CREATE, INSERT, SELECT, a typed error, and a live query that gets a change', async () => {
    const r = await run(process.execPath, ['node-app.mjs'], { cwd: project, env: { SEQLINE_URL: stack.url, ADMIN_USER: stack.admin.user, ADMIN_PASSWORD: stack.admin.password } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({
      selected: [{ id: '1n', body: 'first', _seq: 'bigint' }],
      refused: { seqlineError: true, code: 'PERMISSION_DENIED', status: 403 },
      live: [
        { id: '1n', body: 'first', _seq: 'bigint' },
        { id: '2n', body: 'second', _seq: 'bigint' },
      ],
      lastStatus: 'ready',
    });
  });

  it('(b) type-check a strict TypeScript consumer under moduleResolution nodenext and bundler', async () => {
    const base = { target: 'ES2022', strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, verbatimModuleSyntax: true, skipLibCheck: false, noEmit: true };
    const configs = {
      nodenext: { ...base, lib: ['ES2023'], types: ['node'], module: 'nodenext', moduleResolution: 'nodenext' },
      bundler: { ...base, lib: ['ES2023', 'DOM'], types: [], module: 'preserve', moduleResolution: 'bundler' },
    };
    const results = await Promise.all(
      Object.entries(configs).map(async ([name, compilerOptions]) => {
        await writeFile(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: ['typed.ts', 'typed-react.ts'] }));
        const r = await run(process.execPath, [TSC, '-p', `tsconfig.${name}.json`], { cwd: project });
        return { name, code: r.code, out: r.stdout };
      }),
    );
    expect(results).toEqual([
      { name: 'nodenext', code: 0, out: '' },
      { name: 'bundler', code: 0, out: '' },
    ]);
  });

  it('(c) bundle for browsers with nothing external, and run in Chromium against the stack', async () => {
    const admin = await login(stack.url, stack.admin.user, stack.admin.password);
    await ok(stack.url, admin, 'CREATE NAMESPACE browser_app');
    await ok(stack.url, admin, "CREATE TABLE browser_app.notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL) WITH (TYPE='USER')");
    await ok(stack.url, admin, "CREATE USER dave WITH PASSWORD 'dave-pass-12' ROLE user");
    const web = join(project, 'web');
    const result = await build({ entryPoints: [join(project, 'browser-app.js')], absWorkingDir: project, outfile: join(web, 'app.js'), bundle: true, platform: 'browser', format: 'esm', target: 'es2022', metafile: true, logLevel: 'silent' });
    const packagesIn = new Set(Object.keys(result.metafile.inputs).map((f) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1] ?? f));
    expect([...packagesIn].sort()).toEqual(['@seqline/client', '@seqline/react', 'browser-app.js', 'react', 'react-dom', 'scheduler']);
    expect(Object.keys(result.metafile.inputs).filter((f) => f.startsWith('node_modules/@seqline/') && !/^node_modules\/@seqline\/[^/]+\/dist\//.test(f))).toEqual([]);

    // The page has an origin of its own (a static server on 127.0.0.1) and calls the gateway
    // cross-origin, as a deployed app does.
    const html = '<!doctype html><script type="module" src="/app.js"></script>';
    const js = await readFile(join(web, 'app.js'), 'utf8');
    await using site = await serve((path) => (path === '/app.js' ? { type: 'text/javascript', body: js } : { type: 'text/html', body: html }));
    const page = await browser!.newPage();
    await page.goto(`${site.url}/#${encodeURIComponent(JSON.stringify({ url: stack.url, user: 'dave', password: 'dave-pass-12' }))}`);
    const handle = await page.waitForFunction(() => (globalThis as { result?: unknown; failure?: unknown }).result ?? (globalThis as { failure?: unknown }).failure, undefined, { timeout: 60_000 });
    expect(await handle.jsonValue()).toEqual({
      selected: [{ id: '10n', body: 'from the browser', _seq: 'bigint' }],
      refused: { seqlineError: true, code: 'TABLE_NOT_FOUND', status: 400 },
      live: [
        { id: '10n', body: 'from the browser', _seq: 'bigint' },
        { id: '11n', body: 'live in the browser', _seq: 'bigint' },
      ],
      react: ['from the browser', 'live in the browser', 'from react'],
      userAgent: true,
    });
    await page.close();
  });

  it('(d) run the packed `seqline` binary with plain node: --help, --version, and sql against the stack', async () => {
    const bin = join(project, 'node_modules/.bin/seqline');
    const env = { HOME: dir, SEQLINE_CONFIG_DIR: join(dir, 'config'), PATH: dirname(process.execPath), SEQLINE_URL: stack.url };
    const help = await run(process.execPath, [bin, '--help'], { cwd: project, env });
    expect({ code: help.code, first: help.stdout.split('\n')[0] }).toEqual({ code: 0, first: 'seqline: the Seqline command line' });
    // Executable as installed (its shebang), too.
    expect(await run(bin, ['--version'], { cwd: project, env })).toEqual({ code: 0, stdout: `seqline ${VERSION}\n`, stderr: '' });

    const admin = await login(stack.url, stack.admin.user, stack.admin.password);
    await ok(stack.url, admin, 'CREATE NAMESPACE cli_app');
    await ok(stack.url, admin, "CREATE TABLE cli_app.notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL) WITH (TYPE='USER')");
    await ok(stack.url, admin, "CREATE USER erin WITH PASSWORD 'erin-pass-12' ROLE user");
    const as = ['--user', 'erin', '--password', 'erin-pass-12'];
    const insert = await run(process.execPath, [bin, 'sql', "INSERT INTO cli_app.notes (id, body) VALUES (1, 'one'), (2, 'two')", ...as], { cwd: project, env });
    expect(insert).toEqual({ code: 0, stdout: 'Inserted 2 row(s)\n', stderr: '' });
    const select = await run(process.execPath, [bin, 'sql', 'SELECT id, body FROM cli_app.notes ORDER BY id', ...as], { cwd: project, env });
    expect(select).toEqual({ code: 0, stdout: 'id | body\n---+-----\n 1 | one\n 2 | two\n(2 rows)\n', stderr: '' });
    const json = await run(process.execPath, [bin, 'sql', 'SELECT id, body FROM cli_app.notes ORDER BY id', '--json', ...as], { cwd: project, env });
    expect({ code: json.code, results: (JSON.parse(json.stdout) as { rows: unknown }[]).map((r) => r.rows) }).toEqual({ code: 0, results: [[['1', 'one'], ['2', 'two']]] });
  });
});
