// Configuration declared once as a schema: every setting names its environment variable,
// its default and a description. `parseConfig` reads an env object that is passed in (never
// process.env deep inside a service) and reports every bad variable at once, by name.
// `describeConfig` renders the same schema for `--help` and the README, so they cannot drift.
import { ConfigError } from './errors.js';

export interface ConfigField<T> {
  readonly env: string;
  readonly description: string;
  /** Shown in help; `undefined` means the variable is required (or optional, see below). */
  readonly defaultText: string | undefined;
  readonly secret: boolean;
  /** Parses the raw value; `undefined` raw means unset. Throws with a message on bad input. */
  readonly read: (raw: string | undefined) => T;
}

export type ConfigSchema = Readonly<Record<string, ConfigField<unknown>>>;
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never };
export type Env = Readonly<Record<string, string | undefined>>;

interface Common {
  readonly env: string;
  readonly description: string;
  readonly secret?: boolean;
}

function make<T>(c: Common, defaultValue: T | undefined, show: (v: T) => string, parse: (raw: string) => T): ConfigField<T> {
  return {
    env: c.env,
    description: c.description,
    defaultText: defaultValue === undefined ? undefined : show(defaultValue),
    secret: c.secret ?? false,
    read: (raw) => {
      if (raw === undefined || raw === '') {
        if (defaultValue === undefined) throw new Error('is required');
        return defaultValue;
      }
      return parse(raw);
    },
  };
}

export function str(c: Common & { readonly default?: string; readonly pattern?: RegExp }): ConfigField<string> {
  return make(c, c.default, (v) => v, (raw) => {
    if (c.pattern && !c.pattern.test(raw)) throw new Error(`must match ${String(c.pattern)}`);
    return raw;
  });
}

/** A setting that may be left unset: the value is `undefined` then. */
export function optionalStr(c: Common): ConfigField<string | undefined> {
  return { env: c.env, description: c.description, defaultText: undefined, secret: c.secret ?? false, read: (raw) => (raw === '' ? undefined : raw) };
}

export function int(c: Common & { readonly default?: number; readonly min?: number; readonly max?: number }): ConfigField<number> {
  return make(c, c.default, String, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got ${JSON.stringify(raw)}`);
    const v = Number(raw);
    if (!Number.isSafeInteger(v)) throw new Error(`is out of range: ${raw}`);
    if (c.min !== undefined && v < c.min) throw new Error(`must be at least ${c.min}, got ${v}`);
    if (c.max !== undefined && v > c.max) throw new Error(`must be at most ${c.max}, got ${v}`);
    return v;
  });
}

/** An optional integer: unset means `undefined` (e.g. "lease a worker id instead"). */
export function optionalInt(c: Common & { readonly min?: number; readonly max?: number }): ConfigField<number | undefined> {
  const inner = int(c);
  return { ...inner, defaultText: undefined, read: (raw) => (raw === undefined || raw === '' ? undefined : inner.read(raw)) };
}

export function port(c: Common & { readonly default?: number }): ConfigField<number> {
  return int({ ...c, min: 0, max: 65535 });
}

export function bool(c: Common & { readonly default?: boolean }): ConfigField<boolean> {
  return make(c, c.default, String, (raw) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new Error(`must be true or false, got ${JSON.stringify(raw)}`);
  });
}

export function oneOf<const V extends string>(c: Common & { readonly values: readonly V[]; readonly default?: V }): ConfigField<V> {
  return make(c, c.default, (v) => v, (raw) => {
    const found = c.values.find((v) => v === raw);
    if (found === undefined) throw new Error(`must be one of ${c.values.join(', ')}, got ${JSON.stringify(raw)}`);
    return found;
  });
}

/** A comma-separated list of URLs (e.g. NATS servers). */
export function urls(c: Common & { readonly default?: readonly string[]; readonly protocols: readonly string[] }): ConfigField<readonly string[]> {
  return make(c, c.default, (v) => v.join(','), (raw) => {
    const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.length === 0) throw new Error('must list at least one URL');
    for (const u of list) {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        throw new Error(`is not a URL: ${JSON.stringify(u)}`);
      }
      const protocol = parsed.protocol.replace(/:$/, '');
      if (!c.protocols.includes(protocol)) throw new Error(`must use ${c.protocols.join(' or ')}://, got ${JSON.stringify(u)}`);
    }
    return list;
  });
}

export function parseConfig<S extends ConfigSchema>(schema: S, env: Env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema)) {
    try {
      out[key] = field.read(env[field.env]);
    } catch (err) {
      problems.push(`${field.env} ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** The schema as an aligned list: variable, default, description. */
export function describeConfig(schema: ConfigSchema): string {
  const rows = Object.values(schema).map((f) => [f.env, f.defaultText === undefined ? '(unset)' : f.secret ? '(secret)' : f.defaultText, f.description] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join('\n');
}
