// WebSocket frames (PROTOCOL.md §4), parsed once at the boundary into tagged unions, and
// server messages encoded: JSON with sequence ids as exact integers (never rounded through a
// JS number), gzip-compressed into a binary frame from 512 bytes on unless the client turned
// compression off.
import { gzipSync } from 'node:zlib';
import { parseJsonLossless, stringifyJsonLossless } from '@seqline/seq';

export type ClientMessage =
  | { readonly type: 'authenticate'; readonly token: string; readonly compression?: 'gzip' | 'none' }
  | { readonly type: 'subscribe'; readonly subscription: SubscribeRequest }
  | { readonly type: 'unsubscribe'; readonly subscriptionId: string }
  | { readonly type: 'next_batch'; readonly subscriptionId: string; readonly lastSeqId?: bigint }
  | { readonly type: 'ping' };

export interface SubscribeRequest {
  readonly id: string;
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly batchSize?: number;
  readonly lastRows?: number;
  readonly from?: bigint;
  readonly clientPaced: boolean;
  /** No options at all: live changes only. */
  readonly liveOnly: boolean;
}

/** A frame the connection cannot continue after (closed with 1011, the reason naming it). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** A known message with a bad field: answered with an error event, the connection stays. */
export class MessageError extends Error {
  override readonly name = 'MessageError';
  constructor(
    readonly subscriptionId: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SUBSCRIPTION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch {
    throw new FrameError('the frame is not valid JSON');
  }
  if (!isObject(value)) throw new FrameError('a message must be a JSON object');
  const type = value['type'];
  switch (type) {
    case 'authenticate': {
      if (value['method'] !== undefined && value['method'] !== 'jwt') throw new MessageError('protocol', 'UNAUTHORIZED', `authentication method ${JSON.stringify(value['method'])} is not supported; use "jwt"`);
      const token = value['token'];
      if (typeof token !== 'string' || token === '') throw new MessageError('protocol', 'UNAUTHORIZED', 'authenticate needs a token');
      const protocol = value['protocol'];
      const compression = isObject(protocol) ? protocol['compression'] : undefined;
      if (compression !== undefined && compression !== 'gzip' && compression !== 'none') throw new MessageError('protocol', 'UNSUPPORTED_DATA', `compression ${JSON.stringify(compression)} is not supported; use "gzip" or "none"`);
      if (isObject(protocol) && protocol['serialization'] !== undefined && protocol['serialization'] !== 'json') throw new MessageError('protocol', 'UNSUPPORTED_DATA', 'only JSON serialization is supported');
      return { type, token, ...(compression === undefined ? {} : { compression }) };
    }
    case 'subscribe':
      return { type, subscription: parseSubscription(value['subscription']) };
    case 'unsubscribe':
      return { type, subscriptionId: subscriptionId(value['subscription_id']) };
    case 'next_batch': {
      const id = subscriptionId(value['subscription_id']);
      const last = value['last_seq_id'];
      return { type, subscriptionId: id, ...(last === undefined || last === null ? {} : { lastSeqId: seqOf(last, id, 'last_seq_id') }) };
    }
    case 'ping':
      return { type };
    default:
      throw new FrameError(typeof type === 'string' ? `unknown message type ${JSON.stringify(type.slice(0, 40))}` : 'a message needs a "type"');
  }
}

function parseSubscription(value: unknown): SubscribeRequest {
  if (!isObject(value)) throw new MessageError('protocol', 'INVALID_SUBSCRIPTION_ID', 'subscribe needs a "subscription" object');
  const id = subscriptionId(value['id']);
  const sql = value['sql'];
  if (typeof sql !== 'string' || sql.trim() === '') throw new MessageError(id, 'INVALID_SQL', 'subscription.sql must be a SELECT statement');
  const params = value['params'] ?? [];
  if (!Array.isArray(params) || params.some((p) => p !== null && typeof p !== 'string' && typeof p !== 'number' && typeof p !== 'boolean' && typeof p !== 'bigint')) {
    throw new MessageError(id, 'INVALID_SQL', 'subscription.params must be an array of strings, numbers, booleans or nulls');
  }
  const options = value['options'];
  if (options !== undefined && options !== null && !isObject(options)) throw new MessageError(id, 'INVALID_SQL', 'subscription.options must be an object');
  const o = isObject(options) ? options : undefined;
  const count = (name: string, min: number): number | undefined => {
    const v = o?.[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new MessageError(id, 'INVALID_SQL', `options.${name} must be an integer of at least ${min}`);
    return v;
  };
  const batchSize = count('batch_size', 1);
  const lastRows = count('last_rows', 1);
  const fromValue = o?.['from'] ?? o?.['from_seq_id'];
  const from = fromValue === undefined || fromValue === null ? undefined : seqOf(fromValue, id, 'options.from');
  const flow = o?.['flow'];
  if (flow !== undefined && flow !== 'client' && flow !== 'server') throw new MessageError(id, 'INVALID_SQL', 'options.flow must be "client" or "server"');
  if (from !== undefined && lastRows !== undefined) throw new MessageError(id, 'INVALID_SQL', 'options.from and options.last_rows cannot be combined');
  return {
    id,
    sql,
    params: params.map((p: unknown) => (typeof p === 'bigint' ? p.toString() : p)),
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(lastRows === undefined ? {} : { lastRows }),
    ...(from === undefined ? {} : { from }),
    clientPaced: flow === 'client',
    liveOnly: o === undefined,
  };
}

function subscriptionId(value: unknown): string {
  if (typeof value !== 'string' || !SUBSCRIPTION_ID.test(value)) throw new MessageError('protocol', 'INVALID_SUBSCRIPTION_ID', 'a subscription id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -');
  return value;
}

/** A sequence id as JSON gives it: an integer (exact, even above 2^53) or a string of digits. */
function seqOf(value: unknown, id: string, field: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d{1,19}$/.test(value)) return BigInt(value);
  throw new MessageError(id, 'INVALID_SQL', `${field} must be a sequence id (a non-negative integer)`);
}

function hasRowsJson(m: object): m is { readonly rowsJson: string } {
  return typeof (m as { rowsJson?: unknown }).rowsJson === 'string';
}

function withRows(message: { readonly rowsJson: string }): string {
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(message)) if (key !== 'rows' && key !== 'rowsJson') rest[key] = (message as Record<string, unknown>)[key];
  return `${stringifyJsonLossless(rest).slice(0, -1)},"rows":${message.rowsJson}}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Payloads of at least this many bytes go out gzip-compressed, as binary frames. */
export const COMPRESS_FROM_BYTES = 512;

/**
 * A server message as a frame: JSON text, or gzip-compressed JSON in a binary frame. A message
 * with `rowsJson` (a snapshot batch) gets that text as its `rows`, last, without `rows` being
 * read: the rows go out as storage wrote them.
 */
export function encodeServerMessage(message: object, compress: boolean): { readonly data: string | Buffer; readonly binary: boolean } {
  const json = hasRowsJson(message) ? withRows(message) : stringifyJsonLossless(message);
  if (!compress || Buffer.byteLength(json) < COMPRESS_FROM_BYTES) return { data: json, binary: false };
  return { data: gzipSync(json), binary: true };
}
