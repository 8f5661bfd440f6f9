// Reading a request body with a size limit. A Content-Length above the limit is refused before
// a byte is read; without one (chunked), bytes are counted as they arrive and reading stops at
// the first chunk that crosses the limit. Either way the reply asks to close the connection,
// so the rest of an oversized body is never read. The body must be UTF-8.
import type { Readable } from 'node:stream';
import type { ErrorCode } from '@seqline/protocol';

export type BodyResult =
  | { readonly kind: 'body'; readonly text: string }
  | { readonly kind: 'error'; readonly code: Extract<ErrorCode, 'PAYLOAD_TOO_LARGE' | 'INVALID_INPUT'>; readonly message: string; readonly close: boolean }
  /** The client went away (or the socket failed) before the body was complete: nobody to answer. */
  | { readonly kind: 'aborted' };

/** The request as body reading needs it: a byte stream plus its headers. */
export type BodySource = Readable & { readonly headers: Readonly<Record<string, string | string[] | undefined>> };

export function tooLarge(limit: number): BodyResult {
  return { kind: 'error', code: 'PAYLOAD_TOO_LARGE', message: `request body exceeds ${limit} bytes`, close: true };
}

/** Checks Content-Length against the limit before anything is read. */
export function checkContentLength(header: string | string[] | undefined, limit: number): BodyResult | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return { kind: 'error', code: 'INVALID_INPUT', message: 'invalid Content-Length header', close: true };
  return Number(value) > limit ? tooLarge(limit) : undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function readBody(source: BodySource, limit: number): Promise<BodyResult> {
  const early = checkContentLength(source.headers['content-length'], limit);
  if (early !== undefined) return Promise.resolve(early);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onAbort);
      source.off('aborted', onAbort);
      source.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        source.pause();
        finish(tooLarge(limit));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => {
      let text: string;
      try {
        text = decoder.decode(Buffer.concat(chunks, size));
      } catch {
        finish({ kind: 'error', code: 'INVALID_INPUT', message: 'request body is not valid UTF-8', close: false });
        return;
      }
      finish({ kind: 'body', text });
    };
    const onAbort = (): void => finish({ kind: 'aborted' });
    // 'close' before 'end' means the stream was destroyed mid-body.
    const onClose = (): void => {
      if (!source.readableEnded) finish({ kind: 'aborted' });
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onAbort);
    source.on('aborted', onAbort);
    source.on('close', onClose);
  });
}
