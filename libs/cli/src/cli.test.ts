import { PassThrough, Readable } from 'node:stream';
import { ServerError, type ClientOptions, type FetchLike, type LiveEvent, type SeqlineClient, type Status, type SubscribeOptions } from '@seqline/client/node';
import { describe, expect, it } from 'vitest';
import { run } from './cli.js';
import type { Credentials } from './credentials.js';
import type { Io } from './io.js';

const URL = 'http://gw:1';
const SESSION = { user: 'alice', access_token: 'a1', expires_at: '2099-01-01T00:00:00.000Z', refresh_token: 'r1', refresh_expires_at: '2099-01-08T00:00:00.000Z' };
const LOGGED_IN: Credentials = { current: URL, sessions: { [URL]: SESSION } };

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** A subscription the test drives: what the CLI asked for, and its callbacks. */
interface FakeSub {
  sql: string;
  options: SubscribeOptions;
  onEvent: (event: LiveEvent) => void;
  status: (status: Status) => void;
  clientOptions: ClientOptions;
  closed: boolean;
}

function fakeIo(options: { credentials?: Credentials; reply?: (url: string, body: unknown, auth?: string) => Reply; prompt?: Io['prompt']; stdin?: string; files?: Record<string, string> } = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const requests: { url: string; body: unknown; auth?: string }[] = [];
  let credentials = options.credentials ?? { sessions: {} };
  const controller = new AbortController();
  const subs: FakeSub[] = [];
  const fetch: FetchLike = async (url, init) => {
    const body = JSON.parse(init.body ?? 'null') as unknown;
    const auth = init.headers['authorization'];
    requests.push({ url, body, ...(auth === undefined ? {} : { auth }) });
    const r = options.reply?.(url, body, auth) ?? { status: 500, body: {} };
    return { status: r.status, text: async () => JSON.stringify(r.body) };
  };
  const createClient = (clientOptions: ClientOptions): SeqlineClient => {
    let closed = false;
    let listener: (status: Status) => void = () => {};
    const client = {
      get status(): Status {
        return closed ? 'closed' : 'open';
      },
      onStatus: (l: (status: Status) => void) => void (listener = l),
      subscribe: (sql: string, onEvent: (event: LiveEvent) => void, options: SubscribeOptions) => {
        subs.push({ sql, options, onEvent, status: (s) => listener(s), clientOptions, closed: false });
        return () => {};
      },
      close: () => {
        closed = true;
        subs.forEach((s) => (s.closed = true));
      },
    };
    return client as unknown as SeqlineClient;
  };
  const io: Io = {
    env: {},
    out: (text) => void stdout.push(text),
    err: (text) => void stderr.push(text),
    errIsTTY: false,
    fetch,
    now: () => Date.parse('2025-06-01T12:00:00Z'),
    credentials: { path: '/home/u/.config/seqline/credentials.json', load: async () => credentials, save: async (c) => void (credentials = c) },
    createClient,
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stdout: new PassThrough(),
    readFile: async (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
    history: { path: '/home/u/.config/seqline/history', load: async () => [], save: async () => {} },
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    signal: controller.signal,
  };
  return { io, stdout: () => stdout.join(''), stderr: () => stderr.join(''), requests, credentials: () => credentials, interrupt: () => controller.abort(), subs };
}

const sqlReply = (results: unknown[]) => (): Reply => ({ status: 200, body: { status: 'success', took: 1.5, results } });

describe('seqline (run)', () => {
  it('prints the version, help, and usage errors with exit code 2', async () => {
    const a = fakeIo();
    expect(await run(['--version'], a.io, '1.2.3')).toBe(0);
    expect(a.stdout()).toBe('seqline 1.2.3\n');
    const b = fakeIo();
    expect(await run(['sql', '--help'], b.io, '1.2.3')).toBe(0);
    expect(b.stdout()).toMatch(/^Usage: seqline sql \["SQL" \| -f FILE\] \[--format table\|json\|csv\]/);
    const c = fakeIo();
    expect(await run([], c.io, '1.2.3')).toBe(2);
    expect(c.stderr()).toMatch(/^seqline: the Seqline command line\n/);
    const d = fakeIo();
    expect(await run(['sql', 'SELECT 1', 'extra'], d.io, '1.2.3')).toBe(2);
    expect(d.stderr()).toBe('error: give the SQL as one argument, in quotes (got 2 arguments)\nusage: seqline sql ["SQL" | -f FILE] [--format table|json|csv] [--url URL] [--user USER --password PASSWORD]\n(see seqline sql --help)\n');
    const e = fakeIo();
    expect(await run(['select'], e.io, '1.2.3')).toBe(2);
    expect(e.stderr()).toBe('error: unknown command "select"\nusage: seqline <login|sql|live|gen> [options]\n(see seqline --help)\n');
    const f = fakeIo();
    expect(await run(['live', 'SELECT 1', '--url', 'localhost:8080'], f.io, '1.2.3')).toBe(2);
    expect(f.stderr()).toBe('error: --url must be an http:// or https:// URL, got "localhost:8080"\nusage: seqline live "SELECT …" [--json] [--count] [--batch-size N] [--url URL] [--user USER --password PASSWORD]\n(see seqline live --help)\n');
  });

  it('login saves the session for the URL and makes it the default', async () => {
    const f = fakeIo({ reply: () => ({ status: 200, body: { user: { id: 'alice' }, access_token: 'a2', refresh_token: 'r2', expires_at: 'E', refresh_expires_at: 'R' } }) });
    expect(await run(['login', '--url', `${URL}/`, '--user', 'alice', '--password', 'alice-pass-1'], f.io, '1')).toBe(0);
    expect(f.requests).toEqual([{ url: `${URL}/v1/api/auth/login`, body: { username: 'alice', password: 'alice-pass-1' } }]);
    expect(f.credentials()).toEqual({ current: URL, sessions: { [URL]: { user: 'alice', access_token: 'a2', refresh_token: 'r2', expires_at: 'E', refresh_expires_at: 'R' } } });
    expect(f.stdout()).toBe(`logged in to ${URL} as alice (session saved in /home/u/.config/seqline/credentials.json)\n`);
  });

  it('login asks on a terminal for what is missing, and is a usage error without one', async () => {
    const asked: string[] = [];
    const f = fakeIo({ reply: () => ({ status: 200, body: { access_token: 'a', refresh_token: 'r' } }), prompt: async (q, hidden) => (asked.push(`${q}${hidden}`), hidden ? ' secret ' : ' bob ') });
    expect(await run(['login', '--url', URL], f.io, '1')).toBe(0);
    expect(asked).toEqual(['user: false', 'password for bob: true']);
    expect(f.requests[0]!.body).toEqual({ username: 'bob', password: ' secret ' });
    const g = fakeIo();
    expect(await run(['login', '--user', 'bob'], g.io, '1')).toBe(2);
    expect(g.stderr()).toMatch(/^error: no password: give --password or SEQLINE_PASSWORD \(stdin is not a terminal to ask on\)\n/);
    const h = fakeIo({ reply: () => ({ status: 401, body: { error: 'unauthorized', message: 'invalid username or password' } }) });
    expect(await run(['login', '--user', 'bob', '--password', 'x'], h.io, '1')).toBe(1);
    expect(h.stderr()).toBe('error: UNAUTHORIZED: invalid username or password\n');
    expect(h.credentials()).toEqual({ sessions: {} });
  });

  it('sql prints the results as tables with the saved session, or as JSON', async () => {
    const results = [{ schema: [{ name: 'id', data_type: 'BigInt', index: 0 }, { name: 'title', data_type: 'Text', index: 1 }], rows: [['331234567890123456', 'first']], row_count: 1, as_user: 'alice' }];
    const f = fakeIo({ credentials: LOGGED_IN, reply: sqlReply(results) });
    expect(await run(['sql', 'SELECT id, title FROM app.t'], f.io, '1')).toBe(0);
    expect(f.requests).toEqual([{ url: `${URL}/v1/api/sql`, body: { sql: 'SELECT id, title FROM app.t' }, auth: 'Bearer a1' }]);
    expect(f.stdout()).toBe('id                 | title\n-------------------+------\n331234567890123456 | first\n(1 row)\n');
    const g = fakeIo({ credentials: LOGGED_IN, reply: sqlReply(results) });
    expect(await run(['sql', '--json', 'SELECT id, title FROM app.t'], g.io, '1')).toBe(0);
    expect(g.stdout()).toBe(`${JSON.stringify(results)}\n`);
  });

  it('sql reports the server error, a missing session, and renews a token the server says expired', async () => {
    const f = fakeIo({ credentials: LOGGED_IN, reply: () => ({ status: 400, body: { status: 'error', results: [], took: 0, error: { code: 'TABLE_NOT_FOUND', message: 'table app.nope not found' } } }) });
    expect(await run(['sql', 'SELECT * FROM app.nope'], f.io, '1')).toBe(1);
    expect(f.stderr()).toBe('error: TABLE_NOT_FOUND: table app.nope not found\n');
    const g = fakeIo();
    expect(await run(['sql', 'SELECT 1', '--url', URL], g.io, '1')).toBe(1);
    expect(g.stderr()).toBe(`error: NOT_LOGGED_IN: not logged in to ${URL}: run "seqline login --url ${URL}" (or give --password)\n`);
    const h = fakeIo({
      credentials: LOGGED_IN,
      reply: (url, _body, auth) =>
        url.endsWith('/refresh') ? { status: 200, body: { access_token: 'a3', refresh_token: 'r3', expires_at: '2099-01-01T00:00:00Z', refresh_expires_at: '2099-01-08T00:00:00Z' } } : auth === 'Bearer a1' ? { status: 401, body: { status: 'error', results: [], error: { code: 'TOKEN_EXPIRED', message: 'token expired' } } } : sqlReply([{ row_count: 1, message: 'Inserted 1 row(s)' }])(),
    });
    expect(await run(['sql', "INSERT INTO app.t (title) VALUES ('x')"], h.io, '1')).toBe(0);
    expect(h.requests.map((r) => `${r.url} ${r.auth}`)).toEqual([`${URL}/v1/api/sql Bearer a1`, `${URL}/v1/api/auth/refresh Bearer r1`, `${URL}/v1/api/sql Bearer a3`]);
    expect(h.stdout()).toBe('Inserted 1 row(s)\n');
  });

  it('sql -f runs a file statement by statement, a transaction as one request, and stops at the first failure with its position', async () => {
    const file = ["INSERT INTO app.t (title) VALUES ('a;b');", '-- the next one fails', 'BEGIN;', "  UPDATE app.t SET title = 'c';", 'COMMIT;', '', 'SELECT *', '  FROM app.nope;', 'SELECT 1;'].join('\n');
    const f = fakeIo({
      credentials: LOGGED_IN,
      files: { 'm.sql': file },
      reply: (_url, body) =>
        (body as { sql: string }).sql.includes('nope')
          ? { status: 404, body: { status: 'error', results: [], error: { code: 'TABLE_NOT_FOUND', message: 'table app.nope does not exist' } } }
          : sqlReply([{ row_count: 1, message: 'done' }])(),
    });
    expect(await run(['sql', '-f', 'm.sql'], f.io, '1')).toBe(1);
    expect(f.requests.map((r) => (r.body as { sql: string }).sql)).toEqual(["INSERT INTO app.t (title) VALUES ('a;b')", "BEGIN;\nUPDATE app.t SET title = 'c';\nCOMMIT", 'SELECT *\n  FROM app.nope']);
    expect(f.stdout()).toBe('done\n\ndone\n');
    expect(f.stderr()).toBe('error: m.sql:7:1: statement 5: TABLE_NOT_FOUND: table app.nope does not exist\n');
  });

  it('sql -f names the failing transaction, refuses a file that ends inside a string, and one it cannot read', async () => {
    const failing = (): Reply => ({ status: 400, body: { status: 'error', results: [], error: { code: 'INVALID_SQL', message: 'statement 2 of the transaction: bad' } } });
    const f = fakeIo({ credentials: LOGGED_IN, files: { 't.sql': 'BEGIN; SELECT 1;\nCOMMIT;\n' }, reply: failing });
    expect(await run(['sql', '-f', 't.sql'], f.io, '1')).toBe(1);
    expect(f.stderr()).toBe('error: t.sql:1:1: statements 1-3 (a transaction): INVALID_SQL: statement 2 of the transaction: bad\n');
    const g = fakeIo({ credentials: LOGGED_IN, files: { 'open.sql': "SELECT 1;\nSELECT 'never closed;\n" }, reply: sqlReply([{ row_count: 0, message: 'ok' }]) });
    expect(await run(['sql', '-f', 'open.sql'], g.io, '1')).toBe(1);
    expect(g.requests).toHaveLength(1);
    expect(g.stderr()).toBe('error: open.sql:2:1: INCOMPLETE_SQL: the input ends inside a string\n');
    const h = fakeIo({ credentials: LOGGED_IN });
    expect(await run(['sql', '-f', 'missing.sql'], h.io, '1')).toBe(1);
    expect(h.stderr()).toBe('error: CANNOT_READ_FILE: cannot read missing.sql (ENOENT)\n');
  });

  it('sql reads a script piped into stdin (no prompts), and prints CSV with the messages on stderr', async () => {
    const rows = { schema: [{ name: 'title', data_type: 'Text', index: 0 }, { name: 'n', data_type: 'Int', index: 1 }], rows: [['a, b', 1], ['', null]], row_count: 2 };
    const f = fakeIo({ credentials: LOGGED_IN, stdin: "INSERT INTO app.t (title) VALUES ('x');\nSELECT title, n\nFROM app.t;\n", reply: (_url, body) => sqlReply([(body as { sql: string }).sql.startsWith('INSERT') ? { row_count: 1, message: 'Inserted 1 row(s)' } : rows])() });
    expect(await run(['sql', '--format', 'csv'], f.io, '1')).toBe(0);
    expect(f.stdout()).toBe('title,n\r\n"a, b",1\r\n"",\r\n');
    expect(f.stderr()).toBe('Inserted 1 row(s)\n');
    const g = fakeIo({ credentials: LOGGED_IN, stdin: '\\q\nSELECT 1;\n' });
    expect(await run(['sql'], g.io, '1')).toBe(0);
    expect(g.requests).toEqual([]);
  });

  it('sql gives up with 130 on Ctrl-C', async () => {
    const f = fakeIo({ credentials: LOGGED_IN });
    const never: FetchLike = () => new Promise(() => {});
    const exit = run(['sql', 'SELECT 1'], { ...f.io, fetch: never }, '1');
    f.interrupt();
    expect(await exit).toBe(130);
  });

  it('live prints rows and changes until Ctrl-C (exit 0)', async () => {
    const f = fakeIo({ credentials: LOGGED_IN });
    const exit = run(['live', 'SELECT id FROM app.t', '--batch-size', '2'], f.io, '1');
    await expect.poll(() => f.subs.length).toBe(1);
    const sub = f.subs[0]!;
    expect(sub.sql).toBe('SELECT id FROM app.t');
    expect(sub.options.options).toEqual({ batch_size: 2 });
    expect(sub.clientOptions).toMatchObject({ url: URL, bigint: 'string' });
    expect(await (sub.clientOptions.auth as { token: (o: { refresh: boolean }) => Promise<string> }).token({ refresh: false })).toBe('a1');
    sub.status('connecting');
    sub.status('open');
    sub.onEvent({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 1, batch_control: { status: 'ready', last_seq_id: 5n } });
    sub.onEvent({ type: 'initial_data_batch', subscription_id: 'q1', rows: [{ id: '1', _seq: '5' }], batch_control: { status: 'ready' } });
    sub.onEvent({ type: 'change', subscription_id: 'q1', change_type: 'insert', rows: [{ id: '2', _seq: '6' }] });
    f.interrupt();
    expect(await exit).toBe(0);
    expect(sub.closed).toBe(true);
    expect(f.stdout()).toBe('row {"id":"1","_seq":"5"}\ninsert {"id":"2","_seq":"6"}\n');
    expect(f.stderr()).toBe(`connecting to ${URL}…\nopen\nready: 1 row, waiting for changes (Ctrl-C to stop)\n`);
  });

  it('live redraws its progress bar in place on a terminal', async () => {
    const f = fakeIo({ credentials: LOGGED_IN });
    const exit = run(['live', 'SELECT id FROM app.t', '--count'], { ...f.io, errIsTTY: true }, '1');
    await expect.poll(() => f.subs.length).toBe(1);
    const sub = f.subs[0]!;
    sub.onEvent({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 4, batch_control: { status: 'loading', last_seq_id: 9n } });
    sub.onEvent({ type: 'initial_data_batch', subscription_id: 'q1', rows: [{ id: '1', _seq: '5' }, { id: '2', _seq: '6' }], batch_control: { status: 'loading' } });
    sub.onEvent({ type: 'initial_data_batch', subscription_id: 'q1', rows: [{ id: '3', _seq: '7' }, { id: '4', _seq: '9' }], batch_control: { status: 'ready' } });
    f.interrupt();
    expect(await exit).toBe(0);
    expect(f.stdout()).toBe('');
    expect(f.stderr()).toBe(
      '\r\x1b[Kloading [                        ] 0/4 rows' + '\r\x1b[Kloading [############            ] 2/4 rows' + '\r\x1b[K' + 'ready: 4 rows, waiting for changes (Ctrl-C to stop)\n',
    );
  });

  it('live stops with exit 1 on an error the SDK does not retry', async () => {
    const f = fakeIo({ credentials: LOGGED_IN });
    const exit = run(['live', 'SELECT nope FROM app.t'], f.io, '1');
    await expect.poll(() => f.subs.length).toBe(1);
    expect(f.subs[0]!.options.options).toEqual({});
    f.subs[0]!.options.onError!(new ServerError('INVALID_SQL', 'unknown column nope'));
    expect(await exit).toBe(1);
    expect(f.stderr()).toBe('error: INVALID_SQL: unknown column nope\n');
  });
});
