// Configuration of the image's small entry points (dashboard, secrets), from the environment.
import { ConfigError, parseConfig, type ConfigOf, type ConfigSchema } from '@seqline/runtime';

/** A bad value exits 78 naming the variable, as the services do. */
export function configOrExit<S extends ConfigSchema>(schema: S): ConfigOf<S> {
  try {
    return parseConfig(schema, process.env);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(78);
  }
}
