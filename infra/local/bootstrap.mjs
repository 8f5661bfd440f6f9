#!/usr/bin/env node
// The one entry point behind `npm start`, `npm test`, `npm run bench`, `npm run chaos` and
// `npm run proto`.
// Dependency-free on purpose: it runs on a fresh clone before anything is installed. It
// installs what is missing (npm dependencies; on Debian/Ubuntu, nats-server and protoc with
// apt, and for `test` Chromium, which the dashboard's browser test drives), then hands over to
// the real command.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const [command = 'help', ...args] = process.argv.slice(2);

/** Binaries the project needs from the system, with their Debian package (`for`: only these commands). */
const SYSTEM_TOOLS = [
  { bin: 'nats-server', pkg: 'nats-server', env: 'SEQLINE_NATS_SERVER', paths: ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'] },
  { bin: 'protoc', pkg: 'protobuf-compiler', env: 'SEQLINE_PROTOC', paths: ['/usr/bin/protoc', '/usr/local/bin/protoc'] },
  { bin: 'chromium', pkg: 'chromium', env: 'SEQLINE_CHROMIUM', paths: ['/usr/bin/chromium'], for: ['test'] },
];

const say = (msg) => process.stderr.write(`[seqline] ${msg}\n`);

function onPath(bin) {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, bin)));
}

function ensureSystemTools() {
  const needed = SYSTEM_TOOLS.filter((t) => t.for === undefined || t.for.includes(command));
  const missing = needed.filter((t) => !(process.env[t.env] && existsSync(process.env[t.env])) && !onPath(t.bin) && !t.paths.some(existsSync));
  if (missing.length === 0) return;
  const pkgs = missing.map((t) => t.pkg);
  if (!existsSync('/etc/debian_version') || !onPath('apt-get')) {
    say(`missing: ${missing.map((t) => t.bin).join(', ')}. Install ${pkgs.join(' and ')} with your package manager, or set ${missing.map((t) => t.env).join(' / ')} to the binary.`);
    process.exit(1);
  }
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  say(`installing ${pkgs.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const step of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', ...pkgs]]) {
    const cmd = [...sudo, ...step];
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit', env });
    if (r.status !== 0) {
      say(`\`${cmd.join(' ')}\` failed; install ${pkgs.join(' and ')} yourself and run this again`);
      process.exit(1);
    }
  }
}

function workspaceManifests() {
  const manifests = [join(root, 'package.json')];
  for (const group of ['libs', 'services', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name, 'package.json');
      if (existsSync(p)) manifests.push(p);
    }
  }
  for (const extra of ['infra/local', 'infra/k8s', 'bench', 'e2e']) {
    const p = join(root, extra, 'package.json');
    if (existsSync(p)) manifests.push(p);
  }
  return manifests;
}

function ensureNodeModules() {
  const hash = createHash('sha256');
  for (const m of workspaceManifests()) hash.update(m).update(readFileSync(m));
  const digest = hash.digest('hex');
  const stamp = join(root, 'node_modules/.seqline-install-stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  say('installing npm dependencies (npm install)');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('npm install failed');
    process.exit(r.status ?? 1);
  }
  writeFileSync(stamp, digest);
}

/**
 * Runs a command and waits for it. SIGINT and SIGTERM sent to us are passed on to it (a
 * terminal's Ctrl-C reaches it directly too: the commands stop once, however many times they
 * are told). When whoever started us is gone (our parent process changes: npm was killed, or
 * the shell npm runs us in was), the command is sent SIGTERM, so nothing it started outlives
 * the start command.
 */
function run(cmd, cmdArgs, env = {}) {
  return new Promise((done) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ...env } });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(orphaned);
      child.kill('SIGTERM');
    }, 500);
    child.on('exit', (code, signal) => {
      clearInterval(orphaned);
      done(code ?? (signal ? 128 : 1));
    });
  });
}

// `--conditions`: in the repository @seqline/* packages resolve to their TypeScript source, not
// to the dist/ they publish (their package.json `exports`).
const tsx = (script, scriptArgs) => run(process.execPath, ['--conditions=@seqline/source', '--import', 'tsx', join(root, script), ...scriptArgs]);

async function main() {
  switch (command) {
    case 'start':
      ensureSystemTools();
      ensureNodeModules();
      return tsx('infra/local/src/main.ts', args);
    case 'test': {
      ensureSystemTools();
      ensureNodeModules();
      const checked = await check();
      // CI runs every task for real; developers get Nx's cache.
      const cache = process.env.CI ? ['--skip-nx-cache'] : [];
      const code = await run(join(root, 'node_modules/.bin/nx'), ['run-many', '-t', 'test', '--outputStyle=static', ...cache, ...args]);
      return summarize(code, checked);
    }
    case 'check':
      ensureNodeModules();
      return check();
    case 'bench':
      ensureSystemTools();
      ensureNodeModules();
      return tsx('bench/run.ts', args);
    case 'chaos':
      ensureSystemTools();
      ensureNodeModules();
      return tsx('e2e/src/chaos/main.ts', args);
    case 'proto':
      ensureSystemTools();
      ensureNodeModules();
      return run(process.execPath, [join(root, 'libs/proto/scripts/generate.mjs'), ...args]);
    default:
      process.stderr.write('usage: node infra/local/bootstrap.mjs start|test|check|bench <name>|chaos|proto [--check]\n');
      return command === 'help' ? 0 : 2;
  }
}

/**
 * The typecheck and the lint of the whole repository, each in one pass: one TypeScript program
 * for everything but the browser code (tsconfig.check.json), then the packages built for the
 * browser with the DOM's types (their own tsconfigs). A package's `typecheck` and `lint` targets
 * (`npm run typecheck`, `npm run lint`) check the same files one package at a time, each loading
 * every package it imports again: several times the work. Skipped when nothing they read changed
 * since the last clean pass (a stamp in node_modules/.cache), except under CI. Returns the exit
 * code: 0 when both passed.
 */
async function check() {
  const stamp = join(root, 'node_modules/.cache/seqline-check');
  const digest = sourceDigest();
  if (!process.env.CI && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) {
    say('typecheck and lint: unchanged since they last passed');
    return 0;
  }
  say('typecheck (tsc) and lint (eslint) of the whole repository');
  let code = 0;
  for (const project of ['tsconfig.check.json', 'libs/react/tsconfig.json', ...BROWSER_TSCONFIGS]) {
    if ((await run(join(root, 'node_modules/.bin/tsc'), ['-p', project])) !== 0) code = 1;
  }
  if ((await run(join(root, 'node_modules/.bin/eslint'), ['.'], { SEQLINE_LINT_WHOLE: '1' })) !== 0) code = 1;
  say(code === 0 ? 'typecheck and lint passed' : 'typecheck or lint failed (above)');
  if (code === 0) {
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, digest);
  }
  return code;
}

const BROWSER_TSCONFIGS = ['examples/chat/src/browser/tsconfig.json', 'examples/dashboard/src/browser/tsconfig.json'];

/** Path, size and modification time of every file the check reads from this checkout, and the installed dependencies' stamp. */
function sourceDigest() {
  const hash = createHash('sha256');
  const installed = join(root, 'node_modules/.seqline-install-stamp');
  if (existsSync(installed)) hash.update(readFileSync(installed));
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(ts|tsx|json|js|mjs)$/.test(entry.name)) {
        const st = statSync(p);
        hash.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(root);
  return hash.digest('hex');
}

/**
 * One closing line for the whole run, summed from every project's vitest JSON report, after the
 * name and first line of each failed test (the end of a long log is what a CI page shows).
 */
function summarize(code, checked) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for (const m of workspaceManifests().slice(1)) {
    const report = join(dirname(m), 'dist/test-report.json');
    if (!existsSync(report)) continue;
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    for (const file of r.testResults ?? []) {
      const where = relative(root, file.name ?? '');
      for (const t of file.assertionResults ?? []) {
        if (t.status === 'failed') failures.push(`${where} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
      }
      if ((file.assertionResults ?? []).length === 0 && file.status === 'failed') failures.push(`${where}: ${firstLine(file.message)}`);
    }
  }
  if (checked !== 0) failures.unshift('typecheck or lint (see "typecheck (tsc) and lint" above)');
  if ((code !== 0 || checked !== 0) && failed === 0) failed = 1; // typecheck, lint or a crashed run: still a failure
  if (failures.length > 0) process.stdout.write(`\nFailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
  process.stdout.write(`\nTests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  return code !== 0 ? code : checked;
}

const firstLine = (text) => (text ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 300) ?? '';

process.exitCode = await main();
