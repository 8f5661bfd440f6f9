// The change-consumer HTTP bodies (docs/protocol.md §2, "Change consumers"), declared once as zod
// schemas; the TypeScript types are derived from them. The gateway parses each request once at
// its edge and trusts the result.
//
// Every name here ends up in a NATS subject or a JetStream consumer name, so each is a single
// token of a fixed alphabet: a table is `ns.table` (or `table` in `default`) with the catalog's
// name pattern, a group and a worker are 1 to 64 characters of A-Z a-z 0-9 _ -. Nothing a
// caller sends is ever spliced into a subject unchecked (`*`, `>`, `.` and spaces cannot pass).
import { NAME_PATTERN } from '@seqline/domain';
import { z } from 'zod';

export const CONSUMER_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN_MESSAGE = 'must be 1 to 64 characters of A-Z a-z 0-9 _ -';

const token = (field: string) => z.string({ error: `${field} ${TOKEN_MESSAGE}` }).regex(CONSUMER_TOKEN_PATTERN, { error: `${field} ${TOKEN_MESSAGE}` });

/** `ns.table` or `table` (namespace `default`), each part a catalog name. */
const tableName = z.string({ error: 'table must be "namespace.table"' }).transform((v, ctx) => {
  const parts = v.split('.');
  const [namespace, table] = parts.length === 1 ? ['default', parts[0]!] : parts.length === 2 ? [parts[0]!, parts[1]!] : ['', ''];
  if (!NAME_PATTERN.test(namespace) || !NAME_PATTERN.test(table)) {
    ctx.addIssue({ code: 'custom', message: 'table must be "namespace.table", each of A-Z a-z 0-9 _' });
    return z.NEVER;
  }
  return { namespace, table };
});

export const START_POSITIONS = ['earliest', 'latest'] as const;
export type StartPosition = (typeof START_POSITIONS)[number];

export const consumeRequestSchema = z.object({
  table: tableName,
  group: token('group'),
  worker: token('worker'),
  /** Changes in this answer at most (default and cap: SEQLINE_CONSUME_MAX_FETCH). */
  limit: z.int({ error: 'limit must be an integer from 1' }).min(1, { error: 'limit must be an integer from 1' }).nullish(),
  /** Wait this long for a first change when there is none (capped by SEQLINE_CONSUME_MAX_WAIT_MS). */
  wait_ms: z.int({ error: 'wait_ms must be an integer from 0' }).min(0, { error: 'wait_ms must be an integer from 0' }).nullish(),
  /** Where a group that does not exist yet starts; ignored for an existing group. */
  start: z.enum(START_POSITIONS, { error: 'start must be "earliest" or "latest"' }).nullish(),
});
export type ConsumeRequest = z.output<typeof consumeRequestSchema>;

export const ackRequestSchema = z.object({
  token: z.string({ error: 'token must be a string' }).min(1).max(4096, { error: 'token is too long' }),
  /** true: not processed; the lane is rewound and this change comes again at the next fetch. */
  nak: z.boolean({ error: 'nak must be a boolean' }).nullish(),
});
export type AckRequest = z.output<typeof ackRequestSchema>;

export const releaseRequestSchema = z.object({
  table: tableName,
  group: token('group'),
  worker: token('worker'),
});
export type ReleaseRequest = z.output<typeof releaseRequestSchema>;

export const dropRequestSchema = releaseRequestSchema.omit({ worker: true });
export type DropRequest = z.output<typeof dropRequestSchema>;

/** One row of a consumed change: images as protocol cells (docs/protocol.md §1). */
export interface ConsumedRow {
  readonly kind: 'insert' | 'update' | 'delete';
  readonly seq: string;
  readonly old?: Readonly<Record<string, unknown>>;
  readonly new?: Readonly<Record<string, unknown>>;
}

/** One change (all rows one write changed in one owner's partition) and the token that acknowledges it. */
export interface ConsumedChange {
  readonly token: string;
  readonly owner: string;
  readonly seq: string;
  readonly prev_seq: string;
  readonly op_id: string;
  readonly committed_at: number;
  readonly rows: readonly ConsumedRow[];
}

export interface ConsumeResponse {
  readonly table: string;
  readonly group: string;
  /** The lane these changes come from, or null when the worker holds none now. */
  readonly lane: number | null;
  readonly lanes: number;
  readonly changes: readonly ConsumedChange[];
}

export type BodyParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** A parser of one body: the typed value, or its first problem as `field: message`. */
function parser<S extends z.ZodType>(schema: S): (value: unknown) => BodyParse<z.output<S>> {
  return (value) => {
    const parsed = schema.safeParse(value);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: firstIssue(parsed.error) };
  };
}

export const parseConsumeRequest = parser(consumeRequestSchema);
export const parseAckRequest = parser(ackRequestSchema);
export const parseReleaseRequest = parser(releaseRequestSchema);
export const parseDropRequest = parser(dropRequestSchema);

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request body';
  const path = issue.path.join('.');
  return path === '' || issue.message.startsWith(path) ? issue.message : `${path}: ${issue.message}`;
}
