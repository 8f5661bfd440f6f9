import { describe, expect, it } from 'vitest';
import { SqlError } from './errors.js';
import { ALLOWED_CAST_TYPES, ALLOWED_FUNCTIONS, AGGREGATE_FUNCTIONS, assertCastAllowed, assertFunctionAllowed, READ_ONLY_FUNCTIONS, WINDOW_FUNCTIONS } from './functions.js';

function outcome(run: () => void): string {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof SqlError) return `${err.code}: ${err.message}`;
    throw err;
  }
}

describe('ALLOWED_FUNCTIONS', () => {
  it('holds every group of the allow-list, in lower case', () => {
    const groups = {
      aggregates: ['count', 'sum', 'avg', 'min', 'max', 'string_agg', 'array_agg', 'bool_and', 'bool_or'],
      window: ['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value'],
      string: ['lower', 'upper', 'length', 'char_length', 'substring', 'substr', 'trim', 'btrim', 'ltrim', 'rtrim', 'concat', 'concat_ws', 'replace',
        'position', 'strpos', 'left', 'right', 'lpad', 'rpad', 'split_part', 'starts_with', 'reverse', 'initcap', 'md5', 'overlay'],
      math: ['abs', 'round', 'floor', 'ceil', 'ceiling', 'trunc', 'mod', 'power', 'sqrt', 'sign', 'greatest', 'least', 'random'],
      time: ['now', 'date_trunc', 'date_part', 'extract', 'to_timestamp', 'to_char', 'age', 'make_date', 'make_timestamp', 'timezone'],
      json: ['json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'json_agg', 'jsonb_agg', 'jsonb_extract_path_text',
        'json_extract_path_text', 'to_json', 'to_jsonb'],
      conditional: ['coalesce', 'nullif'],
      uuid: ['gen_random_uuid'],
    };
    const all = Object.values(groups).flat();
    expect([...ALLOWED_FUNCTIONS].sort()).toEqual([...new Set(all)].sort());
    for (const name of ALLOWED_FUNCTIONS) expect(name).toBe(name.toLowerCase());
  });

  it('marks aggregates, window functions and read-only functions', () => {
    expect([...AGGREGATE_FUNCTIONS].sort()).toEqual(['array_agg', 'avg', 'bool_and', 'bool_or', 'count', 'json_agg', 'jsonb_agg', 'max', 'min', 'string_agg', 'sum']);
    expect(WINDOW_FUNCTIONS.has('row_number')).toBe(true);
    expect([...READ_ONLY_FUNCTIONS].sort()).toEqual(['gen_random_uuid', 'random']);
  });
});

describe('assertFunctionAllowed', () => {
  it('accepts allow-listed names', () => {
    for (const name of ['count', 'upper', 'now', 'jsonb_build_object', 'row_number']) expect(outcome(() => assertFunctionAllowed(name))).toBe('ok');
  });

  it.each([
    ['pg_sleep'], ['pg_read_file'], ['lo_import'], ['dblink'], ['query_to_xml'], ['pg_ls_dir'], ['current_setting'], ['set_config'], ['version'],
    ['pg_terminate_backend'], ['txid_current'], ['clock_timestamp'], ['row_to_json'], ['generate_series'], ['UPPER'],
  ])('refuses %s', (name) => {
    expect(outcome(() => assertFunctionAllowed(name))).toBe(`UNSUPPORTED: function ${name} is not allowed`);
  });

  it('refuses every schema-qualified call, even of an allowed name', () => {
    expect(outcome(() => assertFunctionAllowed('upper', 'pg_catalog'))).toBe('UNSUPPORTED: function pg_catalog.upper is not allowed');
    expect(outcome(() => assertFunctionAllowed('count', 'public'))).toBe('UNSUPPORTED: function public.count is not allowed');
  });
});

describe('assertCastAllowed', () => {
  it('accepts the column types under the names the grammar produces', () => {
    for (const names of [['text'], ['pg_catalog', 'int4'], ['pg_catalog', 'int8'], ['pg_catalog', 'float8'], ['pg_catalog', 'numeric'], ['jsonb'],
      ['uuid'], ['pg_catalog', 'timestamptz'], ['date'], ['pg_catalog', 'interval'], ['pg_catalog', 'bool'], ['bytea'], ['pg_catalog', 'varchar']]) {
      expect(outcome(() => assertCastAllowed(names))).toBe('ok');
    }
    expect(ALLOWED_CAST_TYPES.has('regclass')).toBe(false);
  });

  it.each([
    [['regclass']], [['regproc']], [['regprocedure']], [['regtype']], [['regnamespace']], [['regrole']], [['regoper']], [['regconfig']], [['oid']],
    [['xid']], [['tid']], [['cid']], [['name']], [['pg_lsn']], [['pg_snapshot']], [['anyelement']], [['internal']], [['cstring']], [['record']],
    [['pg_catalog', 'regclass']], [['public', 'text']], [['char']],
  ])('refuses %j', (names) => {
    expect(outcome(() => assertCastAllowed(names))).toBe(`UNSUPPORTED: cast to ${names.join('.')} is not allowed`);
  });
});
