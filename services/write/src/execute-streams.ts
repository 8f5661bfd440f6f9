// Server side of Write.ExecuteStream: many Execute calls multiplexed over one long-lived stream
// per gateway, each request answered with its id. Draining (SIGTERM) answers requests that
// arrive from then on with UNAVAILABLE, lets those in flight finish, then ends every stream,
// so a graceful stop does not wait for gateways to hang up.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { type ProtocolError, toProtocolError } from '@seqline/protocol';
import { writePb } from '@seqline/proto';

type Stream = ServerDuplexStream<writePb.ExecuteStreamRequest, writePb.ExecuteStreamResponse>;

export class ExecuteStreams {
  readonly #execute: (req: writePb.ExecuteRequest) => Promise<string>;
  readonly #onFailure: (err: unknown) => ProtocolError;
  readonly #open = new Map<Stream, { inflight: number; ended: boolean }>();
  #draining = false;
  #drained: (() => void) | undefined;

  constructor(execute: (req: writePb.ExecuteRequest) => Promise<string>, onFailure: (err: unknown) => ProtocolError = toProtocolError) {
    this.#execute = execute;
    this.#onFailure = onFailure;
  }

  /** The ExecuteStream handler. */
  readonly handle = (call: Stream): void => {
    const state = { inflight: 0, ended: false };
    this.#open.set(call, state);
    const finish = (): void => {
      if (state.inflight > 0 || !(state.ended || this.#draining)) return;
      this.#open.delete(call);
      if (!call.writableEnded) call.end();
      if (this.#open.size === 0) this.#drained?.();
    };
    call.on('data', ({ id, request }: writePb.ExecuteStreamRequest) => {
      const answer = (res: Omit<writePb.ExecuteStreamResponse, 'id'>): void => {
        if (!call.writableEnded && !call.destroyed) call.write({ id, ...res });
      };
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
            answer({ resultJson: '', errorCode: e.code, errorMessage: e.message });
          },
        )
        .finally(() => {
          state.inflight--;
          finish();
        });
    });
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
      if (state.inflight === 0) {
        this.#open.delete(call);
        if (!call.writableEnded) call.end();
      }
    }
    if (this.#open.size === 0) this.#drained?.();
    return done;
  }
}
