// A WebSocket the test plays the gateway on (docs/protocol.md §4), for hook tests that need no
// server: it records what the client sends and delivers what the test says.
import type { WebSocketLike } from '@seqline/client';
import { expect, vi } from 'vitest';

export interface FakeGateway {
  /** Opens the socket the client asked for and authenticates it; resolves once it subscribed. */
  readonly open: () => Promise<Record<string, unknown>>;
  /** Delivers a server message. */
  readonly send: (message: Record<string, unknown>) => void;
  readonly factory: () => WebSocketLike;
}

export function fakeGateway(): FakeGateway {
  const sent: Record<string, unknown>[] = [];
  let socket: (WebSocketLike & { readyState: number }) | undefined;
  const factory = (): WebSocketLike => {
    socket = { readyState: 0, send: (data) => void sent.push(JSON.parse(data) as Record<string, unknown>), close: () => {}, onopen: null, onclose: null, onerror: null, onmessage: null };
    return socket;
  };
  const send = (message: Record<string, unknown>): void => socket?.onmessage?.({ data: JSON.stringify(message) });
  const open = async (): Promise<Record<string, unknown>> => {
    await vi.waitFor(() => expect(socket).toBeDefined());
    socket!.readyState = 1;
    socket!.onopen?.({});
    await vi.waitFor(() => expect(sent.at(-1)?.['type']).toBe('authenticate'));
    send({ type: 'auth_success', user: 'alice', role: 'user', protocol: { serialization: 'json', compression: 'none' } });
    await vi.waitFor(() => expect(sent.at(-1)?.['type']).toBe('subscribe'));
    return sent.at(-1)!;
  };
  return { open, send, factory };
}
