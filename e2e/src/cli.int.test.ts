// `seqline`, the command line, against the real stack, run as a user runs it: a child process
// in a folder outside the repository (seqline-cli.ts). cli-repl.int.test.ts has the REPL, -f and
// --format.
// login saves a session (0600, no password); sql prints exact tables and JSON; live prints a
// change made by another process as it arrives, and after the network drops (a TCP proxy the
// test cuts) resumes with what happened meanwhile, nothing missed or repeated.
import { readFile, stat } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './client.js';
import { ALICE, seqline as runCli, startCli, startCliStack, WAIT, type Cli, type CliStack } from './seqline-cli.js';
import type { Stack } from './stack.js';

let fixture: CliStack | undefined;
let stack: Stack;
let alice: string;
let home: string;

beforeAll(async () => {
  fixture = await startCliStack('seqline-cli-');
  ({ stack, alice, home } = fixture);
});

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

/** `seqline …` with a scratch config dir and only the env given (seqline-cli.ts). */
const start = (args: readonly string[], env: Record<string, string> = {}): Cli => startCli(args, { home, env });
const seqline = (args: readonly string[], env: Record<string, string> = {}): ReturnType<typeof runCli> => runCli(args, { home, env });

/** `insert {"id":"…","title":"x","_seq":"…"}` → `insert x` (ids and _seq are the server's). */
const byTitle = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      const row = JSON.parse(line.slice(space + 1)) as Record<string, unknown>;
      expect(Object.keys(row).sort()).toEqual(['_seq', 'id', 'title']);
      return `${line.slice(0, space)} ${String(row['title'])}`;
    });

/** A TCP proxy to the gateway whose connections the test can cut (and refuse) at will. */
async function tcpProxy(target: string): Promise<{ readonly url: string; cut(): void; restore(): void } & AsyncDisposable> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => [client, upstream].forEach((x) => x.destroy()));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const cutAll = (): void => sockets.forEach((s) => s.destroy());
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => {
      refusing = true;
      cutAll();
    },
    restore: () => void (refusing = false),
    async [Symbol.asyncDispose]() {
      cutAll();
      await new Promise((closed) => server.close(closed));
    },
  };
}

describe('seqline', () => {
  it('login saves the session in a file only the user can read, without the password', async () => {
    const wrong = await seqline(['login', '--url', stack.url, '--user', 'alice', '--password', 'not-her-password']);
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: 'error: UNAUTHORIZED: invalid username or password\n' });

    const path = join(home, 'config', 'credentials.json');
    const r = await seqline(['login', '--url', `${stack.url}/`], ALICE);
    expect(r).toEqual({ code: 0, stdout: `logged in to ${stack.url} as alice (session saved in ${path})\n`, stderr: '' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('alice-pass-1');
    const saved = JSON.parse(text) as { current: string; sessions: Record<string, Record<string, string>> };
    expect(saved.current).toBe(stack.url);
    expect(Object.keys(saved.sessions[stack.url]!).sort()).toEqual(['access_token', 'expires_at', 'refresh_expires_at', 'refresh_token', 'user']);
    expect(saved.sessions[stack.url]!['user']).toBe('alice');
  });

  it('sql prints each result: messages, an aligned table, JSON, and errors with exit code 1', async () => {
    // No --url and no password: the saved session and its URL.
    const insert = await seqline(['sql', "INSERT INTO app.tickets (title, status, priority) VALUES ('first', 'sql', 3); INSERT INTO app.tickets (title, status) VALUES ('second', 'sql')"]);
    expect(insert).toEqual({ code: 0, stdout: 'Inserted 1 row(s)\n\nInserted 1 row(s)\n', stderr: '' });

    const select = await seqline(['sql', "SELECT title, status, priority FROM app.tickets WHERE status = 'sql' ORDER BY title"]);
    expect(select).toEqual({
      code: 0,
      stdout: ['title  | status | priority', '-------+--------+---------', 'first  | sql    |        3', 'second | sql    |     NULL', '(2 rows)', ''].join('\n'),
      stderr: '',
    });

    const json = await seqline(['sql', '--json', "SELECT title, priority FROM app.tickets WHERE status = 'sql' ORDER BY title"]);
    expect(json.code).toBe(0);
    expect(json.stdout.split('\n')).toHaveLength(2); // one line
    expect(JSON.parse(json.stdout)).toEqual([
      {
        schema: [
          { name: 'title', data_type: 'Text', index: 0, flags: ['nn'] },
          { name: 'priority', data_type: 'Int', index: 1 },
        ],
        rows: [
          ['first', 3],
          ['second', null],
        ],
        row_count: 2,
        as_user: 'alice',
      },
    ]);

    expect(await seqline(['sql', 'SELECT * FROM app.nope'])).toEqual({ code: 1, stdout: '', stderr: "error: TABLE_NOT_FOUND: table app.nope does not exist\n" });
    expect(await seqline(['sql', 'SELECT 1', '--format', 'xml'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: --format must be one of table, json, csv, got "xml"\nusage: seqline sql ["SQL" | -f FILE] [--format table|json|csv] [--url URL] [--user USER --password PASSWORD]\n(see seqline sql --help)\n',
    });
  });

  it('live prints the snapshot, a change made by another process, and resumes after the network drops', async () => {
    await ok(stack.url, alice, "INSERT INTO app.tickets (title, status) VALUES ('l1', 'live'), ('l2', 'live'), ('l3', 'live')");
    await using proxy = await tcpProxy(stack.url);
    await using live = start(['live', '--url', proxy.url, '--batch-size', '2', "SELECT id, title FROM app.tickets WHERE status = 'live'"], ALICE);
    await expect.poll(live.stderr, WAIT).toContain('ready: 3 rows');
    expect(byTitle(live.stdout())).toEqual(['row l1', 'row l2', 'row l3']);

    const other = await seqline(['sql', "INSERT INTO app.tickets (title, status) VALUES ('from another process', 'live')"]);
    expect(other.code).toBe(0);
    await expect.poll(() => byTitle(live.stdout()), WAIT).toContain('insert from another process');
    await ok(stack.url, alice, "UPDATE app.tickets SET title = 'renamed' WHERE title = 'l1'");
    await ok(stack.url, alice, "UPDATE app.tickets SET status = 'done' WHERE title = 'l2'"); // leaves the WHERE: a delete
    await expect.poll(() => byTitle(live.stdout()).length, WAIT).toBe(6);

    proxy.cut();
    await expect.poll(live.stderr, WAIT).toContain('reconnecting…');
    await ok(stack.url, alice, "INSERT INTO app.tickets (title, status) VALUES ('while away', 'live')");
    await ok(stack.url, alice, "DELETE FROM app.tickets WHERE title = 'l3'");
    proxy.restore();
    await expect.poll(() => byTitle(live.stdout()).length, WAIT).toBe(8);

    live.signal('SIGINT');
    expect(await live.exited).toBe(0);
    expect(byTitle(live.stdout())).toEqual(['row l1', 'row l2', 'row l3', 'insert from another process', 'update renamed', 'delete l2', 'insert while away', 'delete l3']);
    expect(live.stderr().replace(/_seq \d+/, '_seq N')).toBe(
      [`connecting to ${proxy.url}…`, 'open', 'loading 0/3 rows', 'loading 2/3 rows', 'ready: 3 rows, waiting for changes (Ctrl-C to stop)', 'reconnecting…', 'open', 'resumed after _seq N', ''].join('\n'),
    );
  });

  it('live --json prints every protocol event as one JSON line', async () => {
    await using live = start(['live', '--json', "SELECT id, title FROM app.tickets WHERE status = 'json'"]);
    await expect.poll(live.stderr, WAIT).toContain('ready: 0 rows');
    await ok(stack.url, alice, "INSERT INTO app.tickets (title, status) VALUES ('j1', 'json')");
    await expect.poll(() => live.stdout().split('\n').length, WAIT).toBe(4);
    live.signal('SIGINT');
    expect(await live.exited).toBe(0);
    const events = live
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e['type'])).toEqual(['subscription_ack', 'initial_data_batch', 'change']);
    expect(events[2]).toMatchObject({ change_type: 'insert', rows: [{ title: 'j1' }] });
  });
});
