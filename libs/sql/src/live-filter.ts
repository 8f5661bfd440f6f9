// Live filters (docs/architecture.md §4, docs/protocol.md §4): a subscription's WHERE, compiled once into a
// predicate over row images and evaluated on the old and new image of every row change, with
// SQL's three-valued logic and PostgreSQL's comparison rules, so that a live subscription
// delivers exactly the rows its SELECT would return.
//
// Supported: `= <> != < <= > >=`, AND, OR, NOT, [NOT] IN (…), IS [NOT] NULL, [NOT] BETWEEN
// [SYMMETRIC], [NOT] LIKE / ILIKE, literals (optionally cast), parameters ($n), CURRENT_USER,
// and a BOOLEAN column on its own. Everything else is refused when the filter is compiled,
// with a message naming it. Images are rows of protocol cells (docs/protocol.md §1): BIGINT and
// DECIMAL as strings, timestamps and times as µs, dates as days.
//
// PostgreSQL's rules reproduced here, per type: integers and decimals compare exactly; REAL
// columns compare as float4 widened to float8 (so REAL 1.1 is not = 1.1); text compares by code
// point (Seqline's databases use the "C" collation, as KalamDB compares bytes) and ILIKE folds
// only ASCII letters (the C ctype); UUIDs compare as their 16 bytes; BOOLEAN false < true.
// JSON and BYTES columns take only IS [NOT] NULL.
import type { Catalog, ColumnDef, DataType, TableDef } from '@seqline/domain';
import { bodyOf, cloneAst, nameList, nodeParts, type Body } from './ast.js';
import { SqlError } from './errors.js';
import { UNMETERED, type Meter } from './filter-budget.js';
import { compileLike } from './like.js';
import { compileOrder, liveLimit, orderKeys, type LiveOrder } from './live-order.js';
import { dataTypeName } from './types-map.js';
import { parseStatements } from './parse.js';
import type { Statement } from './types.js';

/** A cell of a row image (docs/protocol.md §1). */
export type LiveCell = string | number | boolean | null | readonly number[];
export type LiveRow = Readonly<Record<string, LiveCell>>;

/** SQL's three truth values. */
export type Truth = boolean | null;

export interface LiveFilter {
  /**
   * The WHERE on one row image: true, false or unknown (null). A row is in when it is true.
   * The work is charged to `meter` (FilterBudgetExceeded when it runs out; default: no limit).
   */
  test(row: LiveRow, meter?: Meter): Truth;
}

export interface FilterContext {
  /** The columns the filter may name (the table's user columns; `_seq` is added). */
  readonly columns: readonly ColumnDef[];
  /** CURRENT_USER's value. */
  readonly currentUser: string;
  /** Values of $1, $2…, as JSON values. */
  readonly params?: readonly unknown[];
}

/** What a row change means to a subscription with `filter`: in→in update, out→in insert, in→out delete. */
export function liveChange(filter: LiveFilter, old: LiveRow | undefined, next: LiveRow | undefined, meter?: Meter): 'insert' | 'update' | 'delete' | undefined {
  const wasIn = old !== undefined && filter.test(old, meter) === true;
  const isIn = next !== undefined && filter.test(next, meter) === true;
  if (wasIn && isIn) return 'update';
  if (isIn) return 'insert';
  if (wasIn) return 'delete';
  return undefined;
}

/** Compiles a WHERE clause (libpg-query AST); `undefined` matches every row. */
export function compileFilter(where: unknown, ctx: FilterContext): LiveFilter {
  if (where === undefined) return { test: () => true };
  const compiled = new Compiler(ctx).predicate(where);
  return { test: (row, meter = UNMETERED) => compiled(row, meter) };
}

// ---- Values --------------------------------------------------------------------------------

/** How values of a type compare. */
export type Domain = 'exact' | 'float' | 'text' | 'uuid' | 'bool' | 'micros' | 'days' | 'time' | 'opaque';

/** A value ready to compare within its domain (null = SQL NULL). */
export type Value = bigint | ExactNumber | number | string | boolean | null;

/** An exact number: mantissa × 10^-scale. */
interface ExactNumber {
  readonly m: bigint;
  readonly scale: number;
}

export type Getter = (row: LiveRow) => Value;
type Predicate = (row: LiveRow, meter: Meter) => Truth;

/** A typed operand: a column (with its type) or a constant not yet given a type. */
type Operand =
  | { readonly kind: 'column'; readonly name: string; readonly domain: Domain; readonly type: DataType | 'seq'; readonly get: Getter }
  | { readonly kind: 'constant'; readonly value: Constant };

/** A constant as written: an untyped string literal coerces to the other side's type, like PostgreSQL's `unknown`. */
type Constant =
  | { readonly type: 'null' }
  | { readonly type: 'unknown'; readonly text: string }
  | { readonly type: 'number'; readonly text: string; readonly integer: boolean }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'cast'; readonly text: string; readonly to: Domain; readonly name: string };

export function domainOf(type: DataType | 'seq'): Domain {
  if (type === 'seq') return 'exact';
  if (typeof type === 'object') return 'exact';
  switch (type) {
    case 'SmallInt':
    case 'Int':
    case 'BigInt':
      return 'exact';
    case 'Float':
    case 'Double':
      return 'float';
    case 'Text':
      return 'text';
    case 'Uuid':
      return 'uuid';
    case 'Boolean':
      return 'bool';
    case 'Timestamp':
    case 'DateTime':
      return 'micros';
    case 'Date':
      return 'days';
    case 'Time':
      return 'time';
    case 'Json':
    case 'Bytes':
      return 'opaque';
  }
}

const invalid = (message: string): SqlError => new SqlError('INVALID_SQL', message);
const unsupported = (message: string): SqlError => new SqlError('UNSUPPORTED', `${message} is not supported in a live subscription`);

/** Parses a decimal number's text (digits, point, exponent) exactly; undefined if it is not one. */
export function exactNumber(text: string): ExactNumber | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  let mantissa = BigInt(`${int}${frac}` || '0');
  let scale = frac.length - Number(exp);
  if (scale < 0) {
    mantissa *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { m: sign === '-' ? -mantissa : mantissa, scale };
}

function compareExact(a: ExactNumber, b: ExactNumber): number {
  const scale = Math.max(a.scale, b.scale);
  const x = a.m * 10n ** BigInt(scale - a.scale);
  const y = b.m * 10n ** BigInt(scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Code-point order (UTF-8 byte order), as the "C" collation compares. */
function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** PostgreSQL's float order: NaN equals NaN and is above every other value. */
function compareFloat(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareValues(domain: Domain, a: Value, b: Value): number {
  switch (domain) {
    case 'exact':
      return compareExact(a as ExactNumber, b as ExactNumber);
    case 'float':
      return compareFloat(a as number, b as number);
    case 'text':
    case 'uuid':
      return compareText(a as string, b as string);
    case 'bool':
      return a === b ? 0 : a === false ? -1 : 1;
    case 'micros':
    case 'days':
    case 'time':
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 'opaque':
      throw new Error('opaque values are never compared');
  }
}

/** A cell of a column, as a comparable value. */
export function cellGetter(name: string, domain: Domain, type: DataType | 'seq'): Getter {
  const pick =
    (read: (c: LiveCell | undefined) => Value): Getter =>
    (row) =>
      read(row[name]);
  switch (domain) {
    case 'exact':
      return pick((c) => (c === null || c === undefined ? null : (exactNumber(String(c)) ?? null)));
    case 'float':
      // A REAL's cell is the shortest text of a float4; widening it again gives PostgreSQL's float8.
      return type === 'Float' ? pick((c) => numberCell(c, Math.fround)) : pick((c) => numberCell(c, (x) => x));
    case 'uuid':
      return pick((c) => (typeof c === 'string' ? c.toLowerCase() : null));
    case 'text':
      return pick((c) => (typeof c === 'string' ? c : null));
    case 'bool':
      return pick((c) => (typeof c === 'boolean' ? c : null));
    case 'micros':
    case 'days':
    case 'time':
      return pick((c) => (typeof c === 'number' ? c : null));
    case 'opaque':
      return pick((c) => (c === null || c === undefined ? null : ''));
  }
}

function numberCell(c: LiveCell | undefined, widen: (x: number) => number): number | null {
  if (typeof c === 'number') return widen(c);
  if (typeof c === 'string') return widen(Number(c)); // NaN / Infinity as text
  return null;
}

// ---- Constants, coerced to a column's type -------------------------------------------------

const INT_RANGES: Partial<Record<string, readonly [bigint, bigint]>> = {
  SmallInt: [-32768n, 32767n],
  Int: [-2147483648n, 2147483647n],
  BigInt: [-9223372036854775808n, 9223372036854775807n],
};

const BOOL_TEXT: Readonly<Record<string, boolean>> = { t: true, true: true, y: true, yes: true, on: true, '1': true, f: false, false: false, n: false, no: false, off: false, '0': false };

/** An untyped string literal read as a value of the column's type (PostgreSQL's input functions, the common forms). */
function parseAs(text: string, column: { readonly name: string; readonly domain: Domain; readonly type: DataType | 'seq' }): Value {
  const bad = (): SqlError => invalid(`invalid ${column.type === 'seq' ? 'BigInt' : dataTypeName(column.type)} value ${JSON.stringify(text)} compared with column ${column.name}`);
  switch (column.domain) {
    case 'exact': {
      const integerType = column.type === 'seq' ? 'BigInt' : typeof column.type === 'string' ? column.type : undefined;
      if (integerType !== undefined) {
        if (!/^\s*[+-]?\d+\s*$/.test(text)) throw bad();
        const n = BigInt(text.trim());
        const range = INT_RANGES[integerType];
        if (range !== undefined && (n < range[0] || n > range[1])) throw invalid(`value ${text.trim()} is out of range for ${integerType} column ${column.name}`);
        return { m: n, scale: 0 };
      }
      return exactNumber(text) ?? (() => { throw bad(); })();
    }
    case 'float': {
      const t = text.trim().toLowerCase();
      const special: Record<string, number> = { nan: NaN, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity, inf: Infinity, '+inf': Infinity, '-inf': -Infinity };
      const value = t in special ? special[t]! : exactNumber(t) === undefined ? undefined : Number(t);
      if (value === undefined) throw bad();
      return column.type === 'Float' ? Math.fround(value) : value;
    }
    case 'text':
      return text;
    case 'uuid': {
      const hex = text.trim().replace(/^\{|\}$/g, '').replace(/-/g, '').toLowerCase();
      if (!/^[0-9a-f]{32}$/.test(hex)) throw bad();
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
    case 'bool': {
      const value = BOOL_TEXT[text.trim().toLowerCase()];
      if (value === undefined) throw bad();
      return value;
    }
    case 'micros':
      return timestampText(text) ?? (() => { throw unsupported(`the timestamp form ${JSON.stringify(text)} (use 'YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|±HH[:MM]]')`); })();
    case 'days': {
      const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text);
      if (m === null) throw unsupported(`the date form ${JSON.stringify(text)} (use 'YYYY-MM-DD')`);
      const days = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000;
      if (new Date(days * 86_400_000).toISOString().slice(0, 10) !== `${m[1]}-${m[2]}-${m[3]}`) throw bad();
      return days;
    }
    case 'time': {
      const m = /^\s*(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*$/.exec(text);
      if (m === null) throw unsupported(`the time form ${JSON.stringify(text)} (use 'HH:MM[:SS[.ffffff]]')`);
      const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? '0')];
      if (h > 24 || mi > 59 || s > 59 || (h === 24 && (mi > 0 || s > 0 || Number(m[4] ?? '0') > 0))) throw bad();
      return ((h * 60 + mi) * 60 + s) * 1_000_000 + Number((m[4] ?? '').padEnd(6, '0'));
    }
    case 'opaque':
      throw unsupported(`comparing ${column.type === 'seq' ? '' : dataTypeName(column.type)} column ${column.name}`);
  }
}

/** µs since the epoch of an ISO-style timestamp (no zone = UTC, the session time zone). */
function timestampText(text: string): number | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$/i.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMin = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (Number(z[2]) * 60 + Number(z[3] ?? '0')) * (z[1] === '-' ? -1 : 1);
  }
  return (ms / 1000 - offsetMin * 60) * 1_000_000 + Number(frac.padEnd(6, '0'));
}

/** A constant as a value comparable with `column`, following PostgreSQL's coercions. */
function coerce(constant: Constant, column: { readonly name: string; readonly domain: Domain; readonly type: DataType | 'seq' }): Value {
  const typeName = column.type === 'seq' ? 'BigInt' : dataTypeName(column.type);
  switch (constant.type) {
    case 'null':
      return null;
    case 'unknown':
      return parseAs(constant.text, column);
    case 'number':
      if (column.domain === 'exact') return exactNumber(constant.text)!;
      if (column.domain === 'float') return Number(constant.text); // numeric → float8
      throw invalid(`cannot compare ${typeName} column ${column.name} with the number ${constant.text}`);
    case 'bool':
      if (column.domain !== 'bool') throw invalid(`cannot compare ${typeName} column ${column.name} with a boolean`);
      return constant.value;
    case 'cast': {
      const compatible = constant.to === column.domain || (constant.to === 'exact' && column.domain === 'float');
      if (!compatible) throw unsupported(`comparing ${typeName} column ${column.name} with a ${constant.name} value`);
      return parseAs(constant.text, column);
    }
  }
}

const CAST_DOMAINS: Readonly<Record<string, Domain>> = {
  text: 'text', varchar: 'text', uuid: 'uuid', bool: 'bool', boolean: 'bool',
  int2: 'exact', int4: 'exact', int8: 'exact', smallint: 'exact', int: 'exact', integer: 'exact', bigint: 'exact', numeric: 'exact', decimal: 'exact',
  float4: 'float', float8: 'float', real: 'float', 'double precision': 'float',
  timestamp: 'micros', timestamptz: 'micros', date: 'days', time: 'time',
};

// ---- The compiler --------------------------------------------------------------------------

type Op = '=' | '<>' | '<' | '<=' | '>' | '>=';
const OPS: Readonly<Record<string, Op>> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function holds(op: Op, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/** Steps a comparison takes: one, or as many as the characters two texts have in common at most. */
function cost(domain: Domain, a: Value, b: Value): number {
  return domain === 'text' && typeof a === 'string' && typeof b === 'string' ? 1 + Math.min(a.length, b.length) : 1;
}

/** AND (from true) or OR (from false) over predicates, stopping at the first false or true. */
function fold(predicates: readonly Predicate[], conjunction: boolean): Predicate {
  const join = conjunction ? and : or;
  const stop = !conjunction;
  return (row, meter) => {
    let result: Truth = conjunction;
    for (const p of predicates) {
      result = join(result, p(row, meter));
      if (result === stop) return stop;
    }
    return result;
  };
}

const and = (a: Truth, b: Truth): Truth => (a === false || b === false ? false : a === null || b === null ? null : true);
const or = (a: Truth, b: Truth): Truth => (a === true || b === true ? true : a === null || b === null ? null : false);
const not = (a: Truth): Truth => (a === null ? null : !a);

class Compiler {
  readonly #ctx: FilterContext;
  readonly #columns: Map<string, { readonly type: DataType | 'seq' }>;

  constructor(ctx: FilterContext) {
    this.#ctx = ctx;
    this.#columns = new Map<string, { readonly type: DataType | 'seq' }>([...ctx.columns.map((c) => [c.name, { type: c.dataType }] as const), ['_seq', { type: 'seq' }]]);
  }

  predicate(node: unknown): Predicate {
    const parts = nodeParts(node);
    if (parts === undefined) throw unsupported('an empty expression');
    const { type, body } = parts;
    switch (type) {
      case 'BoolExpr':
        return this.#bool(body);
      case 'NullTest':
        return this.#nullTest(body);
      case 'A_Expr':
        return this.#aExpr(body);
      case 'ColumnRef': {
        const column = this.#column(body);
        if (column.domain !== 'bool') throw invalid(`argument of WHERE must be a boolean, not ${column.type === 'seq' ? 'BigInt' : dataTypeName(column.type)} column ${column.name}`);
        const get = column.get;
        return (row, meter) => {
          meter.spend(1);
          return get(row) as Truth;
        };
      }
      case 'A_Const': {
        const c = this.#constant(node);
        if (c.type === 'bool') return () => c.value;
        if (c.type === 'null') return () => null;
        throw invalid('argument of WHERE must be a boolean');
      }
      default:
        throw unsupported(describeNode(type, body));
    }
  }

  #bool(body: Body): Predicate {
    const args = (body['args'] as unknown[] | undefined)?.map((a) => this.predicate(a)) ?? [];
    switch (body['boolop']) {
      case 'AND_EXPR':
        return fold(args, true);
      case 'OR_EXPR':
        return fold(args, false);
      case 'NOT_EXPR': {
        const [arg] = args;
        if (arg === undefined) throw invalid('NOT without an operand');
        return (row, meter) => not(arg(row, meter));
      }
      default:
        throw unsupported(`the boolean operator ${String(body['boolop'])}`);
    }
  }

  #nullTest(body: Body): Predicate {
    if (body['argisrow'] === true) throw unsupported('a row IS NULL test');
    const operand = this.#operand(body['arg']);
    const get: Getter = operand.kind === 'column' ? operand.get : () => (operand.value.type === 'null' ? null : true);
    const isNull: Predicate = (row, meter) => {
      meter.spend(1);
      return get(row) === null;
    };
    return body['nulltesttype'] === 'IS_NOT_NULL' ? (row, meter) => !isNull(row, meter) : isNull;
  }

  #aExpr(body: Body): Predicate {
    const kind = body['kind'];
    const name = nameList(body['name']).join('.');
    switch (kind) {
      case 'AEXPR_OP': {
        const op = OPS[name];
        if (op === undefined) throw unsupported(`the operator ${name}`);
        return this.#comparison(op, this.#operand(body['lexpr']), this.#operand(body['rexpr']));
      }
      case 'AEXPR_IN': {
        const left = this.#operand(body['lexpr']);
        const items = (bodyOf(body['rexpr'], 'List')?.['items'] as unknown[] | undefined) ?? [];
        if (items.length === 0) throw unsupported('IN with a subquery or an empty list');
        const tests = items.map((item) => this.#comparison('=', left, this.#operand(item)));
        const any = fold(tests, false);
        if (name === '=') return any;
        if (name === '<>') return (row, meter) => not(any(row, meter));
        throw unsupported(`IN with the operator ${name}`);
      }
      case 'AEXPR_LIKE':
      case 'AEXPR_ILIKE':
        return this.#like(body, kind === 'AEXPR_ILIKE', name);
      case 'AEXPR_BETWEEN':
      case 'AEXPR_NOT_BETWEEN':
      case 'AEXPR_BETWEEN_SYM':
      case 'AEXPR_NOT_BETWEEN_SYM': {
        const x = this.#operand(body['lexpr']);
        const [lo, hi] = ((bodyOf(body['rexpr'], 'List')?.['items'] as unknown[] | undefined) ?? []).map((n) => this.#operand(n));
        if (lo === undefined || hi === undefined) throw invalid('BETWEEN needs two bounds');
        const between = (a: Operand, b: Operand): Predicate => {
          const ge = this.#comparison('>=', x, a);
          const le = this.#comparison('<=', x, b);
          return (row, meter) => and(ge(row, meter), le(row, meter));
        };
        const forward = between(lo, hi);
        const symmetric = kind === 'AEXPR_BETWEEN_SYM' || kind === 'AEXPR_NOT_BETWEEN_SYM';
        const backward = symmetric ? between(hi, lo) : undefined;
        const test: Predicate = backward === undefined ? forward : (row, meter) => or(forward(row, meter), backward(row, meter));
        return kind === 'AEXPR_NOT_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN_SYM' ? (row, meter) => not(test(row, meter)) : test;
      }
      default:
        throw unsupported(describeAExpr(String(kind), name));
    }
  }

  #like(body: Body, caseless: boolean, name: string): Predicate {
    const negated = name === '!~~' || name === '!~~*';
    if (!['~~', '!~~', '~~*', '!~~*'].includes(name)) throw unsupported(`LIKE with the operator ${name}`);
    const subject = this.#operand(body['lexpr']);
    if (subject.kind !== 'column' || subject.domain !== 'text') {
      throw invalid(`${caseless ? 'ILIKE' : 'LIKE'} needs a Text column on its left${subject.kind === 'column' ? `, not ${subject.type === 'seq' ? 'BigInt' : dataTypeName(subject.type)} column ${subject.name}` : ''}`);
    }
    if (bodyOf(body['rexpr'], 'FuncCall') !== undefined) throw unsupported('LIKE … ESCAPE');
    const pattern = this.#operand(body['rexpr']);
    if (pattern.kind !== 'constant') throw unsupported('a LIKE pattern that is not a constant');
    const value = pattern.value;
    if (value.type === 'null') return () => null;
    if (value.type !== 'unknown' && !(value.type === 'cast' && value.to === 'text')) throw invalid(`a ${caseless ? 'ILIKE' : 'LIKE'} pattern must be text`);
    const fold = caseless ? asciiLower : (s: string) => s;
    const like = compileLike(fold(value.text));
    const get = subject.get;
    return (row, meter) => {
      const s = get(row);
      if (s === null) return null;
      if (caseless) meter.spend((s as string).length); // folding reads the text once
      return like.matches(fold(s as string), meter) !== negated;
    };
  }

  #comparison(op: Op, left: Operand, right: Operand): Predicate {
    if (left.kind === 'constant' && right.kind === 'constant') throw unsupported('a comparison without a column');
    if (left.kind === 'constant') return this.#comparison(FLIP[op], right, left);
    const column = left;
    if (column.domain === 'opaque') throw unsupported(`comparing ${column.type === 'seq' ? '' : dataTypeName(column.type)} column ${column.name}`);
    if (right.kind === 'constant') {
      const constant = coerce(right.value, column);
      if (constant === null) return () => null;
      const get = column.get;
      const domain = column.domain;
      return (row, meter) => {
        const v = get(row);
        meter.spend(cost(domain, v, constant));
        return v === null ? null : holds(op, compareValues(domain, v, constant));
      };
    }
    const other = right;
    const domain = commonDomain(column, other);
    const [getA, getB] = [widen(column, domain), widen(other, domain)];
    return (row, meter) => {
      const a = getA(row);
      const b = getB(row);
      meter.spend(cost(domain, a, b));
      return a === null || b === null ? null : holds(op, compareValues(domain, a, b));
    };
  }

  #operand(node: unknown): Operand {
    const parts = nodeParts(node);
    if (parts === undefined) throw unsupported('an empty expression');
    const { type, body } = parts;
    switch (type) {
      case 'ColumnRef':
        return this.#column(body);
      case 'A_Const':
      case 'TypeCast':
      case 'ParamRef':
      case 'SQLValueFunction':
        return { kind: 'constant', value: this.#constant(node) };
      default:
        throw unsupported(describeNode(type, body));
    }
  }

  #column(body: Body): Operand & { kind: 'column' } {
    const fields = body['fields'] as unknown[] | undefined;
    const names = (fields ?? []).map((f) => bodyOf(f, 'String')?.['sval']);
    const name = names.at(-1);
    if (typeof name !== 'string' || names.some((n) => typeof n !== 'string')) throw unsupported('* or an unnamed column in WHERE');
    const column = this.#columns.get(name);
    if (column === undefined) throw new SqlError('INVALID_SQL', `column ${name} does not exist`);
    const domain = domainOf(column.type);
    return { kind: 'column', name, domain, type: column.type, get: cellGetter(name, domain, column.type) };
  }

  #constant(node: unknown): Constant {
    const parts = nodeParts(node);
    if (parts === undefined) throw unsupported('an empty expression');
    const { type, body } = parts;
    switch (type) {
      case 'A_Const': {
        if (body['isnull'] === true) return { type: 'null' };
        // libpg-query leaves zero values out: {"ival":{}} is 0, {"sval":{}} is ''.
        if (isObject(body['ival'])) return { type: 'number', text: String((body['ival'] as { ival?: number }).ival ?? 0), integer: true };
        if (isObject(body['fval'])) return { type: 'number', text: String((body['fval'] as { fval: string }).fval), integer: false };
        if (isObject(body['sval'])) return { type: 'unknown', text: String((body['sval'] as { sval?: string }).sval ?? '') };
        if (isObject(body['boolval'])) return { type: 'bool', value: (body['boolval'] as { boolval?: boolean }).boolval === true };
        throw unsupported('this kind of constant');
      }
      case 'TypeCast': {
        const inner = this.#constant(body['arg']);
        const typeName = body['typeName'] as Body | undefined;
        const names = nameList(typeName?.['names']).filter((n, i, all) => !(i === 0 && n === 'pg_catalog' && all.length > 1));
        const castName = names.join(' ').toLowerCase();
        if (typeName?.['arrayBounds'] !== undefined) throw unsupported('a cast to an array type');
        const to = CAST_DOMAINS[castName];
        if (to === undefined) throw unsupported(`a cast to ${castName}`);
        if (inner.type === 'null') return inner;
        if (inner.type === 'unknown' || inner.type === 'number') return { type: 'cast', text: inner.text, to, name: castName };
        if (inner.type === 'bool' && to === 'bool') return inner;
        throw unsupported(`a cast of this value to ${castName}`);
      }
      case 'ParamRef': {
        const n = body['number'];
        const params = this.#ctx.params ?? [];
        if (typeof n !== 'number' || n < 1 || n > params.length) throw new SqlError('INVALID_PARAMETER', `the subscription uses $${String(n)} but ${params.length} parameter(s) were given`);
        const v = params[n - 1];
        if (v === null || v === undefined) return { type: 'null' };
        if (typeof v === 'string') return { type: 'unknown', text: v };
        if (typeof v === 'number' && Number.isFinite(v)) return { type: 'number', text: String(v), integer: Number.isInteger(v) };
        if (typeof v === 'boolean') return { type: 'bool', value: v };
        throw new SqlError('INVALID_PARAMETER', `parameter $${n} must be a string, a finite number, a boolean or null`);
      }
      case 'SQLValueFunction':
        if (body['op'] === 'SVFOP_CURRENT_USER' || body['op'] === 'SVFOP_USER' || body['op'] === 'SVFOP_SESSION_USER') return { type: 'cast', text: this.#ctx.currentUser, to: 'text', name: 'text' };
        throw unsupported(`${String(body['op']).replace(/^SVFOP_/, '')} in a live filter`);
      default:
        throw unsupported(describeNode(type, body));
    }
  }
}

const FLIP: Readonly<Record<Op, Op>> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** The domain two columns are compared in, as PostgreSQL's operators for the two types. */
function commonDomain(a: Operand & { kind: 'column' }, b: Operand & { kind: 'column' }): Domain {
  if (a.domain === 'opaque' || b.domain === 'opaque') throw unsupported(`comparing ${a.name} with ${b.name}`);
  if (a.domain === b.domain) return a.domain;
  if ((a.domain === 'exact' && b.domain === 'float') || (a.domain === 'float' && b.domain === 'exact')) return 'float';
  throw invalid(`cannot compare column ${a.name} (${a.type === 'seq' ? 'BigInt' : dataTypeName(a.type)}) with column ${b.name} (${b.type === 'seq' ? 'BigInt' : dataTypeName(b.type)})`);
}

/** A column's getter in `domain` (an exact number widened to a float where needed). */
function widen(column: Operand & { kind: 'column' }, domain: Domain): Getter {
  if (column.domain === domain) return column.get;
  const get = column.get;
  return (row) => {
    const v = get(row) as ExactNumber | null;
    return v === null ? null : Number(`${v.m}e-${v.scale}`);
  };
}

/** ASCII-only lower case: what ILIKE folds under the "C" ctype. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeNode(type: string, body: Body): string {
  switch (type) {
    case 'FuncCall':
      return `the function ${nameList(body['funcname']).join('.')}()`;
    case 'SubLink':
      return 'a subquery';
    case 'CaseExpr':
      return 'CASE';
    case 'BooleanTest':
      return 'IS [NOT] TRUE/FALSE/UNKNOWN';
    case 'CoalesceExpr':
      return 'COALESCE';
    case 'A_Expr':
      return describeAExpr(String(body['kind']), nameList(body['name']).join('.'));
    default:
      return `${type} in a filter`;
  }
}

function describeAExpr(kind: string, name: string): string {
  if (kind === 'AEXPR_OP') return `the operator ${name}`;
  if (kind === 'AEXPR_SIMILAR') return 'SIMILAR TO';
  if (kind === 'AEXPR_DISTINCT' || kind === 'AEXPR_NOT_DISTINCT') return 'IS [NOT] DISTINCT FROM';
  if (kind === 'AEXPR_OP_ANY' || kind === 'AEXPR_OP_ALL') return 'ANY/ALL';
  return kind.replace(/^AEXPR_/, '').toLowerCase();
}

// ---- A subscription's query ------------------------------------------------------------------

export interface LiveQuery {
  readonly table: TableDef;
  /** The columns each delivered row carries: those selected, the primary key and `_seq`. */
  readonly columns: readonly string[];
  readonly filter: LiveFilter;
  /** The subscription as a SELECT of exactly `columns`, for its snapshot (to be rewritten like any query). */
  readonly select: Extract<Statement, { kind: 'select' }>;
  /** ORDER BY, ending with the primary key; undefined without ORDER BY (rows in `_seq` order). */
  readonly order?: LiveOrder;
  /** LIMIT n: the subscription is a window of the first n rows in `order` (by the primary key without ORDER BY). */
  readonly limit?: number;
}

export interface LiveQueryContext {
  readonly catalog: Catalog;
  readonly defaultNamespace: string;
  readonly currentUser: string;
  readonly params?: readonly unknown[];
  /** The largest LIMIT a live query may have (undefined: no maximum). */
  readonly maxLimit?: number;
}

/**
 * Compiles a subscription's SQL: exactly `SELECT <columns | *> FROM ns.table [WHERE …]
 * [ORDER BY <columns>] [LIMIT n]`
 * (docs/protocol.md §4). Anything else is INVALID_SQL or UNSUPPORTED with a message naming it; an
 * unknown table is TABLE_NOT_FOUND.
 */
export function compileLiveQuery(sql: string, ctx: LiveQueryContext): LiveQuery {
  const statements = parseStatements(sql, { defaultNamespace: ctx.defaultNamespace });
  const [stmt] = statements;
  if (statements.length !== 1 || stmt === undefined) throw invalid('a subscription takes exactly one SELECT statement');
  if (stmt.kind !== 'select') throw invalid('a subscription takes a SELECT statement');
  const select = bodyOf(stmt.ast, 'SelectStmt');
  if (select === undefined) throw invalid('a subscription takes a SELECT statement');
  for (const [key, what] of LIVE_REFUSED) {
    const v = select[key];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) throw unsupported(what);
  }
  if (select['op'] !== undefined && select['op'] !== 'SETOP_NONE') throw unsupported('UNION, INTERSECT and EXCEPT');
  const from = select['fromClause'] as unknown[] | undefined;
  const range = from?.length === 1 ? bodyOf(from[0], 'RangeVar') : undefined;
  if (range === undefined) throw unsupported(from === undefined || from.length === 0 ? 'a SELECT without a table' : 'a join or a FROM that is not one table');
  const namespace = typeof range['schemaname'] === 'string' ? range['schemaname'] : ctx.defaultNamespace;
  const name = String(range['relname']);
  const table = ctx.catalog.table(namespace, name);
  if (table === undefined) throw new SqlError('TABLE_NOT_FOUND', `table ${namespace}.${name} does not exist`);
  const alias = isObject(range['alias']) ? range['alias']['aliasname'] : undefined;
  const qualifiers = new Set([name, `${namespace}.${name}`, ...(typeof alias === 'string' ? [alias] : [])]);
  const selected = liveProjection(select['targetList'] as unknown[] | undefined, table, qualifiers);
  const limit = liveLimit(select, ctx.maxLimit);
  const keys = orderKeys(select['sortClause'] as unknown[] | undefined, table, qualifiers) ?? (limit === undefined ? undefined : [{ column: table.primaryKey, direction: 'asc' as const, nulls: 'last' as const }]);
  const order = keys === undefined ? undefined : compileOrder(keys, table);
  // The order's columns are delivered too, so a client can keep its rows in order.
  const columns = [...new Set([...selected, ...(keys ?? []).map((k) => k.column), table.primaryKey, '_seq'])];
  checkQualifiers(select['whereClause'], qualifiers);
  const filter = compileFilter(select['whereClause'], { columns: table.columns, currentUser: ctx.currentUser, ...(ctx.params ? { params: ctx.params } : {}) });
  const ast = cloneAst(stmt.ast) as Body;
  const body = bodyOf(ast, 'SelectStmt')!;
  body['targetList'] = columns.map((name) => ({ ResTarget: { val: { ColumnRef: { fields: [{ String: { sval: name } }] } } } }));
  // The snapshot orders and limits by itself (storage's snapshot and window reads).
  delete body['sortClause'];
  delete body['limitCount'];
  body['limitOption'] = 'LIMIT_OPTION_DEFAULT';
  return { table, columns, filter, select: { kind: 'select', ast, text: stmt.text }, ...(order === undefined ? {} : { order }), ...(limit === undefined ? {} : { limit }) };
}

const LIVE_REFUSED: readonly (readonly [string, string])[] = [
  ['distinctClause', 'DISTINCT'],
  ['intoClause', 'SELECT INTO'],
  ['groupClause', 'GROUP BY'],
  ['havingClause', 'HAVING'],
  ['windowClause', 'WINDOW'],
  ['valuesLists', 'VALUES'],
  ['limitOffset', 'OFFSET'],
  ['lockingClause', 'FOR UPDATE/SHARE'],
  ['withClause', 'WITH'],
];

function liveProjection(targets: readonly unknown[] | undefined, table: TableDef, qualifiers: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const target of targets ?? []) {
    const res = bodyOf(target, 'ResTarget');
    if (res === undefined) throw unsupported('this select list');
    if (typeof res['name'] === 'string') throw unsupported(`a column alias (${res['name']})`);
    const ref = bodyOf(res['val'], 'ColumnRef');
    if (ref === undefined) throw unsupported(`${describeNode(nodeParts(res['val'])?.type ?? '', nodeParts(res['val'])?.body ?? {})} in the select list`);
    const fields = (ref['fields'] as unknown[] | undefined) ?? [];
    const qualifier = fields.slice(0, -1).map((f) => bodyOf(f, 'String')?.['sval']).join('.');
    if (qualifier !== '' && !qualifiers.has(qualifier)) throw invalid(`${qualifier} is not the subscription's table`);
    const last = fields.at(-1);
    if (bodyOf(last, 'A_Star') !== undefined) {
      out.push(...table.columns.map((c) => c.name), '_seq');
      continue;
    }
    const name = bodyOf(last, 'String')?.['sval'];
    if (typeof name !== 'string') throw unsupported('this column reference');
    if (name !== '_seq' && !table.columns.some((c) => c.name === name)) throw invalid(`column ${name} does not exist in ${table.namespace}.${table.name}`);
    out.push(name);
  }
  if (out.length === 0) throw invalid('a subscription selects at least one column');
  return out;
}

/** Column references in WHERE may be qualified only by the subscription's table. */
function checkQualifiers(node: unknown, qualifiers: ReadonlySet<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) checkQualifiers(n, qualifiers);
    return;
  }
  if (!isObject(node)) return;
  const ref = bodyOf(node, 'ColumnRef');
  if (ref !== undefined) {
    const fields = (ref['fields'] as unknown[] | undefined) ?? [];
    const qualifier = fields.slice(0, -1).map((f) => bodyOf(f, 'String')?.['sval']).join('.');
    if (qualifier !== '' && !qualifiers.has(qualifier)) throw invalid(`${qualifier} is not the subscription's table`);
    return;
  }
  for (const v of Object.values(node)) checkQualifiers(v, qualifiers);
}
