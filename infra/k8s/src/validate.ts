// Validates a rendered object against the Kubernetes OpenAPI schema of its kind, offline, with
// the kubernetes-models classes (each compiles the upstream schema: types, required fields,
// enums, formats). A kind that is not listed here is refused rather than passed unchecked.
// The upstream schemas allow unknown fields, so a misspelt optional field is not caught here:
// fields.ts catches those.
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

interface Model {
  validate(): void;
}

const MODELS: Readonly<Record<string, new (data: never) => Model>> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

/** Throws naming the object and the first schema violations. */
export function validateObject(o: { readonly apiVersion: string; readonly kind: string; readonly metadata?: { readonly name?: string } }): void {
  const id = `${o.apiVersion}/${o.kind}`;
  const model = MODELS[id];
  if (model === undefined) throw new Error(`${id} ${o.metadata?.name ?? ''}: no schema for this kind`);
  try {
    new model(o as never).validate();
  } catch (err) {
    throw new Error(`${id} ${o.metadata?.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
