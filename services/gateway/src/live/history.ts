// Reading a change subject's history from JetStream (docs/architecture.md §4 steps 3 and 5): the changes
// after a given `_seq`, read with an ephemeral consumer starting at the time embedded in that
// `_seq` minus a clock-skew margin, up to the subject's last message when the read began. The
// answer says whether the stream covered the whole range: the first change after `_seq` must
// chain to it (its prev_seq at or below `_seq`) and each later one to the one before, else
// history was dropped by the stream's limits (or published later than the skew margin
// allows) and the caller falls back to storage's compacted catch-up. An aborted `signal` (the
// socket closed, the subscription ended) stops the fetch in flight, deletes the consumer and
// rejects with the signal's reason.
//
// A resume first walks the subject with a budget of direct gets (walkHistory): no consumer to
// create (one that starts at a time makes the server look that time up), fetch from and
// delete. Past the budget it reads with the consumer as above.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { lastChange } from '@seqline/bus';
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
  /** Messages per fetch (tests); by default a fetch is bounded by bytes instead, see FETCH_BYTES. */
  readonly batch?: number;
  /** Ends the read early (rejecting with its reason). */
  readonly signal?: AbortSignal;
  /**
   * Read with at most this many direct gets (walkHistory) and no consumer; past that budget, or
   * when a get fails, with a consumer as without it.
   */
  readonly directReads?: number;
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

/**
 * The `_seq` of the subject's newest change in the stream; undefined when the stream holds none.
 * Read from the stream's leader (lastChange), not by a direct get: any replica answers a direct
 * get, and one catching up after a restart answers an older change, with which a reconnect's
 * check would skip a repair (a change lost on the live tail would then wait for the subject's
 * next change).
 */
export async function lastChangeSeq(nc: NatsConnection, stream: string, subject: string): Promise<bigint | undefined> {
  return (await lastChange(await managerFor(nc), stream, subject))?.change.seq;
}

/**
 * Bytes a fetch may bring at once: a few MiB keep the connection's unread data well under the
 * server's slow-consumer limit even with several reads at a time, and stay above one message
 * (a fetch whose next message is larger than this would get nothing).
 */
function fetchBytes(nc: NatsConnection): number {
  return Math.max(4 * 1024 * 1024, 2 * (nc.info?.max_payload ?? 1024 * 1024));
}

/**
 * Messages in one byte-bounded pull: nats.js asks the server for its default 100 messages along
 * with `max_bytes` (the two options are exclusive in its API). The server ends such a pull after
 * 100 messages without a status, and the fetch would then wait out its expiry (seconds) before
 * the next pull: a history of a few hundred changes took tens of seconds. So a pull that has
 * brought this many is over, and the next one starts at once.
 */
const PULL_MESSAGES = 100;

export async function readHistory(nc: NatsConnection, stream: string, subject: string, after: bigint, options: HistoryOptions): Promise<History> {
  const jsm = await managerFor(nc);
  const found = await lastChange(jsm, stream, subject);
  const last = found === undefined ? undefined : { seq: found.streamSeq, change: found.change };
  if (last === undefined) return { changes: [], covered: false }; // never written, or all of it dropped
  if (last.change.seq <= after) return { changes: [], covered: true };
  if (options.directReads !== undefined) {
    // A walk past its budget, or a failed get (a stream without direct gets, a lost reply),
    // reads on with a consumer below: the log may still hold the range, and storage's
    // compacted catch-up admits few reads per user at a time (a client resuming many
    // subscriptions at once would be refused), where history reads queue.
    const walked = await walkHistory(jsm, stream, subject, after, last, options.directReads, options.signal).catch((err: unknown) => {
      options.signal?.throwIfAborted();
      if (err instanceof Error && err.name === 'AbortError') throw err;
      return 'costly' as const;
    });
    if (walked !== 'costly') return walked;
  }
  const startTime = after <= 0n ? undefined : new Date(Math.max(0, seqIdTimestampMs(after as SeqId) - options.skewMs)).toISOString();
  const changes: busPb.Change[] = [];
  // Read up to the subject's last message as of now. A consumer may lose deliveries (its
  // fetch ended by missed heartbeats or a reconnect while this process was busy): then a new
  // one starts at the stream sequence after the last message read, so nothing is skipped.
  let nextSeq: number | undefined;
  let reached = false;
  for (let stalls = 0; !reached; ) {
    options.signal?.throwIfAborted();
    const ci = await jsm.consumers.add(stream, {
      filter_subject: subject,
      ack_policy: AckPolicy.None,
      ...(nextSeq !== undefined
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: nextSeq }
        : startTime === undefined
          ? { deliver_policy: DeliverPolicy.All }
          : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startTime }),
      inactive_threshold: 30_000_000_000,
      mem_storage: true,
    });
    let progressed = false;
    try {
      if (ci.num_pending === 0) break; // nothing (more) on the subject from there: the stream dropped it
      const consumer = jetstream(nc).consumers.getConsumerFromInfo(ci); // no second request: `add` answered its info
      while (!reached) {
        let got = 0;
        try {
          const bounds = options.batch === undefined ? { max_bytes: fetchBytes(nc) } : { max_messages: Math.min(ci.num_pending, options.batch) };
          const messages = await consumer.fetch({ ...bounds, expires: 5000 });
          const stop = (): void => {
            messages.stop();
          };
          options.signal?.addEventListener('abort', stop, { once: true });
          if (options.signal?.aborted === true) stop();
          try {
            for await (const m of messages) {
              got++;
              nextSeq = m.seq + 1;
              const change = busPb.Change.decode(m.data);
              if (change.seq > after) {
                const rows = change.rows.filter((r) => r.seq > after);
                changes.push(rows.length === change.rows.length ? change : { ...change, rows });
              }
              if (m.seq >= last.seq) {
                reached = true;
                break; // a fetch bounded by bytes would otherwise wait out its expiry
              }
              if (options.batch === undefined && got >= PULL_MESSAGES) break; // that pull is complete
            }
          } finally {
            options.signal?.removeEventListener('abort', stop);
          }
        } catch {
          // The fetch failed part-way: go on from nextSeq with a fresh consumer.
        }
        options.signal?.throwIfAborted();
        if (got === 0) break;
        progressed = true;
      }
    } finally {
      await jsm.consumers.delete(stream, ci.name).catch(() => false);
    }
    if (!reached && !progressed && ++stalls >= 3) throw new Error(`reading the history of ${subject} made no progress before stream sequence ${last.seq}`);
  }
  return { changes, covered: chained(changes, after) };
}

export interface Stored {
  /** Stream sequence. */
  readonly seq: number;
  readonly change: busPb.Change;
}

/** Direct gets a walk sends at once while it looks back from the head. */
const PROBES = 8;

/**
 * The changes after `after` read back from the subject's newest message (`last`, its stream
 * sequence and change) with direct gets of "the subject's first message at or after stream
 * sequence S", sent PROBES at a time (one round trip each round, not one per get):
 *   - back: at S = last − 1, − 2, − 4, …, until one finds a message at or before `after`, or
 *     the first change after it (its prev_seq at or below `after`): `lower`;
 *   - forward from `lower` to `last`: a get at every stream sequence between them when they are
 *     few (every subject message between is the answer to the get at its own sequence), else
 *     message by message.
 * Within a subject, stream order is chain order, and a replica answering a direct get holds a
 * prefix of the log (a lagging one answers nothing or an older message, never skips one), so
 * the walk sees every message between. Past `reads` gets it gives up ('costly'); a get that
 * finds nothing (a lagging replica) ends it as not covered.
 */
export async function walkHistory(jsm: JetStreamManager, stream: string, subject: string, after: bigint, last: Stored, reads: number, signal?: AbortSignal): Promise<History | 'costly'> {
  let gets = 0;
  const get = async (seq: number): Promise<Stored | undefined> => {
    const m = await jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
    return m === null ? undefined : { seq: m.seq, change: busPb.Change.decode(m.data) };
  };
  /** The gets at `seqs`, at once; 'costly' past the budget; undefined when one found nothing. */
  const getAll = async (seqs: readonly number[]): Promise<Stored[] | undefined | 'costly'> => {
    signal?.throwIfAborted();
    gets += seqs.length;
    if (gets > reads) return 'costly';
    const found = await Promise.all(seqs.map(get));
    signal?.throwIfAborted();
    return found.some((f) => f === undefined || f.seq > last.seq) ? undefined : (found as Stored[]);
  };
  const reaches = (s: Stored): boolean => s.change.seq <= after || s.change.prevSeq <= after;
  let lower = last;
  for (let offset = 1; !reaches(lower) && lower.seq > 1; ) {
    const seqs: number[] = [];
    for (; seqs.length < PROBES && seqs.at(-1) !== 1; offset *= 2) seqs.push(Math.max(1, last.seq - offset));
    const found = await getAll(seqs);
    if (found === 'costly') return 'costly';
    if (found === undefined) return { changes: [], covered: false };
    // The nearest that reaches `after` (the farther a probe, the older its answer), else the oldest.
    lower = found.find(reaches) ?? found.at(-1)!;
    if (seqs.at(-1) === 1) break; // the stream holds nothing older
  }
  const between = await forward(lower, last, reads - gets, getAll);
  if (between === 'costly') return 'costly';
  if (between === undefined) return { changes: [], covered: false };
  const changes: busPb.Change[] = [];
  for (const { change } of [lower, ...between]) {
    if (change.seq <= after) continue;
    const rows = change.rows.filter((r) => r.seq > after);
    changes.push(rows.length === change.rows.length ? change : { ...change, rows });
  }
  return { changes, covered: chained(changes, after) };
}

/** The subject's messages after `lower` up to `last`, in order (see walkHistory). */
async function forward(lower: Stored, last: Stored, reads: number, getAll: (seqs: readonly number[]) => Promise<Stored[] | undefined | 'costly'>): Promise<Stored[] | undefined | 'costly'> {
  if (lower.seq >= last.seq) return [];
  const span = last.seq - lower.seq;
  if (span <= reads) {
    const found = await getAll(Array.from({ length: span }, (_, k) => lower.seq + 1 + k));
    if (found === undefined || found === 'costly') return found;
    return [...new Map(found.map((s) => [s.seq, s])).values()].sort((a, b) => a.seq - b.seq);
  }
  const out: Stored[] = [];
  for (let at = lower; at.seq < last.seq; ) {
    const found = await getAll([at.seq + 1]);
    if (found === undefined || found === 'costly') return found;
    at = found[0]!;
    out.push(at);
  }
  return out;
}

/** The first change chains to `after`, and each to the one before (nothing dropped between). */
function chained(changes: readonly busPb.Change[], after: bigint): boolean {
  return changes.length > 0 && changes.every((c, i) => (i === 0 ? c.prevSeq <= after : c.prevSeq === changes[i - 1]!.seq));
}
