// @seqline/sequencer: the service (for tests and embedding) and its client.
export { sequencerConfigSchema, MAX_ALLOCATE } from './config.js';
export type { SequencerConfig } from './config.js';
export { SequencerService, startSequencer } from './sequencer.js';
export type { SequencerDeps, SequencerInfo } from './sequencer.js';
export { createSequencerClient } from './client.js';
export type { SequencerClient } from './client.js';
export { LeaseConflictError, LeaseLostError, NoFreeWorkerIdError } from './errors.js';
