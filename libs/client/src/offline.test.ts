// The browser's `offline` event: an open socket stalls without closing when the network goes
// (Chromium holds its frames until the network is back), so the client drops it at once, shows
// `reconnecting`, and on `online` reconnects and resumes each live query from its cursor.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SeqlineClient } from './client.js';
import { accept, fakeSocket, type FakeSocket } from './fakes.test-util.js';

const listeners = new Map<string, () => void>();

beforeEach(() => {
  vi.stubGlobal('addEventListener', (type: string, listener: () => void) => listeners.set(type, listener));
  vi.stubGlobal('removeEventListener', (type: string) => listeners.delete(type));
});
afterEach(() => {
  vi.unstubAllGlobals();
  listeners.clear();
});

describe('the offline event', () => {
  it('drops the open socket, then resumes every live query from its cursor once online', async () => {
    const sockets: FakeSocket[] = [];
    const fetchImpl = () => Promise.reject(new Error('no HTTP in this test'));
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: fetchImpl, webSocket: () => sockets[sockets.push(fakeSocket()) - 1]!, random: () => 0 });
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    const stop = client.live('SELECT id FROM app.t', () => {});
    try {
      await vi.waitFor(() => expect(sockets).toHaveLength(1));
      await accept(sockets[0]!);
      expect(sockets[0]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: 'SELECT id FROM app.t', options: {} } });
      const schema = [{ name: 'id', data_type: 'Int', index: 0, flags: ['pk'] }];
      sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'subscription_ack', subscription_id: 'q1', total_rows: 1, batch_control: { batch_num: 0, has_more: true, status: 'loading', last_seq_id: 42 }, schema }) });
      sockets[0]!.onmessage?.({ data: JSON.stringify({ type: 'initial_data_batch', subscription_id: 'q1', rows: [{ id: 1, _seq: '40' }], batch_control: { batch_num: 0, has_more: false, status: 'ready' } }) });

      listeners.get('offline')!();
      expect(sockets[0]!.closed).toEqual([1000]);
      expect(client.status).toBe('reconnecting');
      sockets[0]!.onclose?.({}); // the late close of the dropped socket changes nothing
      expect(sockets).toHaveLength(1);

      listeners.get('online')!();
      expect(sockets).toHaveLength(2);
      await accept(sockets[1]!);
      expect(sockets[1]!.sent.at(-1)).toEqual({ type: 'subscribe', subscription: { id: 'q1', sql: 'SELECT id FROM app.t', options: { from: '42' } } });
      expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    } finally {
      stop();
      client.close();
    }
    expect(listeners.size).toBe(0);
  });

  it('does nothing while no socket is open', () => {
    const sockets: FakeSocket[] = [];
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: () => Promise.reject(new Error('unused')), webSocket: () => sockets[sockets.push(fakeSocket()) - 1]! });
    listeners.get('offline')!();
    expect(client.status).toBe('closed');
    expect(sockets).toHaveLength(0);
    client.close();
  });
});
