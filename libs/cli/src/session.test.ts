import { AuthError, SeqlineError, type FetchLike } from '@seqline/client/node';
import { describe, expect, it } from 'vitest';
import type { Credentials, CredentialsStore, SavedSession } from './credentials.js';
import { UsageError } from './errors.js';
import { DEFAULT_URL, gatewayUrl, resolveTarget, Session } from './session.js';

const T0 = Date.parse('2025-06-01T12:00:00Z');
const saved = (user: string, over: Partial<SavedSession> = {}): SavedSession => ({
  user,
  access_token: `access-${user}`,
  expires_at: '2025-06-01T13:00:00.000Z',
  refresh_token: `refresh-${user}`,
  refresh_expires_at: '2025-06-08T12:00:00.000Z',
  ...over,
});
const none: Credentials = { sessions: {} };

/** A fetch answering from `reply`, recording each call. */
function fakeFetch(reply: (url: string, body: unknown, auth: string | undefined) => { status: number; body: unknown }) {
  const calls: { url: string; body: unknown; auth: string | undefined }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const call = { url, body: JSON.parse(init.body ?? 'null') as unknown, auth: init.headers['authorization'] };
    calls.push(call);
    const r = reply(call.url, call.body, call.auth);
    return { status: r.status, text: async () => JSON.stringify(r.body) };
  };
  return { fetch, calls };
}

function memoryCredentials(initial: Credentials): CredentialsStore & { current: Credentials } {
  const store = {
    path: '/config/credentials.json',
    current: initial,
    load: async () => store.current,
    save: async (c: Credentials) => void (store.current = c),
  };
  return store;
}

const tokens = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_at: '2025-06-01T14:00:00.000Z', refresh_expires_at: '2025-06-08T14:00:00.000Z' });

describe('gatewayUrl', () => {
  it('takes --url, else SEQLINE_URL, else the last login, else the local default', () => {
    const last: Credentials = { current: 'http://last:1', sessions: {} };
    expect(gatewayUrl({ url: 'http://flag:1/' }, { SEQLINE_URL: 'http://env:1' }, last)).toBe('http://flag:1');
    expect(gatewayUrl({}, { SEQLINE_URL: 'https://env.example/seqline/' }, last)).toBe('https://env.example/seqline');
    expect(gatewayUrl({}, { SEQLINE_URL: '' }, last)).toBe('http://last:1');
    expect(gatewayUrl({}, {}, none)).toBe(DEFAULT_URL);
  });

  it('refuses what is not an http(s) URL, naming where it came from', () => {
    expect(() => gatewayUrl({ url: 'localhost:8080' }, {}, none)).toThrow(new UsageError('--url must be an http:// or https:// URL, got "localhost:8080"'));
    expect(() => gatewayUrl({}, { SEQLINE_URL: 'not a url' }, none)).toThrow(new UsageError('SEQLINE_URL is not a URL: "not a url"'));
  });
});

describe('resolveTarget', () => {
  const url = 'http://gw:1';
  const logged: Credentials = { current: url, sessions: { [url]: saved('alice') } };

  it('logs in with a password given (flag or env), or uses the session saved for the URL', () => {
    expect(resolveTarget({ user: 'bob', password: 'pw' }, {}, logged)).toEqual({ url, identity: { kind: 'password', user: 'bob', password: 'pw' } });
    expect(resolveTarget({}, { SEQLINE_USER: 'bob', SEQLINE_PASSWORD: 'pw' }, logged)).toEqual({ url, identity: { kind: 'password', user: 'bob', password: 'pw' } });
    expect(resolveTarget({}, { SEQLINE_PASSWORD: 'pw' }, logged)).toEqual({ url, identity: { kind: 'password', user: 'alice', password: 'pw' } });
    expect(resolveTarget({}, {}, logged)).toEqual({ url, identity: { kind: 'saved', session: saved('alice') } });
    expect(resolveTarget({ user: 'alice' }, {}, logged)).toEqual({ url, identity: { kind: 'saved', session: saved('alice') } });
  });

  it('says how to log in when there is no session for that URL or user', () => {
    expect(() => resolveTarget({ url: 'http://other:2' }, {}, logged)).toThrow('not logged in to http://other:2: run "seqline login --url http://other:2" (or give --password)');
    expect(() => resolveTarget({ user: 'bob' }, {}, logged)).toThrow('not logged in to http://gw:1 as bob: run "seqline login --url http://gw:1 --user bob" (or give --password)');
    expect(() => resolveTarget({ password: 'pw' }, {}, none)).toThrow(new UsageError('a password needs a user: --user or SEQLINE_USER'));
  });
});

describe('Session', () => {
  const url = 'http://gw:1';
  const target = { url, identity: { kind: 'saved', session: saved('alice') } } as const;

  it('uses a saved token while it is fresh, then refreshes it once for concurrent callers and saves the new pair', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 200, body: tokens(2) }));
    const credentials = memoryCredentials({ current: url, sessions: { [url]: saved('alice'), 'http://x:1': saved('carol') } });
    let now = T0;
    const session = new Session(target, { fetch, now: () => now, credentials });
    expect(await session.token()).toBe('access-alice');
    now = Date.parse('2025-06-01T12:59:40Z'); // 20 s before expiry
    expect(await Promise.all([session.token(), session.token()])).toEqual(['access-2', 'access-2']);
    expect(calls).toEqual([{ url: `${url}/v1/api/auth/refresh`, body: {}, auth: 'Bearer refresh-alice' }]);
    expect(credentials.current).toEqual({ current: url, sessions: { [url]: { user: 'alice', ...tokens(2) }, 'http://x:1': saved('carol') } });
    expect(await session.token()).toBe('access-2');
  });

  it('asks for a new login when the refresh token is refused or expired', async () => {
    const { fetch } = fakeFetch(() => ({ status: 401, body: { error: 'unauthorized', message: 'token expired' } }));
    const session = new Session(target, { fetch, now: () => Date.parse('2025-06-02T00:00:00Z'), credentials: memoryCredentials(none) });
    await expect(session.token()).rejects.toEqual(new SeqlineError('SESSION_EXPIRED', 'the session for http://gw:1 has expired: run "seqline login --url http://gw:1"'));
    const late = new Session(target, { fetch, now: () => Date.parse('2025-06-09T00:00:00Z'), credentials: memoryCredentials(none) });
    await expect(late.token()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
  });

  it('logs in with a password, saving nothing, and passes the server error on', async () => {
    const { fetch, calls } = fakeFetch((_url, body) => ((body as { password: string }).password === 'pw' ? { status: 200, body: tokens(1) } : { status: 401, body: { error: 'unauthorized', message: 'invalid username or password' } }));
    const credentials = memoryCredentials(none);
    const session = new Session({ url, identity: { kind: 'password', user: 'bob', password: 'pw' } }, { fetch, now: () => T0, credentials });
    expect(await session.token()).toBe('access-1');
    expect(calls).toEqual([{ url: `${url}/v1/api/auth/login`, body: { username: 'bob', password: 'pw' }, auth: undefined }]);
    expect(credentials.current).toBe(none);
    const wrong = new Session({ url, identity: { kind: 'password', user: 'bob', password: 'nope' } }, { fetch, now: () => T0, credentials });
    await expect(wrong.token()).rejects.toEqual(new AuthError('UNAUTHORIZED', 'invalid username or password', 401));
  });
});
