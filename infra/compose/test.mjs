#!/usr/bin/env node
// `npm run test:compose`: installs the npm dependencies if they are missing (dependency-free on
// purpose, like infra/local/bootstrap.mjs), then runs the compose test, test/test-main.ts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
if (!existsSync(join(root, 'node_modules/tsx')) && run('npm', ['install', '--no-audit', '--no-fund']) !== 0) process.exit(1);
process.exit(run(process.execPath, ['--import', 'tsx', join(root, 'infra/compose/test/test-main.ts'), ...process.argv.slice(2)]));
