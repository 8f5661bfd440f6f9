// A storage server stream (Snapshot, CatchUp) as an async iterable that ends with its
// subscription: the call gets a deadline, an aborted signal cancels it (storage sees the
// cancellation and ends its snapshot transaction at once), and so does a consumer that stops
// iterating early. A failure becomes a ProtocolError (the code storage chose, or UNAVAILABLE /
// INTERNAL_ERROR without the transport's text); after an abort the iteration just ends.
import type { CallOptions, ClientReadableStream, ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import { ProtocolError } from '@seqline/protocol';

export interface StreamOptions {
  readonly signal: AbortSignal;
  /** The call's deadline, from now. */
  readonly timeoutMs: number;
  /** Wall clock, ms since the epoch (deadlines are dates). */
  readonly now?: () => number;
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'metadata' in err;
}

export async function* storageStream<T>(open: (options: CallOptions) => ClientReadableStream<T>, options: StreamOptions): AsyncGenerator<T, void, undefined> {
  const { signal } = options;
  if (signal.aborted) return;
  const call = open({ deadline: (options.now ?? Date.now)() + options.timeoutMs });
  const cancel = (): void => call.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for await (const message of call as AsyncIterable<T>) {
      if (signal.aborted) return;
      yield message;
    }
  } catch (err) {
    if (signal.aborted) return;
    throw isServiceError(err) ? ProtocolError.fromGrpc(err) : err;
  } finally {
    signal.removeEventListener('abort', cancel);
    call.cancel(); // ended early by the consumer; after the stream's end a no-op
  }
}

/** A unary storage call with the same deadline, cancellation and errors as storageStream. */
export function storageUnary<T>(open: (options: CallOptions, done: (err: ServiceError | null, res?: T) => void) => ClientUnaryCall, options: StreamOptions): Promise<T> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(new ProtocolError('SUBSCRIPTION_FAILED', 'the subscription ended'));
  return new Promise<T>((resolve, reject) => {
    const cancel = (): void => call.cancel();
    const call = open({ deadline: (options.now ?? Date.now)() + options.timeoutMs }, (err, res) => {
      signal.removeEventListener('abort', cancel);
      if (err === null && res !== undefined) resolve(res);
      else reject(err !== null && isServiceError(err) ? ProtocolError.fromGrpc(err) : (err ?? new Error('an empty answer')));
    });
    signal.addEventListener('abort', cancel, { once: true });
  });
}
