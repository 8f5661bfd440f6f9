// Reading the change log (docs/architecture.md §2): the newest change of a subject, which storage needs to
// chain prev_seq after a restart and the gateway needs as a live-only subscription's start and
// as the end of a history read.
import type { JetStreamManager } from '@nats-io/jetstream';
import { busPb } from '@seqline/proto';

/** The newest change of a change subject in the log (and its stream sequence), or undefined when the log holds none of it. */
export async function lastChange(jsm: JetStreamManager, stream: string, subject: string): Promise<{ readonly streamSeq: number; readonly change: busPb.Change } | undefined> {
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
  return last === null ? undefined : { streamSeq: last.seq, change: busPb.Change.decode(last.data) };
}
