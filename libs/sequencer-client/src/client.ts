// A typed client of the Sequencer gRPC service (docs/architecture.md §5), for the services that
// need ids (storage).
// Responses are validated: valid ids, ranges ascending without overlap, counts summing to what
// was asked; anything else rejects with InvalidAllocationError.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { sequencerPb } from '@seqline/proto';
import { isSeqId, type SeqIdRange } from '@seqline/seq';
import { InvalidAllocationError } from './errors.js';

export interface SequencerClient {
  allocate(count: number, options?: { deadlineMs?: number }): Promise<{ ranges: SeqIdRange[]; workerId: number }>;
  close(): void;
}

export function createSequencerClient(address: string): SequencerClient {
  const client = new sequencerPb.SequencerClient(address, credentials.createInsecure());
  return {
    allocate: (count, options) =>
      new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + (options?.deadlineMs ?? 5000));
        client.allocateIds({ count }, new Metadata(), { deadline }, (err: ServiceError | null, res?: sequencerPb.AllocateIdsResponse) => {
          if (err || res === undefined) {
            reject(err ?? new Error('empty AllocateIds response'));
            return;
          }
          try {
            resolve({ ranges: checkedRanges(count, res), workerId: res.workerId });
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      }),
    close: () => client.close(),
  };
}

/** The ranges of an answer to a request for `count` ids, checked against the contract. */
export function checkedRanges(count: number, res: sequencerPb.AllocateIdsResponse): SeqIdRange[] {
  let total = 0;
  let last = -1n;
  const ranges = res.ranges.map((r) => {
    const end = r.first + BigInt(r.count) - 1n;
    if (!Number.isInteger(r.count) || r.count < 1 || !isSeqId(r.first) || !isSeqId(end)) throw new InvalidAllocationError(`invalid id range: ${r.count} ids from ${r.first}`);
    if (r.first <= last) throw new InvalidAllocationError(`id ranges overlap or are out of order at ${r.first}`);
    last = end;
    total += r.count;
    return { first: r.first, count: r.count };
  });
  if (total !== count) throw new InvalidAllocationError(`asked for ${count} ids, the sequencer answered ${total}`);
  return ranges;
}
