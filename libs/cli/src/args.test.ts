import { describe, expect, it } from 'vitest';
import { parseCommand } from './args.js';
import { UsageError } from './errors.js';

const usageError = (argv: string[]): { message: string; command: string | undefined } => {
  try {
    parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) return { message: err.message, command: err.command };
    throw err;
  }
  throw new Error(`no usage error for ${JSON.stringify(argv)}`);
};

describe('parseCommand', () => {
  it('reads each command with its options, before or after the command', () => {
    expect(parseCommand(['login', '--url', 'http://h:1', '--user', 'alice', '--password', 'pw'])).toEqual({ kind: 'login', connection: { url: 'http://h:1', user: 'alice', password: 'pw' } });
    expect(parseCommand(['sql', 'SELECT 1', '--json'])).toEqual({ kind: 'sql', connection: {}, input: { kind: 'text', sql: 'SELECT 1' }, format: 'json' });
    expect(parseCommand(['--url=http://h:1', 'sql', 'SELECT 1'])).toEqual({ kind: 'sql', connection: { url: 'http://h:1' }, input: { kind: 'text', sql: 'SELECT 1' }, format: 'table' });
    expect(parseCommand(['sql', '-f', 'm.sql', '--format', 'csv'])).toEqual({ kind: 'sql', connection: {}, input: { kind: 'file', path: 'm.sql' }, format: 'csv' });
    expect(parseCommand(['sql', '--file=m.sql', '--format=json', '--json'])).toEqual({ kind: 'sql', connection: {}, input: { kind: 'file', path: 'm.sql' }, format: 'json' });
    expect(parseCommand(['sql', '--format', 'table'])).toEqual({ kind: 'sql', connection: {}, input: { kind: 'stdin' }, format: 'table' });
    expect(parseCommand(['live', 'SELECT * FROM app.t', '--batch-size', '500', '--count'])).toEqual({ kind: 'live', connection: {}, sql: 'SELECT * FROM app.t', json: false, count: true, batchSize: 500 });
    expect(parseCommand(['live', '--json', 'SELECT * FROM app.t'])).toEqual({ kind: 'live', connection: {}, sql: 'SELECT * FROM app.t', json: true, count: false });
  });

  it('takes SQL that starts with a dash after --', () => {
    expect(parseCommand(['sql', '--', '-- a comment\nSELECT 1'])).toMatchObject({ kind: 'sql', input: { kind: 'text', sql: '-- a comment\nSELECT 1' } });
  });

  it('answers --help and --version at the top and for each command', () => {
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommand(['-h'])).toEqual({ kind: 'help' });
    expect(parseCommand(['sql', '--help'])).toEqual({ kind: 'help', command: 'sql' });
    expect(parseCommand(['live', 'SELECT 1', '-h'])).toEqual({ kind: 'help', command: 'live' });
    expect(parseCommand(['help', 'login'])).toEqual({ kind: 'help', command: 'login' });
    expect(parseCommand(['help'])).toEqual({ kind: 'help' });
    expect(parseCommand(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommand(['login', '--version'])).toEqual({ kind: 'version' });
  });

  it('refuses what it cannot run, saying why and for which command', () => {
    expect(usageError([])).toEqual({ message: 'no command given', command: undefined });
    expect(usageError(['query', 'SELECT 1'])).toEqual({ message: 'unknown command "query"', command: undefined });
    expect(usageError(['help', 'query'])).toEqual({ message: 'unknown command "query"', command: undefined });
    expect(usageError(['live'])).toEqual({ message: 'no SQL given', command: 'live' });
    expect(usageError(['sql', 'SELECT 1', '-f', 'm.sql'])).toEqual({ message: 'give either SQL or -f FILE, not both', command: 'sql' });
    expect(usageError(['sql', '-f', ''])).toEqual({ message: '-f needs a file name', command: 'sql' });
    expect(usageError(['sql', '--format', 'xml'])).toEqual({ message: '--format must be one of table, json, csv, got "xml"', command: 'sql' });
    expect(usageError(['sql', '--format', 'csv', '--json'])).toEqual({ message: '--json contradicts --format csv', command: 'sql' });
    expect(usageError(['live', 'SELECT 1', '--format', 'csv'])).toEqual({ message: '"seqline live" has no option --format', command: 'live' });
    expect(usageError(['sql', '  '])).toEqual({ message: 'the SQL is empty', command: 'sql' });
    expect(usageError(['sql', 'SELECT', '*', 'FROM', 't'])).toEqual({ message: 'give the SQL as one argument, in quotes (got 4 arguments)', command: 'sql' });
    expect(usageError(['login', 'alice'])).toEqual({ message: '"seqline login" takes no argument, got "alice"', command: 'login' });
    expect(usageError(['login', '--json'])).toEqual({ message: '"seqline login" has no option --json', command: 'login' });
    expect(usageError(['sql', 'SELECT 1', '--count'])).toEqual({ message: '"seqline sql" has no option --count', command: 'sql' });
    expect(usageError(['live', 'SELECT 1', '--batch-size', '0'])).toEqual({ message: '--batch-size must be a positive integer, got "0"', command: 'live' });
    expect(usageError(['live', 'SELECT 1', '--batch-size', '1e3'])).toEqual({ message: '--batch-size must be a positive integer, got "1e3"', command: 'live' });
  });

  it('explains bad options in its own words', () => {
    expect(usageError(['sql', 'SELECT 1', '--jsno'])).toEqual({ message: 'unknown option --jsno (put SQL that starts with "-" after --)', command: undefined });
    expect(usageError(['sql', 'SELECT 1', '--url'])).toEqual({ message: 'option --url needs a value (write --url=VALUE for one that starts with "-")', command: undefined });
    expect(usageError(['sql', 'SELECT 1', '--json=yes'])).toEqual({ message: 'option --json takes no value', command: undefined });
  });
});
