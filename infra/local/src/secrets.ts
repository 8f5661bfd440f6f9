// Secrets of the local stack are generated on first start and kept in <dataDir>/secrets.json
// (mode 0600), never in the repository. Later starts reuse them, so the data stays reachable.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Storage's runtime PostgreSQL role in the local cluster (made by storage at start-up). */
export const STORAGE_ROLE = 'seqline_storage';

export interface LocalSecrets {
  /** The PostgreSQL superuser's: storage's admin URL (start-up only). */
  readonly postgresPassword: string;
  /** Storage's runtime role's (STORAGE_ROLE); added to a data dir from before it on its next start. */
  readonly storagePassword: string;
  readonly jwtSecret: string;
  readonly adminPassword: string;
  /** The dashboard's demo agents' password. */
  readonly demoPassword: string;
  /** The example chat's relay account (examples/chat). */
  readonly chatRelayPassword: string;
}

export function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'secrets.json');
  const existing: Partial<LocalSecrets> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : {};
  const secrets: LocalSecrets = {
    postgresPassword: existing.postgresPassword ?? randomBytes(18).toString('base64url'),
    storagePassword: existing.storagePassword ?? randomBytes(18).toString('base64url'),
    jwtSecret: existing.jwtSecret ?? randomBytes(32).toString('hex'),
    adminPassword: existing.adminPassword ?? randomBytes(12).toString('base64url'),
    demoPassword: existing.demoPassword ?? randomBytes(9).toString('base64url'),
    chatRelayPassword: existing.chatRelayPassword ?? randomBytes(12).toString('base64url'),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
