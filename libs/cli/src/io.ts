// Everything a command touches outside itself, passed in by main.ts (and faked by tests).
import type { Readable, Writable } from 'node:stream';
import type { ClientOptions, FetchLike, SeqlineClient } from '@seqline/client/node';
import type { CredentialsStore } from './credentials.js';
import type { HistoryStore } from './history.js';
import type { Env } from './session.js';

export interface Io {
  readonly env: Env;
  /** Writes to stdout / stderr as given (callers add the newlines). */
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** stderr is a terminal: progress is redrawn in place. */
  readonly errIsTTY: boolean;
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly credentials: CredentialsStore;
  readonly createClient: (options: ClientOptions) => SeqlineClient;
  /** `seqline sql` without SQL reads it here: the REPL on a terminal, else a piped script. */
  readonly stdin: Readable & { readonly isTTY?: boolean };
  /** Where the REPL draws its prompt and the line being edited (stdout). */
  readonly stdout: Writable;
  /** The text of `seqline sql -f FILE`. */
  readonly readFile: (path: string) => Promise<string>;
  readonly history: HistoryStore;
  /** Asks on the terminal (hidden: no echo); absent when stdin is not a terminal. */
  readonly prompt?: (question: string, hidden: boolean) => Promise<string>;
  /** Aborted by Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
}
