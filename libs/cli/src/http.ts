// One JSON POST to the gateway: the body parsed, a non-200 answer as the server's
// SeqlineError, an unreachable gateway as a NetworkError (the SDK's classes and parsing).
import { errorFrom, NetworkError, parseBody, type FetchLike } from '@seqline/client/node';

export async function postJson(fetch: FetchLike, url: string, body: unknown, bearer?: string): Promise<Record<string, unknown>> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const reason = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
    throw new NetworkError(`cannot reach ${new URL(url).origin}: ${reason}`, { cause: err });
  }
  const parsed = parseBody(await res.text());
  if (res.status !== 200) throw errorFrom(res.status, parsed);
  return parsed;
}
