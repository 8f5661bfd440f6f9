// Renders the kustomizations of infra/k8s, offline. `kubectl kustomize` when kubectl is on PATH;
// otherwise `renderKustomization`, a small renderer of exactly the kustomize features these
// manifests use (the test checks it against kubectl wherever both exist):
//   resources (files, or directories holding a kustomization.yaml), namespace, images,
//   replicas, and patches given by `path` as strategic-merge patches (a map merges key by key;
//   the lists below merge by their key, the patch's items first, as kustomize orders them;
//   any other list is replaced; a null value deletes the key).
// Anything else in a kustomization is refused, so a manifest never silently means more to
// kubectl than to this renderer.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = Record<string, unknown> & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

type Json = Record<string, unknown>;

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'replicas', 'patches']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass']);
const SCALABLE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** Strategic-merge keys of the lists these manifests patch (field name → merge key). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
};

/** YAML documents of one file, empty documents left out. */
export function parseYamlFile(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return doc.toJS() as unknown;
    })
    .filter((d): d is Json => d !== null && typeof d === 'object');
}

/** `kubectl kustomize dir`, or undefined when kubectl is not on PATH. */
export function kubectlKustomize(dir: string): K8sObject[] | undefined {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
  return parseAllDocuments(run.stdout).map((doc) => doc.toJS() as K8sObject);
}

/** The objects `kustomize build dir` makes, by this file's renderer. */
export function renderKustomization(dir: string): K8sObject[] {
  const k = parseYamlFile(join(dir, 'kustomization.yaml'))[0] ?? {};
  const unknown = Object.keys(k).filter((f) => !KNOWN_FIELDS.has(f));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: this renderer does not support ${unknown.join(', ')}`);
  let objects: K8sObject[] = list<string>(k['resources']).flatMap((r) => {
    const path = join(dir, r);
    return statSync(path).isDirectory() ? renderKustomization(path) : (parseYamlFile(path) as K8sObject[]);
  });
  for (const p of list<{ path: string }>(k['patches'])) {
    for (const patch of parseYamlFile(join(dir, p.path)) as K8sObject[]) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${dir}/${p.path}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[i] = strategicMerge(objects[i]!, patch) as K8sObject;
    }
  }
  const namespace = k['namespace'];
  if (typeof namespace === 'string') {
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace } }));
  }
  for (const image of list<{ name: string; newName?: string; newTag?: string }>(k['images'])) objects.forEach((o) => setImage(o, image));
  for (const r of list<{ name: string; count: number }>(k['replicas'])) {
    const target = objects.find((o) => SCALABLE.has(o.kind) && o.metadata.name === r.name);
    if (target === undefined) throw new Error(`${dir}/kustomization.yaml: replicas for unknown workload ${r.name}`);
    (target['spec'] as Json)['replicas'] = r.count;
  }
  return objects;
}

/** Kubernetes' strategic merge, for the list keys of MERGE_KEYS. */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  const key = MERGE_KEYS[field];
  if (Array.isArray(base) && Array.isArray(patch) && key !== undefined) {
    const items = (l: unknown[]): Json[] => l.filter(isMap);
    const [from, onto] = [items(patch), items(base)];
    const merged = from.map((p) => {
      const original = onto.find((b) => b[key] === p[key]);
      return original === undefined ? p : strategicMerge(original, p);
    });
    return [...merged, ...onto.filter((b) => !from.some((p) => p[key] === b[key]))];
  }
  if (isMap(base) && isMap(patch)) {
    const out: Json = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in base ? strategicMerge(base[k], v, k) : v;
    }
    return out;
  }
  return patch;
}

function setImage(o: K8sObject, image: { name: string; newName?: string; newTag?: string }): void {
  const podSpec = ((o['spec'] as Json | undefined)?.['template'] as Json | undefined)?.['spec'] as Json | undefined;
  if (podSpec === undefined) return;
  for (const c of [...list<Json>(podSpec['containers']), ...list<Json>(podSpec['initContainers'])]) {
    const current = String(c['image']);
    const [name, tag] = current.split(':') as [string, string | undefined];
    if (name !== image.name) continue;
    const newTag = image.newTag ?? tag;
    c['image'] = `${image.newName ?? name}${newTag === undefined ? '' : `:${newTag}`}`;
  }
}

function isMap(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function list<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}
