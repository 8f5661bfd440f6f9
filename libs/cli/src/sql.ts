// `seqline sql`: POST /v1/api/sql and print each result (format.ts), or with --json the
// `results` array as the server sent it (64-bit integers exact).
import { SeqlineError } from '@seqline/client/node';
import { stringifyJsonLossless } from '@seqline/seq';
import { formatResults, parseResults } from './format.js';
import { postJson } from './http.js';
import type { Io } from './io.js';
import type { Session } from './session.js';

export async function runSql(sql: string, json: boolean, session: Session, io: Io): Promise<void> {
  const body = await execute(sql, session, io);
  io.out(json ? `${stringifyJsonLossless(body['results'] ?? [])}\n` : formatResults(parseResults(body['results'])));
}

/** Runs SQL once; a token the gateway says expired (its clock ahead of ours) is renewed once. */
export async function execute(sql: string, session: Session, io: Io, renewed = false): Promise<Record<string, unknown>> {
  try {
    return await postJson(io.fetch, `${session.url}/v1/api/sql`, { sql }, renewed ? await session.renew() : await session.token());
  } catch (err) {
    if (!renewed && err instanceof SeqlineError && err.code === 'TOKEN_EXPIRED') return execute(sql, session, io, true);
    throw err;
  }
}
