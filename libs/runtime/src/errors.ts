// Errors of the runtime package. Thin classes: a name, a message, an optional cause.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One entry per offending environment variable: `NAME: what is wrong`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Raised by a sleep or wait that was cut short because its signal was aborted. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';

  constructor(message = 'aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}
