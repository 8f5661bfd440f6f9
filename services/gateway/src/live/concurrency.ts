// At most `limit` calls of an async function at a time; the others wait their turn in order.
// The gateway's history reads go through one: each pulls megabytes from JetStream, and many
// resumes at once (a gateway restart, a reconnect storm) would otherwise let the connection's
// unread data pass the NATS server's slow-consumer limit, which disconnects the gateway.
// A call whose signal (`signalOf` its arguments) is aborted while it waits leaves the queue
// and rejects with the signal's reason: a closed socket's reads never take a turn.
export function limitConcurrency<A extends unknown[], R>(limit: number, fn: (...args: A) => Promise<R>, signalOf?: (...args: A) => AbortSignal | undefined): (...args: A) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const turn = (signal: AbortSignal | undefined): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const take = (): void => {
        signal?.removeEventListener('abort', leave);
        resolve();
      };
      const leave = (): void => {
        waiting.splice(waiting.indexOf(take), 1);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', leave, { once: true });
      waiting.push(take);
    });
  return async (...args: A): Promise<R> => {
    const signal = signalOf?.(...args);
    signal?.throwIfAborted();
    if (running >= limit) await turn(signal);
    else running++;
    try {
      return await fn(...args);
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next(); // the slot passes straight to the next caller
      else running--;
    }
  };
}
