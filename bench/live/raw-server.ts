// The live benchmark's raw WebSocket fan-out baseline: a bare `ws` server in its own process that
// does nothing but what the transport must: it accepts the same clients (a socket belongs to the
// user whose token it presents), acknowledges their subscriptions, and for each change number the
// bench sends it (over IPC, instead of a write) sends every subscription of that user's sockets
// the frame the gateway would send, one `ws.send` per frame as a plain `ws` server does. Nothing
// is filtered or stored; each change's JSON is made once and each frame splices its id in.
// Run by RawServer (raw.ts): the server tells its `{ port }` once it listens, the parent sends
// `{ tokens }` (answered `{ ready }`), then `{ n }` per change.
import { WebSocketServer, type WebSocket } from 'ws';

export type ToRawServer = { readonly tokens: readonly string[] } | { readonly n: number };
export type FromRawServer = { readonly port: number } | { readonly ready: true };

/** The row id and `_seq` of change `n`: 19 digits each, as a snowflake id and a sequence id print. */
const id19 = (base: bigint, n: number): string => String(base + BigInt(n));
const ID_BASE = 383470689023905793n;
const SEQ_BASE = 383470689023906000n;

/** Change `n`'s frame after its subscription id (as ws/messages.ts writes a change). */
export function rawChangeTail(n: number): string {
  return `,"change_type":"insert","rows":[{"id":"${id19(ID_BASE, n)}","body":"message ${n}","n":${n},"_seq":"${id19(SEQ_BASE, n)}"}]}`;
}

class RawFanOut {
  readonly #userOfToken: Map<string, number>;
  /** Per user, its open sockets and each one's subscription ids. */
  readonly #sockets: Map<WebSocket, string[]>[];

  constructor(tokens: readonly string[]) {
    this.#userOfToken = new Map(tokens.map((t, i) => [t, i]));
    this.#sockets = tokens.map(() => new Map<WebSocket, string[]>());
  }

  accept(ws: WebSocket, authorization: string | undefined): void {
    const user = this.#userOfToken.get(authorization?.replace(/^Bearer\s+/i, '') ?? '');
    if (user === undefined) return ws.close(4001, 'unknown token');
    const ids: string[] = [];
    const sockets = this.#sockets[user]!;
    sockets.set(ws, ids);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type: string; subscription?: { id: string } };
      if (m.type !== 'subscribe' || m.subscription === undefined) return;
      ids.push(m.subscription.id);
      ws.send(`{"type":"subscription_ack","subscription_id":${JSON.stringify(m.subscription.id)},"total_rows":0,"batch_control":{"batch_num":0,"has_more":false,"status":"ready"}}`);
    });
  }

  change(n: number): void {
    const tail = rawChangeTail(n);
    for (const [ws, ids] of this.#sockets[n % this.#sockets.length]!) {
      for (const id of ids) ws.send(`{"type":"change","subscription_id":${JSON.stringify(id)}${tail}`);
    }
  }
}

/** The process's name in /proc (bench/lib/cpu.ts names processes by it). */
export const RAW_SERVER_NAME = 'raw-ws-server';

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  process.title = RAW_SERVER_NAME;
  let fanOut: RawFanOut | undefined;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => {
    const address = wss.address();
    if (address !== null && typeof address === 'object') process.send?.({ port: address.port } satisfies FromRawServer);
  });
  wss.on('connection', (ws, req) => (fanOut === undefined ? ws.close(1013, 'not ready') : fanOut.accept(ws, req.headers.authorization)));
  process.on('message', (m: ToRawServer) => {
    if ('n' in m) return fanOut?.change(m.n);
    fanOut = new RawFanOut(m.tokens);
    process.send?.({ ready: true } satisfies FromRawServer);
  });
  process.on('disconnect', () => process.exit(0));
}
