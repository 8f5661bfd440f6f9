// Client sockets of a peer (Zero's, the NOTIFY baseline's) for the peers benchmark: opened 100 at
// a time, each subscribed to its own user's rows, every row received handed to the workload.
import WebSocket from 'ws';
import { closeSockets } from '../live/clients.ts';
import { type OnChange, type PeerClients, within } from './peer.ts';

/** What a client socket reports: a row (its change number), its subscription in place, an error. */
export interface ClientEvents {
  onRow(n: number, at: number): void;
  onReady(): void;
  onError(message: string): void;
}

/** Opens client socket `g` (or the snapshot client, g = -1) and wires its messages to `events`. */
export type Connect = (g: number, events: ClientEvents) => WebSocket;

export class SocketFleet implements PeerClients {
  readonly errors: string[] = [];
  readonly #sockets: WebSocket[] = [];
  readonly #pinger: NodeJS.Timeout;
  #closing = false;

  private constructor(ping: (ws: WebSocket) => void) {
    this.#pinger = setInterval(() => {
      for (const ws of this.#sockets) if (ws.readyState === WebSocket.OPEN) ping(ws);
    }, 4000);
  }

  /** `count` clients, 100 connecting at a time; resolves once every one is subscribed. `ping` keeps an idle socket alive every 4 s. */
  static async open(count: number, connect: Connect, onChange: OnChange, ping: (ws: WebSocket) => void = (ws) => ws.ping()): Promise<SocketFleet> {
    const fleet = new SocketFleet(ping);
    let ready = 0;
    try {
      for (let from = 0; from < count; from += 100) {
        const batch = Array.from({ length: Math.min(100, count - from) }, (_, k) => {
          const g = from + k;
          return new Promise<void>((resolve) => {
            const ws = connect(g, {
              onRow: (n, at) => onChange(g, n, at),
              onReady: () => {
                ready++;
                resolve();
              },
              onError: (message) => fleet.errors.push(`client ${g}: ${message}`),
            });
            ws.on('close', (code) => {
              if (!fleet.#closing) fleet.errors.push(`client ${g} closed with ${code}`);
            });
            fleet.#sockets.push(ws);
          });
        });
        await within(120_000, Promise.all(batch), () => `${ready} of ${count} clients subscribed; errors: ${fleet.errors.slice(0, 3).join('; ')}`);
      }
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pinger);
    await closeSockets(this.#sockets);
  }
}

/** ms from a new client (connect(-1, …)) connecting to its subscription in place, holding exactly `rows` rows. */
export async function timeSnapshot(rows: number, connect: Connect): Promise<number> {
  const started = performance.now();
  let got = 0;
  const errors: string[] = [];
  let ws: WebSocket | undefined;
  const done = new Promise<number>((resolve) => {
    ws = connect(-1, { onRow: () => got++, onReady: () => resolve(performance.now() - started), onError: (m) => errors.push(m) });
  });
  try {
    const ms = await within(300_000, done, () => `the snapshot had ${got} of ${rows} rows`);
    if (got !== rows || errors.length > 0) throw new Error(`the snapshot had ${got} rows, expected ${rows}; errors: ${errors.slice(0, 3).join('; ')}`);
    return ms;
  } finally {
    ws?.close();
  }
}
