// One JSON POST to the gateway with the SDK's postJson: the body parsed, a non-200 answer as
// the server's SeqlineError, and an unreachable gateway as a NetworkError naming its origin.
// Aborting `signal` stops waiting for the answer (the server may still run the statement).
import { bearer, NetworkError, postJson as post, type FetchLike } from '@seqline/client/node';

export function postJson(fetch: FetchLike, url: string, body: unknown, token?: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const reaching: FetchLike = (u, init) =>
    fetch(u, signal === undefined ? init : { ...init, signal }).catch((err: unknown) => {
      if (signal?.aborted === true) throw signal.reason; // given up on by the caller (Ctrl-C in the REPL)
      const cause = (err as { cause?: unknown }).cause;
      const reason = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
      throw new NetworkError(`cannot reach ${new URL(url).origin}: ${reason}`, { cause: err });
    });
  return post(reaching, url, body, bearer(token));
}
