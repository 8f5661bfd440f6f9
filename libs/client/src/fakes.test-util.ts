// Test doubles for the client's unit tests: a WebSocket the test drives, and a fetch that
// records each request and answers with what the test says.
import { expect, vi } from 'vitest';
import type { WebSocketLike } from './client.js';
import type { FetchLike } from './http.js';

export interface FakeSocket extends WebSocketLike {
  readyState: number;
  readonly sent: Record<string, unknown>[];
  readonly closed: (number | undefined)[];
}

export function fakeSocket(): FakeSocket {
  const sent: Record<string, unknown>[] = [];
  const closed: (number | undefined)[] = [];
  return {
    readyState: 0,
    sent,
    closed,
    send: (data) => void sent.push(JSON.parse(data) as Record<string, unknown>),
    close: (code) => void closed.push(code),
    onopen: null,
    onclose: null,
    onerror: null,
    onmessage: null,
  };
}

/** Sockets a client opens, in order. */
export function fakeSockets(): { sockets: FakeSocket[]; factory: () => FakeSocket } {
  const sockets: FakeSocket[] = [];
  return { sockets, factory: () => sockets[sockets.push(fakeSocket()) - 1]! };
}

/** Opens and authenticates a fake socket the way the gateway would. */
export async function accept(socket: FakeSocket, token = 'jwt'): Promise<void> {
  socket.readyState = 1;
  socket.onopen?.({});
  await vi.waitFor(() => expect(socket.sent.at(-1)).toEqual({ type: 'authenticate', method: 'jwt', token }));
  socket.onmessage?.({ data: JSON.stringify({ type: 'auth_success', user: 'alice', role: 'user' }) });
}

export interface Request {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

/** What the fake gateway answers: a status and a body (JSON unless a string), or a thrown error. */
export type Answer = { readonly status: number; readonly body: unknown } | Error;

export function fakeFetch(answer: (request: Request) => Answer | Promise<Answer>): { fetch: FetchLike; requests: Request[] } {
  const requests: Request[] = [];
  const fetch: FetchLike = async (url, init) => {
    const request = { url, headers: init.headers, body: JSON.parse(init.body ?? '{}') as Record<string, unknown> };
    requests.push(request);
    const a = await answer(request);
    if (a instanceof Error) throw a;
    return { status: a.status, text: async () => (typeof a.body === 'string' ? a.body : JSON.stringify(a.body)) };
  };
  return { fetch, requests };
}

/** A successful SQL answer with these results (docs/protocol.md §2). */
export function sqlAnswer(...results: Record<string, unknown>[]): Answer {
  return { status: 200, body: { status: 'success', took: 1, results } };
}

/** A JWT whose payload has `sub` (unsigned: the fakes do not check). */
export function jwtFor(sub: string): string {
  const b64 = (v: object): string => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, role: 'user', token_type: 'access' })}.sig`;
}
