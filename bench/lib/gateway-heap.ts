// The bench gateway's memory after a forced GC (and CPU profiles of chosen moments), read inside
// the process through the V8 inspector (the Chrome DevTools protocol over a WebSocket). The stack is started with
// INSPECT_ENV: every service then has `--expose-gc` and an inspector on a free loopback port
// (only the gateway's is used); the gateway's log says which port. Nothing in the services
// changes for this: it is a bench-only setting of the node processes.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '@seqline/testkit';
import WebSocket from 'ws';

/** NODE_OPTIONS for runLocalStack's `env`: a forced GC and an inspector in every service. */
export function inspectEnv(): Record<string, string> {
  return { NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --expose-gc --inspect=127.0.0.1:0`.trim() };
}

export interface HeapReading {
  /** Resident set size, KiB, after the GC. */
  readonly rssKb: number;
  /** V8's heap in use plus memory outside it (Buffers, ArrayBuffers), KiB, after the GC. */
  readonly heapKb: number;
  /** V8's heap as committed (in use or not: free old-space pages, the young generation's semi-spaces), KiB. */
  readonly heapTotalKb: number;
}

export class GatewayInspector implements AsyncDisposable {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve(result: unknown): void; reject(err: Error): void }>();
  readonly #chunks: string[] = [];
  #nextId = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { chunk?: string } };
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk') this.#chunks.push(m.params?.chunk ?? '');
      if (m.id === undefined) return;
      const waiting = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error !== undefined) waiting?.reject(new Error(`inspector: ${m.error.message}`));
      else waiting?.resolve(m.result);
    });
  }

  /** Connects to the inspector of the stack's gateway (started with inspectEnv()). */
  static async connect(logDir: string): Promise<GatewayInspector> {
    let url: string | undefined;
    await waitFor(
      async () => {
        const log = await readFile(join(logDir, 'gateway.log'), 'utf8').catch(() => '');
        url = /Debugger listening on (ws:\/\/\S+)/.exec(log)?.[1];
        return url !== undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    ).catch(() => {
      throw new Error('the gateway has no inspector: start the stack with inspectEnv()');
    });
    const ws = new WebSocket(url!, { perMessageDeflate: false, maxPayload: 1 << 30 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new GatewayInspector(ws);
  }

  /** Two full GCs, then the process's RSS and heap. */
  async afterGc(): Promise<HeapReading> {
    const result = (await this.#call('Runtime.evaluate', { expression: 'gc(), gc(), JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
    const m = JSON.parse(result.result.value) as NodeJS.MemoryUsage;
    return { rssKb: m.rss / 1024, heapKb: (m.heapUsed + m.external) / 1024, heapTotalKb: m.heapTotal / 1024 };
  }

  /** A CPU profile of the gateway while `during` runs, written to `file` (open it in Chrome DevTools' Performance tab). */
  async cpuProfile(file: string, during: () => Promise<void>): Promise<void> {
    await this.#call('Profiler.enable', {});
    await this.#call('Profiler.start', {});
    try {
      await during();
    } finally {
      const { profile } = (await this.#call('Profiler.stop', {})) as { profile: unknown };
      await writeFile(file, JSON.stringify(profile));
    }
  }

  /** Writes a heap snapshot (open it in Chrome DevTools' Memory tab) to `file`. */
  async heapSnapshot(file: string): Promise<void> {
    this.#chunks.length = 0;
    await this.#call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    await writeFile(file, this.#chunks.join(''));
    this.#chunks.length = 0;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#ws.once('close', () => resolve()));
    this.#ws.close();
    await closed;
  }

  #call(method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }
}
