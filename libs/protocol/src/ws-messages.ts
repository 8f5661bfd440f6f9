// WebSocket messages (docs/protocol.md §4), declared once as zod schemas; the TypeScript types are
// derived from them. Client messages are parsed once at the boundary (parseClientMessage) into
// a tagged union the endpoint switches on and trusts; server messages are typed the same way
// (the gateway builds them, the SDK may parse them with `serverMessageSchema`).
//
// Sequence ids never pass through a JS number: a frame is read by @seqline/seq's lossless JSON
// parser first (integers above 2^53 arrive as bigints), and the `seqId` schema accepts a
// bigint, a safe integer or a string of digits, giving a bigint within 0..2^63-1.
//
// Two kinds of refusal, as the endpoint treats them:
//   FrameError   - not JSON, not an object, no or unknown `type`: the socket is closed (1011).
//   MessageError - a known message with a bad field: an `error` event with a code of the one
//                  error table (errors.ts), and the connection stays.
import { parseJsonLossless } from '@seqline/seq';
import { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors.js';

export const SUBSCRIPTION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_SEQ = (1n << 63n) - 1n;
/** batch_size and last_rows travel to storage as uint32; we keep them within int32. */
const MAX_COUNT = 2_147_483_647;
const ID_MESSAGE = 'a subscription id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -';

const subscriptionId = z.string({ error: ID_MESSAGE }).regex(SUBSCRIPTION_ID_PATTERN, { error: ID_MESSAGE });

/** A sequence id: an exact JSON integer (a bigint from the lossless parser), a safe integer or a string of digits. */
export function seqIdSchema(field: string) {
  const message = `${field} must be a sequence id (a non-negative integer)`;
  return z
    .union([z.bigint(), z.number(), z.string()], { error: message })
    .transform((v, ctx) => {
      const seq = toSeq(v);
      if (seq === undefined) ctx.addIssue({ code: 'custom', message });
      return seq ?? 0n;
    });
}

function toSeq(v: bigint | number | string): bigint | undefined {
  const seq = typeof v === 'bigint' ? v : typeof v === 'number' ? (Number.isSafeInteger(v) ? BigInt(v) : undefined) : /^\d{1,19}$/.test(v) ? BigInt(v) : undefined;
  return seq !== undefined && seq >= 0n && seq <= MAX_SEQ ? seq : undefined;
}

const count = (name: string) => z.int({ error: `options.${name} must be an integer from 1 to ${MAX_COUNT}` }).min(1, { error: `options.${name} must be an integer from 1 to ${MAX_COUNT}` }).max(MAX_COUNT, { error: `options.${name} must be an integer from 1 to ${MAX_COUNT}` });

const param = z.union([z.string(), z.number(), z.boolean(), z.null(), z.bigint().transform((b) => b.toString())], { error: 'subscription.params must be an array of strings, numbers, booleans or nulls' });

const options = z
  .object(
    {
      batch_size: count('batch_size').nullish(),
      last_rows: count('last_rows').nullish(),
      from: seqIdSchema('options.from').nullish(),
      from_seq_id: seqIdSchema('options.from').nullish(),
      flow: z.enum(['client', 'server'], { error: 'options.flow must be "client" or "server"' }).nullish(),
    },
    { error: 'subscription.options must be an object' },
  )
  .refine((o) => (o.from ?? o.from_seq_id) == null || o.last_rows == null, { error: 'options.from and options.last_rows cannot be combined' });

const subscription = z
  .object(
    {
      id: subscriptionId,
      sql: z.string({ error: 'subscription.sql must be a SELECT statement' }).refine((s) => s.trim() !== '', { error: 'subscription.sql must be a SELECT statement' }),
      params: z.array(param, { error: 'subscription.params must be an array of strings, numbers, booleans or nulls' }).nullish(),
      options: options.nullish(),
    },
    { error: 'subscribe needs a "subscription" object' },
  )
  .transform((s) => {
    const o = s.options ?? undefined;
    const from = o?.from ?? o?.from_seq_id ?? undefined;
    return {
      id: s.id,
      sql: s.sql,
      params: s.params ?? [],
      ...(o?.batch_size == null ? {} : { batchSize: o.batch_size }),
      ...(o?.last_rows == null ? {} : { lastRows: o.last_rows }),
      ...(from === undefined ? {} : { from }),
      clientPaced: o?.flow === 'client',
      /** No options at all: live changes only. */
      liveOnly: o === undefined,
    };
  });

/** A client's value in an error message: a short string as JSON, anything else by its type (never serialized: it may be nested 100,000 deep). */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}

const authenticate = z
  .object({
    type: z.literal('authenticate'),
    method: z.literal('jwt', { error: (iss) => `authentication method ${shown(iss.input)} is not supported; use "jwt"` }).optional(),
    token: z.string({ error: 'authenticate needs a token' }).min(1, { error: 'authenticate needs a token' }),
    protocol: z
      .object({
        serialization: z.literal('json', { error: 'only JSON serialization is supported' }).nullish(),
        compression: z.enum(['gzip', 'none'], { error: (iss) => `compression ${shown(iss.input)} is not supported; use "gzip" or "none"` }).nullish(),
      })
      .nullish(),
  })
  .transform((m) => ({ type: m.type, token: m.token, ...(m.protocol?.compression == null ? {} : { compression: m.protocol.compression }) }));

const subscribe = z.object({ type: z.literal('subscribe'), subscription });
const unsubscribe = z.object({ type: z.literal('unsubscribe'), subscription_id: subscriptionId }).transform((m) => ({ type: m.type, subscriptionId: m.subscription_id }));
const nextBatch = z
  .object({ type: z.literal('next_batch'), subscription_id: subscriptionId, last_seq_id: seqIdSchema('last_seq_id').nullish() })
  .transform((m) => ({ type: m.type, subscriptionId: m.subscription_id, ...(m.last_seq_id == null ? {} : { lastSeqId: m.last_seq_id }) }));
const ping = z.object({ type: z.literal('ping') }).transform((m) => ({ type: m.type }));

/** Every client message by its `type`. */
const CLIENT_MESSAGES = { authenticate, subscribe, unsubscribe, next_batch: nextBatch, ping } as const;
export const clientMessageSchema = z.union([authenticate, subscribe, unsubscribe, nextBatch, ping]);
/** A client message as it is on the wire (what an SDK sends). */
export type ClientMessageWire = z.input<typeof clientMessageSchema>;
/** A client message as the server reads it. */
export type ClientMessage = z.output<typeof clientMessageSchema>;
export type SubscribeRequest = z.output<typeof subscription>;

/** A frame the connection cannot continue after (closed with 1011, the reason naming it). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** A known message with a bad field: answered with an error event, the connection stays. */
export class MessageError extends Error {
  override readonly name = 'MessageError';
  constructor(
    readonly subscriptionId: string,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch {
    throw new FrameError('the frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameError('a message must be a JSON object');
  const type: unknown = (value as Record<string, unknown>)['type'];
  if (typeof type !== 'string') throw new FrameError('a message needs a "type"');
  if (!Object.hasOwn(CLIENT_MESSAGES, type)) throw new FrameError(`unknown message type ${JSON.stringify(type.slice(0, 40))}`);
  const parsed = CLIENT_MESSAGES[type as keyof typeof CLIENT_MESSAGES].safeParse(value);
  if (parsed.success) return parsed.data;
  throw messageError(value as Record<string, unknown>, parsed.error.issues[0]);
}

/** The first problem of a known message, with the code its field answers with. */
function messageError(value: Record<string, unknown>, issue: z.core.$ZodIssue | undefined): MessageError {
  const path = issue?.path ?? [];
  const [first, second] = path;
  const sub = value['subscription'];
  const ownId = first === 'subscription' && typeof sub === 'object' && sub !== null ? (sub as Record<string, unknown>)['id'] : value['subscription_id'];
  const id = typeof ownId === 'string' && SUBSCRIPTION_ID_PATTERN.test(ownId) ? ownId : 'protocol';
  const code: ErrorCode =
    first === 'token' || first === 'method'
      ? 'UNAUTHORIZED'
      : first === 'protocol'
        ? 'UNSUPPORTED_DATA'
        : first === 'subscription_id' || (first === 'subscription' && (second === undefined || second === 'id'))
          ? 'INVALID_SUBSCRIPTION_ID'
          : 'INVALID_SQL';
  return new MessageError(id, code, issue?.message ?? 'invalid message');
}

// ---- Server messages ----

const cell = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.number()).readonly()]);
const row = z.record(z.string(), cell).readonly();
const rows = z.array(row).readonly();
const errorCode = z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]);

export const batchControlSchema = z.object({
  batch_num: z.int().nonnegative(),
  has_more: z.boolean(),
  status: z.enum(['loading', 'loading_batch', 'ready']),
  last_seq_id: seqIdSchema('last_seq_id').optional(),
});

const dataType = z.union([z.string(), z.object({ Decimal: z.object({ precision: z.int(), scale: z.int() }).readonly() }).readonly()]);
const schemaEntry = z.object({ name: z.string(), data_type: dataType, index: z.int(), flags: z.array(z.enum(['pk', 'nn', 'uq'])).readonly().optional() });
/** One key of a live query's order (docs/protocol.md §4, windows); the last one is always the primary key, ascending. */
export const orderKeySchema = z.object({ column: z.string(), direction: z.enum(['asc', 'desc']), nulls: z.enum(['first', 'last']) }).readonly();
export type OrderKey = z.output<typeof orderKeySchema>;

export const serverMessageSchema = z.union([
  z.object({ type: z.literal('auth_success'), user: z.string(), role: z.string(), protocol: z.object({ serialization: z.literal('json'), compression: z.enum(['gzip', 'none']) }) }),
  z.object({ type: z.literal('auth_error'), code: errorCode, message: z.string() }),
  z.object({ type: z.literal('subscription_ack'), subscription_id: z.string(), total_rows: z.int().nonnegative(), batch_control: batchControlSchema, reset: z.literal(true).optional(), schema: z.array(schemaEntry).readonly().optional(), order_by: z.array(orderKeySchema).readonly().optional(), limit: z.int().positive().optional() }),
  z.object({ type: z.literal('initial_data_batch'), subscription_id: z.string(), rows, batch_control: batchControlSchema }),
  z.object({ type: z.literal('change'), subscription_id: z.string(), change_type: z.enum(['insert', 'update', 'delete']), rows: rows.optional(), old_values: rows.optional() }),
  z.object({ type: z.literal('error'), subscription_id: z.string(), code: errorCode, message: z.string() }),
]);
/** A server message in memory (sequence ids as bigints). */
export type ServerMessage = z.output<typeof serverMessageSchema>;
export type BatchControl = z.output<typeof batchControlSchema>;
