// `seqline`, the command line, run as a user runs it: a child process in a scratch folder, with
// a scratch config dir and only the env given. It runs the source (src/main.ts through tsx), so
// the tests need no build; packages.int.test.ts runs the packed, built binary.
// With `terminal`, it runs inside a pseudo-terminal (util-linux `script`, 200 columns), so stdin
// and stdout are a TTY as in an interactive shell; what the terminal shows comes back on stdout.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { login } from './client.js';
import { startStack, type Stack } from './stack.js';
import { ticketsFixture } from './tickets.js';

const MAIN = resolve(import.meta.dirname, '../../libs/cli/src/main.ts');
const NODE_ARGS = ['--conditions=@seqline/source', '--import', import.meta.resolve('tsx'), MAIN];

export interface Cli extends AsyncDisposable {
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
  /** Writes to its stdin (keys, on a terminal). */
  write(text: string): void;
  /** Closes its stdin. */
  end(): void;
}

/** The CLI tests' user (tickets.ts) as the CLI reads it from the environment, and their polling. */
export const ALICE = { SEQLINE_USER: 'alice', SEQLINE_PASSWORD: 'alice-pass-1' } as const;
export const WAIT = { timeout: 30_000, interval: 50 } as const;

/** A stack with the tickets fixture, alice's token, and a scratch home for `seqline` (removed with the stack). */
export interface CliStack extends AsyncDisposable {
  readonly stack: Stack;
  readonly alice: string;
  readonly home: string;
}

export async function startCliStack(homePrefix: string): Promise<CliStack> {
  const stack = await startStack();
  await ticketsFixture(stack);
  const alice = await login(stack.url, ALICE.SEQLINE_USER, ALICE.SEQLINE_PASSWORD);
  const home = await mkdtemp(join(tmpdir(), homePrefix));
  return {
    stack,
    alice,
    home,
    async [Symbol.asyncDispose]() {
      await stack[Symbol.asyncDispose]();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export interface CliOptions {
  /** The scratch folder: the working directory and $HOME; config in <home>/config. */
  readonly home: string;
  readonly env?: Readonly<Record<string, string>>;
  /** stdin is a pipe the test writes (default: none). */
  readonly stdin?: boolean;
  readonly terminal?: boolean;
}

export function startCli(args: readonly string[], options: CliOptions): Cli {
  const env = { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, HOME: options.home, SEQLINE_CONFIG_DIR: join(options.home, 'config'), ...options.env };
  const command = [process.execPath, ...NODE_ARGS, ...args];
  const child =
    options.terminal === true
      ? spawn('script', ['--quiet', '--return', '--flush', '--command', `stty cols 200 rows 50 && exec ${command.map(shellQuote).join(' ')}`, '/dev/null'], {
          cwd: options.home,
          env: { ...env, TERM: 'xterm' },
          stdio: ['pipe', 'pipe', 'pipe'],
        })
      : spawn(command[0]!, command.slice(1), { cwd: options.home, env, stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal: (signal) => void child.kill(signal),
    write: (text) => void child.stdin?.write(text),
    end: () => void child.stdin?.end(),
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs `seqline …` to its end. */
export async function seqline(args: readonly string[], options: CliOptions & { readonly input?: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  await using cli = startCli(args, { ...options, stdin: options.input !== undefined });
  if (options.input !== undefined) {
    cli.write(options.input);
    cli.end();
  }
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}
