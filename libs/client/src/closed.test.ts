// closed(): resolves once the client is closed, by close() with nothing, or by a fatal error
// (credentials refused or revoked, on the socket or over HTTP) with that error. A closed client
// refuses everything with CLOSED and never reconnects.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SeqlineClient } from './client.js';
import { AuthError, ClosedError, type SeqlineError } from './errors.js';
import { accept, fakeFetch, fakeSockets, sqlAnswer } from './fakes.test-util.js';
import { memoryStore } from './store.js';

afterEach(() => vi.unstubAllGlobals());

function client(options: { answer?: Parameters<typeof fakeFetch>[0] } = {}) {
  const { fetch, requests } = fakeFetch(options.answer ?? (() => sqlAnswer()));
  const { sockets, factory } = fakeSockets();
  const errors: SeqlineError[] = [];
  const c = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch, webSocket: factory, random: () => 0, onError: (e) => errors.push(e) });
  return { client: c, sockets, requests, errors };
}

describe('closed()', () => {
  it('resolves with nothing after close(); the client then refuses everything with CLOSED', async () => {
    const { client: c, sockets } = client();
    let settled = false;
    const closed = c.closed().then((v) => ((settled = true), v));
    await Promise.resolve();
    expect(settled).toBe(false);
    c.close();
    c.close();
    await expect(closed).resolves.toBeUndefined();
    await expect(c.query('SELECT 1')).rejects.toEqual(new ClosedError());
    await expect(c.execute('DELETE FROM app.t')).rejects.toMatchObject({ name: 'ClosedError', code: 'CLOSED' });
    const liveError = new Promise<SeqlineError>((resolve) => c.live('SELECT id FROM app.t', () => {}, { onError: resolve }));
    expect(await liveError).toMatchObject({ code: 'CLOSED' });
    c.connect();
    expect(sockets).toHaveLength(0);
    expect(c.status).toBe('closed');
  });

  it('resolves with the AuthError when the socket is refused for good (auth_error), also told to onError', async () => {
    const { client: c, sockets, errors } = client();
    c.live('SELECT id FROM app.t', () => {});
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0]!.readyState = 1;
    sockets[0]!.onopen?.({});
    await vi.waitFor(() => expect(sockets[0]!.sent.at(-1)?.['type']).toBe('authenticate'));
    sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'auth_error', code: 'TOKEN_REVOKED', message: 'the token was revoked' }) });
    const error = await c.closed();
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'TOKEN_REVOKED', message: 'the token was revoked' });
    expect(errors).toEqual([error]);
    expect(c.status).toBe('closed');
    await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('resolves with TOKEN_REVOKED when the gateway closes the socket with 4001, and does not reconnect', async () => {
    const { client: c, sockets } = client();
    c.live('SELECT id FROM app.t', () => {});
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    await accept(sockets[0]!);
    sockets[0]!.onclose?.({ code: 4001, reason: 'credentials revoked' });
    expect(await c.closed()).toMatchObject({ name: 'AuthError', code: 'TOKEN_REVOKED' });
    expect(sockets).toHaveLength(1);
    expect(c.status).toBe('closed');
  });

  it('resolves with the HTTP 401 a request got for revoked credentials', async () => {
    const { client: c, requests, errors } = client({ answer: () => ({ status: 401, body: { status: 'error', results: [], error: { code: 'TOKEN_REVOKED', message: 'revoked' } } }) });
    const failure = c.query('SELECT 1');
    await expect(failure).rejects.toMatchObject({ name: 'AuthError', code: 'TOKEN_REVOKED', status: 401 });
    const error = await c.closed();
    expect(error).toBe(await failure.catch((e: unknown) => e));
    expect(errors).toEqual([error]);
    expect(requests).toHaveLength(1);
  });

  it('rejects a queued write with CLOSED when closed, and keeps it in the store for the next sign-in', async () => {
    const store = memoryStore();
    const { fetch } = fakeFetch(() => new TypeError('fetch failed'));
    const c = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, user: 'alice', fetch, store, webSocket: fakeSockets().factory });
    const write = c.execute("INSERT INTO app.t (title) VALUES ('x')");
    await vi.waitFor(async () => expect(await store.get('user/alice/outbox')).toMatch(/INSERT/));
    c.close();
    await expect(write).rejects.toMatchObject({ code: 'CLOSED' });
    expect(JSON.parse((await store.get('user/alice/outbox'))!)).toHaveLength(1);
  });

  it('keeps a queued write when sending it finds the credentials revoked, and resolves with that error', async () => {
    const store = memoryStore();
    const queued = [{ key: 'k1', sql: "INSERT INTO app.t (title) VALUES ('x')", params: [] }];
    await store.set('user/alice/outbox', JSON.stringify(queued));
    const { fetch, requests } = fakeFetch(() => ({ status: 401, body: { status: 'error', results: [], error: { code: 'TOKEN_REVOKED', message: 'revoked' } } }));
    const { sockets, factory } = fakeSockets();
    const c = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, user: 'alice', fetch, store, webSocket: factory });
    await vi.waitFor(() => expect(sockets).toHaveLength(1)); // a non-empty outbox connects, to send it
    await accept(sockets[0]!);
    expect(await c.closed()).toMatchObject({ name: 'AuthError', code: 'TOKEN_REVOKED', status: 401 });
    expect(requests.map((r) => r.headers['idempotency-key'])).toEqual(['k1']);
    expect(JSON.parse((await store.get('user/alice/outbox'))!)).toEqual(queued);
  });
});
