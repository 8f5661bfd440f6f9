// Errors of the sequencer. Thin classes with a name and a message that says what to do.

/** Another live sequencer holds the worker id this one was configured with. */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
}

/** The lease could not be renewed in time (or was taken over): stop issuing ids. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** Every one of the 1024 worker ids is leased by a live sequencer. */
export class NoFreeWorkerIdError extends Error {
  override readonly name = 'NoFreeWorkerIdError';
}
