// The LIMIT of a user's outermost SELECT (rewrite.ts decisions): none → the default limit; a
// constant above maxRows, LIMIT ALL or LIMIT NULL → maxRows; a parameter or an expression →
// LEAST(<expr>, maxRows); FETCH … WITH TIES → UNSUPPORTED.
import { bodyOf, intConst, isBody, typeCast, type Body } from './ast.js';
import { SqlError } from './errors.js';

export interface LimitOutcome {
  /** The LIMIT that applies to the outermost query after clamping (the bound, for LEAST). */
  readonly limit: number;
  readonly limitAdded: boolean;
  readonly clamped: boolean;
}

export function applyLimit(select: Body, ctx: { readonly defaultLimit: number; readonly maxRows: number; readonly unlimited?: boolean }): LimitOutcome {
  const max = ctx.maxRows;
  if (select['limitOption'] === 'LIMIT_OPTION_WITH_TIES') throw new SqlError('UNSUPPORTED', 'FETCH FIRST … WITH TIES is not supported');
  const setLimit = (n: number): void => {
    select['limitCount'] = intConst(n);
    select['limitOption'] = 'LIMIT_OPTION_COUNT';
  };
  const count = select['limitCount'];
  if (count === undefined && ctx.unlimited === true) return { limit: Number.POSITIVE_INFINITY, limitAdded: false, clamped: false };
  if (count === undefined) {
    const limit = Math.min(ctx.defaultLimit, max);
    setLimit(limit);
    return { limit, limitAdded: true, clamped: false };
  }
  const value = constantLimit(count);
  if (value === undefined) {
    select['limitCount'] = { MinMaxExpr: { op: 'IS_LEAST', args: [count, typeCast(intConst(max), ['pg_catalog', 'int8'])] } };
    return { limit: max, limitAdded: false, clamped: true };
  }
  if (value === null || value > max) {
    setLimit(max);
    return { limit: max, limitAdded: false, clamped: true };
  }
  return { limit: value, limitAdded: false, clamped: false };
}

/** An integer constant; null for LIMIT ALL / LIMIT NULL; undefined for anything else. */
function constantLimit(node: unknown): number | null | undefined {
  const c = bodyOf(node, 'A_Const');
  if (c === undefined) return undefined;
  if (c['isnull'] === true) return null;
  const raw = isBody(c['ival']) ? (c['ival']['ival'] ?? 0) : isBody(c['fval']) ? c['fval']['fval'] : undefined;
  const n = Number(raw);
  return raw !== undefined && Number.isSafeInteger(n) ? n : undefined;
}
