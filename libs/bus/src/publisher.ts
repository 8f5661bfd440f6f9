// Acknowledged JetStream publishes at a lower cost per message than JetStreamClient.publish,
// which makes a request (a reply subscription entry and two Error objects with stack traces)
// per message. Here one wildcard subscription receives every acknowledgement, matched to its
// publish by the last token of the reply subject. The answer is JetStream's PubAck: the
// stream's sequence, and `duplicate` when the Nats-Msg-Id was seen within the stream's
// duplicate window. A publish with no stream behind its subject fails with "no responders".
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

export class JsPublisher {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #inbox = createInbox();
  readonly #pending = new Map<string, Pending>();
  readonly #sub: Subscription;
  #next = 0;

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
      try {
        this.#nc.publish(subject, data, { reply: `${this.#inbox}.${token}`, headers: h });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(token);
        reject(err instanceof Error ? err : new PublishError(String(err)));
      }
    });
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
