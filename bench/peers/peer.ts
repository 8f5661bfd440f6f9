// The contract each system in the peers benchmark implements (Seqline, Rocicorp Zero, the
// PostgreSQL LISTEN/NOTIFY + re-query baseline), so one workload drives all three the same way:
// table `messages` of rows (id, owner, body, n), change n written by user n % users, each client
// subscribed to its own user's rows, and a `reader` user holding the initial-sync rows.

/** Subscriber `g` (client g, of user g % users) received change `n` at `at` (performance.now()). */
export type OnChange = (g: number, n: number, at: number) => void;

export interface PeerConfig {
  readonly users: number;
  /** Rows of the `reader` user, seeded before the clients connect (initial sync). */
  readonly snapshotRows: number;
}

export interface PeerClients {
  /** Error events, error messages and unexpected closes (the bench fails on any). */
  readonly errors: readonly string[];
  close(): Promise<void>;
}

export interface Peer extends AsyncDisposable {
  readonly name: string;
  /** The root of the system's process tree (its CPU is measured per phase). */
  readonly pid: number;
  /** Resident memory of the process(es) holding the subscriptions: the gateway, zero-cache's tree, the NOTIFY server. */
  serverRssKb(): Promise<number>;
  /** Writes change `n` as user `user`; resolves true once the system acknowledged it. */
  write(user: number, n: number): Promise<boolean>;
  /** Opens `count` clients (client g of user g % users), each subscribed to its own rows; resolves once every subscription is in place. */
  openClients(count: number, onChange: OnChange): Promise<PeerClients>;
  /** A new client of `reader` subscribing to its rows: ms from connecting to holding all `rows`. */
  snapshot(rows: number): Promise<number>;
}

/** Resolves `done` or rejects after `ms` with `what()` (a description of how far it got). */
export async function within<T>(ms: number, done: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}
