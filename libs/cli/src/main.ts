// The `seqline` process (bin/seqline.mjs runs it): wiring only. cli.ts parses the arguments
// and runs the command with these streams, clock, fetch and files.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { createClient } from '@seqline/client/node';
import { run } from './cli.js';
import { credentialsPath, fileCredentials } from './credentials.js';
import { EXIT } from './errors.js';
import { fileHistory, historyPath } from './history.js';
import { promptTerminal } from './prompt.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// Ctrl-C (or SIGTERM) asks the command to stop; a second one does not wait.
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => (controller.signal.aborted ? process.exit(EXIT.interrupted) : controller.abort()));
}
// `seqline live … | head`: the reader went away, which is how a pipeline ends.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.ok);
});

const code = await run(
  process.argv.slice(2),
  {
    env: process.env,
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    errIsTTY: process.stderr.isTTY === true,
    fetch: (url, init) => fetch(url, init),
    now: Date.now,
    credentials: fileCredentials(credentialsPath(process.env, homedir())),
    createClient,
    stdin: process.stdin,
    stdout: process.stdout,
    readFile: (path) => readFile(path, 'utf8'),
    history: fileHistory(historyPath(process.env, homedir())),
    ...(process.stdin.isTTY === true ? { prompt: promptTerminal } : {}),
    signal: controller.signal,
  },
  version,
);
// Exit once the output is written, without waiting for sockets still closing.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
