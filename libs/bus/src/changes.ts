// Reading the change log (docs/architecture.md §2): the newest change of a subject, which storage needs to
// chain prev_seq after a restart and the gateway needs as a live-only subscription's start and
// as the end of a history read.
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { busPb } from '@seqline/proto';

/** The newest change of a change subject in the log (and its stream sequence), or undefined when the log holds none of it. */
export async function lastChange(jsm: JetStreamManager, stream: string, subject: string): Promise<{ readonly streamSeq: number; readonly change: busPb.Change } | undefined> {
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
  return last === null ? undefined : { streamSeq: last.seq, change: busPb.Change.decode(last.data) };
}

/**
 * The same read as a direct get, for readers that only need a recent head (the gateway): any
 * replica of the stream answers it, outside the JetStream API's request queue, so a burst of
 * subscribes (a head read each) does not queue ahead of the consumers' pulls that carry the
 * writes. A lagging replica may answer an older change, which a reader of the live tail must
 * treat as it treats any gap (its repair reads history). Storage, which chains prev_seq to the
 * head, keeps lastChange. A failed direct get (a stream without direct gets) falls back to it.
 */
export async function recentChange(jsm: JetStreamManager, stream: string, subject: string): Promise<{ readonly streamSeq: number; readonly change: busPb.Change } | undefined> {
  let last: StoredMsg | null;
  try {
    last = await jsm.direct.getMessage(stream, { last_by_subj: subject });
  } catch {
    return lastChange(jsm, stream, subject);
  }
  return last === null ? undefined : { streamSeq: last.seq, change: busPb.Change.decode(last.data) };
}
