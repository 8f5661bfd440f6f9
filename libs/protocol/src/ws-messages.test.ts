import { describe, expect, it } from 'vitest';
import { FrameError, type MessageError, parseClientMessage, serverMessageSchema } from './ws-messages.js';

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
    expect(parseClientMessage('{"type":"subscribe","subscription":{"id":"x","sql":"SELECT 1","params":[1,"a",null,true,12345678901234567890]}}')).toMatchObject({ subscription: { params: [1, 'a', null, true, '12345678901234567890'], liveOnly: true } });
  });

  it.each([
    ['not json', 'the frame is not valid JSON'],
    ['[1]', 'a message must be a JSON object'],
    ['{"kind":"ping"}', 'a message needs a "type"'],
    ['{"type":"launch"}', 'unknown message type "launch"'],
    ['{"type":"toString"}', 'unknown message type "toString"'],
    ['{"type":"__proto__"}', 'unknown message type "__proto__"'],
  ])('closes on %s: %s', (text, message) => {
    expect(() => parseClientMessage(text)).toThrow(new FrameError(message));
  });

  it.each([
    ['{"type":"authenticate","method":"basic","token":"t"}', 'protocol', 'UNAUTHORIZED', 'authentication method "basic" is not supported; use "jwt"'],
    ['{"type":"authenticate"}', 'protocol', 'UNAUTHORIZED', 'authenticate needs a token'],
    [`{"type":"authenticate","token":"t","method":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'protocol', 'UNAUTHORIZED', 'authentication method an array is not supported; use "jwt"'],
    ['{"type":"authenticate","token":"t","protocol":{"compression":7}}', 'protocol', 'UNSUPPORTED_DATA', 'compression a number is not supported; use "gzip" or "none"'],
    ['{"type":"authenticate","token":""}', 'protocol', 'UNAUTHORIZED', 'authenticate needs a token'],
    ['{"type":"authenticate","token":"t","protocol":{"compression":"br"}}', 'protocol', 'UNSUPPORTED_DATA', 'compression "br" is not supported; use "gzip" or "none"'],
    ['{"type":"authenticate","token":"t","protocol":{"serialization":"msgpack"}}', 'protocol', 'UNSUPPORTED_DATA', 'only JSON serialization is supported'],
    ['{"type":"subscribe"}', 'protocol', 'INVALID_SUBSCRIPTION_ID', 'subscribe needs a "subscription" object'],
    ['{"type":"subscribe","subscription":{"id":"bad id","sql":"SELECT 1"}}', 'protocol', 'INVALID_SUBSCRIPTION_ID', 'a subscription id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -'],
    ['{"type":"subscribe","subscription":{"id":7,"sql":"SELECT 1"}}', 'protocol', 'INVALID_SUBSCRIPTION_ID', 'a subscription id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":" "}}', 's', 'INVALID_SQL', 'subscription.sql must be a SELECT statement'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"batch_size":0}}}', 's', 'INVALID_SQL', 'options.batch_size must be an integer from 1 to 2147483647'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"batch_size":1e300}}}', 's', 'INVALID_SQL', 'options.batch_size must be an integer from 1 to 2147483647'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"last_rows":99999999999999999999}}}', 's', 'INVALID_SQL', 'options.last_rows must be an integer from 1 to 2147483647'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"from":-1}}}', 's', 'INVALID_SQL', 'options.from must be a sequence id (a non-negative integer)'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"from":9223372036854775808}}}', 's', 'INVALID_SQL', 'options.from must be a sequence id (a non-negative integer)'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"from":{}}}}', 's', 'INVALID_SQL', 'options.from must be a sequence id (a non-negative integer)'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"from":1,"last_rows":5}}}', 's', 'INVALID_SQL', 'options.from and options.last_rows cannot be combined'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":{"flow":"push"}}}', 's', 'INVALID_SQL', 'options.flow must be "client" or "server"'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","options":[]}}', 's', 'INVALID_SQL', 'subscription.options must be an object'],
    ['{"type":"subscribe","subscription":{"id":"s","sql":"SELECT 1","params":[{}]}}', 's', 'INVALID_SQL', 'subscription.params must be an array of strings, numbers, booleans or nulls'],
    ['{"type":"next_batch","subscription_id":"a","last_seq_id":"x"}', 'a', 'INVALID_SQL', 'last_seq_id must be a sequence id (a non-negative integer)'],
    ['{"type":"unsubscribe"}', 'protocol', 'INVALID_SUBSCRIPTION_ID', 'a subscription id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -'],
  ])('answers %s with an error event', (text, subscriptionId, code, message) => {
    expect(() => parseClientMessage(text)).toThrow(expect.objectContaining({ name: 'MessageError', subscriptionId, code, message }) as MessageError);
  });
});

describe('serverMessageSchema', () => {
  it('reads what the gateway sends, sequence ids as bigints', () => {
    expect(serverMessageSchema.parse({ type: 'subscription_ack', subscription_id: 's', total_rows: 2, batch_control: { batch_num: 0, has_more: true, status: 'loading', last_seq_id: 383470689023905793n } })).toEqual({
      type: 'subscription_ack',
      subscription_id: 's',
      total_rows: 2,
      batch_control: { batch_num: 0, has_more: true, status: 'loading', last_seq_id: 383470689023905793n },
    });
    expect(serverMessageSchema.safeParse({ type: 'error', subscription_id: 's', code: 'NO_SUCH_CODE', message: 'x' }).success).toBe(false);
    expect(serverMessageSchema.parse({ type: 'auth_error', code: 'TOKEN_EXPIRED', message: 'token expired' })).toEqual({ type: 'auth_error', code: 'TOKEN_EXPIRED', message: 'token expired' });
  });
});
