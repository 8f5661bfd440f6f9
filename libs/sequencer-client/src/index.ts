// @seqline/sequencer-client: the typed gRPC client of the sequencer service (docs/architecture.md §5),
// for the services that need ids. A library so that no service imports another service's package.
export { checkedRanges, createSequencerClient } from './client.js';
export { InvalidAllocationError } from './errors.js';
export { allocateIdsHandler, MAX_ALLOCATE } from './contract.js';
export type { SequencerClient } from './client.js';
