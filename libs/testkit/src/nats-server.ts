// A real nats-server with JetStream for tests, on 127.0.0.1 and a free port.
//
// Lifecycle: startNats() spawns `nats-server -js -a 127.0.0.1 -p <port> -sd <storeDir>` (no
// monitoring port: nats-server opens one only with -m) and resolves once a TCP client gets the
// server's INFO line, polling with a bounded deadline. stop() sends SIGTERM, kill() SIGKILL;
// both wait for the exit and may be called any number of times. restart() starts the server
// again on the same port and store directory, so JetStream data written before survives (also
// after kill(): nats-server writes each message to its block file before acknowledging it).
// Disposing stops the server and removes the store directory.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExit, findExecutable, spawnServer, type ServerProcess } from './child-process.js';
import { freePort, pause } from './support.js';

export const NATS_SERVER_MISSING =
  'nats-server not found: install it with `apt-get install nats-server` (Debian/Ubuntu) or set SEQLINE_NATS_SERVER to its path';

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** JetStream store directory (-sd); removed on dispose. */
  readonly storeDir: string;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** Stops the server if it runs, starts it again on the same port and store directory. */
  restart(): Promise<void>;
  /** stop() and remove storeDir. */
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartNatsOptions {
  readonly port?: number;
  readonly storeDir?: string;
  /** Path to nats-server; default: env SEQLINE_NATS_SERVER, then PATH, then /usr/sbin. */
  readonly binary?: string;
}

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 10_000;
const PROBE_TIMEOUT_MS = 1000;
const PROBE_INTERVAL_MS = 20;
const READY_LINE = 'Server is ready';
/** Extra attempts with a new port when we picked the port and someone else took it. */
const PORT_RETRIES = 2;

export async function startNats(options: StartNatsOptions = {}): Promise<NatsServer> {
  const binary = await resolveNatsBinary(options.binary);
  const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), 'seqline-nats-')));
  await mkdir(storeDir, { recursive: true });
  for (let attempt = 0; ; attempt += 1) {
    const port = options.port ?? (await freePort());
    const server = new LocalNatsServer(binary, port, storeDir, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir]);
    try {
      await server.restart();
      return server;
    } catch (error) {
      const portTaken = error instanceof Error && error.message.includes('address already in use');
      if (options.port === undefined && portTaken && attempt < PORT_RETRIES) continue;
      if (options.storeDir === undefined) await rm(storeDir, { recursive: true, force: true });
      throw error;
    }
  }
}

/** options.binary, then SEQLINE_NATS_SERVER, then nats-server in PATH or /usr/sbin. */
export async function resolveNatsBinary(binary?: string): Promise<string> {
  const explicit = binary ?? process.env['SEQLINE_NATS_SERVER'];
  const candidates = explicit !== undefined && explicit !== '' ? [explicit] : ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server'];
  const found = await findExecutable(candidates);
  if (found === undefined) throw new Error(`${NATS_SERVER_MISSING} (looked for: ${candidates.join(', ')})`);
  return found;
}

/**
 * One nats-server process started with `args` (which must make it listen on 127.0.0.1:`port`);
 * nothing runs until restart(). The cluster nodes of nats-cluster.ts are these too.
 */
export class LocalNatsServer implements NatsServer {
  readonly url: string;
  #process: ServerProcess | undefined;
  #restarting: Promise<void> | undefined;

  constructor(
    private readonly binary: string,
    readonly port: number,
    readonly storeDir: string,
    private readonly args: readonly string[],
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await this.#process?.stop('SIGTERM', STOP_GRACE_MS);
  }

  async kill(): Promise<void> {
    await this.#process?.stop('SIGKILL', STOP_GRACE_MS);
  }

  restart(): Promise<void> {
    // Single flight: concurrent callers share one restart.
    this.#restarting ??= this.#start().finally(() => {
      this.#restarting = undefined;
    });
    return this.#restarting;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#restarting?.catch(() => undefined);
    await this.stop();
    await rm(this.storeDir, { recursive: true, force: true });
  }

  async #start(): Promise<void> {
    await this.stop();
    const proc = await spawnServer(this.binary, this.args, { orphanSignal: 'SIGKILL', orphanCleanupDir: this.storeDir });
    this.#process = proc;
    try {
      await waitUntilAccepting(proc, this.port);
    } catch (error) {
      await proc.stop('SIGKILL', STOP_GRACE_MS);
      throw error;
    }
  }
}

/** Polls until a TCP client on `port` receives an INFO line; fails fast if the server exits. */
async function waitUntilAccepting(proc: ServerProcess, port: number): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const ready = await receivesInfo(port, PROBE_TIMEOUT_MS);
    if (proc.exitSignal.aborted) {
      const exit = await proc.exited;
      throw new Error(`nats-server exited (${describeExit(exit)}) before accepting connections on 127.0.0.1:${port}:\n${proc.output()}`);
    }
    // Our own banner too: a foreign server that already held the port would also answer INFO.
    if (ready && proc.output().includes(READY_LINE)) return;
    if (Date.now() >= deadline) {
      throw new Error(`nats-server did not accept connections on 127.0.0.1:${port} within ${STARTUP_TIMEOUT_MS} ms:\n${proc.output()}`);
    }
    await pause(PROBE_INTERVAL_MS, proc.exitSignal);
  }
}

/** True when a connection to 127.0.0.1:port gets a line starting with `INFO ` in time. */
function receivesInfo(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('\r\n')) finish(received.startsWith('INFO '));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}
