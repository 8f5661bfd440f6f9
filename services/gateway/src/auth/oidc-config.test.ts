import { parseConfig } from '@seqline/runtime';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../config.js';
import { parseOidcIssuers } from './oidc-config.js';

const base = { issuer: 'https://idp.example.com', audience: 'seqline', jwks_uri: 'https://idp.example.com/jwks', user_prefix: 'idp_' };
const parse = (...entries: Record<string, unknown>[]) => parseOidcIssuers(JSON.stringify(entries));

describe('SEQLINE_OIDC_ISSUERS', () => {
  it('reads an entry with its defaults: sub, role user only, no provisioning, RS256 and ES256', () => {
    expect(parse(base)).toEqual([
      {
        issuer: 'https://idp.example.com',
        audience: ['seqline'],
        jwksUri: new URL('https://idp.example.com/jwks'),
        userPrefix: 'idp_',
        userClaim: 'sub',
        roleClaim: undefined,
        defaultRole: 'user',
        allowedRoles: ['user'],
        autoProvision: false,
        algorithms: ['RS256', 'ES256'],
      },
    ]);
    const [full] = parse({ ...base, jwks_uri: undefined, discovery: true, audience: ['a', 'b'], user_claim: 'email_verified_id', role_claim: 'seqline_role', default_role: 'service', allowed_roles: ['user', 'service'], auto_provision: true, algorithms: ['ES256'] });
    expect(full).toMatchObject({ audience: ['a', 'b'], jwksUri: undefined, roleClaim: 'seqline_role', defaultRole: 'service', allowedRoles: ['user', 'service'], autoProvision: true, algorithms: ['ES256'] });
  });

  it('is empty when unset, and stops the gateway with a message naming the variable, the entry and the field otherwise', () => {
    const env = { SEQLINE_JWT_SECRET: 'x'.repeat(32) };
    expect(parseConfig(gatewayConfigSchema, env).oidcIssuers).toEqual([]);
    expect(() => parseConfig(gatewayConfigSchema, { ...env, SEQLINE_OIDC_ISSUERS: '{' })).toThrow(/SEQLINE_OIDC_ISSUERS.*must be a JSON array of issuers/);
    expect(() => parse({ ...base, user_prefix: undefined })).toThrow('entry 0: user_prefix:');
    expect(() => parse(base, { ...base, issuer: 'https://other.example.com', audience: 7 })).toThrow('entry 1: audience:');
    expect(() => parse({ ...base, extra: 1 })).toThrow('entry 0: ');
    expect(() => parse({ ...base, algorithms: ['HS256'] })).toThrow('entry 0: algorithms.0:');
    expect(() => parse({ ...base, allowed_roles: ['user', 'root'] })).toThrow('entry 0: allowed_roles.1:');
    expect(() => parse({ ...base, discovery: true })).toThrow('entry 0 (https://idp.example.com): give either jwks_uri or "discovery": true');
    expect(() => parse({ ...base, jwks_uri: undefined })).toThrow('give either jwks_uri or "discovery": true');
    expect(() => parse({ ...base, default_role: 'service' })).toThrow('default_role service is not in allowed_roles');
    expect(() => parse({ ...base, jwks_uri: 'http://idp.example.com/jwks' })).toThrow('jwks_uri must be an https URL (http only on a loopback host)');
    expect(parse({ ...base, issuer: 'http://127.0.0.1:9999', jwks_uri: 'http://localhost:9999/jwks' })[0]!.issuer).toBe('http://127.0.0.1:9999');
  });

  it('refuses two issuers whose user prefixes overlap, or the same issuer twice', () => {
    const other = { ...base, issuer: 'https://other.example.com', jwks_uri: 'https://other.example.com/jwks' };
    expect(() => parse({ ...base, user_prefix: '' }, { ...other, user_prefix: 'x_' })).toThrow('the user_prefix of https://idp.example.com ("") and of https://other.example.com ("x_") overlap: each provider needs its own');
    expect(() => parse(base, { ...other, user_prefix: 'idp_x' })).toThrow('overlap');
    expect(() => parse(base, { ...base, user_prefix: 'b_' })).toThrow('issuer https://idp.example.com is listed twice');
    expect(parse(base, { ...other, user_prefix: 'other_' })).toHaveLength(2);
  });
});
