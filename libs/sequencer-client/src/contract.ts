// The server side of the AllocateIds contract (docs/architecture.md §5), shared by the sequencer
// service and the stand-in of ./testing.ts so both refuse the same counts with the same status.
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { sequencerPb } from '@seqline/proto';

/** The largest `count` one AllocateIds call may ask for. */
export const MAX_ALLOCATE = 65_536;

type AllocateCallback = sendUnaryData<sequencerPb.AllocateIdsResponse>;

/** An AllocateIds handler: refuses a count out of 1..MAX_ALLOCATE (INVALID_ARGUMENT), else asks `allocate`. */
export function allocateIdsHandler(allocate: (count: number, callback: AllocateCallback) => void): sequencerPb.SequencerServer['allocateIds'] {
  return (call: ServerUnaryCall<sequencerPb.AllocateIdsRequest, sequencerPb.AllocateIdsResponse>, callback: AllocateCallback) => {
    const { count } = call.request;
    if (!Number.isInteger(count) || count < 1 || count > MAX_ALLOCATE) {
      callback({ code: status.INVALID_ARGUMENT, details: `count must be between 1 and ${MAX_ALLOCATE}, got ${count}` });
      return;
    }
    allocate(count, callback);
  };
}
