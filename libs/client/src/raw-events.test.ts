// Raw events from subscribe(): a batch's last_seq_id beyond 2^53 arrives exact (batches are
// parsed on the fast path, which would round it), and BIGINT cells become bigints.
import { describe, expect, it, vi } from 'vitest';
import { SeqlineClient, type LiveEvent, type WebSocketLike } from './client.js';

describe('subscribe()', () => {
  it('passes sequence ids beyond 2^53 exactly and converts BIGINT cells', async () => {
    const sent: Record<string, unknown>[] = [];
    const socket: WebSocketLike & { readyState: number } = { readyState: 0, send: (d) => void sent.push(JSON.parse(d) as Record<string, unknown>), close: () => {}, onopen: null, onclose: null, onerror: null, onmessage: null };
    const client = new SeqlineClient({ url: 'http://gateway', auth: { jwt: 'jwt' }, fetch: () => Promise.reject(new Error('no HTTP here')), webSocket: () => socket });
    const events: LiveEvent[] = [];
    client.subscribe('SELECT id FROM app.t', (e) => events.push(e), { options: {} });
    try {
      await vi.waitFor(() => expect(socket.onopen).not.toBeNull());
      socket.readyState = 1;
      socket.onopen?.({});
      await vi.waitFor(() => expect(sent.at(-1)?.['type']).toBe('authenticate'));
      socket.onmessage?.({ data: '{"type":"auth_success","user":"alice","role":"user"}' });
      await vi.waitFor(() => expect(sent.at(-1)?.['type']).toBe('subscribe'));
      socket.onmessage?.({ data: '{"type":"subscription_ack","subscription_id":"q1","total_rows":1,"batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":383496306159300609},"schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk"]},{"name":"_seq","data_type":"BigInt","index":1}]}' });
      socket.onmessage?.({ data: '{"type":"initial_data_batch","subscription_id":"q1","rows":[{"id":"9007199254740993","_seq":"383496306159300607"}],"batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":383496306159300609}}' });
      expect(events.map((e) => (e['batch_control'] as { last_seq_id: unknown }).last_seq_id)).toEqual([383496306159300609n, 383496306159300609n]);
      expect(events[1]!['rows']).toEqual([{ id: 9007199254740993n, _seq: 383496306159300607n }]);
    } finally {
      client.close();
    }
  });
});
