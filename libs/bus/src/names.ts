// Subjects and stream names (docs/architecture.md §2). Everything hangs off one prefix (default
// "seqline"), so tests and several deployments can share a NATS without seeing each other:
//   <prefix>.ops.<shard>                       JetStream <PREFIX>_OPS: the write-ahead log
//   <prefix>.changes.<owner>.<ns>.<table>      JetStream <PREFIX>_CHANGES: per-owner change log
//                                              (change consumers filter on <prefix>.changes.*.<ns>.<table>)
//   <prefix>.catalog                           core NATS: "the catalog changed" notices
//   <prefix>.users                             core NATS: "this user's credentials changed" notices (body: the user id)
//   <prefix>.results.<instance>.<op>           core NATS: op results for one write instance
//   <prefix>.results.<instance>._batch         core NATS: several of them in one message (results.ts)
// Owners, namespaces and tables are restricted to [A-Za-z0-9_-], so every name is one token.

export const TOKEN = /^[A-Za-z0-9_-]+$/;

export interface BusNames {
  readonly prefix: string;
  readonly opsStream: string;
  readonly changesStream: string;
  readonly catalogSubject: string;
  readonly usersSubject: string;
  ops(shard: number): string;
  opsWildcard(): string;
  changes(owner: string, namespace: string, table: string): string;
  changesWildcard(): string;
  /** Every owner's changes of one table: `<prefix>.changes.*.<ns>.<table>` (change consumers). */
  changesOfTable(namespace: string, table: string): string;
  results(instance: string): string;
}

export function busNames(prefix = 'seqline'): BusNames {
  if (!TOKEN.test(prefix)) throw new Error(`bus prefix must match ${String(TOKEN)}, got ${JSON.stringify(prefix)}`);
  const stream = prefix.toUpperCase().replace(/-/g, '_');
  const token = (kind: string, value: string): string => {
    if (!TOKEN.test(value)) throw new Error(`${kind} ${JSON.stringify(value)} is not a valid subject token`);
    return value;
  };
  return {
    prefix,
    opsStream: `${stream}_OPS`,
    changesStream: `${stream}_CHANGES`,
    catalogSubject: `${prefix}.catalog`,
    usersSubject: `${prefix}.users`,
    ops: (shard) => `${prefix}.ops.${shard}`,
    opsWildcard: () => `${prefix}.ops.*`,
    changes: (owner, namespace, table) => `${prefix}.changes.${token('owner', owner)}.${token('namespace', namespace)}.${token('table', table)}`,
    changesWildcard: () => `${prefix}.changes.>`,
    changesOfTable: (namespace, table) => `${prefix}.changes.*.${token('namespace', namespace)}.${token('table', table)}`,
    results: (instance) => `${prefix}.results.${token('instance', instance)}`,
  };
}

/** FNV-1a (32 bit) of the owner, mod `shards`: the same answer in every service. */
export function shardOf(owner: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < owner.length; i++) {
    h ^= owner.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
