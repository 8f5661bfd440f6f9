// Op results on the bus (docs/architecture.md §2): storage answers each op on its reply subject,
// `<prefix>.results.<instance>.<op>`, at once after commit. The results of one batch for one
// write instance go as one message to `<prefix>.results.<instance>._batch` (OpResults), so a
// batch of n ops costs NATS, storage and the write service one message per write instance
// instead of n; a result alone still goes to its op's subject.
import { busPb } from '@seqline/proto';

/** The last token of a batch of results (never an op id: those are hex). */
export const RESULT_BATCH_TOKEN = '_batch';

export interface AddressedResult {
  /** The op's reply subject ('' = no one waits). */
  readonly replyTo: string;
  readonly result: busPb.OpResult;
}

/** The messages that carry `results`: one per reply inbox, in the order of first appearance. */
export function resultMessages(results: readonly AddressedResult[]): { readonly subject: string; readonly data: Uint8Array }[] {
  const byInbox = new Map<string, AddressedResult[]>();
  for (const r of results) {
    if (r.replyTo === '') continue;
    const inbox = r.replyTo.slice(0, r.replyTo.lastIndexOf('.'));
    const group = byInbox.get(inbox);
    if (group === undefined) byInbox.set(inbox, [r]);
    else group.push(r);
  }
  return [...byInbox].map(([inbox, group]) =>
    group.length === 1
      ? { subject: group[0]!.replyTo, data: busPb.OpResult.encode(group[0]!.result).finish() }
      : { subject: `${inbox}.${RESULT_BATCH_TOKEN}`, data: busPb.OpResults.encode({ results: group.map((g) => g.result) }).finish() },
  );
}

/** The results a message on a results subject carries. */
export function decodeResults(subject: string, data: Uint8Array): busPb.OpResult[] {
  return subject.endsWith(`.${RESULT_BATCH_TOKEN}`) ? busPb.OpResults.decode(data).results : [busPb.OpResult.decode(data)];
}
