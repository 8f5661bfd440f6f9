import { describe, expect, it } from 'vitest';
import { ERRORS } from '@seqline/protocol';
import { parseLoginBody, parseSetupBody, parseSqlBody } from './shapes.js';

const MAX = 64;

describe('parseSqlBody', () => {
  it('reads sql, params and namespace_id', () => {
    expect(parseSqlBody('{"sql":"SELECT $1, $2","params":[1,"a",true,null,1.5],"namespace_id":"app_1"}', MAX)).toEqual({
      ok: true,
      value: { sql: 'SELECT $1, $2', params: [1, 'a', true, null, 1.5], namespaceId: 'app_1' },
    });
  });

  it('treats absent or null params and namespace_id as none, and ignores unknown fields', () => {
    expect(parseSqlBody('{"sql":"SELECT 1","serialization":"json"}', MAX)).toEqual({ ok: true, value: { sql: 'SELECT 1', params: [], namespaceId: undefined } });
    expect(parseSqlBody('{"sql":"SELECT 1","params":null,"namespace_id":null}', MAX)).toEqual({ ok: true, value: { sql: 'SELECT 1', params: [], namespaceId: undefined } });
  });

  it('keeps integer parameters beyond 2^53 exact', () => {
    const parsed = parseSqlBody('{"sql":"SELECT $1","params":[331234567890123456789]}', MAX);
    expect(parsed).toEqual({ ok: true, value: { sql: 'SELECT $1', params: [331234567890123456789n], namespaceId: undefined } });
  });

  it.each([
    ['not JSON', '{"sql":', 'INVALID_INPUT', /^request body is not valid JSON: /],
    ['empty body', '', 'INVALID_INPUT', /^request body is not valid JSON: /],
    ['an array', '["SELECT 1"]', 'INVALID_INPUT', /^request body must be a JSON object$/],
    ['a string', '"SELECT 1"', 'INVALID_INPUT', /^request body must be a JSON object$/],
    ['null', 'null', 'INVALID_INPUT', /^request body must be a JSON object$/],
    ['no sql', '{"query":"SELECT 1"}', 'INVALID_INPUT', /^missing field "sql"$/],
    ['numeric sql', '{"sql":1}', 'INVALID_INPUT', /^field "sql" must be a string$/],
    ['null sql', '{"sql":null}', 'INVALID_INPUT', /^field "sql" must be a string$/],
    ['params an object', '{"sql":"SELECT 1","params":{"a":1}}', 'INVALID_PARAMETER', /^params must be an array/],
    ['params a string', '{"sql":"SELECT 1","params":"1"}', 'INVALID_PARAMETER', /^params must be an array/],
    ['nested array param', '{"sql":"SELECT $1","params":[1,[2]]}', 'INVALID_PARAMETER', /^parameter \$2 must be a string, number, boolean or null$/],
    ['object param', '{"sql":"SELECT $1","params":[{"a":1}]}', 'INVALID_PARAMETER', /^parameter \$1 /],
    ['namespace with a dot', '{"sql":"SELECT 1","namespace_id":"a.b"}', 'INVALID_INPUT', /^namespace_id must be/],
    ['empty namespace', '{"sql":"SELECT 1","namespace_id":""}', 'INVALID_INPUT', /^namespace_id must be/],
    ['numeric namespace', '{"sql":"SELECT 1","namespace_id":7}', 'INVALID_INPUT', /^namespace_id must be/],
    ['sql over the limit', JSON.stringify({ sql: `SELECT '${'x'.repeat(MAX)}'` }), 'PAYLOAD_TOO_LARGE', /^sql is 73 bytes; the limit is 64$/],
    ['sql over the limit in UTF-8 bytes', JSON.stringify({ sql: `SELECT '${'é'.repeat(30)}'` }), 'PAYLOAD_TOO_LARGE', /^sql is 69 bytes/],
  ])('%s → %s', (_name, body, code, message) => {
    const parsed = parseSqlBody(body, MAX);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.code).toBe(code);
    expect(parsed.message).toMatch(message);
  });

  it('maps every validation code to the status docs/protocol.md gives it', () => {
    expect([ERRORS.INVALID_INPUT.http, ERRORS.INVALID_PARAMETER.http, ERRORS.PAYLOAD_TOO_LARGE.http]).toEqual([400, 400, 413]);
  });
});

describe('parseLoginBody', () => {
  it('accepts username or user', () => {
    expect(parseLoginBody('{"username":"alice","password":"pw"}')).toEqual({ ok: true, value: { username: 'alice', password: 'pw' } });
    expect(parseLoginBody('{"user":"alice","password":"pw"}')).toEqual({ ok: true, value: { username: 'alice', password: 'pw' } });
    expect(parseLoginBody('{"user":"alice","username":"alice","password":"pw"}')).toEqual({ ok: true, value: { username: 'alice', password: 'pw' } });
  });

  it.each([
    ['not JSON', 'user=alice', /^request body is not valid JSON/],
    ['two different names', '{"user":"a","username":"b","password":"pw"}', /either "username" or "user"/],
    ['no name', '{"password":"pw"}', /"username" must be a non-empty string/],
    ['empty name', '{"username":"","password":"pw"}', /"username" must be a non-empty string/],
    ['no password', '{"username":"alice"}', /"password" must be a non-empty string/],
    ['numeric password', '{"username":"alice","password":1234}', /"password" must be a non-empty string/],
    ['huge password', JSON.stringify({ username: 'a', password: 'x'.repeat(1025) }), /password is longer than 1024/],
    ['huge name', JSON.stringify({ username: 'a'.repeat(129), password: 'x' }), /username is longer than 128/],
  ])('refuses %s', (_name, body, message) => {
    const parsed = parseLoginBody(body);
    expect(parsed).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('parseSetupBody', () => {
  it('reads an optional email', () => {
    expect(parseSetupBody('{"username":"root_dba","password":"pw","email":"a@b.c"}')).toEqual({ ok: true, value: { username: 'root_dba', password: 'pw', email: 'a@b.c' } });
    expect(parseSetupBody('{"user":"root_dba","password":"pw"}')).toEqual({ ok: true, value: { username: 'root_dba', password: 'pw', email: null } });
    expect(parseSetupBody('{"user":"root_dba","password":"pw","email":7}')).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
  });
});
