// Results of POST /v1/api/sql as text: each statement's rows as an aligned table (numbers to
// the right, NULL for null, times as ISO-8601 in UTC, bytes as \x hex), then "(N rows)", then
// the server's message if it sent one ("Inserted 1 row(s)"); or as CSV (RFC 4180). Pure.
import { cliError, CLI_ERROR } from './errors.js';

/** `--format`: an aligned table, the `results` JSON as sent, or CSV. */
export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface Column {
  readonly name: string;
  /** docs/protocol.md §1: "Int", "Timestamp", …, or `{"Decimal":{…}}`, `{"Embedding":n}`. */
  readonly dataType: unknown;
}

export interface StatementResult {
  /** Present when the statement returned rows (a SELECT, even with none). */
  readonly table?: { readonly columns: readonly Column[]; readonly rows: readonly (readonly unknown[])[] };
  readonly message?: string;
}

/** The `results` of a SQL answer, checked once here. */
export function parseResults(value: unknown): StatementResult[] {
  if (!Array.isArray(value)) throw cliError(CLI_ERROR.invalidResponse, 'the SQL answer has no results array');
  return value.map((item: unknown) => {
    const r = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const { schema, rows, message } = r;
    const table =
      Array.isArray(schema) && Array.isArray(rows) && schema.length > 0
        ? { columns: schema.map((c: unknown) => column(c)), rows: rows.map((row: unknown) => (Array.isArray(row) ? (row as unknown[]) : [])) }
        : undefined;
    return { ...(table === undefined ? {} : { table }), ...(typeof message === 'string' ? { message } : {}) };
  });
}

function column(value: unknown): Column {
  const c = (typeof value === 'object' && value !== null ? value : {}) as { name?: unknown; data_type?: unknown };
  return { name: typeof c.name === 'string' ? c.name : '?', dataType: c.data_type };
}

/** Every result, a blank line between two; ends with a newline. */
export function formatResults(results: readonly StatementResult[]): string {
  return `${results.map(formatResult).join('\n\n')}\n`;
}

export function formatResult(result: StatementResult): string {
  const lines: string[] = [];
  if (result.table !== undefined) {
    const n = result.table.rows.length;
    lines.push(...formatTable(result.table.columns, result.table.rows), n === 1 ? '(1 row)' : `(${n} rows)`);
  }
  if (result.message !== undefined) lines.push(result.message);
  return lines.length === 0 ? 'OK' : lines.join('\n');
}

/** Header, a separator, then one line per row; columns joined by " | ", no trailing spaces. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly unknown[])[]): string[] {
  const right = columns.map((c) => isNumeric(c.dataType));
  const header = columns.map((c) => escapeControls(c.name));
  const body = rows.map((row) => columns.map((c, i) => formatCell(row[i], c.dataType)));
  const widths = header.map((h, i) => body.reduce((w, cells) => Math.max(w, width(cells[i]!)), width(h)));
  const line = (cells: readonly string[], align: boolean): string =>
    cells
      .map((text, i) => (align && right[i] === true ? text.padStart(widths[i]! + text.length - width(text)) : text.padEnd(widths[i]! + text.length - width(text))))
      .join(' | ')
      .trimEnd();
  return [line(header, false), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map((cells) => line(cells, true))];
}

/** One cell of a table; `dataType` chooses how times and bytes are shown. */
export function formatCell(value: unknown, dataType: unknown): string {
  const text = cellText(value, dataType);
  return text === undefined ? 'NULL' : escapeControls(text);
}

/** A cell's text as is (undefined for null): times as ISO-8601 in UTC, bytes as \\x hex. */
export function cellText(value: unknown, dataType: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (dataType === 'Timestamp' || dataType === 'DateTime') return timestampText(value) ?? String(value);
    if (dataType === 'Date') return timestampText(value * 86_400_000_000)?.slice(0, 10) ?? String(value);
    if (dataType === 'Time') return timeText(value);
  }
  if (dataType === 'Bytes' && Array.isArray(value) && value.every((b) => typeof b === 'number')) {
    return `\\x${value.map((b: number) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : JSON.stringify(value);
}

const NUMERIC = new Set(['SmallInt', 'Int', 'BigInt', 'Float', 'Double']);

function isNumeric(dataType: unknown): boolean {
  return (typeof dataType === 'string' && NUMERIC.has(dataType)) || (typeof dataType === 'object' && dataType !== null && 'Decimal' in dataType);
}

/** Microseconds since the epoch as `2025-06-01T12:00:00.123456Z` (no fraction when whole). */
function timestampText(us: number): string | undefined {
  const seconds = Math.floor(us / 1_000_000);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return undefined;
  const micros = us - seconds * 1_000_000;
  return `${date.toISOString().slice(0, 19)}${micros === 0 ? '' : `.${String(micros).padStart(6, '0')}`}Z`;
}

/** Microseconds since midnight as `13:45:00` or `13:45:00.250000`. */
function timeText(us: number): string {
  const micros = us % 1_000_000;
  const s = Math.floor(us / 1_000_000);
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return micros === 0 ? hms : `${hms}.${String(micros).padStart(6, '0')}`;
}

/** Text with control characters escaped (so a newline cannot break the table). */
function escapeControls(text: string): string {
  return text.replace(/\p{Cc}/gu, (ch) => ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Characters a terminal shows (code points; wide East Asian characters count as one). */
function width(text: string): number {
  return [...text].length;
}
