// Which op statements run as prepared statements on the apply connection: parsed and planned
// once per connection, then only bound and executed. Statements of one shape share a text
// (values are parameters), but literals written in the SQL make texts that never repeat; so a
// text is prepared the second time it is seen, and at most `max` of them.

/** Op statement texts remembered as seen once, to prepare those that come again. */
const SEEN_TEXTS = 2000;

export class PreparedTexts {
  readonly #max: number;
  /** Texts seen once, oldest first. */
  readonly #seen = new Map<string, true>();
  /** Texts prepared on the apply connection. */
  readonly #prepared = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Whether to run `text` prepared (postgres.js prepares it on first use). */
  shouldPrepare(text: string): boolean {
    if (this.#prepared.has(text)) return true;
    if (!this.#seen.delete(text)) {
      this.#seen.set(text, true);
      if (this.#seen.size > SEEN_TEXTS) this.#seen.delete(this.#seen.keys().next().value!);
      return false;
    }
    if (this.#prepared.size >= this.#max) return false;
    this.#prepared.add(text);
    return true;
  }

  /** The connection was lost: its prepared statements went with it. */
  forget(): void {
    this.#prepared.clear();
  }
}
