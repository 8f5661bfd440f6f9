// Protocol fuzzing (issue 10, part E): random and mutated HTTP bodies (POST /v1/api/sql,
// auth/login, auth/refresh) and WebSocket frames against a gateway running as a child process
// (so a crash shows as its exit), from many connections at once, with a fixed seed.
// Oracles: the gateway never exits; every HTTP request is answered within 10 s with a status
// and body of the error table (no 5xx, no stack trace); every WebSocket frame gets its
// documented reaction within 10 s (each frame is followed by a marker message whose answer
// proves the frame was handled): a close with the close code of WS_CLOSE the frame calls for,
// or an `error` event with the code its bad field calls for, and every server message parses
// with @seqline/protocol's server schema (so every code is in the table); a bystander is
// served throughout and at the end. `npm test` runs 10,000 cases (6,000 requests and 4,000
// frames) to stay within its time; the run of 100,000 (SEQLINE_FUZZ_HTTP=50000
// SEQLINE_FUZZ_WS=50000) and its figures are in the README. Seed: SEQLINE_FUZZ_SEED.
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { ERRORS, FrameError, isErrorCode, MessageError, parseClientMessage, serverMessageSchema, WS_CLOSE } from '@seqline/protocol';
import { parseJsonLossless } from '@seqline/seq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createBystander, expectServed, type Bystander } from './bystander.js';
import { login, ok, post } from './client.js';
import { httpCases, wsFrames, type Frame, type HttpCase } from './fuzz-inputs.js';
import { startStack, type ChildService, type Stack } from './stack.js';

const SEED = Number(process.env['SEQLINE_FUZZ_SEED'] ?? 20_261_210);
const HTTP_CASES = Number(process.env['SEQLINE_FUZZ_HTTP'] ?? 6_000);
const WS_CASES = Number(process.env['SEQLINE_FUZZ_WS'] ?? 4_000);
// Enough connections to interleave every kind of request and frame, few enough that the
// fuzzers (whose rate limits are lifted) leave this 2-core machine's gateway room for the bystander.
const HTTP_WORKERS = 16;
const WS_WORKERS = 8;
const MAX_FRAME_BYTES = 1_048_576;
const ANSWER_MS = 10_000;
/** The auth endpoints' `error` values (KalamDB's) with their statuses; 5xx ones count as failures. */
const AUTH_ERRORS: Readonly<Record<string, number>> = { invalid_input: 400, unauthorized: 401, forbidden: 403, already_configured: 409, payload_too_large: 413, rate_limited: 429 };
const CLOSE_CODES = new Set<number>(Object.values(WS_CLOSE));

let stack: Stack;
let gateway: ChildService;
let fuzzed: Stack;
let bystander: Bystander;
let access: string;
let refresh: string;

beforeAll(async () => {
  stack = await startStack({
    env: { SEQLINE_QUERY_RATE: '1000000', SEQLINE_LOGIN_RATE: '100000', SEQLINE_LOGIN_MAX_FAILURES: '1000', SEQLINE_WS_MESSAGE_RATE: '100000', SEQLINE_WS_AUTH_TIMEOUT_MS: '60000', SEQLINE_WS_IDLE_MS: '600000', SEQLINE_WS_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) },
  });
  const admin = await login(stack.url, stack.admin.user, stack.admin.password);
  await ok(stack.url, admin, `CREATE NAMESPACE IF NOT EXISTS fz`);
  await ok(stack.url, admin, `CREATE TABLE fz.items (id BIGINT PRIMARY KEY, note TEXT) WITH (TYPE='USER')`);
  await ok(stack.url, admin, `CREATE USER fuzzer WITH PASSWORD 'fuzzer-password' ROLE user`);
  gateway = await stack.spawn('gateway');
  fuzzed = { ...stack, url: gateway.url! };
  bystander = await createBystander(fuzzed, admin, 'fzb');
  const tokens = await post<{ access_token: string; refresh_token: string }>(`${fuzzed.url}/v1/api/auth/login`, { username: 'fuzzer', password: 'fuzzer-password' });
  ({ access_token: access, refresh_token: refresh } = tokens.body);
  await ok(fuzzed.url, access, `INSERT INTO fz.items (id, note) VALUES (1, 'a'), (2, 'b'), (3, 'ca'), (4, 'd'), (5, 'ea')`);
}, 120_000);

/** The bystander's watch runs while this is true. */
let running = false;

afterAll(async () => {
  running = false;
  await gateway?.kill();
  await stack?.[Symbol.asyncDispose]();
});

/** `total` values of `arb`, generated 500 at a time from the seed (never all held at once). */
function* generate<T>(arb: fc.Arbitrary<T>, total: number, seed: number): Generator<T> {
  for (let done = 0, chunk = 0; done < total; chunk++) {
    const n = Math.min(500, total - done);
    yield* fc.sample(arb, { seed: seed + chunk, numRuns: n });
    done += n;
  }
}

class Failures {
  readonly list: string[] = [];
  add(what: string): void {
    if (this.list.length < 20) this.list.push(what.slice(0, 400));
    else this.list.length++;
  }
}

// ---- HTTP ----

// node:http with keep-alive: a third of fetch's cost per request on the client side.
const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_WORKERS });

function request(c: HttpCase): Promise<{ readonly status: number; readonly text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${fuzzed.url}${c.path}`, { method: 'POST', headers: c.headers, agent, signal: AbortSignal.timeout(ANSWER_MS) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

async function httpOne(c: HttpCase, failures: Failures): Promise<void> {
  const what = `${c.path} ${JSON.stringify(c.headers)} ${String(c.body).slice(0, 80)}`;
  let status: number;
  let text: string;
  try {
    ({ status, text } = await request(c));
  } catch (err) {
    // A body over the limit is refused (413) before it is read, and the connection closed: the
    // client may see that as a reset while it is still sending. Anything else is a failure.
    if (Buffer.byteLength(c.body) > 1_048_576 && (err as Error).name !== 'AbortError') return;
    return failures.add(`no answer (${(err as Error).name}: ${(err as Error).message}) to ${what}`);
  }
  if (/\n\s+at /.test(text)) return failures.add(`a stack trace in ${status} ${text} for ${what}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return failures.add(`not JSON: ${status} ${text} for ${what}`);
  }
  if (c.path === '/v1/api/sql') {
    const code = (body['error'] as { code?: unknown } | undefined)?.code;
    if (status === 200 ? body['status'] !== 'success' : !isErrorCode(code) || ERRORS[code].http !== status || status >= 500) failures.add(`${status} ${text} for ${what}`);
    return;
  }
  const error = body['error'];
  if (status === 200 ? typeof body['access_token'] !== 'string' : typeof error !== 'string' || AUTH_ERRORS[error] !== status) failures.add(`${status} ${text} for ${what}`);
}

const finished = { http: 0, ws: 0 };

async function fuzzHttp(failures: Failures): Promise<number> {
  const cases = generate(httpCases(access, refresh), HTTP_CASES, SEED);
  let sent = 0;
  await Promise.all(
    Array.from({ length: HTTP_WORKERS }, async () => {
      for (const c of cases) {
        sent++;
        await httpOne(c, failures);
      }
    }),
  );
  finished.http = performance.now();
  return sent;
}

// ---- WebSocket ----

type Reaction = { readonly kind: 'close'; readonly code: number } | { readonly kind: 'error'; readonly code: string; readonly id: string } | { readonly kind: 'any'; readonly ends?: boolean };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The documented reaction to a frame (docs/protocol.md §4 and the error table). */
function expected(f: Frame): Reaction {
  if (Buffer.byteLength(f.data) > MAX_FRAME_BYTES) return { kind: 'close', code: WS_CLOSE.FRAME_TOO_LARGE };
  if (f.binary) return { kind: 'close', code: WS_CLOSE.INVALID_FRAME };
  let text: string;
  try {
    text = utf8.decode(typeof f.data === 'string' ? Buffer.from(f.data) : f.data); // as sent: lone surrogates become U+FFFD
  } catch {
    return { kind: 'close', code: WS_CLOSE.INVALID_UTF8 };
  }
  try {
    const m = parseClientMessage(text);
    if (m.type === 'authenticate' && m.token !== access) return { kind: 'close', code: WS_CLOSE.AUTH_FAILED };
    if (m.type === 'authenticate') return { kind: 'any', ends: true };
    return { kind: 'any' };
  } catch (err) {
    if (err instanceof FrameError) return { kind: 'close', code: WS_CLOSE.INVALID_FRAME };
    if (err instanceof MessageError) return { kind: 'error', code: err.code, id: err.subscriptionId };
    throw err;
  }
}

interface Conn {
  readonly ws: WebSocket;
  readonly messages: Record<string, unknown>[];
  closed: { code: number } | undefined;
  onChange: () => void;
}

async function openConn(authenticated: boolean, failures: Failures): Promise<Conn> {
  const ws = new WebSocket(`${fuzzed.url.replace('http', 'ws')}/v1/ws?compress=false`, { headers: authenticated ? { authorization: `Bearer ${access}` } : {}, perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
  const conn: Conn = { ws, messages: [], closed: undefined, onChange: () => {} };
  ws.on('message', (data: Buffer, binary: boolean) => {
    const text = (binary ? gunzipSync(data) : data).toString('utf8');
    const parsed = serverMessageSchema.safeParse(parseJsonLossless(text));
    if (!parsed.success) failures.add(`undocumented server message ${text}`);
    conn.messages.push(parseJsonLossless(text) as Record<string, unknown>);
    conn.onChange();
  });
  ws.on('close', (code) => {
    conn.closed = { code };
    conn.onChange();
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  // The server does not take compressed client frames: permessage-deflate is never agreed.
  if (ws.extensions !== '') failures.add(`the server agreed to extensions ${ws.extensions}`);
  return conn;
}

function until(conn: Conn, done: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ANSWER_MS);
    conn.onChange = () => {
      if (!done()) return;
      clearTimeout(timer);
      resolve(true);
    };
    conn.onChange();
  });
}

let markers = 0;
const markerOf = (m: Record<string, unknown>): string | undefined => (m['type'] === 'error' && m['code'] === 'INVALID_SUBSCRIPTION_ID' && String(m['subscription_id']).startsWith('zz-marker-') ? String(m['subscription_id']) : undefined);

interface Sent {
  readonly frame: Frame;
  readonly reaction: Reaction;
  readonly marker: string;
}

/** Up to 16 frames, ending early after one that closes the socket. */
function nextWindow(frames: Iterator<Frame>): Sent[] {
  const window: Sent[] = [];
  while (window.length < 16) {
    const next = frames.next();
    if (next.done === true) break;
    const reaction = expected(next.value);
    window.push({ frame: next.value, reaction, marker: `zz-marker-${++markers}` });
    // An authenticate is checked against the user's record before later messages are handled,
    // while a frame that breaks the WebSocket protocol closes the socket as it arrives: the
    // window waits for an authenticate's answer before it sends more.
    if (reaction.kind === 'close' || (reaction.kind === 'any' && reaction.ends === true)) break;
  }
  return window;
}

/**
 * Sends a window, each frame followed by its marker, and checks each reaction. A frame that
 * closes the socket is sent only once every marker before it is answered: the server closes
 * on a bad frame as it arrives, and need not answer what came before it first.
 */
async function wsWindow(conn: Conn, sent: readonly Sent[], failures: Failures): Promise<void> {
  const start = conn.messages.length;
  const describe = (f: Frame): string => `${f.binary ? 'binary ' : ''}${String(f.data).slice(0, 120)}`;
  const closing = sent.at(-1)?.reaction.kind === 'close' ? sent.at(-1) : undefined;
  const body = closing === undefined ? sent : sent.slice(0, -1);
  for (const s of body) {
    conn.ws.send(s.frame.data, { binary: s.frame.binary });
    conn.ws.send(JSON.stringify({ type: 'next_batch', subscription_id: s.marker }));
  }
  const lastMarker = body.at(-1)?.marker;
  if (lastMarker !== undefined) {
    const answered = await until(conn, () => conn.closed !== undefined || conn.messages.slice(start).some((m) => markerOf(m) === lastMarker));
    if (!answered) return failures.add(`no reaction within ${ANSWER_MS} ms to ${describe(body.at(-1)!.frame)}`);
  }
  if (closing !== undefined && conn.closed === undefined) {
    conn.ws.send(closing.frame.data, { binary: closing.frame.binary });
    if (!(await until(conn, () => conn.closed !== undefined))) return failures.add(`no reaction within ${ANSWER_MS} ms to ${describe(closing.frame)}`);
  }
  const seen = conn.messages.slice(start);
  let from = 0;
  for (const s of sent) {
    if (s.reaction.kind === 'close') {
      if (conn.closed?.code !== s.reaction.code) failures.add(`expected close ${s.reaction.code}, got ${JSON.stringify(conn.closed)} for ${describe(s.frame)}`);
      return;
    }
    const at = seen.findIndex((m) => markerOf(m) === s.marker);
    if (at < 0) return failures.add(`closed ${JSON.stringify(conn.closed)} before the marker after ${describe(s.frame)}`);
    const reaction = s.reaction;
    if (reaction.kind === 'error' && !seen.slice(from, at).some((m) => m['type'] === 'error' && m['code'] === reaction.code && m['subscription_id'] === reaction.id)) {
      failures.add(`expected error ${reaction.code} (${reaction.id}), got ${JSON.stringify(seen.slice(from, at)).slice(0, 200)} for ${describe(s.frame)}`);
    }
    from = at + 1;
  }
  if (conn.closed !== undefined && !CLOSE_CODES.has(conn.closed.code)) failures.add(`undocumented close ${conn.closed.code}`);
}

async function fuzzWs(failures: Failures): Promise<number> {
  const frames = generate(wsFrames(access), WS_CASES, SEED + 1_000_000);
  let sent = 0;
  let opened = 0;
  await Promise.all(
    Array.from({ length: WS_WORKERS }, async () => {
      let conn: Conn | undefined;
      for (;;) {
        const window = nextWindow(frames);
        if (window.length === 0) break;
        if (conn === undefined || conn.closed !== undefined) conn = await openConn(++opened % 5 !== 0, failures);
        const before = conn.ws.readyState;
        await wsWindow(conn, window, failures);
        sent += window.length;
        if (before !== WebSocket.OPEN) failures.add('a window was sent on a socket that was not open');
      }
      conn?.ws.close();
    }),
  );
  finished.ws = performance.now();
  return sent;
}

describe('protocol fuzzing', () => {
  it('answers every random and mutated request and frame with a documented code, and keeps serving', async () => {
    let exited: number | null | undefined;
    void gateway.exited.then((code) => (exited = code));
    const failures = new Failures();
    running = true;
    let served = 0;
    let unserved: unknown;
    // The bystander is checked every 2 s while the fuzzers run (a check takes well under that).
    const watch = (async () => {
      while (running) {
        await expectServed(fuzzed, bystander);
        served++;
        await delay(2000);
      }
    })().catch((err: unknown) => {
      unserved = err;
    });
    const started = performance.now();
    let counts: [number, number];
    try {
      counts = await Promise.all([fuzzHttp(failures), fuzzWs(failures)]);
    } finally {
      running = false;
      await watch;
    }
    const [http, ws] = counts;
    const seconds = (performance.now() - started) / 1000;
    const [httpS, wsS] = [(finished.http - started) / 1000, (finished.ws - started) / 1000];
    process.stdout.write(
      `protocol fuzzing (seed ${SEED}): ${http} HTTP requests in ${httpS.toFixed(1)} s (${Math.round(http / httpS)}/s) and ${ws} WebSocket frames in ${wsS.toFixed(1)} s (${Math.round(ws / wsS)}/s), side by side, ${seconds.toFixed(1)} s in all; bystander served ${served} times\n`,
    );
    expect(unserved).toBeUndefined();
    expect(failures.list).toEqual([]);
    expect(http + ws).toBeGreaterThanOrEqual(Math.min(100_000, HTTP_CASES + WS_CASES));
    expect(exited).toBeUndefined();
    expect(served).toBeGreaterThan(0);
    await expectServed(fuzzed, bystander);
  }, 1_800_000); // the run's length depends on the machine's load: see the figures in the README
});
