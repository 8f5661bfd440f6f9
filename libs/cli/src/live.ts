// `seqline live`: one raw SDK subscription (`subscribe`), printed by live-printer.ts, until
// Ctrl-C (exit 0) or an error the SDK does not retry (exit 1). Reconnecting and resuming from
// the last `_seq` is the SDK's; this prints the status it reports.
import type { SeqlineError } from '@seqline/client/node';
import type { Command } from './args.js';
import { EXIT, type ExitCode } from './errors.js';
import type { Io } from './io.js';
import { LivePrinter, progressBar, progressText, type Output } from './live-printer.js';
import type { Session } from './session.js';

type LiveCommand = Extract<Command, { kind: 'live' }>;

export function runLive(command: LiveCommand, session: Session, io: Io): Promise<ExitCode> {
  const printer = new LivePrinter({ url: session.url, json: command.json, count: command.count });
  const render = renderer(io);
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: ExitCode, error?: SeqlineError): void => {
      if (done) return;
      done = true;
      unsubscribe();
      client.close();
      render.clear();
      if (error !== undefined) io.err(`error: ${error.code}: ${error.message}\n`);
      resolve(code);
    };
    const write = (outputs: readonly Output[]): void => {
      if (!done) render.write(outputs);
    };
    const client = io.createClient({
      url: session.url,
      auth: { token: ({ refresh }) => (refresh ? session.renew() : session.token()) }, // refresh: the server refused the last as expired
      bigint: 'string', // cells as the wire has them: printed, not computed with
      // Errors of the connection: fatal once it has closed (authentication refused for good).
      onError: (error) => (client.status === 'closed' ? finish(EXIT.failure, error) : write([{ to: 'err', line: `warning: ${error.code}: ${error.message}` }])),
    });
    client.onStatus((status) => write(printer.status(status)));
    // A subscription error the SDK does not retry calls onError before the event reaches
    // onEvent, so printer.event sees only the retried ones.
    const unsubscribe = client.subscribe(command.sql, (event) => write(printer.event(event)), {
      // Any options (even none) ask for a snapshot first (docs/protocol.md §4).
      options: command.batchSize === undefined ? {} : { batch_size: command.batchSize },
      onError: (error) => finish(EXIT.failure, error),
    });
    if (io.signal.aborted) finish(EXIT.ok);
    else io.signal.addEventListener('abort', () => finish(EXIT.ok), { once: true });
  });
}

/** Writes outputs; on a terminal the progress bar is one line redrawn in place. */
function renderer(io: Io): { write(outputs: readonly Output[]): void; clear(): void } {
  let bar = false;
  const clear = (): void => {
    if (bar) io.err('\r\x1b[K');
    bar = false;
  };
  const write = (outputs: readonly Output[]): void => {
    for (const o of outputs) {
      if (o.to === 'progress') {
        if (io.errIsTTY) io.err(`\r\x1b[K${progressBar(o.loaded, o.total)}`);
        else io.err(`${progressText(o.loaded, o.total)}\n`);
        bar = io.errIsTTY;
        continue;
      }
      clear();
      (o.to === 'out' ? io.out : io.err)(`${o.line}\n`);
    }
  };
  return { write, clear };
}
