// The compose test's NATS checks (test-main.ts): each node's monitoring endpoint (/jsz), asked
// from inside its container, must show one JetStream cluster of 3 with the same meta leader, and
// every stream (Seqline's op log and change log, and the KV buckets' KV_* streams) configured with
// 3 replicas whose 2 followers are current as the stream's leader sees them.

const NODES = ['nats-1', 'nats-2', 'nats-3'] as const;
/** Streams the services make at start-up (SEQLINE_BUS_PREFIX seqline). */
const REQUIRED_STREAMS = ['SEQLINE_OPS', 'SEQLINE_CHANGES'] as const;

interface StreamDetail {
  readonly name: string;
  readonly config?: { readonly num_replicas?: number };
  readonly cluster?: { readonly leader?: string; readonly replicas?: readonly { readonly name: string; readonly current: boolean }[] };
}

interface Jsz {
  readonly meta_cluster?: { readonly leader?: string; readonly cluster_size?: number };
  readonly account_details?: readonly { readonly stream_detail?: readonly StreamDetail[] }[];
}

/** `get(node, path)` returns the body of http://127.0.0.1:8222<path> on that node. */
export async function checkNats(get: (node: string, path: string) => Promise<string>): Promise<{ leader: string; streams: string[] }> {
  const leaders = new Set<string>();
  for (const node of NODES) {
    const jsz = JSON.parse(await get(node, '/jsz')) as Jsz;
    if (jsz.meta_cluster?.cluster_size !== 3) throw new Error(`${node}: JetStream meta cluster of ${jsz.meta_cluster?.cluster_size}, not 3`);
    leaders.add(jsz.meta_cluster.leader ?? '(none)');
  }
  if (leaders.size !== 1 || leaders.has('(none)')) throw new Error(`the nodes disagree on the meta leader: ${[...leaders].join(', ')}`);
  // A follower's view of its peers is not authoritative: each stream is judged on its leader.
  const views = new Map<string, StreamDetail[]>();
  for (const node of NODES) {
    const jsz = JSON.parse(await get(node, '/jsz?accounts=true&streams=true&config=true')) as Jsz;
    views.set(node, (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []));
  }
  const streams = views.get('nats-1') ?? [];
  for (const required of REQUIRED_STREAMS) {
    if (!streams.some((s) => s.name === required)) throw new Error(`stream ${required} missing; streams: ${streams.map((s) => s.name).join(', ')}`);
  }
  if (!streams.some((s) => s.name.startsWith('KV_'))) throw new Error(`no KV bucket's stream; streams: ${streams.map((s) => s.name).join(', ')}`);
  for (const { name, cluster } of streams) {
    const s = views.get(cluster?.leader ?? '')?.find((d) => d.name === name);
    if (s === undefined) throw new Error(`stream ${name}: no leader (${cluster?.leader})`);
    const replicas = s.cluster?.replicas ?? [];
    if (s.config?.num_replicas !== 3) throw new Error(`stream ${name} has ${s.config?.num_replicas} replicas, not 3`);
    if (replicas.length !== 2 || !replicas.every((r) => r.current)) throw new Error(`stream ${name}: leader ${s.cluster?.leader} sees followers ${JSON.stringify(replicas)}`);
  }
  return { leader: [...leaders][0]!, streams: streams.map((s) => s.name).sort() };
}
