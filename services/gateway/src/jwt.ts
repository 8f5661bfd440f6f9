// HS256 JSON Web Tokens (RFC 7519) with node:crypto, for the access and refresh tokens of
// docs/protocol.md §2. The claims are KalamDB's `sub` (user id), `role`, `token_type`
// ('access' | 'refresh'), `iat` and `exp` (seconds since the epoch), and Seqline's `cv`, the
// user's credential version when the token was issued (a token whose `cv` is not the user's
// current one is revoked: auth/credential-cache.ts). A refresh token also has `fam`, its
// refresh family, and `jti`, its own id (the family rotates: auth-routes.ts).
//
// Verification is strict and answers data, never throws:
//   - the header must name alg HS256 (so `none` and every other algorithm are refused before
//     any signature work), the three parts must be canonical base64url;
//   - the signature is compared in constant time against the one we compute;
//   - the payload must have exactly the claim types above (`fam` and `jti` in refresh tokens
//     only, always), and the token type the caller asks for (a refresh token is no access
//     token, and the other way round);
//   - `exp <= now` is TOKEN_EXPIRED (only for a correctly signed token); everything else is
//     INVALID_CREDENTIALS, with a message that does not help an attacker tell cases apart.
// The clock is injected (ms), so tests pin expiry to the second.
//
// A token whose signature and claims checked out is remembered (its exact text, a bounded set,
// least recently used dropped): the same text under the same key always checks out the same,
// so a client sending its token with every request pays the HMAC and the JSON once (13% of the
// gateway's time in the write bench). The token type and `exp` are still checked every time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ROLES, type Role } from '@seqline/domain';

export const TOKEN_TYPES = ['access', 'refresh'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export interface Claims {
  readonly sub: string;
  readonly role: Role;
  readonly token_type: TokenType;
  readonly iat: number;
  readonly exp: number;
  /** The user's credential version at issue. */
  readonly cv: number;
  /** Refresh tokens only: the family and the token's own id. */
  readonly fam?: string;
  readonly jti?: string;
}

/** Who a token is for; a refresh token also names its family and its id. */
export interface Subject {
  readonly sub: string;
  readonly role: Role;
  readonly cv: number;
  readonly refresh?: { readonly fam: string; readonly jti: string };
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
const TOKEN_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Tokens are small; anything longer is not ours (and not worth hashing). */
const MAX_TOKEN_LENGTH = 4096;
/** Tokens remembered as verified, at most (a few hundred bytes each). */
const VERIFIED_TOKENS = 1024;

const INVALID: VerifyResult = { ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' };
const EXPIRED: VerifyResult = { ok: false, code: 'TOKEN_EXPIRED', message: 'token expired' };

export class JwtCodec {
  readonly #key: Buffer;
  readonly #now: () => number;
  /** Tokens whose signature and claims checked out, least recently used first. */
  readonly #verified = new Map<string, Claims>();

  /** `now` returns milliseconds since the epoch. */
  constructor(secret: string, now: () => number = Date.now) {
    this.#key = Buffer.from(secret, 'utf8');
    this.#now = now;
  }

  sign(subject: Subject, tokenType: TokenType, ttlSeconds: number): SignedToken {
    const iat = Math.floor(this.#now() / 1000);
    if ((tokenType === 'refresh') !== (subject.refresh !== undefined)) throw new Error('a refresh token, and only a refresh token, names its family and id');
    const claims: Claims = { sub: subject.sub, role: subject.role, token_type: tokenType, iat, exp: iat + ttlSeconds, cv: subject.cv, ...subject.refresh };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signingInput = `${HEADER}.${payload}`;
    return { token: `${signingInput}.${this.#mac(signingInput)}`, claims };
  }

  verify(token: string, expected: TokenType): VerifyResult {
    const claims = this.#claims(token);
    if (claims === undefined || claims.token_type !== expected) return INVALID;
    if (claims.exp <= Math.floor(this.#now() / 1000)) return EXPIRED;
    return { ok: true, claims };
  }

  /** The claims of a token whose signature and claims check out (remembered, see the header). */
  #claims(token: string): Claims | undefined {
    const known = this.#verified.get(token);
    if (known !== undefined) {
      this.#verified.delete(token);
      this.#verified.set(token, known);
      return known;
    }
    const claims = this.#check(token);
    if (claims === undefined) return undefined;
    this.#verified.set(token, claims);
    if (this.#verified.size > VERIFIED_TOKENS) this.#verified.delete(this.#verified.keys().next().value!);
    return claims;
  }

  #check(token: string): Claims | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    if (!B64URL.test(header) || !B64URL.test(payload) || !B64URL.test(signature)) return undefined;
    if (!isHs256Header(decodeJson(header))) return undefined;
    const wanted = Buffer.from(this.#mac(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return undefined;
    return parseClaims(decodeJson(payload));
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
  const { sub, role, token_type: tokenType, iat, exp, cv, fam, jti } = value;
  if (typeof sub !== 'string' || sub === '') return undefined;
  const knownRole = ROLES.find((r) => r === role);
  const knownType = TOKEN_TYPES.find((t) => t === tokenType);
  if (knownRole === undefined || knownType === undefined || !isSeconds(iat) || !isSeconds(exp) || exp < iat || !isSeconds(cv)) return undefined;
  const claims = { sub, role: knownRole, token_type: knownType, iat, exp, cv };
  if (knownType === 'access') return fam === undefined && jti === undefined ? claims : undefined;
  if (typeof fam !== 'string' || typeof jti !== 'string' || !TOKEN_ID.test(fam) || !TOKEN_ID.test(jti)) return undefined;
  return { ...claims, fam, jti };
}
