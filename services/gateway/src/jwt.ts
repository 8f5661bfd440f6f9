// HS256 JSON Web Tokens (RFC 7519) with node:crypto, for the access and refresh tokens of
// PROTOCOL.md §2. The claims are exactly `sub` (user id), `role`, `token_type`
// ('access' | 'refresh'), `iat` and `exp` (seconds since the epoch).
//
// Verification is strict and answers data, never throws:
//   - the header must name alg HS256 (so `none` and every other algorithm are refused before
//     any signature work), the three parts must be canonical base64url;
//   - the signature is compared in constant time against the one we compute;
//   - the payload must have exactly the claim types above, and the token type the caller asks
//     for (a refresh token is no access token, and the other way round);
//   - `exp <= now` is TOKEN_EXPIRED (only for a correctly signed token); everything else is
//     INVALID_CREDENTIALS, with a message that does not help an attacker tell cases apart.
// The clock is injected (ms), so tests pin expiry to the second.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ROLES, type Role } from '@seqline/sql';

export const TOKEN_TYPES = ['access', 'refresh'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export interface Claims {
  readonly sub: string;
  readonly role: Role;
  readonly token_type: TokenType;
  readonly iat: number;
  readonly exp: number;
}

export type VerifyResult =
  | { readonly ok: true; readonly claims: Claims }
  | { readonly ok: false; readonly code: 'TOKEN_EXPIRED' | 'INVALID_CREDENTIALS'; readonly message: string };

export interface SignedToken {
  readonly token: string;
  readonly claims: Claims;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const B64URL = /^[A-Za-z0-9_-]+$/;
/** Tokens are small; anything longer is not ours (and not worth hashing). */
const MAX_TOKEN_LENGTH = 4096;

const INVALID: VerifyResult = { ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' };
const EXPIRED: VerifyResult = { ok: false, code: 'TOKEN_EXPIRED', message: 'token expired' };

export class JwtCodec {
  readonly #key: Buffer;
  readonly #now: () => number;

  /** `now` returns milliseconds since the epoch. */
  constructor(secret: string, now: () => number = Date.now) {
    this.#key = Buffer.from(secret, 'utf8');
    this.#now = now;
  }

  sign(subject: { readonly sub: string; readonly role: Role }, tokenType: TokenType, ttlSeconds: number): SignedToken {
    const iat = Math.floor(this.#now() / 1000);
    const claims: Claims = { sub: subject.sub, role: subject.role, token_type: tokenType, iat, exp: iat + ttlSeconds };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signingInput = `${HEADER}.${payload}`;
    return { token: `${signingInput}.${this.#mac(signingInput)}`, claims };
  }

  verify(token: string, expected: TokenType): VerifyResult {
    if (token.length > MAX_TOKEN_LENGTH) return INVALID;
    const parts = token.split('.');
    if (parts.length !== 3) return INVALID;
    const [header, payload, signature] = parts as [string, string, string];
    if (!B64URL.test(header) || !B64URL.test(payload) || !B64URL.test(signature)) return INVALID;
    if (!isHs256Header(decodeJson(header))) return INVALID;
    const wanted = Buffer.from(this.#mac(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return INVALID;
    const claims = parseClaims(decodeJson(payload));
    if (claims === undefined || claims.token_type !== expected) return INVALID;
    if (claims.exp <= Math.floor(this.#now() / 1000)) return EXPIRED;
    return { ok: true, claims };
  }

  #mac(signingInput: string): string {
    return createHmac('sha256', this.#key).update(signingInput).digest('base64url');
  }
}

function decodeJson(part: string): unknown {
  const bytes = Buffer.from(part, 'base64url');
  // Canonical encoding only: one token, one spelling.
  if (bytes.toString('base64url') !== part) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHs256Header(value: unknown): boolean {
  return isObject(value) && value.alg === 'HS256' && (value.typ === undefined || value.typ === 'JWT') && value.crit === undefined;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseClaims(value: unknown): Claims | undefined {
  if (!isObject(value)) return undefined;
  const { sub, role, token_type: tokenType, iat, exp } = value;
  if (typeof sub !== 'string' || sub === '') return undefined;
  const knownRole = ROLES.find((r) => r === role);
  const knownType = TOKEN_TYPES.find((t) => t === tokenType);
  if (knownRole === undefined || knownType === undefined || !isSeconds(iat) || !isSeconds(exp) || exp < iat) return undefined;
  return { sub, role: knownRole, token_type: knownType, iat, exp };
}
