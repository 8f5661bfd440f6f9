import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Catalog } from './catalog.js';
import type { HistoryStore } from './history.js';
import { Printer } from './printer.js';
import { runRepl } from './repl.js';
import type { RunSql } from './shell.js';

/** The REPL on in-memory streams read as a terminal: keys in, what the screen shows out. */
function repl(run: RunSql, history: string[] = []) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (b: Buffer) => (shown += b.toString()));
  const out = (text: string): void => void output.write(text);
  const errors: string[] = [];
  const saved: string[][] = [];
  const store: HistoryStore = { path: '/h', load: async () => [...history], save: async (lines) => void saved.push([...lines]) };
  const done = runRepl({
    run,
    printer: new Printer('table', 'repl', { out, err: (t) => void errors.push(t) }),
    out,
    input,
    output,
    err: (t) => void errors.push(t),
    history: store,
    catalog: new Catalog(run),
    signal: new AbortController().signal,
  });
  // eslint-disable-next-line no-control-regex -- removing the terminal's escape sequences is the point
  const screen = (): string => shown.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  return {
    keys: (text: string) => void input.write(text),
    /** Types a line and waits for the next prompt. */
    async enter(line: string): Promise<void> {
      const before = screen().length;
      input.write(`${line}\r`);
      await expect.poll(() => /seqline[-*]?> $/.test(screen().slice(before))).toBe(true);
    },
    screen,
    errors,
    saved,
    done,
  };
}

const answer = (message: string): Record<string, unknown> => ({ status: 'success', results: [{ row_count: 1, message }] });

describe('runRepl', () => {
  it('sends a statement when ; ends it, with prompts for more lines and inside BEGIN', async () => {
    const sent: string[] = [];
    const r = repl(async (sql) => (sent.push(sql), answer(`ran ${sent.length}`)));
    for (const line of ['SELECT', '1;', 'BEGIN;', 'INSERT INTO app.t (x) VALUES (1);', 'COMMIT;']) await r.enter(line);
    r.keys('\\q\r');
    await r.done;
    expect(sent).toEqual(['SELECT\n1', 'BEGIN;\nINSERT INTO app.t (x) VALUES (1);\nCOMMIT']);
    expect(r.screen()).toBe(
      [
        'seqline: type SQL ending with ";", \\? for help, \\q to quit',
        'seqline> SELECT',
        'seqline-> 1;',
        'ran 1',
        '',
        'seqline> BEGIN;',
        'seqline*> INSERT INTO app.t (x) VALUES (1);',
        'seqline*> COMMIT;',
        'ran 2',
        '',
        'seqline> \\q',
        '',
      ].join('\n'),
    );
    expect(r.saved.at(-1)).toEqual(['\\q', 'COMMIT;', 'INSERT INTO app.t (x) VALUES (1);', 'BEGIN;', '1;', 'SELECT']);
  });

  it('Ctrl-C discards the pending statement, or stops waiting for an answer; errors do not end it', async () => {
    const sent: string[] = [];
    const r = repl((sql, signal) => {
      sent.push(sql);
      if (sql === 'SELECT 2') return Promise.reject(Object.assign(new Error('table app.nope does not exist'), { code: 'TABLE_NOT_FOUND' }));
      // SELECT 1 never answers: only Ctrl-C ends the wait.
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
    });
    r.keys('SELECT\r');
    r.keys('\x03');
    r.keys('SELECT 1;\r');
    await expect.poll(() => sent).toEqual(['SELECT 1']);
    r.keys('\x03');
    await expect.poll(() => r.errors).toEqual(['cancelled: stopped waiting for the answer (the server may still complete the statement)\n']);
    await r.enter('SELECT 2;');
    r.keys('\x04');
    await r.done;
    expect(sent).toEqual(['SELECT 1', 'SELECT 2']);
    expect(r.errors.at(-1)).toBe('error: TABLE_NOT_FOUND: table app.nope does not exist\n');
    expect(r.screen().split('\n').slice(1)).toEqual(['seqline> SELECT', 'seqline-> ', 'seqline> SELECT 1;', 'seqline> SELECT 2;', 'seqline> ', '']);
  });
});
