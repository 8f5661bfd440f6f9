import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkContentLength, readBody, type BodySource } from './body.js';

function source(headers: Record<string, string> = {}): PassThrough & BodySource {
  return Object.assign(new PassThrough(), { headers });
}

describe('checkContentLength', () => {
  it.each([
    [undefined, undefined],
    ['10', undefined],
    ['11', { kind: 'error', code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 10 bytes', close: true }],
    ['99999999999999', { kind: 'error', code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 10 bytes', close: true }],
    ['-1', { kind: 'error', code: 'INVALID_INPUT', message: 'invalid Content-Length header', close: true }],
    ['1e3', { kind: 'error', code: 'INVALID_INPUT', message: 'invalid Content-Length header', close: true }],
  ])('%s', (header, expected) => {
    expect(checkContentLength(header, 10)).toEqual(expected);
  });
});

describe('readBody', () => {
  it('reads a body in chunks as UTF-8', async () => {
    const req = source();
    const reading = readBody(req, 100);
    const bytes = Buffer.from('{"sql":"SELECT \'é\'"}');
    req.write(bytes.subarray(0, 17)); // splits the two bytes of é
    req.end(bytes.subarray(17));
    expect(await reading).toEqual({ kind: 'body', text: '{"sql":"SELECT \'é\'"}' });
  });

  it('refuses by Content-Length without reading', async () => {
    const req = source({ 'content-length': '101' });
    let read = false;
    req.on('data', () => (read = true));
    expect(await readBody(req, 100)).toEqual({ kind: 'error', code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 100 bytes', close: true });
    expect(read).toBe(false);
  });

  it('stops at the first chunk beyond the limit when streaming', async () => {
    const req = source();
    const reading = readBody(req, 10);
    req.write('0123456789');
    req.write('x');
    expect(await reading).toEqual({ kind: 'error', code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 10 bytes', close: true });
    expect(req.listenerCount('data')).toBe(0);
  });

  it('accepts a body of exactly the limit', async () => {
    const req = source();
    const reading = readBody(req, 4);
    req.end('abcd');
    expect(await reading).toEqual({ kind: 'body', text: 'abcd' });
  });

  it('refuses invalid UTF-8', async () => {
    const req = source();
    const reading = readBody(req, 10);
    req.end(Buffer.from([0x7b, 0xff, 0x7d]));
    expect(await reading).toEqual({ kind: 'error', code: 'INVALID_INPUT', message: 'request body is not valid UTF-8', close: false });
  });

  it('reports a body cut short', async () => {
    const req = source();
    const reading = readBody(req, 10);
    req.write('ab');
    req.destroy();
    expect(await reading).toEqual({ kind: 'aborted' });
  });
});
