// The JSON bodies the HTTP API accepts, parsed once at the boundary into typed values
// (docs/protocol.md §2). Each parser answers data: the value, or an error code and a message that
// names the offending field. JSON is read losslessly, so an integer parameter beyond 2^53
// keeps every digit (it travels on as a bigint literal in params_json).
//
//   POST /v1/api/sql          {"sql": string, "params"?: [scalar…] | null, "namespace_id"?: string | null}
//   POST /v1/api/auth/login   {"username" | "user": string, "password": string}
//   POST /v1/api/auth/setup   {"username" | "user": string, "password": string, "email"?: string | null}
// Unknown fields are ignored (KalamDB clients may send more than we read).
import type { ErrorCode } from '@seqline/protocol';
import { parseJsonLossless } from '@seqline/seq';
import { NAME_PATTERN } from '@seqline/domain';

export type JsonScalar = string | number | bigint | boolean | null;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface SqlBody {
  readonly sql: string;
  /** Absent, null and [] all mean "no parameters". */
  readonly params: readonly JsonScalar[];
  readonly namespaceId: string | undefined;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface SetupBody extends Credentials {
  readonly email: string | null;
}

/** Longest user name and password a login may send (bounds the work per attempt). */
export const MAX_USERNAME_LENGTH = 128;
export const MAX_PASSWORD_LENGTH = 1024;

function fail<T>(code: ErrorCode, message: string): Parsed<T> {
  return { ok: false, code, message };
}

type JsonObject = Readonly<Record<string, unknown>>;

export function parseJsonObject(text: string): Parsed<JsonObject> {
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch (err) {
    return fail('INVALID_INPUT', `request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('INVALID_INPUT', 'request body must be a JSON object');
  return { ok: true, value: value as JsonObject };
}

function isScalar(v: unknown): v is JsonScalar {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

export function parseSqlBody(text: string, maxSqlBytes: number): Parsed<SqlBody> {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const { sql, params, namespace_id: namespaceId } = parsed.value;
  if (sql === undefined) return fail('INVALID_INPUT', 'missing field "sql"');
  if (typeof sql !== 'string') return fail('INVALID_INPUT', 'field "sql" must be a string');
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (bytes > maxSqlBytes) return fail('PAYLOAD_TOO_LARGE', `sql is ${bytes} bytes; the limit is ${maxSqlBytes}`);
  let list: JsonScalar[] = [];
  if (params !== undefined && params !== null) {
    if (!Array.isArray(params)) return fail('INVALID_PARAMETER', 'params must be an array of JSON scalars (string, number, boolean or null)');
    for (const [i, p] of (params as unknown[]).entries()) {
      if (!isScalar(p)) return fail('INVALID_PARAMETER', `parameter $${i + 1} must be a string, number, boolean or null`);
    }
    list = params as JsonScalar[];
  }
  if (namespaceId !== undefined && namespaceId !== null && (typeof namespaceId !== 'string' || !NAME_PATTERN.test(namespaceId))) {
    return fail('INVALID_INPUT', 'namespace_id must be a name of letters, digits and underscores');
  }
  return { ok: true, value: { sql, params: list, namespaceId: typeof namespaceId === 'string' ? namespaceId : undefined } };
}

function readCredentials(body: JsonObject): Parsed<Credentials> {
  const { username, user, password } = body;
  if (username !== undefined && user !== undefined && username !== user) return fail('INVALID_INPUT', 'send either "username" or "user", not both');
  const name = username ?? user;
  if (typeof name !== 'string' || name === '') return fail('INVALID_INPUT', 'field "username" must be a non-empty string');
  if (typeof password !== 'string' || password === '') return fail('INVALID_INPUT', 'field "password" must be a non-empty string');
  if (name.length > MAX_USERNAME_LENGTH) return fail('INVALID_INPUT', `username is longer than ${MAX_USERNAME_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) return fail('INVALID_INPUT', `password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  return { ok: true, value: { username: name, password } };
}

export function parseLoginBody(text: string): Parsed<Credentials> {
  const parsed = parseJsonObject(text);
  return parsed.ok ? readCredentials(parsed.value) : parsed;
}

export function parseSetupBody(text: string): Parsed<SetupBody> {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const credentials = readCredentials(parsed.value);
  if (!credentials.ok) return credentials;
  const { email } = parsed.value;
  if (email !== undefined && email !== null && (typeof email !== 'string' || email.length > 254)) return fail('INVALID_INPUT', 'field "email" must be a string');
  return { ok: true, value: { ...credentials.value, email: typeof email === 'string' && email !== '' ? email : null } };
}
