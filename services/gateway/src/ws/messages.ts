// Server messages as WebSocket frames (docs/protocol.md §4): JSON with sequence ids as exact
// integers (never rounded through a JS number), gzip-compressed into a binary frame from 512
// bytes on unless the client turned compression off. The messages themselves are declared
// once, with the client messages, in @seqline/protocol (ws-messages.ts).
import { gzipSync } from 'node:zlib';
import type { ServerMessage } from '@seqline/protocol';
import { stringifyJsonLossless } from '@seqline/seq';

/** A server message, or a snapshot batch carrying storage's JSON of its rows (`rowsJson`). */
export type OutgoingMessage = ServerMessage | (Extract<ServerMessage, { type: 'initial_data_batch' }> & { readonly rowsJson: string });

function hasRowsJson(m: OutgoingMessage): m is OutgoingMessage & { readonly rowsJson: string } {
  return 'rowsJson' in m && typeof m.rowsJson === 'string';
}

function withRows(message: OutgoingMessage & { readonly rowsJson: string }): string {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(Object.getOwnPropertyDescriptors(message))) if (key !== 'rows' && key !== 'rowsJson') rest[key] = value.value;
  return `${stringifyJsonLossless(rest).slice(0, -1)},"rows":${message.rowsJson}}`;
}

/** Payloads of at least this many bytes go out gzip-compressed, as binary frames. */
export const COMPRESS_FROM_BYTES = 512;

/**
 * A server message as a frame: JSON text, or gzip-compressed JSON in a binary frame. A message
 * with `rowsJson` (a snapshot batch) gets that text as its `rows`, last, without `rows` being
 * read: the rows go out as storage wrote them.
 */
export function encodeServerMessage(message: OutgoingMessage, compress: boolean): { readonly data: string | Buffer; readonly binary: boolean } {
  const json = hasRowsJson(message) ? withRows(message) : stringifyJsonLossless(message);
  if (!compress || Buffer.byteLength(json) < COMPRESS_FROM_BYTES) return { data: json, binary: false };
  return { data: gzipSync(json), binary: true };
}
