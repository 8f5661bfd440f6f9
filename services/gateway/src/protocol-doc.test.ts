// docs/protocol.md against the code: every WebSocket message type with its top-level fields and
// which of them are optional (both directions, read from the zod schemas), every error code with its HTTP status (the one error table plus the HTTP
// layer's own), every auth endpoint error, every close code and every HTTP route must be in the
// document's tables, and nothing may be there that the code does not have.
import { readFileSync } from 'node:fs';
import { clientMessageSchema, ERRORS, serverMessageSchema, WS_CLOSE } from '@seqline/protocol';
import { describe, expect, it } from 'vitest';
import { AUTH_ERRORS, HTTP_ONLY_ERRORS } from './http/reply.js';
import { ROUTES } from './http/router.js';

const DOC = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

/** The cells of the first table after the heading `heading` (backticks removed, `\|` kept as `|`). */
function tableAfter(doc: string, heading: string): string[][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => /^#{2,4} /.test(l) && l.replace(/^#+ /, '').trim() === heading);
  if (start === -1) throw new Error(`docs/protocol.md has no heading "${heading}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,4} /.test(line)) break;
    if (!line.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split(/(?<!\\)\|/)
      .map((c) => c.replace(/\\\|/g, '|').replace(/`/g, '').trim());
    if (cells.every((c) => /^-+$/.test(c))) continue;
    rows.push(cells);
  }
  if (rows.length < 2) throw new Error(`the table after "${heading}" is missing or empty`);
  return rows.slice(1); // without the header row
}

interface FieldSchema {
  safeParse(value: unknown): { success: boolean };
}
interface ObjectSchema {
  readonly shape: Readonly<Record<string, FieldSchema & { readonly value?: unknown }>>;
}

/** The object schema of a message (an object, or an object piped into a transform). */
function objectOf(schema: unknown): ObjectSchema {
  const s = schema as Partial<ObjectSchema> & { in?: unknown };
  if (s.shape !== undefined) return s as ObjectSchema;
  if (s.in !== undefined) return objectOf(s.in);
  throw new Error('not a message schema');
}

/** `type field field? …`: a message's `type` literal and its other fields, `?` marking the optional ones. */
function describeMessage(schema: unknown): string {
  const { shape } = objectOf(schema);
  const type = shape['type']?.value;
  if (typeof type !== 'string') throw new Error('a message schema without a literal "type"');
  const fields = Object.entries(shape)
    .filter(([name]) => name !== 'type')
    .map(([name, field]) => (field.safeParse(undefined).success ? `${name}?` : name));
  return [type, ...fields.sort()].join(' ');
}

/** The field names of the doc's `fields` cell: nested `{…}` and `(…)` dropped, `(none)` empty. */
function docFields(cell: string): string[] {
  let text = cell;
  for (let before = ''; before !== text; ) {
    before = text;
    text = text.replace(/\([^()]*\)|\{[^{}]*\}/g, '');
  }
  return text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .sort();
}

const sorted = <T>(xs: Iterable<T>): T[] => [...xs].sort();

describe('docs/protocol.md', () => {
  it('lists exactly the WebSocket messages of the schemas, by direction, with their fields', () => {
    const inCode = [...clientMessageSchema.options.map((o) => `client ${describeMessage(o)}`), ...serverMessageSchema.options.map((o) => `server ${describeMessage(o)}`)];
    const inDoc = tableAfter(DOC, '4.1 Message types').map(([direction, type, fields]) => [`${direction} ${type}`, ...docFields(fields!)].join(' '));
    expect(inCode.length).toBeGreaterThan(5);
    expect(sorted(inDoc)).toEqual(sorted(inCode));
  });

  it('lists exactly the error codes, each with its HTTP status', () => {
    const inCode = { ...Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.http])), ...HTTP_ONLY_ERRORS };
    const rows = tableAfter(DOC, '5. Error codes');
    const inDoc = Object.fromEntries(rows.map(([code, http]): [string, number] => [code!, Number(http)]));
    expect(rows).toHaveLength(Object.keys(inDoc).length); // no code listed twice
    expect(inDoc).toEqual(inCode);
  });

  it('lists exactly the auth endpoints\' error values with their statuses', () => {
    const inDoc = Object.fromEntries(tableAfter(DOC, 'Auth endpoint errors').map(([error, http]): [string, number] => [error!, Number(http)]));
    expect(inDoc).toEqual({ ...AUTH_ERRORS });
  });

  it('lists exactly the close codes, by name', () => {
    const inDoc = Object.fromEntries(tableAfter(DOC, '6. Close codes').map(([code, name]): [string, number] => [name!, Number(code)]));
    expect(inDoc).toEqual({ ...WS_CLOSE });
  });

  it('lists exactly the HTTP routes', () => {
    const inCode = Object.entries(ROUTES).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    const inDoc = tableAfter(DOC, 'Routes').map(([method, path]) => `${method} ${path}`);
    expect(sorted(inDoc)).toEqual(sorted(inCode));
  });

  it('uses only codes of the table in its WebSocket tables', () => {
    const known = new Set<string>(Object.keys(ERRORS));
    const closes = new Set<number>(Object.values(WS_CLOSE));
    const authErrors = tableAfter(DOC, '4.2 Connecting and authenticating');
    for (const [code, close] of authErrors) {
      expect(known.has(code!), code).toBe(true);
      expect(closes.has(Number(close)), close).toBe(true);
    }
    for (const [code] of tableAfter(DOC, '4.6 Subscription errors')) expect(known.has(code!), code).toBe(true);
  });
});
