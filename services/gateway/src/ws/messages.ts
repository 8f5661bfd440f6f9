// Server messages as WebSocket frames (docs/protocol.md §4): JSON with sequence ids as exact
// integers (never rounded through a JS number), gzip-compressed into a binary frame from 512
// bytes on unless the client turned compression off. The messages themselves are declared
// once, with the client messages, in @seqline/protocol (ws-messages.ts). A change that several
// subscriptions of one query shape send is encoded once: its JSON after `subscription_id` is
// kept beside the shared body, and each frame splices its own id in (the same bytes).
import { gzipSync } from 'node:zlib';
import type { ServerMessage } from '@seqline/protocol';
import { stringifyJsonLossless } from '@seqline/seq';

type Change = Extract<ServerMessage, { type: 'change' }>;

/** A change event without its subscription: what every subscription of one query shape sends for one row change. */
export type ChangeBody = Pick<Change, 'change_type' | 'rows' | 'old_values'>;

/**
 * A server message, a snapshot batch carrying storage's JSON of its rows (`rowsJson`), or a
 * change carrying the body it shares with other subscriptions (`shared`, whose fields it repeats).
 */
export type OutgoingMessage = ServerMessage | (Extract<ServerMessage, { type: 'initial_data_batch' }> & { readonly rowsJson: string }) | (Change & { readonly shared: ChangeBody });

function hasRowsJson(m: OutgoingMessage): m is OutgoingMessage & { readonly rowsJson: string } {
  return 'rowsJson' in m && typeof m.rowsJson === 'string';
}

function withRows(message: OutgoingMessage & { readonly rowsJson: string }): string {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(Object.getOwnPropertyDescriptors(message))) if (key !== 'rows' && key !== 'rowsJson') rest[key] = value.value;
  return `${stringifyJsonLossless(rest).slice(0, -1)},"rows":${message.rowsJson}}`;
}

/** A shared body's JSON after `{"type":"change","subscription_id":…,`, encoded on its first frame. */
const tails = new WeakMap<ChangeBody, string>();

function withSharedBody(message: Change & { readonly shared: ChangeBody }): string {
  let tail = tails.get(message.shared);
  if (tail === undefined) {
    const { change_type, rows, old_values } = message.shared; // the order today's frames have
    tail = stringifyJsonLossless({ change_type, rows, old_values }).slice(1);
    tails.set(message.shared, tail);
  }
  return `{"type":"change","subscription_id":${JSON.stringify(message.subscription_id)},${tail}`;
}

/** Payloads of at least this many bytes go out gzip-compressed, as binary frames. */
export const COMPRESS_FROM_BYTES = 512;

/**
 * A server message as a frame: JSON text, or gzip-compressed JSON in a binary frame. A message
 * with `rowsJson` (a snapshot batch) gets that text as its `rows`, last, without `rows` being
 * read: the rows go out as storage wrote them. A change with a `shared` body is that body's
 * JSON with the message's `subscription_id` spliced in.
 */
export function encodeServerMessage(message: OutgoingMessage, compress: boolean): { readonly data: string | Buffer; readonly binary: boolean } {
  const json = hasRowsJson(message) ? withRows(message) : 'shared' in message ? withSharedBody(message) : stringifyJsonLossless(message);
  if (!compress || Buffer.byteLength(json) < COMPRESS_FROM_BYTES) return { data: json, binary: false };
  return { data: gzipSync(json), binary: true };
}
