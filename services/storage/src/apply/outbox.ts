// Publishing committed changes to their change subjects. Each message carries its `_seq` in a
// header and uses `<subject>:<seq>` as Nats-Msg-Id, so a re-publish after a crash inside the
// duplicate window is dropped by JetStream; leftovers found at start-up are also checked
// against the subject's last message, which covers a restart after the window. Publishing is
// retried until it succeeds: a later batch must not overtake an earlier one on a subject.
// Published rows are deleted by the caller later (in the next apply transaction, saving a
// commit per batch); a row left behind by a crash is re-checked and skipped at start-up.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { lastChange, type JsPublisher } from '@seqline/bus';
import type { RunningState } from '@seqline/runtime';
import type { Sql, TransactionSql } from 'postgres';

export interface OutboxRow {
  readonly id: string;
  readonly subject: string;
  readonly seq: string;
  readonly payload: Buffer;
}

export const SEQ_HEADER = 'Seqline-Seq';

export async function publishOutbox(publisher: JsPublisher, rows: readonly OutboxRow[], state: RunningState, leftovers?: { skipPublished: true; nc: NatsConnection; stream: string }): Promise<void> {
  if (rows.length === 0) return;
  const lastPublished = leftovers ? await lastSeqs(leftovers.nc, leftovers.stream, rows) : new Map<string, bigint>();
  for (;;) {
    try {
      await Promise.all(
        rows
          .filter((r) => BigInt(r.seq) > (lastPublished.get(r.subject) ?? -1n))
          .map((r) => publisher.publish(r.subject, r.payload, { msgID: `${r.subject}:${r.seq}`, headers: { [SEQ_HEADER]: r.seq } })),
      );
      break;
    } catch (err) {
      if (!(await state.backoff())) throw err;
    }
  }
  state.resetBackoff();
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
