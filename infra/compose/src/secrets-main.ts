// The compose stack's `secrets` init container (docker-compose.yml): on the first start it
// generates every secret into the `secrets` volume, later starts reuse them so the data stays
// reachable. Nothing secret is in the repository or the compose file. It writes
//   secrets.json         the values (0600, the image's user)
//   postgres_password    the PostgreSQL superuser's (0644: the postgres image reads it as its own user)
//   storage.env          SEQLINE_POSTGRES_URL (runtime role) and SEQLINE_POSTGRES_ADMIN_URL
//   gateway.env          SEQLINE_JWT_SECRET and SEQLINE_ADMIN_PASSWORD
//   dashboard.env        SEQLINE_ADMIN_PASSWORD and SEQLINE_DEMO_PASSWORD
// which the services load with `node --env-file`. SEQLINE_ADMIN_PASSWORD and SEQLINE_JWT_SECRET
// set on this container are used instead of generated ones (first start only).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionalStr, str } from '@seqline/runtime';
import { configOrExit } from './entry-config.js';

const schema = {
  dir: str({ env: 'SEQLINE_SECRETS_DIR', default: '/run/seqline', description: 'where the secrets are written (the secrets volume)' }),
  postgresHost: str({ env: 'SEQLINE_POSTGRES_HOST', default: 'postgres:5432', description: 'PostgreSQL host:port as the services reach it' }),
  postgresDb: str({ env: 'SEQLINE_POSTGRES_DB', default: 'seqline', pattern: /^\w+$/, description: 'the database' }),
  storageRole: str({ env: 'SEQLINE_STORAGE_ROLE', default: 'seqline_storage', pattern: /^[a-z_][a-z0-9_]*$/, description: "storage's runtime role (storage creates it through the admin URL)" }),
  adminUser: str({ env: 'SEQLINE_ADMIN_USER', default: 'admin', description: 'the first DBA' }),
  adminPassword: optionalStr({ env: 'SEQLINE_ADMIN_PASSWORD', secret: true, description: 'its password (generated when unset)' }),
  jwtSecret: optionalStr({ env: 'SEQLINE_JWT_SECRET', secret: true, description: 'the gateways\' HS256 key (generated when unset)' }),
} as const;

interface Secrets {
  readonly postgresPassword: string;
  readonly storagePassword: string;
  readonly jwtSecret: string;
  readonly adminPassword: string;
  readonly demoPassword: string;
}

const config = configOrExit(schema);
mkdirSync(config.dir, { recursive: true });
const file = join(config.dir, 'secrets.json');
const first = !existsSync(file);
const kept = first ? {} : (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>);
const secrets: Secrets = {
  postgresPassword: kept.postgresPassword ?? randomBytes(18).toString('base64url'),
  storagePassword: kept.storagePassword ?? randomBytes(18).toString('base64url'),
  jwtSecret: kept.jwtSecret ?? config.jwtSecret ?? randomBytes(32).toString('hex'),
  adminPassword: kept.adminPassword ?? config.adminPassword ?? randomBytes(12).toString('base64url'),
  demoPassword: kept.demoPassword ?? randomBytes(9).toString('base64url'),
};

const envFile = (vars: Record<string, string>): string => Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join('');
const url = (user: string, password: string): string => `postgres://${user}:${encodeURIComponent(password)}@${config.postgresHost}/${config.postgresDb}`;
const write = (name: string, text: string, mode = 0o600): void => writeFileSync(join(config.dir, name), text, { mode });

write('secrets.json', `${JSON.stringify(secrets, null, 2)}\n`);
write('postgres_password', secrets.postgresPassword, 0o644);
write('storage.env', envFile({ SEQLINE_POSTGRES_URL: url(config.storageRole, secrets.storagePassword), SEQLINE_POSTGRES_ADMIN_URL: url('postgres', secrets.postgresPassword) }));
write('gateway.env', envFile({ SEQLINE_JWT_SECRET: secrets.jwtSecret, SEQLINE_ADMIN_PASSWORD: secrets.adminPassword }));
write('dashboard.env', envFile({ SEQLINE_ADMIN_PASSWORD: secrets.adminPassword, SEQLINE_DEMO_PASSWORD: secrets.demoPassword }));
console.log(`secrets ${first ? 'generated' : 'kept'} in the secrets volume`);
console.log(`Seqline admin: user ${config.adminUser}, password ${secrets.adminPassword}; dashboard agents' password ${secrets.demoPassword}`);
