import type { LiveEvent } from '@seqline/client/node';
import { describe, expect, it } from 'vitest';
import { LivePrinter, progressBar, progressText, type Output, type PrinterOptions } from './live-printer.js';

const URL = 'http://127.0.0.1:8080';
const ack = (total: number, status: string, last?: bigint, extra: Record<string, unknown> = {}): LiveEvent => ({
  type: 'subscription_ack',
  subscription_id: 'q1',
  total_rows: total,
  batch_control: { batch_num: 0, has_more: status !== 'ready', status, ...(last === undefined ? {} : { last_seq_id: last }) },
  ...extra,
});
const batch = (rows: Record<string, unknown>[], status: string): LiveEvent => ({ type: 'initial_data_batch', subscription_id: 'q1', rows, batch_control: { status } });
const change = (changeType: string, row: Record<string, unknown>): LiveEvent => ({ type: 'change', subscription_id: 'q1', change_type: changeType, ...(changeType === 'delete' ? { old_values: [row] } : { rows: [row] }) });
const row = (id: string, title: string, seq: string) => ({ id, title, _seq: seq });

/** Feeds events (or statuses) in order; every output, in order. */
function play(options: Partial<PrinterOptions>, inputs: readonly (LiveEvent | string)[]): Output[] {
  const printer = new LivePrinter({ url: URL, json: false, count: false, ...options });
  return inputs.flatMap((input) => (typeof input === 'string' ? printer.status(input as 'open') : printer.event(input)));
}

const out = (line: string): Output => ({ to: 'out', line });
const err = (line: string): Output => ({ to: 'err', line });

describe('LivePrinter', () => {
  it('prints the snapshot with progress, then each change, and resumes quietly after a reconnect', () => {
    expect(
      play({}, [
        'connecting',
        'open',
        ack(3, 'loading', 30n),
        batch([row('1', 'a', '10'), row('2', 'b', '20')], 'loading'),
        batch([row('3', 'c', '30')], 'ready'),
        change('insert', row('4', 'd', '40')),
        change('update', row('1', 'A', '50')),
        change('delete', row('2', 'b', '60')),
        'reconnecting',
        'open',
        ack(0, 'ready', 60n),
        change('insert', row('5', 'while away', '70')),
      ]),
    ).toEqual([
      err(`connecting to ${URL}…`),
      err('open'),
      { to: 'progress', loaded: 0, total: 3 },
      out('row {"id":"1","title":"a","_seq":"10"}'),
      out('row {"id":"2","title":"b","_seq":"20"}'),
      { to: 'progress', loaded: 2, total: 3 },
      out('row {"id":"3","title":"c","_seq":"30"}'),
      err('ready: 3 rows, waiting for changes (Ctrl-C to stop)'),
      out('insert {"id":"4","title":"d","_seq":"40"}'),
      out('update {"id":"1","title":"A","_seq":"50"}'),
      out('delete {"id":"2","title":"b","_seq":"60"}'),
      err('reconnecting…'),
      err('open'),
      err('resumed after _seq 60'),
      out('insert {"id":"5","title":"while away","_seq":"70"}'),
    ]);
  });

  it('counts the rows instead with --count', () => {
    expect(play({ count: true }, [ack(1, 'ready', 10n), batch([row('1', 'a', '10')], 'ready'), change('insert', row('2', 'b', '20'))])).toEqual([
      err('ready: 1 row, waiting for changes (Ctrl-C to stop)'),
      out('insert {"id":"2","title":"b","_seq":"20"}'),
    ]);
  });

  it('prints every event as one JSON line with --json, sequence ids exact', () => {
    const events = [ack(1, 'ready', 331234567890123456n), batch([row('1', 'a', '331234567890123456')], 'ready'), change('delete', row('1', 'a', '331234567890123457'))];
    expect(play({ json: true }, events)).toEqual([
      out('{"type":"subscription_ack","subscription_id":"q1","total_rows":1,"batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":331234567890123456}}'),
      out('{"type":"initial_data_batch","subscription_id":"q1","rows":[{"id":"1","title":"a","_seq":"331234567890123456"}],"batch_control":{"status":"ready"}}'),
      err('ready: 1 row, waiting for changes (Ctrl-C to stop)'),
      out('{"type":"change","subscription_id":"q1","change_type":"delete","old_values":[{"id":"1","title":"a","_seq":"331234567890123457"}]}'),
    ]);
  });

  it('after an empty snapshot with no boundary, the next ack is a snapshot again (the SDK has no cursor)', () => {
    expect(play({}, [ack(0, 'ready'), batch([], 'ready'), 'reconnecting', 'open', ack(1, 'ready', 10n), batch([row('1', 'a', '10')], 'ready')])).toEqual([
      err('ready: 0 rows, waiting for changes (Ctrl-C to stop)'),
      err('reconnecting…'),
      err('open'),
      out('row {"id":"1","title":"a","_seq":"10"}'),
      err('ready: 1 row, waiting for changes (Ctrl-C to stop)'),
    ]);
  });

  it('a snapshot cut short by a disconnect resumes from its last row (the rest arrive as changes)', () => {
    expect(play({}, [ack(2, 'loading', 20n), batch([row('1', 'a', '10')], 'loading'), 'reconnecting', 'open', ack(0, 'ready', 10n), change('insert', row('2', 'b', '20'))])).toEqual([
      { to: 'progress', loaded: 0, total: 2 },
      out('row {"id":"1","title":"a","_seq":"10"}'),
      { to: 'progress', loaded: 1, total: 2 },
      err('reconnecting…'),
      err('open'),
      err('resumed after _seq 10'),
      out('insert {"id":"2","title":"b","_seq":"20"}'),
    ]);
  });

  it('says so when the server resets a resume to a fresh snapshot, and notes retried errors', () => {
    const inputs = [ack(1, 'ready', 10n), batch([row('1', 'a', '10')], 'ready'), ack(1, 'ready', 30n, { reset: true }), batch([row('3', 'c', '30')], 'ready'), { type: 'error', subscription_id: 'q1', code: 'SLOW_CONSUMER', message: 'too slow' }];
    expect(play({}, inputs)).toEqual([
      out('row {"id":"1","title":"a","_seq":"10"}'),
      err('ready: 1 row, waiting for changes (Ctrl-C to stop)'),
      err('the changes since the last one printed are no longer kept: loading the snapshot again'),
      out('row {"id":"3","title":"c","_seq":"30"}'),
      err('ready: 1 row, waiting for changes (Ctrl-C to stop)'),
      err('SLOW_CONSUMER: too slow (subscribing again)'),
    ]);
  });
});

describe('progress', () => {
  it('draws a bar for a terminal and a plain line for a log', () => {
    expect(progressBar(1200, 5000)).toBe('loading [######                  ] 1200/5000 rows');
    expect(progressBar(0, 0)).toBe('loading [########################] 0/0 rows');
    expect(progressBar(7, 5)).toBe('loading [########################] 7/5 rows');
    expect(progressText(1200, 5000)).toBe('loading 1200/5000 rows');
  });
});
