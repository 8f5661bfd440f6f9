// Errors of the seq package. One thin class: a name, a message, an optional cause. Every
// out-of-range id part, unparsable id and generator failure (clock stalled, id space used up)
// is a SeqIdError, so callers at a boundary can map it to one "invalid sequence id" code.

export class SeqIdError extends Error {
  override readonly name = 'SeqIdError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
