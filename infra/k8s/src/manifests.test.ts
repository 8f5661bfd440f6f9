// infra/k8s rendered and checked offline (docs/kubernetes.md "What the tests check"): every
// object of the base and the production overlay against the Kubernetes OpenAPI schemas (and
// against their TypeScript declarations for unknown fields), exact
// object counts, and what the schemas cannot see: each service's environment against its
// configuration schema, probes and drain timing, pod security, resources, the storage replica
// count, and that Services, autoscalers and budgets point at what exists. NATS's Helm values
// and the CloudNativePG Cluster are checked by structure.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gatewayConfigSchema } from '@seqline/gateway';
import { type ConfigSchema, DRAIN_TIMEOUT_MS, parseConfig } from '@seqline/runtime';
import { sequencerConfigSchema } from '@seqline/sequencer';
import { storageConfigSchema } from '@seqline/storage';
import { writeConfigSchema } from '@seqline/write';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IEnvVarSource } from 'kubernetes-models/v1/EnvVarSource';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { type K8sObject, kubectlKustomize, parseYamlFile, renderKustomization, strategicMerge } from './render.js';
import { unknownFields } from './fields.js';
import { validateObject } from './validate.js';

const root = resolve(import.meta.dirname, '..');
const repo = resolve(root, '../..');

const DRAIN_TIMEOUT_S = DRAIN_TIMEOUT_MS / 1000;
/** Variables of issue 11 that other branches add to every service's schema. */
const ADDED_BY_ISSUE_11 = new Set(['SEQLINE_NATS_REPLICAS', 'SEQLINE_METRICS_PORT']);
/** Read by the image's entry point (infra/compose/src/seqline-main.ts), not by a service. */
const IMAGE_VARIABLES = new Set(['SEQLINE_SERVICE']);

const SERVICES = {
  sequencer: { kind: 'StatefulSet', schema: sequencerConfigSchema, metricsPort: 9461 },
  storage: { kind: 'StatefulSet', schema: storageConfigSchema, metricsPort: 9462 },
  write: { kind: 'Deployment', schema: writeConfigSchema, metricsPort: 9463 },
  gateway: { kind: 'Deployment', schema: gatewayConfigSchema, metricsPort: 9464 },
} as const satisfies Record<string, { kind: string; schema: ConfigSchema; metricsPort: number }>;

const BASE_KINDS = { ConfigMap: 1, Deployment: 2, HorizontalPodAutoscaler: 2, NetworkPolicy: 4, PodDisruptionBudget: 4, Service: 6, ServiceAccount: 1, StatefulSet: 2 };
const OVERLAYS = {
  base: { dir: 'base', kinds: BASE_KINDS, namespace: undefined, storageReplicas: 1, sequencers: 1 },
  production: { dir: 'overlays/production', kinds: { ...BASE_KINDS, Namespace: 1 }, namespace: 'seqline', storageReplicas: 2, sequencers: 2 },
} as const;

interface Kinds {
  readonly ConfigMap: IConfigMap;
  readonly Deployment: IDeployment;
  readonly HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  readonly Namespace: INamespace;
  readonly NetworkPolicy: INetworkPolicy;
  readonly PodDisruptionBudget: IPodDisruptionBudget;
  readonly Service: IService;
  readonly StatefulSet: IStatefulSet;
}
type Workload = IDeployment | IStatefulSet;

interface NatsValues {
  readonly fullnameOverride: string;
  readonly config: { readonly cluster: unknown; readonly jetstream: { readonly fileStore: { readonly pvc: { readonly size: string } } } };
}
interface CnpgCluster {
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly instances: number;
    readonly enableSuperuserAccess: boolean;
    readonly storage: { readonly size: string };
    readonly bootstrap: { readonly initdb: { readonly database: string; readonly owner: string; readonly postInitApplicationSQL: readonly string[] } };
  };
}

function render(dir: string): K8sObject[] {
  return kubectlKustomize(resolve(root, dir)) ?? renderKustomization(resolve(root, dir));
}

const byId = (objects: readonly K8sObject[]): Map<string, K8sObject> => new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));

function countKinds(objects: readonly K8sObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
}

function podOf(w: Workload): IPodSpec {
  const pod = w.spec?.template.spec;
  if (pod === undefined) throw new Error(`${w.metadata?.name}: no pod template`);
  return pod;
}

function containerOf(w: Workload): IContainer {
  const [container] = podOf(w).containers;
  if (container === undefined) throw new Error(`${w.metadata?.name}: no container`);
  return container;
}

const ORDINAL: IEnvVarSource = { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } };
const POSTGRES_URL = 'postgresql://seqline_storage:secret@seqline-pg-rw.seqline:5432/seqline';

/** What Kubernetes would put in a `valueFrom` variable, for parsing the environment as the service does. */
function sampleValue(e: IEnvVar, pod: string): string {
  const from = e.valueFrom;
  if (from?.fieldRef?.fieldPath === ORDINAL.fieldRef?.fieldPath) return '0';
  if (from?.fieldRef?.fieldPath === 'metadata.name') return `${pod}-0`;
  const key = from?.secretKeyRef?.key;
  if (key === 'uri' || key === 'postgres-admin-url') return POSTGRES_URL;
  if (key === 'jwt-secret' || key === 'admin-password') return 'x'.repeat(48);
  throw new Error(`${e.name}: no sample for ${JSON.stringify(from)}`);
}

describe.each(Object.entries(OVERLAYS))('infra/k8s %s', (_name, overlay) => {
  const objects = render(overlay.dir);
  const all = <K extends keyof Kinds>(kind: K): Kinds[K][] => objects.filter((o) => o.kind === kind) as unknown as Kinds[K][];
  const find = <K extends keyof Kinds>(kind: K, name: string): Kinds[K] => {
    const o = all(kind).find((x) => x.metadata?.name === name);
    if (o === undefined) throw new Error(`no ${kind} ${name}`);
    return o;
  };
  const configMap = find('ConfigMap', 'seqline-config').data ?? {};

  it('renders exactly these objects, in the namespace, and no Secret', () => {
    expect(countKinds(objects)).toEqual(overlay.kinds);
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace).toBe(overlay.namespace);
  });

  it('renders the same with kubectl kustomize and with the built-in renderer', () => {
    const kubectl = kubectlKustomize(resolve(root, overlay.dir));
    if (kubectl === undefined) return; // no kubectl here: the renderer is the only one
    expect(byId(renderKustomization(resolve(root, overlay.dir)))).toEqual(byId(kubectl));
  });

  it('validates every object against the Kubernetes OpenAPI schemas', () => {
    for (const o of objects) validateObject(o);
  });

  it('declares no field the schemas do not know', { timeout: 60_000 }, () => {
    expect(unknownFields(objects)).toEqual([]);
  });

  describe.each(Object.entries(SERVICES))('%s', (service, spec) => {
    const workload: Workload = find(spec.kind, `seqline-${service}`);
    const pod = podOf(workload);
    const container = containerOf(workload);
    const env = container.env ?? [];
    const envValue = (name: string): string | undefined => env.find((e) => e.name === name)?.value;
    const schema: ConfigSchema = spec.schema;

    it('sets only variables its configuration reads, secrets only from Secrets, and they parse', () => {
      const vars: Record<string, string> = { ...configMap };
      for (const e of env) vars[e.name] = e.value ?? sampleValue(e, workload.metadata?.name ?? '');
      const known = new Set(Object.values(schema).map((f) => f.env));
      const sharedUnread = new Set(['SEQLINE_SHARDS', 'SEQLINE_BUS_PREFIX']); // from the shared ConfigMap
      expect(Object.keys(vars).filter((v) => !known.has(v) && !ADDED_BY_ISSUE_11.has(v) && !IMAGE_VARIABLES.has(v) && !sharedUnread.has(v))).toEqual([]);
      for (const field of Object.values(schema).filter((f) => f.secret)) {
        const set = env.find((e) => e.name === field.env);
        if (set !== undefined) expect(set.valueFrom?.secretKeyRef, field.env).toBeDefined();
      }
      expect(() => parseConfig(schema, vars)).not.toThrow();
    });

    it('runs as the restricted Pod Security Standard requires, with no API token', () => {
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    });

    it('has requests and limits for CPU and memory, limits above requests', () => {
      const { requests = {}, limits = {} } = container.resources ?? {};
      for (const r of ['cpu', 'memory']) expect(quantity(limits[r]!)).toBeGreaterThan(quantity(requests[r]!));
    });

    it('probes its health endpoint, and the drain fits the grace period', () => {
      const main = container.ports?.[0]?.containerPort;
      const probe = service === 'gateway' ? { httpGet: { path: '/health', port: 'http' } } : { grpc: { port: main } };
      for (const p of [container.startupProbe, container.readinessProbe, container.livenessProbe]) expect(p).toMatchObject(probe);
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      expect(grace).toBeGreaterThanOrEqual(preStop + DRAIN_TIMEOUT_S + 10);
      expect(preStop).toBeGreaterThan(0);
      const { periodSeconds = 10, failureThreshold = 3 } = container.livenessProbe ?? {};
      expect(periodSeconds * failureThreshold, 'a drain is never cut short by the liveness probe').toBeGreaterThan(grace);
    });

    it('declares the metrics port, its variable and the scrape annotations alike', () => {
      expect(container.ports).toContainEqual({ name: 'metrics', containerPort: spec.metricsPort });
      expect(envValue('SEQLINE_METRICS_PORT')).toBe(String(spec.metricsPort));
      expect(workload.spec?.template.metadata?.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(spec.metricsPort), 'prometheus.io/path': '/metrics' });
    });

    it("runs the image's entry point with SEQLINE_SERVICE naming this service", () => {
      expect(container.command).toEqual(['node', '/app/seqline.js']);
      expect(envValue('SEQLINE_SERVICE')).toBe(service);
    });

    it('calls the other services at Services that exist, on their ports', () => {
      for (const e of env.filter((x) => x.name.endsWith('_ADDR'))) {
        const [host = '', port] = (e.value ?? '').split(':');
        expect(find('Service', host).spec?.ports?.map((p) => p.port)).toContain(Number(port));
      }
    });
  });

  it('gives the StatefulSets their ordinal: worker id and storage replica index', () => {
    expect(containerOf(find('StatefulSet', 'seqline-sequencer')).env).toContainEqual({ name: 'SEQLINE_SEQUENCER_WORKER_ID', valueFrom: ORDINAL });
    expect(containerOf(find('StatefulSet', 'seqline-storage')).env).toContainEqual({ name: 'SEQLINE_STORAGE_REPLICA', valueFrom: ORDINAL });
  });

  it('runs as many storage replicas as SEQLINE_STORAGE_REPLICAS says', () => {
    const storage = find('StatefulSet', 'seqline-storage');
    const replicas = containerOf(storage).env?.find((e) => e.name === 'SEQLINE_STORAGE_REPLICAS')?.value;
    expect([storage.spec?.replicas, Number(replicas)]).toEqual([overlay.storageReplicas, overlay.storageReplicas]);
    expect(find('StatefulSet', 'seqline-sequencer').spec?.replicas).toBe(overlay.sequencers);
  });

  it('points every Service, autoscaler, budget and network policy at the one workload it selects', () => {
    const workloads: Workload[] = [...all('Deployment'), ...all('StatefulSet')];
    const selects = (selector: Record<string, string> = {}): Workload[] =>
      workloads.filter((w) => Object.entries(selector).every(([k, v]) => w.spec?.template.metadata?.labels?.[k] === v));
    for (const s of all('Service')) {
      const [target, ...others] = selects(s.spec?.selector);
      expect(others, s.metadata?.name).toEqual([]);
      const portNames = containerOf(target!).ports?.map((p) => p.name);
      for (const p of s.spec?.ports ?? []) expect(portNames, s.metadata?.name).toContain(p.targetPort);
    }
    for (const b of all('PodDisruptionBudget')) expect(selects(b.spec?.selector?.matchLabels), b.metadata?.name).toHaveLength(1);
    for (const n of all('NetworkPolicy')) expect(selects(n.spec?.podSelector.matchLabels), n.metadata?.name).toHaveLength(1);
    for (const h of all('HorizontalPodAutoscaler')) {
      expect(find('Deployment', h.spec?.scaleTargetRef.name ?? '').spec?.replicas, 'the autoscaler owns replicas').toBeUndefined();
      expect(h.spec?.minReplicas).toBeLessThan(h.spec?.maxReplicas ?? 0);
    }
    if (overlay.namespace !== undefined) expect(find('Namespace', overlay.namespace).metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('reaches every node of the 3-node NATS cluster and replicates streams 3 times', () => {
    expect(configMap['SEQLINE_NATS_URL']?.split(',')).toEqual([0, 1, 2].map((i) => `nats://nats-${i}.nats-headless:4222`));
    expect(configMap['SEQLINE_NATS_REPLICAS']).toBe('3');
  });
});

describe('the schema check', () => {
  const statefulSet = renderKustomization(resolve(root, 'base')).find((o) => o.kind === 'StatefulSet')!;

  it('fails on a broken manifest', () => {
    const broken = strategicMerge(statefulSet, { spec: { template: { spec: { containers: [{ name: 'sequencer', ports: [{ name: 'grpc', containerPort: 'fifty' }] }] } } } }) as K8sObject;
    expect(() => validateObject(broken)).toThrow(/containerPort must be integer/);
    const noSelector = strategicMerge(statefulSet, { spec: { selector: null } }) as K8sObject;
    expect(() => validateObject(noSelector)).toThrow(/data\/spec must have required property selector/);
  });

  it('names a misspelt field', { timeout: 60_000 }, () => {
    const typo = strategicMerge(statefulSet, { spec: { template: { spec: { containers: [{ name: 'sequencer', readinesProbe: { grpc: { port: 50051 } } }] } } } }) as K8sObject;
    expect(() => validateObject(typo)).not.toThrow(); // the upstream schemas let it through
    expect(unknownFields([typo])).toEqual([`StatefulSet seqline-sequencer: Object literal may only specify known properties, and '"readinesProbe"' does not exist in type 'IContainer'.`]);
  });

  it('refuses a kind it has no schema for', () => {
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } })).toThrow(/no schema for this kind/);
  });
});

describe('NATS Helm values', () => {
  const values = parseYamlFile(resolve(root, 'nats/values.yaml'))[0] as unknown as NatsValues;

  it('make a 3-node JetStream cluster on persistent file storage, named as SEQLINE_NATS_URL expects', () => {
    expect(values.fullnameOverride).toBe('nats');
    expect(values.config.cluster).toEqual({ enabled: true, replicas: 3 });
    expect(values.config.jetstream).toMatchObject({ enabled: true, fileStore: { enabled: true, pvc: { enabled: true } } });
    expect(quantity(values.config.jetstream.fileStore.pvc.size)).toBeGreaterThan(0);
  });
});

describe('CloudNativePG Cluster', () => {
  const [parsed] = parseYamlFile(resolve(root, 'postgres/cluster.yaml'));
  const cluster = parsed as unknown as CnpgCluster;

  it('runs 3 instances of a database owned by the runtime role storage reads from seqline-pg-app', () => {
    expect(parsed).toMatchObject({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'seqline-pg' } });
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.enableSuperuserAccess).toBe(false);
    expect(quantity(cluster.spec.storage.size)).toBeGreaterThan(0);
    expect(cluster.spec.bootstrap.initdb).toMatchObject({ database: 'seqline', owner: 'seqline_storage' });
    const storage = render('base').find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'seqline-storage') as unknown as IStatefulSet;
    const url = containerOf(storage).env?.find((e) => e.name === 'SEQLINE_POSTGRES_URL');
    expect(url?.valueFrom?.secretKeyRef).toEqual({ name: `${cluster.metadata.name}-app`, key: 'uri' });
  });

  it('makes the grants of docs/operations.md at bootstrap, the same revocation pattern included', () => {
    const sql = cluster.spec.bootstrap.initdb.postInitApplicationSQL.join('\n');
    const pattern = /proname ~ '([^']+)'/;
    const documented = pattern.exec(readFileSync(resolve(repo, 'docs/operations.md'), 'utf8'))?.[1];
    expect(documented).toBeDefined();
    expect(pattern.exec(sql)?.[1]).toBe(documented);
    const grants = [
      'CREATE ROLE seqline_reader NOLOGIN',
      'CREATE ROLE seqline_writer NOLOGIN',
      'GRANT seqline_reader, seqline_writer TO seqline_storage',
      'GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO seqline_storage',
      'GRANT EXECUTE ON FUNCTION pg_catalog.pg_advisory_xact_lock(bigint) TO seqline_storage',
      'GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_lock(integer, integer) TO seqline_storage',
    ];
    for (const statement of grants) expect(sql).toContain(statement);
  });
});

/** A Kubernetes quantity (`500m`, `2`, `384Mi`, `20Gi`) as a number. */
function quantity(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(String(q));
  if (m === null) throw new Error(`not a quantity: ${q}`);
  const scale = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * scale;
}
