// What `seqline live` prints for each protocol event (docs/protocol.md §4) and connection status:
// pure, events in, lines out. stdout carries data only: the snapshot's rows (`row {…}`) and
// each change (`insert {…}`, `update {…}`, `delete {…}`), or with --json every event as one
// JSON line. Progress and the connection's story go to stderr.
//
// After a reconnect the SDK resubscribes from the highest `_seq` it has processed if it has
// one (client.ts `subscribeMessage`), and asks for a snapshot again otherwise. The printer
// tracks the same thing to tell the two acks apart: a resume is `ready` with no batch, a
// snapshot's batches follow its ack even when it says `ready`.
import type { LiveEvent, Status } from '@seqline/client/node';
import { stringifyJsonLossless } from '@seqline/seq';

export type Output =
  | { readonly to: 'out' | 'err'; readonly line: string }
  /** The snapshot's progress: redrawn in place on a terminal, a line otherwise. */
  | { readonly to: 'progress'; readonly loaded: number; readonly total: number };

export interface PrinterOptions {
  readonly url: string;
  readonly json: boolean;
  /** Count the snapshot's rows instead of printing them. */
  readonly count: boolean;
}

interface BatchControl {
  readonly status?: unknown;
  readonly last_seq_id?: unknown;
}

export class LivePrinter {
  readonly #o: PrinterOptions;
  #loaded = 0;
  #total = 0;
  /** The snapshot's boundary `_seq` from its ack (the SDK's cursor once the snapshot is ready). */
  #boundary: unknown;
  /** The SDK has a cursor: after a reconnect it resumes rather than reloading. */
  #resumable = false;

  constructor(options: PrinterOptions) {
    this.#o = options;
  }

  status(status: Status): Output[] {
    switch (status) {
      case 'connecting':
        return [note(`connecting to ${this.#o.url}…`)];
      case 'open':
        return [note('open')];
      case 'reconnecting':
        return [note('reconnecting…')];
      case 'closed':
        return [];
    }
  }

  event(event: LiveEvent): Output[] {
    const raw: Output[] = this.#o.json ? [{ to: 'out', line: stringifyJsonLossless(event) }] : [];
    switch (event.type) {
      case 'subscription_ack':
        return [...raw, ...this.#ack(event)];
      case 'initial_data_batch':
        return [...raw, ...this.#batch(event)];
      case 'change':
        return [...raw, ...this.#change(event)];
      case 'error':
        // Only retryable errors get here (live.ts stops on the others): the SDK subscribes again.
        return [...raw, note(`${String(event['code'])}: ${String(event['message'])} (subscribing again)`)];
      default:
        return raw;
    }
  }

  #ack(event: LiveEvent): Output[] {
    const control = (event['batch_control'] ?? {}) as BatchControl;
    const reset = event['reset'] === true;
    if (this.#resumable && !reset) return [note(`resumed after _seq ${String(control.last_seq_id)}`)];
    this.#loaded = 0;
    this.#total = typeof event['total_rows'] === 'number' ? event['total_rows'] : 0;
    this.#boundary = control.last_seq_id;
    const lines = reset ? [note('the changes since the last one printed are no longer kept: loading the snapshot again')] : [];
    return control.status === 'ready' ? lines : [...lines, { to: 'progress', loaded: 0, total: this.#total }];
  }

  #batch(event: LiveEvent): Output[] {
    const rows = rowsOf(event['rows']);
    this.#loaded += rows.length;
    this.#saw(rows);
    const lines: Output[] = this.#o.json || this.#o.count ? [] : rows.map((row) => ({ to: 'out', line: `row ${stringifyJsonLossless(row)}` }));
    if (((event['batch_control'] ?? {}) as BatchControl).status !== 'ready') return [...lines, { to: 'progress', loaded: this.#loaded, total: this.#total }];
    if (this.#boundary !== undefined) this.#resumable = true;
    return [...lines, note(`ready: ${this.#loaded} ${this.#loaded === 1 ? 'row' : 'rows'}, waiting for changes (Ctrl-C to stop)`)];
  }

  #change(event: LiveEvent): Output[] {
    const kind = String(event['change_type']);
    const rows = rowsOf(kind === 'delete' ? event['old_values'] : event['rows']);
    this.#saw(rows);
    return this.#o.json ? [] : rows.map((row) => ({ to: 'out', line: `${kind} ${stringifyJsonLossless(row)}` }));
  }

  #saw(rows: readonly Record<string, unknown>[]): void {
    if (rows.some((row) => row['_seq'] !== undefined && row['_seq'] !== null)) this.#resumable = true;
  }
}

/** `loading [#####     ] 1200/5000 rows`, for a terminal. */
export function progressBar(loaded: number, total: number, width = 24): string {
  const filled = Math.round((total > 0 ? Math.min(1, loaded / total) : 1) * width);
  return `loading [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${loaded}/${total} rows`;
}

/** `loading 1200/5000 rows`, a line for a log. */
export function progressText(loaded: number, total: number): string {
  return `loading ${loaded}/${total} rows`;
}

function note(line: string): Output {
  return { to: 'err', line };
}

function rowsOf(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null) : [];
}
