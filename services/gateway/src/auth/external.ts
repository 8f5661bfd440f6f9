// Admission of an identity provider's token (auth/oidc.ts verified it): the user it names must
// exist in Seqline, like any user, because storage keeps the user's partitions, role and
// revocation state. When it does not:
//   auto_provision  the user is created now (CREATE USER by the gateway, as `_oidc`, a name no
//                   real user can have, with the token's role and a random password nobody
//                   knows), one creation per user at a time; a user that another gateway
//                   created meanwhile is fine, a dropped user's name is never taken again
//   otherwise       USER_NOT_PROVISIONED: a DBA creates the user first
// The caller's role is the lower of the token's role and the user's recorded role: the provider
// can lower a user's role (its next token), so can a DBA (ALTER USER … SET ROLE), and neither
// alone can raise it above what the other says. An open WebSocket is re-checked the same way
// (`check`) whenever the user changes: dropped, or a lower recorded role, closes it.
import { randomBytes } from 'node:crypto';
import { ROLES, USER_ID_PATTERN, type Role } from '@seqline/domain';
import { toProtocolError, type ErrorCode } from '@seqline/protocol';
import type { Logger } from '@seqline/runtime';
import type { Backend, Caller } from '../backend.js';
import type { Admission, CredentialCache, CurrentCredentials } from './credential-cache.js';
import type { ExternalIdentity, OidcVerifier } from './oidc.js';

export type ExternalAdmission =
  | { readonly ok: true; readonly caller: Caller; readonly check: (current: CurrentCredentials | undefined) => Admission }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

export interface ExternalAuthDeps {
  readonly verifier: Pick<OidcVerifier, 'verify'>;
  readonly credentials: Pick<CredentialCache, 'current' | 'fresh' | 'invalidate'>;
  /** Creates the user with this role (CREATE USER); rejects with the service's ProtocolError. */
  readonly provision: (userId: string, role: Role) => Promise<void>;
  readonly logger: Logger;
}

/** The lower of two roles (user < service < dba < system). */
export function lowerRole(a: Role, b: Role): Role {
  return ROLES.indexOf(a) <= ROLES.indexOf(b) ? a : b;
}

/** A provider's identity against the user's current record. */
export function judgeExternal(identity: Pick<ExternalIdentity, 'userId' | 'role'>, current: CurrentCredentials | undefined): Admission {
  if (current === undefined) return { ok: false, code: 'TOKEN_REVOKED', message: 'token revoked: the user no longer exists' };
  return { ok: true, caller: { userId: identity.userId, role: lowerRole(identity.role, current.role) } };
}

export class ExternalAuth {
  readonly #d: ExternalAuthDeps;
  readonly #provisioning = new Map<string, Promise<void>>();

  constructor(deps: ExternalAuthDeps) {
    this.#d = deps;
  }

  /** Verifies a provider's token and admits its user; never throws (storage unreachable is UNAVAILABLE). */
  async authenticate(token: string): Promise<ExternalAdmission> {
    const verified = await this.#d.verifier.verify(token);
    if (!verified.ok) return verified;
    const { identity } = verified;
    try {
      let current = await this.#d.credentials.current(identity.userId);
      // "No such user" may be cached from before a DBA created the user, whose notice is still on
      // its way: read storage again before refusing or creating.
      if (current === undefined) current = await this.#d.credentials.fresh(identity.userId);
      if (current === undefined) {
        if (!identity.issuer.autoProvision) return { ok: false, code: 'USER_NOT_PROVISIONED', message: `user ${identity.userId} does not exist in Seqline, and its identity provider is not set to create users (auto_provision)` };
        await this.#provision(identity);
        current = await this.#d.credentials.current(identity.userId);
        if (current === undefined) return { ok: false, code: 'USER_NOT_PROVISIONED', message: `user ${identity.userId} could not be created (the name of a dropped user is not used again)` };
      }
      const admitted = judgeExternal(identity, current);
      if (!admitted.ok) return admitted;
      return { ok: true, caller: admitted.caller, check: (now) => judgeExternal(identity, now) };
    } catch (err) {
      const error = toProtocolError(err);
      if (error.code === 'INTERNAL_ERROR') this.#d.logger.error('admitting an identity provider token failed', { user: identity.userId, err: error.cause ?? error });
      return { ok: false, code: error.code, message: error.message };
    }
  }

  /** Creates the user once (concurrent first requests share the creation). */
  #provision(identity: ExternalIdentity): Promise<void> {
    const { userId } = identity;
    let running = this.#provisioning.get(userId);
    if (running === undefined) {
      running = this.#d.provision(userId, identity.role).then(
        () => this.#d.logger.info('created a user on first sight of their identity provider token', { user: userId, role: identity.role, issuer: identity.issuer.issuer }),
        (err: unknown) => {
          // Created by another gateway meanwhile, or a dropped user's name: the re-read decides.
          if (toProtocolError(err).code !== 'SQL_EXECUTION_ERROR') throw err;
        },
      ).finally(() => {
        this.#provisioning.delete(userId);
        this.#d.credentials.invalidate(userId); // the cached "no such user" is over
      });
      this.#provisioning.set(userId, running);
    }
    return running;
  }
}

/** The acting user of provisioning: names starting with `_` are refused for real users. */
export const PROVISIONER = '_oidc';

/**
 * Creates a provider's user through the write path (so it is logged and announced like any
 * CREATE USER): as PROVISIONER, a dba (system only to create a system user, which an operator
 * must have allowed), with a random password nobody knows.
 */
export async function provisionUser(backend: Pick<Backend, 'execute'>, userId: string, role: Role): Promise<void> {
  if (!USER_ID_PATTERN.test(userId)) throw new Error(`not a user id: ${JSON.stringify(userId)}`);
  const password = randomBytes(24).toString('base64url');
  await backend.execute({
    caller: { userId: PROVISIONER, role: role === 'system' ? 'system' : 'dba' },
    sql: `CREATE USER "${userId}" WITH PASSWORD '${password}' ROLE ${role}`,
    paramsJson: '',
    namespace: '',
    idempotencyKey: '',
  });
}
