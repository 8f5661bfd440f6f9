// Access tokens of external identity providers (OIDC), verified with jose against each
// provider's JWKS (auth/jwks.ts). A token is the provider's when its (unverified) `iss` names a
// configured issuer; everything after that is verified: the signature with the issuer's keys
// and only the issuer's asymmetric algorithms (so `alg: none`, and an HS256 token "signed" with
// the provider's public key, are refused before any key is used), then `iss`, `aud`, `exp`
// (required) and `nbf`, with the configured clock tolerance.
//
// The identity a verified token names:
//   user  user_prefix + the user claim, which must make a valid Seqline user id
//   role  the role claim when the provider has one and the token carries it, else
//         default_role; a role outside allowed_roles is refused (ROLE_NOT_ALLOWED), never
//         lowered silently: a token asking for more than its provider may grant is a mistake
//         or an attack, and either way the answer should say so
// Refusals answer data: TOKEN_EXPIRED, ROLE_NOT_ALLOWED, UNAVAILABLE (no keys could be
// fetched), or INVALID_CREDENTIALS with a message naming what failed (issuer, audience,
// algorithm, signature, key); these say nothing a token's holder could not learn from the
// provider's own documents.
//
// A token that verified is remembered by its text (bounded, least recently used dropped), like
// jwt.ts does for Seqline's own: its identity cannot change, only its expiry is checked again.
import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { ROLES, USER_ID_PATTERN, type Role } from '@seqline/domain';
import { ProtocolError, type ErrorCode } from '@seqline/protocol';
import { JwksCache } from './jwks.js';
import type { OidcIssuer } from './oidc-config.js';

export interface ExternalIdentity {
  readonly issuer: OidcIssuer;
  readonly userId: string;
  /** The role the token asks for (within the issuer's allowed roles). */
  readonly role: Role;
  /** Seconds since the epoch. */
  readonly exp: number;
}

export type IdentityResult = { readonly ok: true; readonly identity: ExternalIdentity } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface OidcVerifierOptions {
  /** Wall clock, ms since the epoch (exp, nbf). */
  readonly now: () => number;
  /** Monotonic ms (the JWKS cooldown and age). */
  readonly monotonic: () => number;
  readonly jwksCooldownMs: number;
  readonly jwksMaxAgeMs: number;
  readonly fetchTimeoutMs: number;
  readonly clockToleranceS: number;
  readonly onFetchError?: (issuer: string, err: unknown) => void;
}

/** Provider tokens are larger than ours (more claims, RSA signatures), but not this large. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const VERIFIED_TOKENS = 1024;

const fail = (code: ErrorCode, message: string): IdentityResult => ({ ok: false, code, message });
const INVALID = fail('INVALID_CREDENTIALS', 'invalid token');
const EXPIRED = fail('TOKEN_EXPIRED', 'token expired');

export class OidcVerifier {
  readonly #o: OidcVerifierOptions;
  readonly #issuers = new Map<string, { readonly issuer: OidcIssuer; readonly keys: JwksCache }>();
  readonly #verified = new Map<string, ExternalIdentity>();

  constructor(issuers: readonly OidcIssuer[], options: OidcVerifierOptions) {
    this.#o = options;
    for (const issuer of issuers) {
      const keys = new JwksCache({
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        now: options.monotonic,
        cooldownMs: options.jwksCooldownMs,
        maxAgeMs: options.jwksMaxAgeMs,
        timeoutMs: options.fetchTimeoutMs,
        onError: (err) => options.onFetchError?.(issuer.issuer, err),
      });
      this.#issuers.set(issuer.issuer, { issuer, keys });
    }
  }

  /** The JWKS fetches started for an issuer so far (tests, diagnostics). */
  fetches(issuer: string): number {
    return this.#issuers.get(issuer)?.keys.fetches ?? 0;
  }

  async verify(token: string): Promise<IdentityResult> {
    const known = this.#verified.get(token);
    if (known !== undefined) {
      this.#verified.delete(token);
      this.#verified.set(token, known);
      return known.exp + this.#o.clockToleranceS <= Math.floor(this.#o.now() / 1000) ? EXPIRED : { ok: true, identity: known };
    }
    if (token.length > MAX_TOKEN_LENGTH) return INVALID;
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return INVALID;
    }
    const entry = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (entry === undefined) return typeof iss === 'string' ? fail('INVALID_CREDENTIALS', "the token's issuer is not configured") : INVALID;
    const result = await this.#check(token, entry.issuer, entry.keys);
    if (result.ok) {
      this.#verified.set(token, result.identity);
      if (this.#verified.size > VERIFIED_TOKENS) this.#verified.delete(this.#verified.keys().next().value!);
    }
    return result;
  }

  async #check(token: string, issuer: OidcIssuer, keys: JwksCache): Promise<IdentityResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        issuer: issuer.issuer,
        audience: [...issuer.audience],
        algorithms: [...issuer.algorithms],
        requiredClaims: ['exp'],
        currentDate: new Date(this.#o.now()),
        clockTolerance: this.#o.clockToleranceS,
      }));
    } catch (err) {
      return refusal(err);
    }
    return identityOf(issuer, payload);
  }
}

/** Why jose refused a token, as an answer for the client. */
function refusal(err: unknown): IdentityResult {
  if (err instanceof ProtocolError) return fail(err.code, err.message);
  if (err instanceof errors.JWTExpired) return EXPIRED;
  if (err instanceof errors.JWTClaimValidationFailed) {
    return fail('INVALID_CREDENTIALS', err.claim === 'aud' ? "the token's audience is not accepted" : `the token's ${err.claim} claim is not accepted`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return fail('INVALID_CREDENTIALS', "the token's signature algorithm is not accepted");
  if (err instanceof errors.JWKSNoMatchingKey) return fail('INVALID_CREDENTIALS', "no signing key of the token's issuer matches it");
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail('INVALID_CREDENTIALS', 'invalid token signature');
  return INVALID;
}

/** The Seqline user and role a verified token names. */
export function identityOf(issuer: OidcIssuer, payload: JWTPayload): IdentityResult {
  const name = payload[issuer.userClaim];
  const userId = typeof name === 'string' ? issuer.userPrefix + name : undefined;
  if (userId === undefined || !USER_ID_PATTERN.test(userId) || userId.startsWith('_')) {
    return fail('INVALID_CREDENTIALS', `the token's ${issuer.userClaim} claim does not make a Seqline user id (1 to 63 letters, digits, _ or -, not starting with _)`);
  }
  const claimed = issuer.roleClaim === undefined ? undefined : payload[issuer.roleClaim];
  const role = claimed === undefined ? issuer.defaultRole : ROLES.find((r) => r === claimed);
  if (role === undefined || !issuer.allowedRoles.includes(role)) {
    return fail('ROLE_NOT_ALLOWED', `the token's ${issuer.roleClaim ?? 'role'} claim names no role its issuer may grant (allowed: ${issuer.allowedRoles.join(', ')})`);
  }
  return { ok: true, identity: { issuer, userId, role, exp: payload.exp! } };
}
