// Client side of Write.ExecuteStream: the gateway's Execute calls multiplexed over one
// long-lived gRPC stream, opened on first use and again after it breaks. Each call has a
// deadline; a call whose stream breaks, or that gets no answer in time, fails UNAVAILABLE
// (it may or may not have been applied, as with a unary call: Idempotency-Key makes a retry
// safe). The calls made in one tick go out as one message (ExecuteStreamRequest.batch), and
// answers may come back batched the same way: one gRPC message per tick each way, not per call.
import { Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import { ProtocolError, isErrorCode, statementIndex } from '@seqline/protocol';
import { type writePb } from '@seqline/proto';

type Stream = ClientDuplexStream<writePb.ExecuteStreamRequest, writePb.ExecuteStreamResponse>;

interface Waiter {
  readonly resolve: (resultJson: string) => void;
  readonly reject: (err: ProtocolError) => void;
  readonly timer: NodeJS.Timeout;
}

const unavailable = (cause?: unknown): ProtocolError => new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry', { cause });

interface Open {
  readonly stream: Stream;
  /** Calls sent on this stream and not answered yet, by id. */
  readonly waiters: Map<bigint, Waiter>;
}

export class ExecuteMux {
  readonly #client: writePb.WriteClient;
  readonly #timeoutMs: number;
  #current: Open | undefined;
  #nextId = 1n;
  #closed = false;
  /** Calls made in this tick, written to their stream at its end. */
  #queue: { readonly stream: Stream; readonly calls: writePb.ExecuteStreamRequest[] } | undefined;

  constructor(client: writePb.WriteClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  execute(request: writePb.ExecuteRequest): Promise<string> {
    if (this.#closed) return Promise.reject(unavailable());
    const { stream, waiters } = (this.#current ??= this.#open());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(id);
        reject(unavailable(new Error(`no answer from the write service within ${this.#timeoutMs} ms`)));
      }, this.#timeoutMs);
      waiters.set(id, { resolve, reject, timer });
      this.#send(stream, { id, request, batch: [] });
    });
  }

  /** Queues a call for the stream; the calls of this tick are written together (see #flush). */
  #send(stream: Stream, call: writePb.ExecuteStreamRequest): void {
    if (this.#queue?.stream !== stream) {
      this.#flush();
      this.#queue = { stream, calls: [] };
      setImmediate(() => this.#flush());
    }
    this.#queue.calls.push(call);
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue === undefined || queue.stream.writableEnded || queue.stream.destroyed) return;
    const [first, ...rest] = queue.calls;
    if (first === undefined) return;
    queue.stream.write(rest.length === 0 ? first : { id: 0n, request: undefined, batch: queue.calls });
  }

  /** Ends the stream; calls still waiting fail UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    const current = this.#current;
    if (current === undefined) return;
    current.stream.end();
    this.#broken(current, undefined);
  }

  #open(): Open {
    const open: Open = { stream: this.#client.executeStream(new Metadata()), waiters: new Map() };
    open.stream.on('data', (res: writePb.ExecuteStreamResponse) => {
      for (const answer of res.batch.length > 0 ? res.batch : [res]) this.#answer(open, answer);
    });
    open.stream.on('error', (err) => this.#broken(open, err));
    open.stream.on('end', () => this.#broken(open, undefined));
    return open;
  }

  #answer(open: Open, res: writePb.ExecuteStreamResponse): void {
    const waiter = open.waiters.get(res.id);
    if (waiter === undefined) return; // timed out already
    open.waiters.delete(res.id);
    clearTimeout(waiter.timer);
    if (res.errorCode === '') waiter.resolve(res.resultJson);
    else if (isErrorCode(res.errorCode)) waiter.reject(new ProtocolError(res.errorCode, res.errorMessage, { statement: statementIndex(res.errorStatement) }));
    else waiter.reject(new ProtocolError('INTERNAL_ERROR', 'internal error', { cause: new Error(`write answered an unknown error code ${res.errorCode}`) }));
  }

  /** A stream is gone: its waiting calls fail, and the next call opens a new stream. */
  #broken(open: Open, err: unknown): void {
    if (this.#current === open) this.#current = undefined;
    for (const w of open.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(unavailable(err));
    }
    open.waiters.clear();
  }
}
