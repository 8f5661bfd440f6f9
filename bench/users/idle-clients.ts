// A client process of the users benchmark (forked by bench.ts, driven over IPC): it holds idle
// users' WebSockets, one per user (a socket is one user's), each with one live-only subscription
// to the users' table. All its sockets leave from one loopback address of their own, so the
// processes together are not bound by one address's ephemeral ports. Idle users are written no
// changes: any change one receives is counted as an error. Each socket keeps itself open as the
// SDK does (libs/client): a `{"type":"ping"}` message every 4 s, on its own timer from its open
// (bench.ts sets the gateway's silence timeout, SEQLINE_WS_IDLE_MS). These pings are part of what
// idle users cost the gateway.
import WebSocket from 'ws';
import { closeSockets } from '../live/clients.ts';

/** Messages from the bench. */
export type IdleCommand =
  | { readonly type: 'open'; readonly url: string; readonly localAddress: string; readonly tokens: readonly string[]; readonly sql: string }
  | { readonly type: 'close' };

/** Messages to the bench: after each `open`, `ready` (every subscription acknowledged) or `failed`; after `close`, `closed`. */
export type IdleReport =
  | { readonly type: 'ready'; readonly sockets: number; readonly changes: number; readonly retries: number; readonly errors: readonly string[] }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'closed'; readonly changes: number; readonly errors: readonly string[] };

/** Sockets opened at once. */
const CONCURRENCY = 200;
/**
 * The SDK's default `pingIntervalMs`, or SEQLINE_BENCH_USERS_PING_MS (what a longer interval
 * saves; the bench's gateway closes sockets silent for 60 s).
 */
const PING_MS = pingMs(process.env['SEQLINE_BENCH_USERS_PING_MS']);

function pingMs(text: string | undefined): number {
  if (text === undefined || text === '') return 4000;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100 || ms > 50_000) throw new Error(`SEQLINE_BENCH_USERS_PING_MS must be an integer from 100 to 50000 (ms), not ${text}`);
  return ms;
}
const PING = JSON.stringify({ type: 'ping' });

const sockets: WebSocket[] = [];
const errors: string[] = [];
let changes = 0;
/** Authentications answered UNAVAILABLE and tried again. */
let retries = 0;
/** Sockets closed by the gateway after an UNAVAILABLE authentication (tried again: no error). */
const retried = new WeakSet<WebSocket>();
let closing = false;

function report(r: IdleReport): void {
  process.send!(r);
}

/** Opens one user's socket and subscribes, again after an UNAVAILABLE authentication (what it says: retry), up to 20 times. */
async function openOne(url: string, localAddress: string, token: string, sql: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await openOnce(url, localAddress, token, sql);
      return;
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('UNAVAILABLE')) || attempt >= 20) throw err;
      retries++;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** Opens one user's socket (authenticated by header) and subscribes; resolves on the acknowledgement. */
function openOnce(url: string, localAddress: string, token: string, sql: string): Promise<void> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws?compress=false`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, localAddress });
  sockets.push(ws);
  return new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: 's0', sql } }));
      const pinger = setInterval(() => ws.send(PING), PING_MS);
      ws.once('close', () => clearInterval(pinger));
    });
    ws.on('error', (err) => {
      errors.push(`socket error: ${err.message}`);
      reject(err);
    });
    ws.on('close', (code) => {
      if (!closing && !retried.has(ws)) errors.push(`an idle socket closed with ${code}`);
      reject(new Error(`closed with ${code} before its subscription was acknowledged`));
    });
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type: string; code?: string; message?: string };
      if (m.type === 'subscription_ack') resolve();
      else if (m.type === 'change') changes++;
      else if (m.type === 'error' || m.type === 'auth_error') {
        if (m.code !== 'UNAVAILABLE') errors.push(`${m.type} ${m.code}: ${m.message}`);
        else retried.add(ws);
        reject(new Error(`${m.code}: ${m.message}`));
      }
    });
  });
}

async function open(c: Extract<IdleCommand, { type: 'open' }>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < c.tokens.length) await openOne(c.url, c.localAddress, c.tokens[next++]!, c.sql);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, c.tokens.length) }, lane));
}

async function closeAll(): Promise<void> {
  closing = true;
  await closeSockets(sockets);
}

process.on('message', (c: IdleCommand) => {
  if (c.type === 'open') {
    open(c).then(
      () => report({ type: 'ready', sockets: sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length, changes, retries, errors: errors.slice(0, 5) }),
      (err: unknown) => report({ type: 'failed', message: `${err instanceof Error ? err.message : String(err)}; ${errors.slice(0, 3).join('; ')}` }),
    );
  } else {
    void closeAll().then(() => {
      report({ type: 'closed', changes, errors: errors.slice(0, 5) });
      process.disconnect();
    });
  }
});
