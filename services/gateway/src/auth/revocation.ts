// Revocation of open WebSockets (issue 10): a socket authenticated as a user is watched; when
// that user's credentials change (a notice from storage through the CredentialCache, or the
// periodic re-check every TTL that backs up a missed notice), the user is read again and every
// socket whose token no longer holds (user dropped, credential version moved on, role changed)
// is told so through its `onRevoked`: the endpoint closes it with WS_CLOSE.TOKEN_REVOKED
// (libs/protocol errors.ts). A re-check that cannot reach storage keeps the socket and tries
// again at the next tick. The tick asks for every watched user in one turn, so the cache reads
// them from storage in batches (one call per 1,000 users), not one call per user: with 10,000
// idle sockets, one call per user per TTL was most of an idle gateway's CPU (bench/README.md, users).
//
// MessageGate: a socket's messages wait while its authentication check (an async look-up) is
// pending, so a `subscribe` sent right after `authenticate` is handled after it, in order.
import type { Role } from '@seqline/domain';
import { judge, type Admission, type CredentialCache, type CurrentCredentials } from './credential-cache.js';

interface Watch {
  /** Whether the socket's token still holds against the user's current credentials. */
  readonly check: (current: CurrentCredentials | undefined) => Admission;
  readonly role: Role;
  readonly onRevoked: (reason: string) => void;
}

export class SocketRevocation {
  readonly #cache: CredentialCache;
  readonly #watches = new Map<string, Set<Watch>>();
  readonly #timer: NodeJS.Timeout;
  readonly #unlisten: () => void;

  constructor(cache: CredentialCache) {
    this.#cache = cache;
    this.#unlisten = cache.onInvalidate((userId) => this.#recheck(userId));
    this.#timer = setInterval(() => {
      for (const userId of this.#watches.keys()) this.#recheck(userId);
    }, cache.ttlMs);
    this.#timer.unref();
  }

  /** The check of a new socket's verified token (see CredentialCache.admit). */
  admit(claims: { readonly sub: string; readonly cv: number }): Promise<Admission> {
    return this.#cache.admit(claims);
  }

  /** Watches an admitted socket of `role`; returns the function that stops watching. */
  watch(claims: { readonly sub: string; readonly cv: number }, role: Role, onRevoked: (reason: string) => void): () => void {
    return this.watchWith(claims.sub, role, (current) => judge(claims, current), onRevoked);
  }

  /** Watches a socket of `userId` admitted with `role` whose token `check` re-judges (an identity provider's token has no `cv`). */
  watchWith(userId: string, role: Role, check: Watch['check'], onRevoked: (reason: string) => void): () => void {
    const watch: Watch = { check, role, onRevoked };
    let set = this.#watches.get(userId);
    if (set === undefined) this.#watches.set(userId, (set = new Set()));
    set.add(watch);
    return () => {
      set.delete(watch);
      if (set.size === 0 && this.#watches.get(userId) === set) this.#watches.delete(userId);
    };
  }

  /** Users with at least one watched socket (for tests and metrics). */
  get watchedUsers(): number {
    return this.#watches.size;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#unlisten();
  }

  #recheck(userId: string): void {
    if (!this.#watches.has(userId)) return;
    this.#cache.current(userId).then(
      (current) => {
        for (const watch of [...(this.#watches.get(userId) ?? [])]) {
          const admitted = watch.check(current);
          if (!admitted.ok) watch.onRevoked(admitted.message);
          else if (admitted.caller.role !== watch.role) watch.onRevoked("token revoked: the user's role changed; log in again");
        }
      },
      () => {}, // storage unreachable: keep the sockets, the next tick retries
    );
  }
}

/** Runs a socket's message handlers in arrival order, holding them while a check is pending. */
export class MessageGate {
  #tail: Promise<void> | undefined;

  /** Later messages wait until `pending` settles. */
  hold(pending: Promise<unknown>): void {
    this.#chain(() => pending.then(
      () => {},
      () => {},
    ));
  }

  /** Handles a message now, or after what is held. */
  run(handle: () => void): void {
    if (this.#tail === undefined) handle();
    else this.#chain(async () => handle());
  }

  #chain(step: () => Promise<void>): void {
    // A handler that throws is a bug: it surfaces as before (uncaught), and later messages still run.
    const tail = (this.#tail ?? Promise.resolve()).then(step).catch((err: unknown) =>
      queueMicrotask(() => {
        throw err;
      }),
    );
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
  }
}
