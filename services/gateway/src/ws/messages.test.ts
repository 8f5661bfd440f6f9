import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { COMPRESS_FROM_BYTES, encodeServerMessage } from './messages.js';

describe('encodeServerMessage', () => {
  it('writes sequence ids as exact integers, and compresses from 512 bytes unless turned off', () => {
    const small = encodeServerMessage({ type: 'subscription_ack', subscription_id: 's', total_rows: 0, batch_control: { batch_num: 0, has_more: false, status: 'ready', last_seq_id: 383470689023905793n } }, true);
    expect(small).toEqual({ data: '{"type":"subscription_ack","subscription_id":"s","total_rows":0,"batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":383470689023905793}}', binary: false });
    const big = { type: 'change', subscription_id: 's', change_type: 'insert', rows: Array.from({ length: 40 }, (_, i) => ({ id: i, title: 'x'.repeat(10) })) } as const;
    const json = JSON.stringify(big);
    expect(Buffer.byteLength(json)).toBeGreaterThanOrEqual(COMPRESS_FROM_BYTES);
    const zipped = encodeServerMessage(big, true);
    expect(zipped.binary).toBe(true);
    expect(gunzipSync(zipped.data as Buffer).toString()).toBe(json);
    expect(encodeServerMessage(big, false)).toEqual({ data: json, binary: false });
  });

  it('sends a batch’s rowsJson as its rows, untouched and last, never reading `rows`', () => {
    const batch = {
      type: 'initial_data_batch',
      subscription_id: 's',
      get rows(): never {
        throw new Error('rows must not be read');
      },
      rowsJson: '[{"id":1,"_seq":"383470689023905793"}]',
      batch_control: { batch_num: 0, has_more: false, status: 'ready', last_seq_id: 383470689023905793n },
    } as const;
    expect(encodeServerMessage(batch, false).data).toBe('{"type":"initial_data_batch","subscription_id":"s","batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":383470689023905793},"rows":[{"id":1,"_seq":"383470689023905793"}]}');
  });
});
