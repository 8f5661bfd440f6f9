// A raw WebSocket client for the e2e tests (no SDK): every frame the server sends, parsed
// losslessly (gunzipped when binary), kept in order.
import { gunzipSync } from 'node:zlib';
import { parseJsonLossless } from '@seqline/seq';
import WebSocket from 'ws';

export type Msg = Record<string, unknown>;

export interface WsClient {
  readonly ws: WebSocket;
  /** Every server message so far, in order. */
  readonly messages: Msg[];
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  send(message: unknown): void;
}

export interface OpenOptions {
  /** Sent as `Authorization: Bearer`. */
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** Default `?compress=false`. */
  readonly query?: string;
  /**
   * Send a WebSocket Ping this often, as the SDK does: the server closes a socket silent for its
   * idle limit (SEQLINE_WS_IDLE_MS, 10 s by default), and a test on a loaded machine can
   * outlast that. Default 2000; 0 keeps the socket silent.
   */
  readonly pingMs?: number;
  /** Sees each message as it arrives (it is kept in `messages` too). */
  readonly onMessage?: (m: Msg) => void;
}

/** Opens `/v1/ws` on the gateway at `base` (http://…); resolves once the socket is open. */
export async function openSocket(base: string, options: OpenOptions = {}): Promise<WsClient> {
  const headers = { ...options.headers, ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
  // An upgrade left unanswered fails the test here, not at the test's own timeout.
  const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/ws${options.query ?? '?compress=false'}`, { headers, handshakeTimeout: 30_000 });
  const pingMs = options.pingMs ?? 2000;
  if (pingMs > 0) {
    const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), pingMs);
    ws.on('close', () => clearInterval(timer));
  }
  const messages: Msg[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    const m = parseJsonLossless((binary ? gunzipSync(data) : data).toString('utf8')) as Msg;
    messages.push(m);
    options.onMessage?.(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed, send: (m) => ws.send(JSON.stringify(m)) };
}

/** The row of a `change` event: its new image, or for a delete its old one. */
export const rowOf = (m: Msg): Msg => ((m['rows'] ?? m['old_values']) as Msg[])[0]!;
