// The identity-provider verifier against a real local provider (an HTTP server on a free port
// serving its JWKS, libs/testkit/oidc): both algorithms, rotation, the refresh cooldown under a
// flood of unknown kids, discovery, and each way a token is refused. The clocks are the test's.
import { createHmac } from 'node:crypto';
import { startOidcProvider, type OidcProvider } from '@seqline/testkit/oidc';
import { afterEach, describe, expect, it } from 'vitest';
import { OidcVerifier, type IdentityResult } from './oidc.js';
import { parseOidcIssuers } from './oidc-config.js';

const AUD = 'seqline-api';
const COOLDOWN_MS = 30_000;
const NOW_S = 1_900_000_000;

let provider: OidcProvider | undefined;

afterEach(async () => {
  await provider?.close();
  provider = undefined;
});

interface Setup {
  readonly p: OidcProvider;
  readonly verifier: OidcVerifier;
  readonly clock: { wallS: number; mono: number };
}

async function setup(entry: Record<string, unknown> = {}, alg: 'RS256' | 'ES256' = 'RS256'): Promise<Setup> {
  const p = (provider = await startOidcProvider());
  await p.addKey(alg);
  const [issuer] = parseOidcIssuers(JSON.stringify([{ issuer: p.issuer, audience: AUD, jwks_uri: p.jwksUri, user_prefix: 'idp_', ...entry }]));
  const clock = { wallS: NOW_S, mono: 1_000_000 };
  const verifier = new OidcVerifier([issuer!], {
    now: () => clock.wallS * 1000,
    monotonic: () => clock.mono,
    jwksCooldownMs: COOLDOWN_MS,
    jwksMaxAgeMs: 600_000,
    fetchTimeoutMs: 5000,
    clockToleranceS: 0,
  });
  return { p, verifier, clock };
}

const token = (p: OidcProvider, claims: Record<string, unknown> = {}, kid?: string): Promise<string> =>
  p.token({ sub: 'alice', aud: AUD, ...claims }, { nowS: NOW_S, ...(kid === undefined ? {} : { kid }) });

function who(result: IdentityResult): unknown {
  return result.ok ? { userId: result.identity.userId, role: result.identity.role } : { code: result.code, message: result.message };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('OidcVerifier', () => {
  it('accepts RS256 and ES256 tokens of the configured issuer and names user_prefix + sub with the default role', async () => {
    const rs = await setup();
    expect(who(await rs.verifier.verify(await token(rs.p)))).toEqual({ userId: 'idp_alice', role: 'user' });
    await rs.p.close();
    const es = await setup({}, 'ES256');
    expect(who(await es.verifier.verify(await token(es.p, { sub: 'bob' })))).toEqual({ userId: 'idp_bob', role: 'user' });
  });

  it('takes the role claim within allowed_roles and refuses any other role, dba included', async () => {
    const { p, verifier } = await setup({ role_claim: 'seqline_role', allowed_roles: ['user', 'service'] });
    expect(who(await verifier.verify(await token(p, { seqline_role: 'service' })))).toEqual({ userId: 'idp_alice', role: 'service' });
    expect(who(await verifier.verify(await token(p)))).toEqual({ userId: 'idp_alice', role: 'user' });
    const refused = { code: 'ROLE_NOT_ALLOWED', message: "the token's seqline_role claim names no role its issuer may grant (allowed: user, service)" };
    expect(who(await verifier.verify(await token(p, { seqline_role: 'dba' })))).toEqual(refused);
    expect(who(await verifier.verify(await token(p, { seqline_role: 'system' })))).toEqual(refused);
    expect(who(await verifier.verify(await token(p, { seqline_role: ['service'] })))).toEqual(refused);
  });

  it('refuses a wrong audience, an expired token, an unknown issuer and a user claim that is no user id', async () => {
    const { p, verifier, clock } = await setup();
    expect(who(await verifier.verify(await token(p, { aud: 'another-api' })))).toEqual({ code: 'INVALID_CREDENTIALS', message: "the token's audience is not accepted" });
    expect(who(await verifier.verify(await token(p, { exp: NOW_S - 1 })))).toEqual({ code: 'TOKEN_EXPIRED', message: 'token expired' });
    expect(who(await verifier.verify(await token(p, { iss: 'https://evil.example.com' })))).toEqual({ code: 'INVALID_CREDENTIALS', message: "the token's issuer is not configured" });
    expect(who(await verifier.verify(await token(p, { sub: 'auth0|123' })))).toEqual({
      code: 'INVALID_CREDENTIALS',
      message: "the token's sub claim does not make a Seqline user id (1 to 63 letters, digits, _ or -, not starting with _)",
    });
    expect(who(await verifier.verify(await token(p, { exp: undefined })))).toEqual({ code: 'INVALID_CREDENTIALS', message: "the token's exp claim is not accepted" });
    // A token that verified is remembered, but its expiry is checked at every use.
    const good = await token(p);
    expect((await verifier.verify(good)).ok).toBe(true);
    clock.wallS = NOW_S + 300;
    expect(who(await verifier.verify(good))).toEqual({ code: 'TOKEN_EXPIRED', message: 'token expired' });
  });

  it('refuses alg confusion (HS256 keyed with the public key), alg none and a signature by another key', async () => {
    const { p, verifier } = await setup();
    const kid = await p.addKey('RS256');
    const claims = { iss: p.issuer, sub: 'alice', aud: AUD, iat: NOW_S, exp: NOW_S + 300 };
    const hsInput = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
    const hs = `${hsInput}.${createHmac('sha256', await p.publicKeyPem(kid)).update(hsInput).digest('base64url')}`;
    const algorithm = { code: 'INVALID_CREDENTIALS', message: "the token's signature algorithm is not accepted" };
    expect(who(await verifier.verify(hs))).toEqual(algorithm);
    expect(who(await verifier.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`))).toEqual(algorithm);
    // Signed by one key, presented under the kid of another.
    const other = await token(p, {}, kid);
    const [, payload, signature] = other.split('.');
    const [firstKid] = (await p.token({}, { kid: 'k1-RS256' })).split('.');
    expect(who(await verifier.verify(`${firstKid}.${payload}.${signature}`))).toEqual({ code: 'INVALID_CREDENTIALS', message: 'invalid token signature' });
  });

  it('accepts a rotated key after refreshing the JWKS, at most once per cooldown however many unknown kids arrive', async () => {
    const { p, verifier, clock } = await setup();
    expect((await verifier.verify(await token(p))).ok).toBe(true);
    expect(p.jwksRequests).toBe(1);
    // The provider rotates: a new key appears in its JWKS; tokens signed by it arrive within the cooldown.
    const rotated = await p.addKey('ES256');
    clock.mono += 1000;
    const unknown = { code: 'INVALID_CREDENTIALS', message: "no signing key of the token's issuer matches it" };
    expect(who(await verifier.verify(await token(p, { sub: 'bob' }, rotated)))).toEqual(unknown);
    expect(p.jwksRequests).toBe(1);
    clock.mono += COOLDOWN_MS;
    expect(who(await verifier.verify(await token(p, { sub: 'bob' }, rotated)))).toEqual({ userId: 'idp_bob', role: 'user' });
    expect(p.jwksRequests).toBe(2);
    // A flood of made-up kids: one refresh after the cooldown, shared by every token at once.
    clock.mono += COOLDOWN_MS;
    const forged = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const [, payload, signature] = (await token(p, { sub: `u${i}` })).split('.');
        return `${b64({ alg: 'RS256', typ: 'JWT', kid: `made-up-${i}` })}.${payload}.${signature}`;
      }),
    );
    const answers = await Promise.all(forged.map((t) => verifier.verify(t)));
    expect(answers.map(who)).toEqual(forged.map(() => unknown));
    expect(p.jwksRequests).toBe(3);
    for (const t of forged) expect(who(await verifier.verify(t))).toEqual(unknown);
    expect(p.jwksRequests).toBe(3);
    expect(verifier.fetches(p.issuer)).toBe(3);
  });

  it('finds the JWKS by discovery, and answers UNAVAILABLE while the provider cannot be reached, then recovers', async () => {
    const p = (provider = await startOidcProvider());
    await p.addKey('RS256');
    const [issuer] = parseOidcIssuers(JSON.stringify([{ issuer: p.issuer, audience: AUD, discovery: true, user_prefix: '' }]));
    const clock = { mono: 0 };
    const verifier = new OidcVerifier([issuer!], { now: () => NOW_S * 1000, monotonic: () => clock.mono, jwksCooldownMs: 100, jwksMaxAgeMs: 600_000, fetchTimeoutMs: 5000, clockToleranceS: 0 });
    p.failing = true;
    const t = await token(p);
    expect(who(await verifier.verify(t))).toEqual({ code: 'UNAVAILABLE', message: "the identity provider's keys could not be fetched; retry" });
    expect(who(await verifier.verify(t))).toEqual({ code: 'UNAVAILABLE', message: "the identity provider's keys could not be fetched; retry" });
    expect(p.jwksRequests).toBe(1);
    p.failing = false;
    clock.mono += 100;
    expect(who(await verifier.verify(t))).toEqual({ userId: 'alice', role: 'user' });
    expect(p.jwksRequests).toBe(2);
  });
});
