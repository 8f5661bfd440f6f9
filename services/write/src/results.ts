// Waiting for op results. One core-NATS subscription per write process receives every result
// addressed to it (`<prefix>.results.<instance>.<op>`, or several in one `…<instance>._batch`,
// libs/bus results.ts); a waiter is registered before its op is
// published, so a result can never arrive unobserved.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeResults } from '@seqline/bus';
import type { busPb } from '@seqline/proto';

interface Waiter {
  resolve(result: busPb.OpResult | undefined): void;
}

export class ResultInbox {
  readonly subject: string;
  readonly #waiters = new Map<string, Waiter>();
  readonly #sub: Subscription;

  constructor(nc: NatsConnection, subject: string) {
    this.subject = subject;
    const sub = nc.subscribe(`${subject}.*`);
    this.#sub = sub;
    void (async () => {
      for await (const m of sub) {
        for (const result of decodeResults(m.subject, m.data)) this.#waiters.get(result.opId)?.resolve(result);
      }
    })();
  }

  replyTo(opId: string): string {
    return `${this.subject}.${opId}`;
  }

  /** Resolves with the result, or undefined after `timeoutMs` (or when cancelled). */
  wait(opId: string, timeoutMs: number): { promise: Promise<busPb.OpResult | undefined>; cancel(): void } {
    let cancel = (): void => {};
    const promise = new Promise<busPb.OpResult | undefined>((resolve) => {
      const done = (r: busPb.OpResult | undefined): void => {
        clearTimeout(timer);
        this.#waiters.delete(opId);
        resolve(r);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.#waiters.set(opId, { resolve: done });
      cancel = () => done(undefined);
    });
    return { promise, cancel };
  }

  close(): void {
    this.#sub.unsubscribe();
    for (const w of this.#waiters.values()) w.resolve(undefined);
  }
}
