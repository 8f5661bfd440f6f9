// Errors of the sequencer client. gRPC failures reach callers as grpc-js ServiceErrors (with
// `code` and `details`); this one is for an answer that breaks the AllocateIds contract.

/** The sequencer answered with ids that are invalid, overlapping, out of order or not as many as asked. */
export class InvalidAllocationError extends Error {
  override readonly name = 'InvalidAllocationError';
}
