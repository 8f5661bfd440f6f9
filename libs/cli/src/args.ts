// The grammar of `seqline`, parsed without I/O into a tagged union the commands trust:
//   seqline [options] <command> [options] [SQL]
// `seqline sql` takes SQL, or -f FILE, or neither: then it reads stdin (the REPL on a terminal).
// Options may stand before or after the command; each command accepts only its own (and
// --help, --version). Mistakes throw UsageError (exit code 2).
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { FORMATS, type Format } from './format.js';

export const COMMANDS = ['login', 'sql', 'live', 'gen'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** How `seqline gen types` types BIGINT columns: as the client's `bigint` option returns them. */
export const BIGINT_MODES = ['bigint', 'string'] as const;
export type BigIntTypeMode = (typeof BIGINT_MODES)[number];

/** Where and as whom, as given on the command line (env and saved sessions come later). */
export interface ConnectionFlags {
  readonly url?: string;
  readonly user?: string;
  readonly password?: string;
}

/** Where `seqline sql` reads its SQL. */
export type SqlInput = { readonly kind: 'text'; readonly sql: string } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'stdin' };

export type Command =
  | { readonly kind: 'help'; readonly command?: CommandName }
  | { readonly kind: 'version' }
  | { readonly kind: 'login'; readonly connection: ConnectionFlags }
  | { readonly kind: 'sql'; readonly connection: ConnectionFlags; readonly input: SqlInput; readonly format: Format }
  | { readonly kind: 'live'; readonly connection: ConnectionFlags; readonly sql: string; readonly json: boolean; readonly count: boolean; readonly batchSize?: number }
  | { readonly kind: 'gen_types'; readonly connection: ConnectionFlags; readonly namespace?: string; readonly bigint: BigIntTypeMode };

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  url: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  file: { type: 'string', short: 'f' },
  count: { type: 'boolean' },
  'batch-size': { type: 'string' },
  namespace: { type: 'string' },
  bigint: { type: 'string' },
} as const;
type OptionName = keyof typeof OPTIONS;

const CONNECTION_OPTIONS = ['url', 'user', 'password'] as const;
const ACCEPTS: Readonly<Record<CommandName, readonly OptionName[]>> = {
  login: CONNECTION_OPTIONS,
  sql: [...CONNECTION_OPTIONS, 'json', 'format', 'file'],
  live: [...CONNECTION_OPTIONS, 'json', 'count', 'batch-size'],
  gen: [...CONNECTION_OPTIONS, 'namespace', 'bigint'],
};

type Values = Partial<Record<OptionName, string | boolean>>;

export function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parse(argv);
  const [name, ...rest] = positionals;
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { kind: 'help' };
    if (!isCommand(topic)) throw new UsageError(`unknown command "${topic}"`);
    return { kind: 'help', command: topic };
  }
  if (name === undefined) {
    if (values.version === true) return { kind: 'version' };
    if (values.help === true) return { kind: 'help' };
    throw new UsageError('no command given');
  }
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}"`);
  if (values.help === true) return { kind: 'help', command: name };
  if (values.version === true) return { kind: 'version' };
  for (const option of Object.keys(values) as OptionName[]) {
    if (!ACCEPTS[name].includes(option)) throw new UsageError(`"seqline ${name}" has no option --${option}`, name);
  }
  const connection = connectionFlags(values);
  switch (name) {
    case 'login':
      if (rest.length > 0) throw new UsageError(`"seqline login" takes no argument, got "${rest[0]}"`, name);
      return { kind: 'login', connection };
    case 'sql':
      return { kind: 'sql', connection, input: sqlInput(values, rest), format: sqlFormat(values) };
    case 'live': {
      const batchSize = values['batch-size'] === undefined ? undefined : positiveInt('--batch-size', String(values['batch-size']), name);
      return { kind: 'live', connection, sql: oneSql(name, rest), json: values.json === true, count: values.count === true, ...(batchSize === undefined ? {} : { batchSize }) };
    }
    case 'gen':
      return genTypes(values, rest, connection);
  }
}

/** `seqline gen types [--namespace NS] [--bigint bigint|string]` (types is the only generator). */
function genTypes(values: Values, rest: readonly string[], connection: ConnectionFlags): Command {
  if (rest[0] !== 'types') throw new UsageError(rest.length === 0 ? 'what to generate? (seqline gen types)' : `unknown generator "${rest[0]}" (seqline gen types)`, 'gen');
  if (rest.length > 1) throw new UsageError(`"seqline gen types" takes no argument, got "${rest[1]}"`, 'gen');
  const bigint = values.bigint === undefined ? 'bigint' : BIGINT_MODES.find((m) => m === values.bigint);
  if (bigint === undefined) throw new UsageError(`--bigint must be bigint or string, got "${String(values.bigint)}"`, 'gen');
  return { kind: 'gen_types', connection, bigint, ...(typeof values.namespace === 'string' ? { namespace: values.namespace } : {}) };
}

function parse(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
}

/** node:util's messages, shortened to what a user needs. */
function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) return `unknown option ${option} (put SQL that starts with "-" after --)`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    return /does not take an argument/.test(message) ? `option ${option} takes no value` : `option ${option} needs a value (write ${option}=VALUE for one that starts with "-")`;
  }
  return message;
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

function connectionFlags(values: Values): ConnectionFlags {
  const flags: { url?: string; user?: string; password?: string } = {};
  for (const key of CONNECTION_OPTIONS) {
    const value = values[key];
    if (typeof value === 'string') flags[key] = value;
  }
  return flags;
}

function sqlInput(values: Values, rest: readonly string[]): SqlInput {
  const file = values.file;
  if (typeof file === 'string') {
    if (rest.length > 0) throw new UsageError('give either SQL or -f FILE, not both', 'sql');
    if (file === '') throw new UsageError('-f needs a file name', 'sql');
    return { kind: 'file', path: file };
  }
  return rest.length === 0 ? { kind: 'stdin' } : { kind: 'text', sql: oneSql('sql', rest) };
}

/** --format, or --json (which it replaces; kept for scripts). */
function sqlFormat(values: Values): Format {
  const format = values.format;
  if (format === undefined) return values.json === true ? 'json' : 'table';
  const chosen = FORMATS.find((f) => f === format);
  if (chosen === undefined) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${String(format)}"`, 'sql');
  if (values.json === true && chosen !== 'json') throw new UsageError(`--json contradicts --format ${chosen}`, 'sql');
  return chosen;
}

function oneSql(command: CommandName, rest: readonly string[]): string {
  if (rest.length === 0) throw new UsageError('no SQL given', command);
  if (rest.length > 1) throw new UsageError(`give the SQL as one argument, in quotes (got ${rest.length} arguments)`, command);
  const sql = rest[0]!;
  if (sql.trim() === '') throw new UsageError('the SQL is empty', command);
  return sql;
}

function positiveInt(option: string, text: string, command: CommandName): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${option} must be a positive integer, got "${text}"`, command);
  return n;
}
