// The operator's grants in docs/operations.md are the ones storage makes with the admin URL.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DANGEROUS_FUNCTIONS, RUNTIME_FUNCTIONS, revokeBuiltinsSql, runtimeRole } from './privileges.js';

const docs = readFileSync(resolve(import.meta.dirname, '../../../docs/operations.md'), 'utf8');

describe('least-privilege set-up', () => {
  it('documents the same revoked built-ins and the same grants back', () => {
    expect(docs).toContain(`p.proname ~ '${DANGEROUS_FUNCTIONS.source}'`);
    expect(revokeBuiltinsSql()).toContain(`p.proname ~ '${DANGEROUS_FUNCTIONS.source}'`);
    for (const fn of RUNTIME_FUNCTIONS) expect(docs).toContain(`GRANT EXECUTE ON FUNCTION ${fn} TO seqline_storage;`);
  });

  it('covers every family the issue names, and not current_setting', () => {
    for (const name of ['pg_read_file', 'pg_ls_dir', 'lo_import', 'lo_export', 'ts_stat', 'query_to_xml', 'cursor_to_xmlschema', 'dblink_exec', 'pg_advisory_lock', 'pg_try_advisory_xact_lock_shared', 'pg_sleep_for', 'pg_notify', 'pg_terminate_backend', 'pg_reload_conf', 'set_config']) {
      expect({ name, revoked: DANGEROUS_FUNCTIONS.test(name) }).toEqual({ name, revoked: true });
    }
    for (const name of ['current_setting', 'lower', 'now', 'gen_random_uuid', 'pg_has_role']) expect({ name, revoked: DANGEROUS_FUNCTIONS.test(name) }).toEqual({ name, revoked: false });
  });

  it('takes the runtime role from the URL and refuses a name it would have to quote oddly', () => {
    expect(runtimeRole('postgres://seqline_storage:p%40ss@db:5432/seqline')).toEqual({ name: 'seqline_storage', password: 'p@ss' });
    expect(() => runtimeRole('postgres://a%22b:x@db/seqline')).toThrow(/SEQLINE_POSTGRES_URL: the user name must match/);
  });
});
