// Every failure is a SeqlineError with a code: the server's (and the HTTP status) for a refused
// request or subscription, the client's own NETWORK, TIMEOUT, PROTOCOL for the rest.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqlineClient } from './client.js';
import { AuthError, NetworkError, ProtocolError, ServerError, TimeoutError, type SeqlineError } from './errors.js';
import { accept, fakeFetch, fakeSockets, type Answer } from './fakes.test-util.js';

afterEach(() => vi.unstubAllGlobals());

const refusal = (status: number, code: string, message: string): Answer => ({ status, body: { status: 'error', results: [], took: 0, error: { code, message } } });

async function failure(answer: Answer | (() => Answer | Promise<Answer>), auth: { jwt: string } | { user: string; password: string } = { jwt: 'jwt' }, extra: { requestTimeoutMs?: number } = {}): Promise<SeqlineError> {
  const { fetch } = fakeFetch(typeof answer === 'function' ? answer : () => answer);
  const client = new SeqlineClient({ url: 'http://gateway', auth, fetch, ...extra });
  try {
    return await client.query('SELECT 1').then(
      () => expect.unreachable('the query succeeded'),
      (err: unknown) => err as SeqlineError,
    );
  } finally {
    client.close();
  }
}

describe('HTTP failures', () => {
  it.each([
    [400, 'INVALID_SQL'],
    [403, 'PERMISSION_DENIED'],
    [429, 'RATE_LIMIT_EXCEEDED'],
    [503, 'UNAVAILABLE'],
  ])('%i %s is a ServerError with the code and status', async (status, code) => {
    const error = await failure(refusal(status, code, 'told by the server'));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).not.toBeInstanceOf(AuthError);
    expect({ code: error.code, status: error.status, message: error.message }).toEqual({ code, status, message: 'told by the server' });
  });

  it("a transaction's failing statement is named by its index in the request and its text", async () => {
    const statement = "INSERT INTO app.rooms (id, name) VALUES (1, 'lobby')";
    const named = await failure({ status: 403, body: { status: 'error', results: [], took: 0, error: { code: 'PERMISSION_DENIED', message: 'denied', statement_index: 2, statement } } });
    expect(named).toBeInstanceOf(ServerError);
    expect({ code: named.code, statementIndex: (named as ServerError).statementIndex, statement: (named as ServerError).statement }).toEqual({ code: 'PERMISSION_DENIED', statementIndex: 2, statement });
    const unnamed = (await failure(refusal(400, 'INVALID_SQL', 'no'))) as ServerError;
    expect([unnamed.statementIndex, unnamed.statement]).toEqual([undefined, undefined]);
    const garbled = (await failure({ status: 400, body: { status: 'error', results: [], took: 0, error: { code: 'INVALID_SQL', message: 'no', statement_index: -1, statement: 'x' } } })) as ServerError;
    expect([garbled.statementIndex, garbled.statement]).toEqual([undefined, undefined]);
  });

  it('a token still refused as expired after renewing it is an AuthError TOKEN_EXPIRED, 401', async () => {
    let calls = 0;
    const error = await failure(() => (calls++, refusal(401, 'TOKEN_EXPIRED', 'token expired')));
    expect(calls).toBe(2);
    expect(error).toBeInstanceOf(AuthError);
    expect({ code: error.code, status: error.status }).toEqual({ code: 'TOKEN_EXPIRED', status: 401 });
  });

  it("a refused login is an AuthError with the login's code", async () => {
    const error = await failure({ status: 401, body: { error: 'unauthorized', message: 'invalid username or password' } }, { user: 'alice', password: 'wrong' });
    expect(error).toBeInstanceOf(AuthError);
    expect({ code: error.code, status: error.status, message: error.message }).toEqual({ code: 'UNAUTHORIZED', status: 401, message: 'invalid username or password' });
  });

  it("a token provider's own failure is TOKEN_PROVIDER, with it as the cause", async () => {
    const cause = new Error('no session');
    const { fetch } = fakeFetch(() => expect.unreachable('nothing is sent without a token'));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { token: () => Promise.reject(cause) }, fetch });
    const error = await client.query('SELECT 1').then(
      () => expect.unreachable('the query succeeded'),
      (e: unknown) => e as SeqlineError,
    );
    expect({ name: error.name, code: error.code, message: error.message, cause: error.cause }).toEqual({ name: 'SeqlineError', code: 'TOKEN_PROVIDER', message: 'the token provider failed: no session', cause });
    client.close();
  });

  it('an answer without an error code (a proxy page) or without results is PROTOCOL', async () => {
    const page = await failure({ status: 502, body: '<html>Bad Gateway</html>' });
    expect(page).toBeInstanceOf(ProtocolError);
    expect({ code: page.code, status: page.status }).toEqual({ code: 'PROTOCOL', status: 502 });
    const garbled = await failure({ status: 200, body: 'not json' });
    expect({ name: garbled.name, code: garbled.code, status: garbled.status }).toEqual({ name: 'ProtocolError', code: 'PROTOCOL', status: undefined });
  });

  it('an unreachable gateway is NETWORK, no answer in time is TIMEOUT (and the request is aborted)', async () => {
    const unreachable = await failure(new TypeError('fetch failed'));
    expect(unreachable).toBeInstanceOf(NetworkError);
    expect({ code: unreachable.code, status: unreachable.status }).toEqual({ code: 'NETWORK', status: undefined });

    let aborted: AbortSignal | undefined;
    const { fetch } = fakeFetch(() => new Promise<Answer>(() => {}));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: (url, init) => ((aborted = init.signal), fetch(url, init)), requestTimeoutMs: 50 });
    const error = await client.execute('DELETE FROM app.t').then(
      () => expect.unreachable('the write succeeded'),
      (e: unknown) => e as SeqlineError,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect({ code: error.code, message: error.message }).toEqual({ code: 'TIMEOUT', message: 'no answer from http://gateway within 50 ms' });
    expect(aborted?.aborted).toBe(true);
    client.close();
  });
});

describe('subscription errors', () => {
  it("reach the subscription's onError as a ServerError with the server's code; stray ones the client's onError", async () => {
    const { fetch } = fakeFetch(() => new TypeError('no HTTP here'));
    const { sockets, factory } = fakeSockets();
    const clientErrors: SeqlineError[] = [];
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch, webSocket: factory, onError: (e) => clientErrors.push(e) });
    const subErrors: SeqlineError[] = [];
    client.live('SELECT nope FROM app.t', () => {}, { onError: (e) => subErrors.push(e) });
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    await accept(sockets[0]!);
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'error', subscription_id: 'q1', code: 'INVALID_SQL', message: 'unknown column nope' }) });
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'error', subscription_id: 'rate_limit', code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' }) });
    expect(subErrors).toEqual([new ServerError('INVALID_SQL', 'unknown column nope')]);
    expect(subErrors[0]).toBeInstanceOf(ServerError);
    expect(subErrors[0]!.status).toBeUndefined();
    expect(clientErrors.map((e) => [e.name, e.code, e.message])).toEqual([['ServerError', 'RATE_LIMIT_EXCEEDED', 'slow down']]);
    client.close();
  });
});
