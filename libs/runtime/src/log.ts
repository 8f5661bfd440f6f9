// Structured JSON logs, one object per line: {time, level, service, msg, ...fields}.
// Errors in fields are serialized with name, message, code and stack (logs are for
// operators; stack traces never go to clients). The sink is injected for tests. A record made
// while a span is active carries its `trace_id` and `span_id` (tracing on only, telemetry.ts).
import { activeIds } from './telemetry.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly service: string;
  readonly level?: LogLevel;
  /** Receives each line (without the newline). Defaults to process.stderr. */
  readonly sink?: (line: string) => void;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const sink = options.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[level] < threshold) return;
    const record = { time: now().toISOString(), level, service: options.service, msg, ...activeIds(), ...bound, ...fields };
    sink(JSON.stringify(record, replacer));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack, ...(value.cause === undefined ? {} : { cause: value.cause }) };
  }
  return value;
}

/** A logger that keeps its records in memory, for tests. */
export function memoryLogger(service = 'test'): Logger & { readonly records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({ service, level: 'debug', sink: (line) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return Object.assign(logger, { records });
}
