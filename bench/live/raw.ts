// The raw WebSocket fan-out baseline's server (raw-server.ts) in its own process, as the gateway
// runs in its own: started, handed the users' tokens, then told each change to send.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FromRawServer, ToRawServer } from './raw-server.ts';

export class RawServer implements AsyncDisposable {
  /** Where the fleet connects (as to the gateway's base URL). */
  readonly url: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;

  private constructor(child: ChildProcess, port: number, exited: Promise<unknown>) {
    this.#child = child;
    this.#exited = exited;
    this.url = `http://127.0.0.1:${port}`;
    this.pid = child.pid!;
  }

  /** Starts the server; resolves once it listens and knows which user each token is. */
  static async start(tokens: readonly string[]): Promise<RawServer> {
    const child = fork(join(import.meta.dirname, 'raw-server.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const next = <K extends string>(key: K): Promise<Extract<FromRawServer, Record<K, unknown>>> =>
      new Promise((resolve, reject) => {
        const onMessage = (m: FromRawServer): void => {
          if (!(key in m)) return;
          child.off('message', onMessage);
          resolve(m as Extract<FromRawServer, Record<K, unknown>>);
        };
        child.on('message', onMessage);
        void exited.then((code) => reject(new Error(`the raw WebSocket server exited with ${String(code)}`)));
      });
    const { port } = await next('port');
    const ready = next('ready');
    child.send({ tokens } satisfies ToRawServer);
    await ready;
    return new RawServer(child, port, exited);
  }

  /** Sends change `n` to its user's subscriptions; resolves true once the server process was told. */
  change(n: number): Promise<boolean> {
    return new Promise((resolve) => this.#child.send({ n } satisfies ToRawServer, (err) => resolve(err === null)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#child.connected) this.#child.disconnect();
    await this.#exited;
  }
}
