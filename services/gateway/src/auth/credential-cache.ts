// What each user's tokens are checked against (issue 10, "authority that can be revoked"):
// the user's current role and credential version, per gateway, cached.
//
//   admit(claims)  the token's user must still exist and the token's `cv` must be the user's
//                  credential version; the caller then has the user's CURRENT role (never the
//                  token's). Anything else is TOKEN_REVOKED.
//   invalidation   storage publishes the user id on the bus's users subject after it changes a
//                  user (DROP, ALTER, a lock); `follow` drops that user's entry on every
//                  gateway, so the next check reads storage again (within a second of the
//                  change). After a NATS reconnect every entry is dropped (notices sent while
//                  disconnected are lost); an entry older than the TTL is read again too: the
//                  backstop for any other missed notice.
//
// A load is shared by the checks that arrive while it runs (single flight); a failed load is
// not kept (the check fails with the load's error, e.g. UNAVAILABLE, and the next one retries);
// an invalidation during a load drops that load, so a notice can never be overwritten by a read
// from before it. The cache holds at most `maxEntries` users (the oldest go first).
// Loads are batched: the users asked for within one turn of the event loop (the sockets the
// periodic re-check of auth/revocation.ts covers, a burst of new sockets) are read from storage
// in one call per `batchSize` users, not one call each (a gRPC call and a query per user every
// TTL cost an idle gateway ~20 µs per socket per second).
import type { Caller, UserCredentials } from '../backend.js';

export type CurrentCredentials = UserCredentials;

export type Admission = { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly code: 'TOKEN_REVOKED'; readonly message: string };

export interface CredentialCacheOptions {
  /** The current credentials of each of `userIds` that exists, from storage (a user it does not answer does not exist). */
  readonly load: (userIds: readonly string[]) => Promise<ReadonlyMap<string, CurrentCredentials>>;
  readonly ttlMs: number;
  /** Monotonic ms. */
  readonly now: () => number;
  readonly maxEntries?: number;
  /** Users per load (default 1000). */
  readonly batchSize?: number;
}

/** A user waiting for the next batched load, and how to settle its entry. */
interface Waiting {
  readonly userId: string;
  readonly resolve: (credentials: CurrentCredentials | undefined) => void;
  readonly reject: (err: unknown) => void;
}

interface Entry {
  readonly value: Promise<CurrentCredentials | undefined>;
  readonly loadedAt: number;
}

const DROPPED: Admission = { ok: false, code: 'TOKEN_REVOKED', message: 'token revoked: the user no longer exists' };
const CHANGED: Admission = { ok: false, code: 'TOKEN_REVOKED', message: "token revoked: the user's credentials changed; log in again" };

export class CredentialCache {
  readonly #o: CredentialCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(userId: string) => void>();
  /** Users asked for in this turn of the event loop, loaded together at its end. */
  #waiting: Waiting[] = [];

  constructor(options: CredentialCacheOptions) {
    this.#o = options;
  }

  get ttlMs(): number {
    return this.#o.ttlMs;
  }

  /** The user's current credentials (cached up to the TTL). */
  current(userId: string): Promise<CurrentCredentials | undefined> {
    const now = this.#o.now();
    const cached = this.#entries.get(userId);
    if (cached !== undefined && now - cached.loadedAt < this.#o.ttlMs) return cached.value;
    const entry: Entry = { value: this.#enqueue(userId), loadedAt: now };
    this.#entries.delete(userId);
    this.#entries.set(userId, entry);
    entry.value.catch(() => this.#forget(userId, entry));
    if (this.#entries.size > (this.#o.maxEntries ?? 100_000)) this.#entries.delete(this.#entries.keys().next().value!);
    return entry.value;
  }

  /**
   * The user's credentials read from storage now, replacing the cached entry: for an answer that
   * must not be older than a change already answered elsewhere (a user created a moment ago,
   * whose notice is still on the bus).
   */
  fresh(userId: string): Promise<CurrentCredentials | undefined> {
    this.#entries.delete(userId);
    return this.current(userId);
  }

  /** Whether a verified token still holds, and the caller with the user's current role. */
  async admit(claims: { readonly sub: string; readonly cv: number }): Promise<Admission> {
    return judge(claims, await this.current(claims.sub));
  }

  /** Forgets the user (their next check reads storage) and tells the listeners. */
  invalidate(userId: string): void {
    this.#entries.delete(userId);
    for (const listener of this.#listeners) listener(userId);
  }

  /** Forgets every user (each cached one is told to the listeners). */
  invalidateAll(): void {
    const userIds = [...this.#entries.keys()];
    this.#entries.clear();
    for (const userId of userIds) for (const listener of this.#listeners) listener(userId);
  }

  /** Called with the user id of every invalidation; returns the unsubscribe function. */
  onInvalidate(listener: (userId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Invalidates on each notice (its text is a user id), for as long as they come. */
  follow(notices: AsyncIterable<{ string(): string }>): void {
    void (async () => {
      for await (const m of notices) {
        const userId = m.string();
        if (userId !== '') this.invalidate(userId);
      }
    })();
  }

  /** Invalidates everything on each reconnect of the connection whose statuses these are. */
  followReconnects(statuses: AsyncIterable<{ readonly type: string }>): void {
    void (async () => {
      for await (const s of statuses) if (s.type === 'reconnect') this.invalidateAll();
    })();
  }

  /** The user's credentials from the load of this turn's batch. */
  #enqueue(userId: string): Promise<CurrentCredentials | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) setImmediate(() => this.#loadWaiting());
      this.#waiting.push({ userId, resolve, reject });
    });
  }

  #loadWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    const size = this.#o.batchSize ?? 1000;
    for (let i = 0; i < waiting.length; i += size) {
      const batch = waiting.slice(i, i + size);
      // A load that throws rather than rejects fails its batch the same way.
      const loaded = Promise.resolve().then(() => this.#o.load(batch.map((w) => w.userId)));
      loaded.then(
        (found) => {
          for (const w of batch) w.resolve(found.get(w.userId));
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      );
    }
  }

  #forget(userId: string, entry: Entry): void {
    if (this.#entries.get(userId) === entry) this.#entries.delete(userId);
  }
}

/** A token's claims against the user's current credentials. */
export function judge(claims: { readonly sub: string; readonly cv: number }, current: CurrentCredentials | undefined): Admission {
  if (current === undefined) return DROPPED;
  if (current.version !== claims.cv) return CHANGED;
  return { ok: true, caller: { userId: claims.sub, role: current.role } };
}
