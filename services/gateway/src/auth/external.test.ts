import { ProtocolError } from '@seqline/protocol';
import { memoryLogger } from '@seqline/runtime';
import type { Role } from '@seqline/domain';
import { describe, expect, it } from 'vitest';
import type { ExecuteCall } from '../backend.js';
import { CredentialCache, type CurrentCredentials } from './credential-cache.js';
import { ExternalAuth, provisionUser } from './external.js';
import type { IdentityResult } from './oidc.js';
import { parseOidcIssuers } from './oidc-config.js';

function setup(options: { autoProvision: boolean; tokenRole?: Role }) {
  const [issuer] = parseOidcIssuers(JSON.stringify([{ issuer: 'https://idp.example.com', audience: 'a', jwks_uri: 'https://idp.example.com/jwks', user_prefix: 'idp_', allowed_roles: ['user', 'service'], auto_provision: options.autoProvision }]));
  const users = new Map<string, CurrentCredentials>();
  const provisioned: string[] = [];
  const dropped = new Set<string>();
  const state = { storageDown: false };
  const credentials = new CredentialCache({
    load: async (ids) => {
      if (state.storageDown) throw new ProtocolError('UNAVAILABLE', 'a Seqline service is unavailable; retry');
      return new Map(ids.flatMap((id) => (users.has(id) ? [[id, users.get(id)!] as const] : [])));
    },
    ttlMs: 60_000,
    now: () => 0,
  });
  const auth = new ExternalAuth({
    // Each token's text is the user claim: the verifier is oidc.int.test.ts's subject, not this one's.
    verifier: { verify: async (token): Promise<IdentityResult> => ({ ok: true, identity: { issuer: issuer!, userId: `idp_${token}`, role: options.tokenRole ?? 'user', exp: 0 } }) },
    credentials,
    provision: async (userId, role) => {
      provisioned.push(`${userId}:${role}`);
      await Promise.resolve();
      if (dropped.has(userId)) throw new ProtocolError('SQL_EXECUTION_ERROR', `user name ${userId} belonged to a dropped user`);
      if (users.has(userId)) throw new ProtocolError('SQL_EXECUTION_ERROR', `user ${userId} already exists`);
      users.set(userId, { role, version: 1 });
    },
    logger: memoryLogger(),
  });
  return { auth, users, provisioned, dropped, state, credentials };
}

const outcome = (a: Awaited<ReturnType<ExternalAuth['authenticate']>>) => (a.ok ? a.caller : { code: a.code, message: a.message });

describe('ExternalAuth', () => {
  it('refuses a user Seqline does not have when the provider does not provision, and admits one it has', async () => {
    const { auth, users, provisioned } = setup({ autoProvision: false });
    expect(outcome(await auth.authenticate('alice'))).toEqual({
      code: 'USER_NOT_PROVISIONED',
      message: 'user idp_alice does not exist in Seqline, and its identity provider is not set to create users (auto_provision)',
    });
    expect(provisioned).toEqual([]);
    users.set('idp_bob', { role: 'user', version: 3 });
    expect(outcome(await auth.authenticate('bob'))).toEqual({ userId: 'idp_bob', role: 'user' });
  });

  it('admits a user a DBA created just after a refusal, before the notice of the creation reaches the gateway', async () => {
    const { auth, users } = setup({ autoProvision: false });
    expect(outcome(await auth.authenticate('frank'))).toMatchObject({ code: 'USER_NOT_PROVISIONED' });
    users.set('idp_frank', { role: 'user', version: 1 }); // CREATE USER answered; its notice is still on the bus
    expect(outcome(await auth.authenticate('frank'))).toEqual({ userId: 'idp_frank', role: 'user' });
  });

  it('creates a new user once however many first requests arrive together, with the token role', async () => {
    const { auth, provisioned } = setup({ autoProvision: true, tokenRole: 'service' });
    const answers = await Promise.all([auth.authenticate('alice'), auth.authenticate('alice'), auth.authenticate('alice')]);
    expect(answers.map(outcome)).toEqual([0, 1, 2].map(() => ({ userId: 'idp_alice', role: 'service' })));
    expect(provisioned).toEqual(['idp_alice:service']);
  });

  it('never takes a dropped user name again, and answers UNAVAILABLE while storage is unreachable', async () => {
    const { auth, dropped, state } = setup({ autoProvision: true });
    dropped.add('idp_carol');
    expect(outcome(await auth.authenticate('carol'))).toEqual({ code: 'USER_NOT_PROVISIONED', message: 'user idp_carol could not be created (the name of a dropped user is not used again)' });
    state.storageDown = true;
    expect(outcome(await auth.authenticate('dave'))).toEqual({ code: 'UNAVAILABLE', message: 'a Seqline service is unavailable; retry' });
  });

  it('runs the caller with the lower of the token role and the recorded role, and re-judges it as the user changes', async () => {
    const { auth, users } = setup({ autoProvision: false, tokenRole: 'service' });
    users.set('idp_erin', { role: 'user', version: 1 });
    const admitted = await auth.authenticate('erin');
    expect(outcome(admitted)).toEqual({ userId: 'idp_erin', role: 'user' });
    if (!admitted.ok) throw new Error('admitted');
    expect(admitted.check({ role: 'dba', version: 2 })).toEqual({ ok: true, caller: { userId: 'idp_erin', role: 'service' } });
    expect(admitted.check(undefined)).toEqual({ ok: false, code: 'TOKEN_REVOKED', message: 'token revoked: the user no longer exists' });
  });
});

describe('provisionUser', () => {
  it('creates the user through the write path as _oidc, a dba (system only for a system user), with a random password', async () => {
    const calls: ExecuteCall[] = [];
    const backend = {
      execute: async (call: ExecuteCall) => {
        calls.push(call);
        return '{}';
      },
    };
    await provisionUser(backend, 'idp_alice', 'service');
    await provisionUser(backend, 'idp-root', 'system');
    expect(calls.map((c) => [c.caller, c.sql.replace(/PASSWORD '[A-Za-z0-9_-]{32}'/, "PASSWORD '…'")])).toEqual([
      [{ userId: '_oidc', role: 'dba' }, `CREATE USER "idp_alice" WITH PASSWORD '…' ROLE service`],
      [{ userId: '_oidc', role: 'system' }, `CREATE USER "idp-root" WITH PASSWORD '…' ROLE system`],
    ]);
    const passwords = calls.map((c) => /PASSWORD '([^']+)'/.exec(c.sql)?.[1]);
    expect(new Set(passwords).size).toBe(2);
    await expect(provisionUser(backend, 'x"; DROP', 'user')).rejects.toThrow('not a user id');
  });
});
