// A TCP proxy in the test process that can cut a link: it listens on 127.0.0.1 and forwards every
// connection to a target port on 127.0.0.1, bytes both ways (with backpressure, via pipe).
//
// States: forwarding → block() → blocked → unblock() → forwarding; close() from either ends it.
// - forwarding: each accepted connection gets its own upstream connection to the target. A FIN is
//   passed on (half-open sockets), and once either socket has closed or failed, both are destroyed.
// - blocked: every open pair is destroyed at once, and each new connection is accepted and then
//   destroyed straight away, so neither side can re-establish a link through this proxy.
// - closed: the listener is closed (the port is free again) and every socket destroyed.
// A target that is down or restarting (ECONNREFUSED, ECONNRESET) only closes the pair concerned:
// every socket and the listener have an 'error' handler, so nothing here crashes the process.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './support.js';

const HOST = '127.0.0.1';
/** Extra attempts with a new port when another process took the one freePort() gave us. */
const PORT_RETRIES = 2;

export interface TcpProxyOptions {
  /** Port to listen on (default: a free one). */
  readonly port?: number;
}

/** Counters since the proxy started. */
export interface TcpProxyCounts {
  /** Connections accepted, forwarded or not. */
  readonly accepted: number;
  /** Connections accepted while blocked and destroyed at once. */
  readonly refused: number;
  /** Forwarded connections open now. */
  readonly open: number;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class TcpProxy implements AsyncDisposable {
  #blocked = false;
  #closing: Promise<void> | undefined;
  #accepted = 0;
  #refused = 0;
  readonly #pairs = new Set<Pair>();

  private constructor(
    private readonly server: Server,
    /** The port the proxy listens on (127.0.0.1). */
    readonly port: number,
    /** The port on 127.0.0.1 it forwards to. */
    readonly targetPort: number,
  ) {
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', () => undefined);
  }

  /** Starts a proxy to 127.0.0.1:`targetPort`, forwarding. */
  static async start(targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
    for (let attempt = 0; ; attempt += 1) {
      const port = options.port ?? (await freePort());
      const server = createServer({ allowHalfOpen: true });
      try {
        await listen(server, port);
        return new TcpProxy(server, port, targetPort);
      } catch (error) {
        const taken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (options.port !== undefined || !taken || attempt >= PORT_RETRIES) throw error;
      }
    }
  }

  get blocked(): boolean {
    return this.#blocked;
  }

  get counts(): TcpProxyCounts {
    return { accepted: this.#accepted, refused: this.#refused, open: this.#pairs.size };
  }

  /** Local ports of the proxy's open connections to the target (how the target sees them). */
  upstreamPorts(): number[] {
    return [...this.#pairs].flatMap((p) => (p.upstream.localPort === undefined ? [] : [p.upstream.localPort]));
  }

  /** Destroys every open connection and refuses new ones until unblock(). */
  block(): void {
    this.#blocked = true;
    for (const pair of this.#pairs) destroyPair(pair);
    this.#pairs.clear();
  }

  /** Forwards new connections again. */
  unblock(): void {
    if (this.#closing === undefined) this.#blocked = false;
  }

  /** Destroys every connection and frees the port. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.block();
      this.server.close(() => resolve());
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #accept(client: Socket): void {
    this.#accepted += 1;
    client.on('error', () => undefined);
    if (this.#blocked) {
      this.#refused += 1;
      client.destroy();
      return;
    }
    const upstream = connect({ host: HOST, port: this.targetPort, allowHalfOpen: true });
    upstream.on('error', () => undefined);
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const drop = (): void => {
      this.#pairs.delete(pair);
      destroyPair(pair);
    };
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.once('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

function destroyPair(pair: Pair): void {
  pair.client.destroy();
  pair.upstream.destroy();
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: HOST, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
