// At most `limit` calls of an async function at a time; the others wait their turn in order.
// The gateway's history reads go through one: each pulls megabytes from JetStream, and many
// resumes at once (a gateway restart, a reconnect storm) would otherwise let the connection's
// unread data pass the NATS server's slow-consumer limit, which disconnects the gateway.
export function limitConcurrency<A extends unknown[], R>(limit: number, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (...args: A): Promise<R> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
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
