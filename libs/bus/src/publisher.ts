// Acknowledged JetStream publishes at a lower cost per message than JetStreamClient.publish,
// which makes a request (a reply subscription entry and two Error objects with stack traces)
// per message. Here one wildcard subscription receives every acknowledgement, matched to its
// publish by the last token of the reply subject. The answer is JetStream's PubAck: the
// stream's sequence, and `duplicate` when the Nats-Msg-Id was seen within the stream's
// duplicate window. A publish with no stream behind its subject fails with "no responders".
//
// The publishes of one event-loop turn go to the connection together, in call order, at the
// end of the turn: nats.js writes to its socket once per batch of publishes made in one
// synchronous run, and publishes made by separate async continuations (the write service's
// ops, one per request) would otherwise each cost a socket write, which on loopback carries
// the receiving side's TCP work too (bench/README.md, issue 15). Each publish is still its
// own JetStream message with its own Nats-Msg-Id and acknowledgement.
import { createInbox, headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

export interface PubAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

export interface PublishOptions {
  /** Nats-Msg-Id: JetStream drops a repeat within its duplicate window. */
  readonly msgID: string;
  /** More headers to send. */
  readonly headers?: Readonly<Record<string, string>>;
}

const UTF8 = new TextDecoder();

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

interface Pending {
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A publish waiting for the end of the turn. */
interface Queued {
  readonly token: string;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs;
}

export class JsPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #inbox = createInbox();
  readonly #pending = new Map<string, Pending>();
  readonly #sub: Subscription;
  #next = 0;
  /** Publishes of this turn, sent by #flush; undefined when none is waiting. */
  #queue: Queued[] | undefined;

  constructor(nc: NatsConnection, options: { readonly timeoutMs: number }) {
    this.#nc = nc;
    this.#timeoutMs = options.timeoutMs;
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => {
        if (err !== null) return this.#failAll(err);
        const token = msg.subject.slice(this.#inbox.length + 1);
        const pending = this.#pending.get(token);
        if (pending === undefined) return; // timed out already
        this.#pending.delete(token);
        clearTimeout(pending.timer);
        if (msg.headers?.hasError) {
          pending.reject(new PublishError(msg.headers.code === 503 ? 'no responders: no stream holds this subject' : `publish failed: ${msg.headers.code} ${msg.headers.description}`));
          return;
        }
        try {
          const ack = JSON.parse(UTF8.decode(msg.data)) as { stream?: string; seq?: number; duplicate?: boolean; error?: { code: number; err_code?: number; description: string } };
          if (ack.error !== undefined) pending.reject(new PublishError(`JetStream refused the message: ${ack.error.description} (${ack.error.err_code ?? ack.error.code})`));
          else pending.resolve({ stream: ack.stream ?? '', seq: ack.seq ?? 0, duplicate: ack.duplicate === true });
        } catch (e) {
          pending.reject(new PublishError('unreadable JetStream acknowledgement', { cause: e }));
        }
      },
    });
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions): Promise<PubAck> {
    if (this.#sub.isClosed()) return Promise.reject(new PublishError('the publisher is closed'));
    const token = (this.#next++).toString(36);
    const h: MsgHdrs = natsHeaders();
    h.set('Nats-Msg-Id', options.msgID);
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
    return new Promise<PubAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new PublishError(`no JetStream acknowledgement within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(token, { resolve, reject, timer });
      if (this.#queue === undefined) {
        this.#queue = [];
        setImmediate(() => this.#flush());
      }
      this.#queue.push({ token, subject, data, headers: h });
    });
  }

  /** Sends the turn's publishes, in call order, as one batch for the connection's socket. */
  #flush(): void {
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    for (const q of queue) {
      const pending = this.#pending.get(q.token);
      if (pending === undefined) continue; // closed or timed out meanwhile
      try {
        this.#nc.publish(q.subject, q.data, { reply: `${this.#inbox}.${q.token}`, headers: q.headers });
      } catch (err) {
        clearTimeout(pending.timer);
        this.#pending.delete(q.token);
        pending.reject(err instanceof Error ? err : new PublishError(String(err)));
      }
    }
  }

  /** Stops listening; publishes still waiting fail. */
  close(): void {
    this.#sub.unsubscribe();
    this.#failAll(new PublishError('the publisher is closed'));
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }
}
