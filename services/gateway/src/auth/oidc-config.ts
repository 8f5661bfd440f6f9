// SEQLINE_OIDC_ISSUERS: the identity providers whose access tokens the gateway accepts, as a
// JSON array, parsed and checked once at start-up (a bad value stops the gateway with a message
// that names the entry and the field). One entry per issuer:
//
//   issuer          the exact `iss` of its tokens (an https URL; http only on a loopback host)
//   audience        the `aud` a token must carry (a string, or a list: any one of them)
//   jwks_uri        where its signing keys are, or `discovery: true` to read the jwks_uri from
//                   <issuer>/.well-known/openid-configuration (whose `issuer` must match)
//   user_prefix     prepended to the user claim to make the Seqline user id; required (may be
//                   ""), and no two issuers' prefixes may overlap: it is what keeps a provider's
//                   accounts apart from local users and from another provider's (an account
//                   named `admin` at the provider must not become Seqline's `admin`)
//   user_claim      the claim that names the user (default `sub`)
//   role_claim      a top-level claim naming a Seqline role (optional)
//   default_role    the role when the token has no role claim (default `user`)
//   allowed_roles   the roles this provider may grant (default ["user"]); `dba` and `system`
//                   only when listed here, so a token can never claim more than the operator
//                   wrote down
//   auto_provision  create the user on first sight (default false: the user must exist)
//   algorithms      accepted signature algorithms (default ["RS256", "ES256"]; asymmetric only)
import { ROLES, type Role } from '@seqline/domain';
import type { ConfigField } from '@seqline/runtime';
import { z } from 'zod';

export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
const PREFIX = /^[A-Za-z0-9_-]{0,31}$/;

const role = z.enum(ROLES);

const entrySchema = z
  .object({
    issuer: z.string().min(1),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    jwks_uri: z.string().optional(),
    discovery: z.boolean().optional(),
    user_prefix: z.string().regex(PREFIX, 'must be at most 31 letters, digits, _ or - (may be "")'),
    user_claim: z.string().regex(CLAIM_NAME, 'must be a claim name').default('sub'),
    role_claim: z.string().regex(CLAIM_NAME, 'must be a claim name').optional(),
    default_role: role.default('user'),
    allowed_roles: z.array(role).min(1).default(['user']),
    auto_provision: z.boolean().default(false),
    algorithms: z.array(z.enum(OIDC_ALGORITHMS)).min(1).default(['RS256', 'ES256']),
  })
  .strict();

export interface OidcIssuer {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** The JWKS URL, or undefined when it is discovered from the issuer. */
  readonly jwksUri: URL | undefined;
  readonly userPrefix: string;
  readonly userClaim: string;
  readonly roleClaim: string | undefined;
  readonly defaultRole: Role;
  readonly allowedRoles: readonly Role[];
  readonly autoProvision: boolean;
  readonly algorithms: readonly OidcAlgorithm[];
}

/** https, or http on a loopback host (a provider on this machine, tests). */
export function providerUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${what} is not a URL: ${JSON.stringify(text)}`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new Error(`${what} must be an https URL (http only on a loopback host): ${JSON.stringify(text)}`);
  return url;
}

function toIssuer(e: z.infer<typeof entrySchema>): OidcIssuer {
  providerUrl(e.issuer, 'issuer');
  if ((e.jwks_uri === undefined) === (e.discovery !== true)) throw new Error('give either jwks_uri or "discovery": true');
  if (!e.allowed_roles.includes(e.default_role)) throw new Error(`default_role ${e.default_role} is not in allowed_roles`);
  return {
    issuer: e.issuer,
    audience: typeof e.audience === 'string' ? [e.audience] : e.audience,
    jwksUri: e.jwks_uri === undefined ? undefined : providerUrl(e.jwks_uri, 'jwks_uri'),
    userPrefix: e.user_prefix,
    userClaim: e.user_claim,
    roleClaim: e.role_claim,
    defaultRole: e.default_role,
    allowedRoles: [...new Set(e.allowed_roles)],
    autoProvision: e.auto_provision,
    algorithms: [...new Set(e.algorithms)],
  };
}

function issue(error: z.ZodError): string {
  const first = error.issues[0];
  if (first === undefined) return 'is invalid';
  const path = first.path.length === 0 ? '' : `${first.path.join('.')}: `;
  return `${path}${first.message}`;
}

/** The issuers of SEQLINE_OIDC_ISSUERS' JSON text; throws a message naming the bad entry and field. */
export function parseOidcIssuers(text: string): readonly OidcIssuer[] {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new Error('must be a JSON array of issuers');
  }
  if (!Array.isArray(json)) throw new Error('must be a JSON array of issuers');
  const issuers = json.map((raw, i) => {
    const at = `entry ${i}`;
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${at}: ${issue(parsed.error)}`);
    try {
      return toIssuer(parsed.data);
    } catch (err) {
      throw new Error(`${at} (${parsed.data.issuer}): ${(err as Error).message}`, { cause: err });
    }
  });
  for (const [i, a] of issuers.entries()) {
    for (const b of issuers.slice(i + 1)) {
      if (a.issuer === b.issuer) throw new Error(`issuer ${a.issuer} is listed twice`);
      if (a.userPrefix.startsWith(b.userPrefix) || b.userPrefix.startsWith(a.userPrefix)) {
        throw new Error(`the user_prefix of ${a.issuer} (${JSON.stringify(a.userPrefix)}) and of ${b.issuer} (${JSON.stringify(b.userPrefix)}) overlap: each provider needs its own`);
      }
    }
  }
  return issuers;
}

export const oidcIssuersField: ConfigField<readonly OidcIssuer[]> = {
  env: 'SEQLINE_OIDC_ISSUERS',
  description: 'identity providers whose access tokens are accepted: a JSON array of {issuer, audience, jwks_uri or discovery, user_prefix, user_claim, role_claim, default_role, allowed_roles, auto_provision} (docs/guides/identity-providers.md); empty = none',
  defaultText: undefined,
  secret: false,
  read: (raw) => (raw === undefined || raw.trim() === '' ? [] : parseOidcIssuers(raw)),
};
