// @seqline/sequencer: the service (for tests and embedding). Its client is @seqline/sequencer-client.
export { sequencerConfigSchema } from './config.js';
export type { SequencerConfig } from './config.js';
export { SequencerService, startSequencer } from './sequencer.js';
export type { SequencerDeps, SequencerInfo } from './sequencer.js';
export { LeaseConflictError, LeaseLostError, NoFreeWorkerIdError } from './errors.js';
