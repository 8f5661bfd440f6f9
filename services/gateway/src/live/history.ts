// Reading a change subject's history from JetStream (DESIGN.md §4 steps 3 and 5): the changes
// after a given `_seq`, read once with an ephemeral consumer starting at the time embedded in
// that `_seq` minus a clock-skew margin, up to what the stream held when the read began. The
// answer says whether the stream covered the whole range: the first change after `_seq` must
// chain to it (its prev_seq at or below `_seq`), else older history was dropped by the
// stream's limits (or published later than the skew margin allows) and the caller falls back
// to storage's compacted catch-up.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { busPb } from '@seqline/proto';
import { seqIdTimestampMs, type SeqId } from '@seqline/seq';

export interface History {
  /** Changes with seq > after, in stream order; rows at or below `after` are left out. */
  readonly changes: busPb.Change[];
  /** Whether these are all the changes after `after` that the subject had when the read began. */
  readonly covered: boolean;
}

export interface HistoryOptions {
  /** Start this long before the time in `after`, for ids minted on another clock. */
  readonly skewMs: number;
  /** Messages per fetch. */
  readonly batch?: number;
}

/** One manager per connection: creating one asks the server for account info each time. */
const managers = new WeakMap<NatsConnection, Promise<JetStreamManager>>();

function managerFor(nc: NatsConnection): Promise<JetStreamManager> {
  let jsm = managers.get(nc);
  if (jsm === undefined) {
    jsm = jetstreamManager(nc);
    jsm.catch(() => managers.delete(nc));
    managers.set(nc, jsm);
  }
  return jsm;
}

export async function readHistory(nc: NatsConnection, stream: string, subject: string, after: bigint, options: HistoryOptions): Promise<History> {
  const jsm = await managerFor(nc);
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
  if (last === null) return { changes: [], covered: false }; // never written, or all of it dropped
  if (busPb.Change.decode(last.data).seq <= after) return { changes: [], covered: true };
  const start = after <= 0n ? undefined : new Date(Math.max(0, seqIdTimestampMs(after as SeqId) - options.skewMs)).toISOString();
  const ci = await jsm.consumers.add(stream, {
    filter_subject: subject,
    ack_policy: AckPolicy.None,
    ...(start === undefined ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start }),
    inactive_threshold: 30_000_000_000,
    mem_storage: true,
  });
  try {
    const consumer = await jetstream(nc).consumers.get(stream, ci.name);
    const changes: busPb.Change[] = [];
    let pending = ci.num_pending;
    while (pending > 0) {
      const messages = await consumer.fetch({ max_messages: Math.min(pending, options.batch ?? 512), expires: 5000 });
      let got = 0;
      for await (const m of messages) {
        got++;
        pending = m.info.pending;
        const change = busPb.Change.decode(m.data);
        if (change.seq <= after) continue;
        const rows = change.rows.filter((r) => r.seq > after);
        changes.push(rows.length === change.rows.length ? change : { ...change, rows });
      }
      if (got === 0) break;
    }
    const first = changes[0];
    return { changes, covered: first !== undefined && first.prevSeq <= after };
  } finally {
    await jsm.consumers.delete(stream, ci.name).catch(() => false);
  }
}
