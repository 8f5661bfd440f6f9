#!/usr/bin/env node
// Generates libs/proto/src/gen from proto/**/*.proto with protoc + ts-proto (grpc-js services,
// 64-bit integers as bigint). `--check` generates into a temporary directory and exits 1 when
// the committed code differs (stale), so the test run can catch a forgotten regeneration.
// protoc comes from apt (`protobuf-compiler`) or SEQLINE_PROTOC; nothing is downloaded.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const libDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(libDir, '../..');
const protoDir = join(repoDir, 'proto');
const genDir = join(libDir, 'src/gen');
const plugin = join(repoDir, 'node_modules/.bin/protoc-gen-ts_proto');
const OPTIONS = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'env=node',
  'useExactTypes=false',
  'forceLong=bigint',
  'importSuffix=.js',
  'enumsAsLiterals=true',
];

export function findProtoc() {
  const candidates = [process.env.SEQLINE_PROTOC, '/usr/bin/protoc', '/usr/local/bin/protoc'].filter(Boolean);
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(
    'protoc not found: install it with `apt-get install protobuf-compiler` (Debian/Ubuntu) or set SEQLINE_PROTOC to its path',
  );
}

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

export function generate(outDir) {
  const protos = listFiles(protoDir).filter((f) => f.endsWith('.proto')).map((f) => relative(protoDir, f)).sort();
  execFileSync(
    findProtoc(),
    [`--plugin=protoc-gen-ts_proto=${plugin}`, `--ts_proto_out=${outDir}`, `--ts_proto_opt=${OPTIONS.join(',')}`, `-I${protoDir}`, ...protos],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

/** Returns the relative paths whose content differs between two generated trees. */
export function diffTrees(a, b) {
  const rel = (root) => (existsSync(root) ? listFiles(root).map((f) => relative(root, f)).sort() : []);
  const names = [...new Set([...rel(a), ...rel(b)])].sort();
  return names.filter((n) => {
    const pa = join(a, n);
    const pb = join(b, n);
    return !existsSync(pa) || !existsSync(pb) || readFileSync(pa, 'utf8') !== readFileSync(pb, 'utf8');
  });
}

function main() {
  const check = process.argv.includes('--check');
  const tmp = mkdtempSync(join(tmpdir(), 'seqline-proto-'));
  try {
    generate(tmp);
    const stale = diffTrees(tmp, genDir);
    if (check) {
      if (stale.length > 0) {
        console.error(`generated code is stale (${stale.join(', ')}): run \`npm run proto\``);
        process.exit(1);
      }
      console.log('generated code is up to date');
      return;
    }
    rmSync(genDir, { recursive: true, force: true });
    cpSync(tmp, genDir, { recursive: true });
    console.log(stale.length > 0 ? `regenerated: ${stale.join(', ')}` : 'generated code was already up to date');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
