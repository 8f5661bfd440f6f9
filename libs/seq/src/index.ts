// Public surface of @seqline/seq: the SeqId layout (docs/architecture.md §5), parse/format, the
// per-worker generator and lossless JSON for 63-bit integers.
export { SeqIdError } from './errors.js';
export {
  asSeqId,
  compareSeqId,
  composeSeqId,
  COUNTER_BITS,
  decomposeSeqId,
  formatSeqId,
  isSeqId,
  MAX_COUNTER,
  MAX_SEQ_ID,
  MAX_TIMESTAMP_MS,
  MAX_WORKER_ID,
  MIN_SEQ_ID,
  parseSeqId,
  SEQ_EPOCH_MS,
  seqIdFloorForTime,
  seqIdTimestampMs,
  seqIdToDate,
  TIMESTAMP_BITS,
  WORKER_ID_BITS,
  type SeqId,
  type SeqIdParts,
} from './layout.js';
export {
  DEFAULT_MAX_CLOCK_WAIT_MS,
  expandRanges,
  SeqIdGenerator,
  systemClock,
  type Clock,
  type SeqIdGeneratorOptions,
  type SeqIdRange,
} from './generator.js';
export { parseJsonLossless, stringifyJsonLossless } from './json.js';
