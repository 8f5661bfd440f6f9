// Results as CSV (RFC 4180), for `--format csv`: for each statement that returned rows, a header
// record with the column names, then one record per row, every record ending in CRLF; two
// results are separated by an empty line. A field is quoted when it holds a comma, a double
// quote (doubled inside), CR or LF. NULL is an empty field and the empty string a quoted empty
// field (""), as PostgreSQL's COPY … CSV writes them. Cells as the table shows them (times in
// ISO-8601 UTC, bytes as \x hex, JSON as JSON) without escaping. Pure.
import { cellText, type StatementResult } from './format.js';

export interface Csv {
  /** The records, for stdout ('' when no statement returned rows). */
  readonly csv: string;
  /** The server's messages ("Inserted 1 row(s)"), kept out of the CSV (for stderr). */
  readonly messages: readonly string[];
}

export function formatCsv(results: readonly StatementResult[]): Csv {
  const tables: string[] = [];
  const messages: string[] = [];
  for (const { table, message } of results) {
    if (table !== undefined) {
      const header = csvRecord(table.columns.map((c) => c.name));
      tables.push(header + table.rows.map((row) => csvRecord(table.columns.map((c, i) => cellText(row[i], c.dataType)))).join(''));
    }
    if (message !== undefined) messages.push(message);
  }
  return { csv: tables.join('\r\n'), messages };
}

/** One record: fields joined by commas, ending in CRLF; undefined (NULL) is an empty field. */
export function csvRecord(fields: readonly (string | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(text: string | undefined): string {
  if (text === undefined) return '';
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
