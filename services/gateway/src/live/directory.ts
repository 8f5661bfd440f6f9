// Every gateway's subscriptions, gathered on demand for `system.live`. Nothing is written per
// subscription: each gateway keeps a heartbeat key in the JetStream KV bucket
// `<prefix>_gateways` (refreshed every ttl/3, gone ttl after its gateway dies), and answers
// requests on the core subject `<prefix>.live.list` with its own subscriptions, in chunks. The
// asker reads the bucket to learn which gateways exist, publishes one request, and collects
// until every one of them has answered, or the timeout passes: then it answers with what it
// has and says which gateways are missing.
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { ensureBucket } from '@seqline/bus';
import type { Logger } from '@seqline/runtime';
import type { LiveEntry } from './system-live.js';

export interface DirectoryOptions {
  readonly prefix: string;
  /** This gateway's name in the directory: letters, digits, `-` and `_`. */
  readonly node: string;
  readonly ttlMs: number;
  /** Replicas of the bucket (SEQLINE_NATS_REPLICAS). */
  readonly replicas: number;
  readonly timeoutMs: number;
  /** This gateway's subscriptions, now. */
  readonly list: () => readonly LiveEntry[];
  readonly logger: Logger;
}

export interface Gathered {
  readonly entries: readonly LiveEntry[];
  /** Gateways with a live heartbeat that did not answer in time. */
  readonly missing: readonly string[];
}

interface Chunk {
  readonly node: string;
  readonly entries: readonly LiveEntry[];
  readonly done: boolean;
}

/** Entries per answer message: well under NATS's default 1 MiB payload limit. */
const CHUNK = 500;

export class LiveDirectory {
  readonly #nc: NatsConnection;
  readonly #kv: KV;
  readonly #o: DirectoryOptions;
  readonly #sub: Subscription;
  readonly #timer: NodeJS.Timeout;

  private constructor(nc: NatsConnection, kv: KV, options: DirectoryOptions) {
    this.#nc = nc;
    this.#kv = kv;
    this.#o = options;
    this.#sub = nc.subscribe(listSubject(options.prefix), {
      callback: (err, msg) => {
        if (!err && msg.reply !== undefined) this.#answer(msg.reply);
      },
    });
    this.#timer = setInterval(() => void this.#beat(), Math.max(100, Math.floor(options.ttlMs / 3)));
  }

  static async start(nc: NatsConnection, options: DirectoryOptions): Promise<LiveDirectory> {
    if (!/^[A-Za-z0-9_-]+$/.test(options.node)) throw new Error(`a directory node name must be letters, digits, - and _: ${JSON.stringify(options.node)}`);
    const kvm = new Kvm(nc);
    const bucket = `${options.prefix}_gateways`;
    // The first gateway creates the bucket; one started with another TTL uses it as it is.
    const kv = await ensureBucket(nc, bucket, { history: 1, ttlMs: options.ttlMs, replicas: options.replicas }).catch(() => kvm.open(bucket));
    const directory = new LiveDirectory(nc, kv, options);
    await nc.flush(); // the list subscription is known to the server before we announce ourselves
    await kv.put(options.node, JSON.stringify({ since: Date.now() }));
    return directory;
  }

  /** Every gateway's subscriptions. */
  async gather(): Promise<Gathered> {
    const expected = new Set<string>();
    for await (const key of await this.#kv.keys()) expected.add(key);
    const done = new Set<string>();
    const entries: LiveEntry[] = [];
    const inbox = createInbox();
    let finish = (): void => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const sub = this.#nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return;
        const chunk = msg.json<Chunk>();
        entries.push(...chunk.entries);
        if (chunk.done) done.add(chunk.node);
        if ([...expected].every((n) => done.has(n))) finish();
      },
    });
    const timer = setTimeout(finish, this.#o.timeoutMs);
    try {
      await this.#nc.flush();
      this.#nc.publish(listSubject(this.#o.prefix), '', { reply: inbox });
      await finished;
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
    return { entries, missing: [...expected].filter((n) => !done.has(n)).sort() };
  }

  /** Leaves the directory (on drain or stop): other gateways stop waiting for this one. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#sub.unsubscribe();
    await this.#kv.delete(this.#o.node).catch((err: unknown) => this.#o.logger.warn('could not leave the gateway directory; the entry expires by itself', { err }));
  }

  #answer(reply: string): void {
    const all = this.#o.list();
    for (let i = 0; i === 0 || i < all.length; i += CHUNK) {
      const chunk: Chunk = { node: this.#o.node, entries: all.slice(i, i + CHUNK), done: i + CHUNK >= all.length };
      this.#nc.publish(reply, JSON.stringify(chunk));
    }
  }

  async #beat(): Promise<void> {
    try {
      await this.#kv.put(this.#o.node, JSON.stringify({ since: Date.now() }));
    } catch (err) {
      this.#o.logger.warn('gateway directory heartbeat failed; retrying', { err });
    }
  }
}

function listSubject(prefix: string): string {
  return `${prefix}.live.list`;
}
