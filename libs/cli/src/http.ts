// One JSON POST to the gateway with the SDK's postJson: the body parsed, a non-200 answer as
// the server's SeqlineError, and an unreachable gateway as a NetworkError naming its origin.
import { bearer, NetworkError, postJson as post, type FetchLike } from '@seqline/client/node';

export function postJson(fetch: FetchLike, url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const reaching: FetchLike = (u, init) =>
    fetch(u, init).catch((err: unknown) => {
      const cause = (err as { cause?: unknown }).cause;
      const reason = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
      throw new NetworkError(`cannot reach ${new URL(url).origin}: ${reason}`, { cause: err });
    });
  return post(reaching, url, body, bearer(token));
}
