// The live benchmark's WebSocket clients, kept cheap because they share the two cores with the
// stack: no permessage-deflate, `?compress=false` (text frames, no gunzip), plain JSON.parse
// (sequence ids lose precision, but only `n` is read). Socket s belongs to user s % users; its
// j-th subscription (id `s<j>`) is subscriber j × sockets + s, so adding subscriptions never
// renumbers the existing ones. A WebSocket Ping every 4 s keeps idle sockets open.
import WebSocket from 'ws';

export const LIVE_SQL = 'SELECT id, body, n FROM bench.messages';

/** Subscriber `g` received change `n` at `at` (performance.now()). */
export type OnChange = (g: number, n: number, at: number) => void;

type ServerMessage =
  | { type: 'auth_success' }
  | { type: 'subscription_ack'; subscription_id: string }
  | { type: 'change'; subscription_id: string; change_type: string; rows?: { n?: unknown }[] }
  | { type: 'error'; subscription_id: string; code: string; message: string }
  | { type: 'initial_data_batch' };

export class Fleet {
  readonly sockets: readonly WebSocket[];
  /** Error events and unexpected closes (the bench fails on any). */
  readonly errors: string[] = [];
  /** The first change frame received, as it came. */
  firstChange: string | undefined;
  readonly #users: number;
  readonly #pinger: NodeJS.Timeout;
  #subscriptionsPerSocket = 0;
  #acks = 0;
  #onAck: (() => void) | undefined;
  #closing = false;

  private constructor(sockets: WebSocket[], users: number) {
    this.sockets = sockets;
    this.#users = users;
    this.#pinger = setInterval(() => {
      for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, 4000);
  }

  /** Opens `count` sockets (authenticated by header with `tokens[s % tokens.length]`), 100 at a time. */
  static async open(baseUrl: string, tokens: readonly string[], count: number, onChange: OnChange): Promise<Fleet> {
    const sockets: WebSocket[] = [];
    const fleet = new Fleet(sockets, tokens.length);
    await openSockets(baseUrl, tokens, count, sockets, {
      onMessage: (s, data) => fleet.#onMessage(s, count, data, onChange),
      onClose: (s, code) => {
        if (!fleet.#closing) fleet.errors.push(`socket ${s} closed with ${code}`);
      },
    });
    return fleet;
  }

  /** The user whose changes subscriber `g` receives. */
  userOf(g: number): number {
    return (g % this.sockets.length) % this.#users;
  }

  get subscribers(): number {
    return this.sockets.length * this.#subscriptionsPerSocket;
  }

  /** Adds subscriptions (live only: no snapshot) until each socket has `perSocket`; resolves when all are acknowledged. */
  async subscribe(perSocket: number, deadlineMs = 60_000): Promise<void> {
    const want = this.sockets.length * perSocket;
    const acked = new Promise<void>((resolve) => {
      this.#onAck = () => this.#acks >= want && resolve();
      this.#onAck();
    });
    for (const ws of this.sockets) {
      for (let j = this.#subscriptionsPerSocket; j < perSocket; j++) ws.send(JSON.stringify({ type: 'subscribe', subscription: { id: `s${j}`, sql: LIVE_SQL } }));
    }
    this.#subscriptionsPerSocket = Math.max(perSocket, this.#subscriptionsPerSocket);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.#acks} of ${want} subscriptions acknowledged after ${deadlineMs} ms; errors: ${this.errors.slice(0, 3).join('; ')}`)), deadlineMs);
    });
    try {
      await Promise.race([acked, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every socket; resolves once all are closed. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pinger);
    await closeSockets(this.sockets);
  }

  #onMessage(s: number, sockets: number, data: Buffer, onChange: OnChange): void {
    const at = performance.now();
    const text = data.toString('utf8');
    const m = JSON.parse(text) as ServerMessage;
    switch (m.type) {
      case 'change': {
        this.firstChange ??= text;
        const g = Number(m.subscription_id.slice(1)) * sockets + s;
        for (const row of m.rows ?? []) onChange(g, Number(row.n), at);
        if (m.change_type !== 'insert') this.errors.push(`subscriber ${g} got a ${m.change_type}`);
        return;
      }
      case 'subscription_ack':
        this.#acks++;
        this.#onAck?.();
        return;
      case 'error':
        this.errors.push(`${m.subscription_id}: ${m.code} ${m.message}`);
        return;
      default:
        return;
    }
  }
}

/**
 * Opens `count` sockets into `sockets` (socket s authenticated by header with
 * `tokens[s % tokens.length]`), 100 at a time; resolves when all are open.
 */
export async function openSockets(baseUrl: string, tokens: readonly string[], count: number, sockets: WebSocket[], on: { onMessage(s: number, data: Buffer): void; onClose(s: number, code: number): void }): Promise<void> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/v1/ws?compress=false`;
  for (let from = 0; from < count; from += 100) {
    const opened = Array.from({ length: Math.min(100, count - from) }, (_, k) => {
      const s = from + k;
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${tokens[s % tokens.length]!}` }, perMessageDeflate: false });
      sockets.push(ws);
      ws.on('message', (data: Buffer) => on.onMessage(s, data));
      ws.on('close', (code) => on.onClose(s, code));
      return new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
    });
    await Promise.all(opened);
  }
}

/** Closes every socket; resolves once all are closed. */
export async function closeSockets(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map((ws) => {
      if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1000);
      return closed;
    }),
  );
}
