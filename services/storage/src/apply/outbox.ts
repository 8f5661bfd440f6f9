// Publishing committed changes to their change subjects. Each message carries its `_seq` in a
// header and uses `<subject>:<seq>` as Nats-Msg-Id, so a re-publish after a crash inside the
// duplicate window is dropped by JetStream; leftovers found at start-up are also checked
// against the subject's last message, which covers a restart after the window. A failure that
// may pass (NATS away, a timeout) is logged at once and retried with a backoff of the outbox's
// own (OutboxPublisher; the apply loop's backoff is for failed batches): a later batch must not
// overtake an earlier one on a subject, so the apply loop waits for a batch's publishing
// before it publishes the next.
// A failure that can never pass (the message is over the bus's max_payload) is not retried:
// limits.ts keeps such changes from being committed at all, and should one be found anyway
// (max_payload lowered under committed changes) it is logged as an error at once and replaced
// by a stand-in with the same seq, prev_seq and op id but no rows, so the subject's chain goes
// on and no subscriber waits for it; its rows are in PostgreSQL (snapshots and catch-ups have
// them). Published rows are deleted by the caller later (in the next apply transaction, saving
// a commit per batch); a row left behind by a crash is re-checked and skipped at start-up.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { lastChange, type JsPublisher } from '@seqline/bus';
import { busPb } from '@seqline/proto';
import { backoffDelay, contextOf, contextWith, endSpan, SpanKind, startSpan, traceparentOf, type BackoffOptions, type Logger, type RunningState } from '@seqline/runtime';
import { TRACER } from './telemetry.js';
import type { Sql, TransactionSql } from 'postgres';

export interface OutboxRow {
  readonly id: string;
  readonly subject: string;
  readonly seq: string;
  readonly payload: Buffer;
  /** The trace context of the op that made the change (in memory only; '' or unset = none). */
  readonly traceparent?: string;
}

export const SEQ_HEADER = 'Seqline-Seq';

/** How the outbox publisher waits between attempts (its own: the apply loop's backoff is not touched). */
export const OUTBOX_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 5000, jitter: 0.5 };

export interface OutboxPublisherDeps {
  readonly publisher: Pick<JsPublisher, 'publish'>;
  /** The apply loop's state: its signal ends the retries (its backoff counter is not used). */
  readonly state: RunningState;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  readonly random?: () => number;
}

/**
 * Publishes committed changes, retrying until they are all acknowledged or the state stops.
 * Its backoff counter grows across calls while publishing keeps failing (an outage outlasts a
 * batch) and is reset by the first call that succeeds.
 */
export class OutboxPublisher {
  readonly #deps: OutboxPublisherDeps;
  #attempt = 0;

  constructor(deps: OutboxPublisherDeps) {
    this.#deps = deps;
  }

  /** Failed attempts since the last success. */
  get failures(): number {
    return this.#attempt;
  }

  /**
   * Publishes `rows` in order. After a failure the rows from the first one not acknowledged
   * on are sent again (those acknowledged already are dropped by JetStream as duplicates).
   * Rejects only when the state stops first.
   */
  async publish(rows: readonly OutboxRow[], leftovers?: { skipPublished: true; nc: NatsConnection; stream: string }): Promise<void> {
    if (rows.length === 0) return;
    const { state, logger } = this.#deps;
    const lastPublished = leftovers ? await lastSeqs(leftovers.nc, leftovers.stream, rows) : new Map<string, bigint>();
    let pending = rows.filter((r) => BigInt(r.seq) > (lastPublished.get(r.subject) ?? -1n));
    for (;;) {
      const settled = await Promise.allSettled(pending.map((r) => publishRow(this.#deps.publisher, r, logger)));
      const failed = settled.findIndex((s) => s.status === 'rejected');
      if (failed === -1) {
        this.#attempt = 0;
        return;
      }
      const err = (settled[failed] as PromiseRejectedResult).reason as unknown;
      pending = pending.slice(failed);
      const delayMs = backoffDelay(this.#attempt, this.#deps.backoff ?? OUTBOX_BACKOFF, this.#deps.random);
      logger.warn('cannot publish committed changes; retrying', { changes: pending.length, attempt: this.#attempt, delayMs, err });
      this.#attempt++;
      if (!(await state.sleep(delayMs))) throw err;
    }
  }
}

function publishRow(publisher: Pick<JsPublisher, 'publish'>, r: OutboxRow, logger: Logger): Promise<unknown> {
  // The change's span is a child of its op's apply span; its context travels in the message's
  // `traceparent` header to every gateway that delivers it.
  const span = r.traceparent ? startSpan(TRACER, 'change.publish', { kind: SpanKind.PRODUCER, parent: contextOf(r.traceparent) }) : undefined;
  const headers = span === undefined ? { [SEQ_HEADER]: r.seq } : { [SEQ_HEADER]: r.seq, traceparent: traceparentOf(contextWith(span)) };
  const send = (payload: Uint8Array) => publisher.publish(r.subject, payload, { msgID: `${r.subject}:${r.seq}`, headers });
  const sent = send(r.payload).catch((err: unknown) => {
    if (!isTooLarge(err)) throw err;
    const change = busPb.Change.decode(r.payload);
    logger.error('a committed change is over the bus\'s max_payload; published without its rows (they are in PostgreSQL)', { subject: r.subject, seq: r.seq, opId: change.opId, bytes: r.payload.length, rows: change.rows.length, err });
    return send(busPb.Change.encode({ ...change, rows: [] }).finish());
  });
  if (span !== undefined) sent.then(() => endSpan(span), (err: unknown) => endSpan(span, err));
  return sent;
}

/** A publish that no retry can make pass: the message is bigger than the server or the stream accepts. */
export function isTooLarge(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  return (e?.name === 'InvalidArgumentError' && message.includes('max_payload')) || /message size exceeds maximum/i.test(message);
}

/** Deletes published outbox rows (the apply loop does it inside its next transaction). */
export async function deleteOutbox(sql: Sql | TransactionSql, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await sql`DELETE FROM seqline.outbox WHERE id = ANY(${ids as string[]})`;
}

async function lastSeqs(nc: NatsConnection, stream: string, rows: readonly OutboxRow[]): Promise<Map<string, bigint>> {
  const jsm = await jetstreamManager(nc);
  const out = new Map<string, bigint>();
  for (const subject of new Set(rows.map((r) => r.subject))) {
    const last = await lastChange(jsm, stream, subject);
    if (last !== undefined) out.set(subject, last.change.seq);
  }
  return out;
}
