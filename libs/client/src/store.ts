// Where a client keeps its live queries' rows and cursors, and its outbox of offline writes,
// across restarts (SPEC.md, "Offline"). Values are strings; `encode`/`decode` carry bigints.
// One store may hold several users' data: the client reads and writes it through a UserStore,
// which keeps each user's keys apart and can remove them all (sign-out).
export interface Store {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Lives as long as the process (the default: nothing survives a restart). */
export function memoryStore(): Store {
  const map = new Map<string, string>();
  return {
    get: (key) => Promise.resolve(map.get(key)),
    set: (key, value) => {
      map.set(key, value);
      return Promise.resolve();
    },
    delete: (key) => {
      map.delete(key);
      return Promise.resolve();
    },
  };
}

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The browser's `localStorage` (or any Storage), under a prefix. */
export function webStorageStore(prefix = 'seqline:', storage: StorageLike = (globalThis as unknown as { localStorage: StorageLike }).localStorage): Store {
  return {
    get: (key) => Promise.resolve(storage.getItem(prefix + key) ?? undefined),
    set: (key, value) => Promise.resolve(storage.setItem(prefix + key, value)),
    delete: (key) => Promise.resolve(storage.removeItem(prefix + key)),
  };
}

/**
 * One user's part of a store: keys under `user/<name>/`, and the list of those keys (so `clear()`
 * finds them with only get/set/delete). Operations run one at a time, in call order; after
 * `clear()` writes are ignored, so nothing still in flight brings the user's data back.
 */
export class UserStore {
  readonly #store: Store;
  readonly #prefix: string;
  #keys: Promise<Set<string>> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #cleared = false;

  constructor(store: Store, user: string) {
    this.#store = store;
    this.#prefix = `user/${encodeURIComponent(user)}/`;
  }

  get(key: string): Promise<string | undefined> {
    return this.#serial(() => this.#store.get(this.#prefix + key));
  }

  set(key: string, value: string): Promise<void> {
    return this.#serial(async () => {
      if (this.#cleared) return;
      const keys = await this.#index();
      if (!keys.has(key)) {
        keys.add(key);
        await this.#store.set(`${this.#prefix}keys`, JSON.stringify([...keys]));
      }
      await this.#store.set(this.#prefix + key, value);
    });
  }

  delete(key: string): Promise<void> {
    return this.#serial(() => this.#store.delete(this.#prefix + key));
  }

  /** Removes every key this user has in the store. */
  clear(): Promise<void> {
    this.#cleared = true;
    return this.#serial(async () => {
      const keys = await this.#index();
      for (const key of keys) await this.#store.delete(this.#prefix + key);
      await this.#store.delete(`${this.#prefix}keys`);
      keys.clear();
    });
  }

  #index(): Promise<Set<string>> {
    this.#keys ??= this.#store.get(`${this.#prefix}keys`).then((text) => new Set(text === undefined ? [] : (JSON.parse(text) as string[])));
    return this.#keys;
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** JSON with bigints kept exact (as `{"$bigint":"…"}`). */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

export function decode(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const big = (v as { $bigint?: unknown }).$bigint;
      if (keys.length === 1 && typeof big === 'string') return BigInt(big);
    }
    return v;
  });
}
