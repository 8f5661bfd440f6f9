// Unknown-field check: the upstream OpenAPI schemas (validate.ts) let any unknown field through,
// which the API server's strict field validation would refuse. kubernetes-models also ships the
// same schemas as TypeScript interfaces, so each rendered object is type-checked as an object
// literal of its kind's interface: TypeScript's excess-property check then names a field the
// schema does not declare (the first of each object literal), and a value of the wrong type, at
// any depth. About 2 s per call (the compiler loads the kubernetes-models declarations).
import { join } from 'node:path';
import ts from 'typescript';

/** Kind → the kubernetes-models module and interface that declares it. */
const INTERFACES: Readonly<Record<string, readonly [string, string]>> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'apps/v1/StatefulSet': ['kubernetes-models/apps/v1/StatefulSet', 'IStatefulSet'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'v1/ServiceAccount': ['kubernetes-models/v1/ServiceAccount', 'IServiceAccount'],
};

/** The compiler's complaints, each naming its object; [] when every field is declared and typed as its schema says. */
export function unknownFields(objects: readonly { readonly apiVersion: string; readonly kind: string; readonly metadata?: { readonly name?: string } }[]): string[] {
  const file = join(import.meta.dirname, '__rendered__.ts');
  const lines = objects.map((o, i) => {
    const declared = INTERFACES[`${o.apiVersion}/${o.kind}`];
    if (declared === undefined) throw new Error(`${o.apiVersion}/${o.kind}: no interface for this kind`);
    return `import type { ${declared[1]} as T${i} } from '${declared[0]}';\nexport const o${i}: T${i} = ${JSON.stringify(o)};`;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const source = ts.createSourceFile(file, lines.join('\n'), ts.ScriptTarget.ES2022, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, ...rest) => (name === file ? source : getSourceFile(name, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const line = d.start === undefined ? -1 : source.getLineAndCharacterOfPosition(d.start).line;
    const o = objects[Math.floor(line / 2)];
    return `${o?.kind ?? '?'} ${o?.metadata?.name ?? '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
