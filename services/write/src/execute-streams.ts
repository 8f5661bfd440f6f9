// Server side of Write.ExecuteStream: many Execute calls multiplexed over one long-lived stream
// per gateway, each request answered with its id. Draining (SIGTERM) answers requests that
// arrive from then on with UNAVAILABLE, lets those in flight finish, then ends every stream,
// so a graceful stop does not wait for gateways to hang up. A message may carry several calls
// (ExecuteStreamRequest.batch); the answers ready in one tick go out as one message the same way.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { type ProtocolError, toProtocolError } from '@seqline/protocol';
import { writePb } from '@seqline/proto';

type Stream = ServerDuplexStream<writePb.ExecuteStreamRequest, writePb.ExecuteStreamResponse>;

export class ExecuteStreams {
  readonly #execute: (req: writePb.ExecuteRequest) => Promise<string>;
  readonly #onFailure: (err: unknown) => ProtocolError;
  /** Per open stream: calls being executed, whether the gateway ended it, answers not yet written. */
  readonly #open = new Map<Stream, { inflight: number; ended: boolean; answers: writePb.ExecuteStreamResponse[] | undefined }>();
  #draining = false;
  #drained: (() => void) | undefined;

  constructor(execute: (req: writePb.ExecuteRequest) => Promise<string>, onFailure: (err: unknown) => ProtocolError = toProtocolError) {
    this.#execute = execute;
    this.#onFailure = onFailure;
  }

  /** The ExecuteStream handler. */
  readonly handle = (call: Stream): void => {
    const state: { inflight: number; ended: boolean; answers: writePb.ExecuteStreamResponse[] | undefined } = { inflight: 0, ended: false, answers: undefined };
    this.#open.set(call, state);
    const finish = (): void => {
      if (state.inflight > 0 || state.answers !== undefined || !(state.ended || this.#draining)) return;
      this.#open.delete(call);
      if (!call.writableEnded) call.end();
      if (this.#open.size === 0) this.#drained?.();
    };
    const flush = (): void => {
      const ready = state.answers ?? [];
      state.answers = undefined;
      if (ready.length === 0 || call.writableEnded || call.destroyed) return;
      call.write(ready.length === 1 ? ready[0]! : { id: 0n, resultJson: '', errorCode: '', errorMessage: '', batch: ready });
    };
    const send = (res: writePb.ExecuteStreamResponse): void => {
      if (state.answers === undefined) {
        state.answers = [];
        setImmediate(() => {
          flush();
          finish();
        });
      }
      state.answers.push(res);
    };
    call.on('data', (message: writePb.ExecuteStreamRequest) => {
      for (const c of message.batch.length > 0 ? message.batch : [message]) take(c);
    });
    const take = ({ id, request }: writePb.ExecuteStreamRequest): void => {
      const answer = (res: Omit<writePb.ExecuteStreamResponse, 'id' | 'batch'>): void => send({ id, ...res, batch: [] });
      if (this.#draining) {
        answer({ resultJson: '', errorCode: 'UNAVAILABLE', errorMessage: 'the write service is shutting down; retry' });
        return;
      }
      state.inflight++;
      this.#execute(request ?? writePb.ExecuteRequest.create())
        .then(
          (resultJson) => answer({ resultJson, errorCode: '', errorMessage: '' }),
          (err: unknown) => {
            const e = this.#onFailure(err);
            answer({ resultJson: '', errorCode: e.code, errorMessage: e.message, ...(e.statement === undefined ? {} : { errorStatement: e.statement }) });
          },
        )
        .finally(() => {
          state.inflight--;
        });
    };
    call.on('end', () => {
      state.ended = true;
      finish();
    });
    call.on('error', () => {
      // The gateway went away; results of its calls stay in op_results for idempotent retries.
      state.ended = true;
      finish();
    });
  };

  /** Stops taking requests and resolves when every stream has answered what it took and ended. */
  drain(): Promise<void> {
    this.#draining = true;
    const done = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    for (const [call, state] of [...this.#open]) {
      if (state.inflight === 0 && state.answers === undefined) {
        this.#open.delete(call);
        if (!call.writableEnded) call.end();
      }
    }
    if (this.#open.size === 0) this.#drained?.();
    return done;
  }
}
