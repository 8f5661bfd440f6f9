// Saved sessions: one JSON file, readable by its owner only (0600, in a 0700 folder), with a
// session per gateway URL and the URL of the last login. A session is the user and the token
// pair the gateway gave; never a password.
import { join } from 'node:path';
import { cliError, CLI_ERROR } from './errors.js';
import { configDir, readIfExists, writePrivateFile } from './private-file.js';

export interface SavedSession {
  readonly user: string;
  readonly access_token: string;
  /** ISO-8601, as the gateway sent it. */
  readonly expires_at: string;
  readonly refresh_token: string;
  readonly refresh_expires_at: string;
}

export interface Credentials {
  /** The URL of the last login: the default gateway. */
  readonly current?: string;
  readonly sessions: Readonly<Record<string, SavedSession>>;
}

export interface CredentialsStore {
  readonly path: string;
  load(): Promise<Credentials>;
  save(credentials: Credentials): Promise<void>;
}

/** `$SEQLINE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/seqline`, else `~/.config/seqline`; then credentials.json. */
export function credentialsPath(env: Readonly<Record<string, string | undefined>>, home: string): string {
  return join(configDir(env, home), 'credentials.json');
}

export function fileCredentials(path: string): CredentialsStore {
  return {
    path,
    async load() {
      const text = await readIfExists(path);
      return text === undefined ? { sessions: {} } : parseCredentials(text, path);
    },
    save: (credentials) => writePrivateFile(path, `${JSON.stringify(credentials, null, 2)}\n`),
  };
}

export function parseCredentials(text: string, path: string): Credentials {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw cliError(CLI_ERROR.badCredentialsFile, `${path} is not JSON: remove it and log in again`, err);
  }
  const { current, sessions } = (typeof value === 'object' && value !== null ? value : {}) as { current?: unknown; sessions?: unknown };
  const kept: Record<string, SavedSession> = {};
  for (const [url, s] of Object.entries(typeof sessions === 'object' && sessions !== null ? sessions : {})) {
    if (isSession(s)) kept[url] = s;
  }
  return { ...(typeof current === 'string' ? { current } : {}), sessions: kept };
}

const FIELDS = ['user', 'access_token', 'expires_at', 'refresh_token', 'refresh_expires_at'] as const;

function isSession(value: unknown): value is SavedSession {
  return typeof value === 'object' && value !== null && FIELDS.every((f) => typeof (value as Record<string, unknown>)[f] === 'string');
}
