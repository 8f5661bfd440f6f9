import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { COMPRESS_FROM_BYTES, encodeServerMessage, FrameError, type MessageError, parseClientMessage } from './messages.js';

describe('parseClientMessage', () => {
  it('reads each message into its tagged form, sequence ids exactly', () => {
    expect(parseClientMessage('{"type":"authenticate","method":"jwt","token":"t","protocol":{"serialization":"json","compression":"none"}}')).toEqual({ type: 'authenticate', token: 't', compression: 'none' });
    expect(parseClientMessage('{"type":"ping"}')).toEqual({ type: 'ping' });
    expect(parseClientMessage('{"type":"unsubscribe","subscription_id":"tickets"}')).toEqual({ type: 'unsubscribe', subscriptionId: 'tickets' });
    expect(parseClientMessage('{"type":"next_batch","subscription_id":"a","last_seq_id":9223372036854775807}')).toEqual({ type: 'next_batch', subscriptionId: 'a', lastSeqId: 9223372036854775807n });
    expect(parseClientMessage('{"type":"subscribe","subscription":{"id":"tickets","sql":"SELECT id FROM app.t","options":{"batch_size":500,"from":383470689023905793}}}')).toEqual({
      type: 'subscribe',
      subscription: { id: 'tickets', sql: 'SELECT id FROM app.t', params: [], batchSize: 500, from: 383470689023905793n, clientPaced: false, liveOnly: false },
    });
    expect(parseClientMessage('{"type":"subscribe","subscription":{"id":"x","sql":"SELECT 1","options":{"from_seq_id":"12","flow":"client"}}}')).toMatchObject({ subscription: { from: 12n, clientPaced: true } });
    expect(parseClientMessage('{"type":"subscribe","subscription":{"id":"x","sql":"SELECT 1","params":[1,"a",null,true]}}')).toMatchObject({ subscription: { params: [1, 'a', null, true], liveOnly: true } });
  });

  it.each([
    ['not json', 'the frame is not valid JSON'],
    ['[1]', 'a message must be a JSON object'],
    ['{"kind":"ping"}', 'a message needs a "type"'],
    ['{"type":"launch"}', 'unknown message type "launch"'],
  ])('closes on %s: %s', (text, message) => {
    expect(() => parseClientMessage(text)).toThrow(new FrameError(message));
  });

  it.each([
    ['{"type":"authenticate","method":"basic","token":"t"}', 'protocol', 'UNAUTHORIZED', 'authentication method "basic" is not supported; use "jwt"'],
    ['{"type":"authenticate"}', 'protocol', 'UNAUTHORIZED', 'authenticate needs a token'],
    ['{"type":"authenticate","token":"t","protocol":{"compression":"br"}}', 'protocol', 'UNSUPPORTED_DATA', 'compression "br" is not supported; use "gzip" or "none"'],
    ['{"type":"subscribe"}', 'protocol', 'INVALID_SUBSCRIPTION_ID', 'subscribe needs a "subscription" object'],
    ['{"type":"subscribe","subscription":{"id":"bad id","sql":"SELECT 1"}}', 'protocol', 'INVALID_SUBSCRIPTION_ID', 'a subscription id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":" "}}', 's', 'INVALID_SQL', 'subscription.sql must be a SELECT statement'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"batch_size":0}}}', 's', 'INVALID_SQL', 'options.batch_size must be an integer of at least 1'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"from":-1}}}', 's', 'INVALID_SQL', 'options.from must be a sequence id (a non-negative integer)'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"from":1,"last_rows":5}}}', 's', 'INVALID_SQL', 'options.from and options.last_rows cannot be combined'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","params":[{}]}}', 's', 'INVALID_SQL', 'subscription.params must be an array of strings, numbers, booleans or nulls'],
  ])('answers %s with an error event', (text, subscriptionId, code, message) => {
    expect(() => parseClientMessage(text)).toThrow(expect.objectContaining({ name: 'MessageError', subscriptionId, code, message }) as MessageError);
  });
});

describe('encodeServerMessage', () => {
  it('writes sequence ids as exact integers, and compresses from 512 bytes unless turned off', () => {
    const small = encodeServerMessage({ type: 'subscription_ack', batch_control: { last_seq_id: 383470689023905793n } }, true);
    expect(small).toEqual({ data: '{"type":"subscription_ack","batch_control":{"last_seq_id":383470689023905793}}', binary: false });
    const big = { type: 'initial_data_batch', rows: Array.from({ length: 40 }, (_, i) => ({ id: i, title: 'x'.repeat(10) })) };
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
    };
    expect(encodeServerMessage(batch, false).data).toBe('{"type":"initial_data_batch","subscription_id":"s","batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":383470689023905793},"rows":[{"id":1,"_seq":"383470689023905793"}]}');
  });
});
