// Where a client keeps its live queries' rows and cursors, and its outbox of offline writes,
// across restarts (SPEC.md, "Offline"). Values are strings; `encode`/`decode` carry bigints.
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
