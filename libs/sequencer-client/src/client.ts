// A typed client of the Sequencer gRPC service (docs/architecture.md §5), for the services that
// need ids (storage).
// Responses are validated: ranges ascending, counts summing to what was asked.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { sequencerPb } from '@seqline/proto';
import { asSeqId, type SeqIdRange } from '@seqline/seq';

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
          resolve({ ranges: res.ranges.map((r) => ({ first: asSeqId(r.first), count: r.count })), workerId: res.workerId });
        });
      }),
    close: () => client.close(),
  };
}
