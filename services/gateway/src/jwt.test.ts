import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JwtCodec } from './jwt.js';

const SECRET = 'a-test-secret-that-is-at-least-32-chars';
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0); // ms

function codecAt(ms: { now: number }): JwtCodec {
  return new JwtCodec(SECRET, () => ms.now);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function forge(header: unknown, payload: unknown, key = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

describe('JwtCodec.sign', () => {
  it('writes an HS256 token with exactly sub, role, token_type, iat, exp and cv', () => {
    const { token, claims } = codecAt({ now: T0 + 999 }).sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 3600);
    const [header, payload] = token.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const iat = T0 / 1000;
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toEqual({ sub: 'alice', role: 'user', token_type: 'access', iat, exp: iat + 3600, cv: 1 });
    expect(claims).toEqual({ sub: 'alice', role: 'user', token_type: 'access', iat, exp: iat + 3600, cv: 1 });
  });

  it('writes a refresh token with its family and id', () => {
    const { token, claims } = codecAt({ now: T0 }).sign({ sub: 'alice', role: 'user', cv: 7, refresh: { fam: 'fam-A', jti: 'jti_B' } }, 'refresh', 60);
    const iat = T0 / 1000;
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toEqual({ sub: 'alice', role: 'user', token_type: 'refresh', iat, exp: iat + 60, cv: 7, fam: 'fam-A', jti: 'jti_B' });
    expect(codecAt({ now: T0 }).verify(token, 'refresh')).toEqual({ ok: true, claims });
  });

  it('refuses to sign a refresh token without family and id, or an access token with them', () => {
    const codec = codecAt({ now: T0 });
    expect(() => codec.sign({ sub: 'alice', role: 'user', cv: 1 }, 'refresh', 60)).toThrow('a refresh token, and only a refresh token');
    expect(() => codec.sign({ sub: 'alice', role: 'user', cv: 1, refresh: { fam: 'f', jti: 'j' } }, 'access', 60)).toThrow('a refresh token, and only a refresh token');
  });

  it('signs like any HS256 implementation (RFC 7515 signing input)', () => {
    const { token } = codecAt({ now: T0 }).sign({ sub: 'bob', role: 'dba', cv: 1, refresh: { fam: 'fam1', jti: 'jti1' } }, 'refresh', 60);
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(s).toBe(createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'));
  });
});

describe('JwtCodec.verify', () => {
  it('accepts its own token of the expected type until exp', () => {
    const clock = { now: T0 };
    const codec = codecAt(clock);
    const { token, claims } = codec.sign({ sub: 'alice', role: 'service', cv: 1 }, 'access', 10);
    expect(codec.verify(token, 'access')).toEqual({ ok: true, claims });
    clock.now = T0 + 9_999;
    expect(codec.verify(token, 'access').ok).toBe(true);
  });

  it('is TOKEN_EXPIRED from exp on (to the second)', () => {
    const clock = { now: T0 };
    const codec = codecAt(clock);
    const { token } = codec.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 10);
    clock.now = T0 + 10_000;
    expect(codec.verify(token, 'access')).toEqual({ ok: false, code: 'TOKEN_EXPIRED', message: 'token expired' });
  });

  it('checks the type and exp of a token it verified before, every time', () => {
    const clock = { now: T0 };
    const codec = codecAt(clock);
    const { token, claims } = codec.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 10);
    for (let i = 0; i < 3; i++) expect(codec.verify(token, 'access')).toEqual({ ok: true, claims });
    expect(codec.verify(token, 'refresh')).toEqual({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
    clock.now = T0 + 10_000;
    expect(codec.verify(token, 'access')).toEqual({ ok: false, code: 'TOKEN_EXPIRED', message: 'token expired' });
    // One character more or less is another token, checked from scratch.
    expect(codec.verify(`${token}A`, 'access')).toEqual({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
    expect(codec.verify(token.slice(0, -1), 'access')).toEqual({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
  });

  it('refuses a token of the other type', () => {
    const codec = codecAt({ now: T0 });
    const refresh = codec.sign({ sub: 'alice', role: 'user', cv: 1, refresh: { fam: 'fam1', jti: 'jti1' } }, 'refresh', 60).token;
    const access = codec.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 60).token;
    expect(codec.verify(refresh, 'access')).toEqual({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
    expect(codec.verify(access, 'refresh')).toEqual({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
  });

  it('refuses a tampered payload and a tampered signature', () => {
    const codec = codecAt({ now: T0 });
    const [h, p, s] = codec.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 60).token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const elevated = b64({ ...claims, role: 'system' });
    expect(codec.verify(`${h}.${elevated}.${s}`, 'access').ok).toBe(false);
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(codec.verify(`${h}.${p}.${flipped}`, 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('refuses a token signed with another key', () => {
    const other = new JwtCodec('another-secret-that-is-32-characters-long', () => T0);
    const token = other.sign({ sub: 'alice', role: 'user', cv: 1 }, 'access', 60).token;
    expect(codecAt({ now: T0 }).verify(token, 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('refuses alg none and other algorithms, even with a valid HS256 MAC', () => {
    const payload = { sub: 'alice', role: 'dba', token_type: 'access', iat: T0 / 1000, exp: T0 / 1000 + 60, cv: 1 };
    const codec = codecAt({ now: T0 });
    expect(codec.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`, 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(codec.verify(forge({ alg: 'none' }, payload), 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(codec.verify(forge({ alg: 'HS512' }, payload), 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(codec.verify(forge({ alg: 'HS256', crit: ['x'] }, payload), 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(codec.verify(forge({ alg: 'HS256', typ: 'JWT' }, payload), 'access').ok).toBe(true);
  });

  it('checks an expired but forged token as invalid, not expired', () => {
    const payload = { sub: 'alice', role: 'dba', token_type: 'access', iat: 0, exp: 1, cv: 1 };
    expect(codecAt({ now: T0 }).verify(forge({ alg: 'HS256' }, payload, 'wrong-key-wrong-key-wrong-key-wrong'), 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(codecAt({ now: T0 }).verify(forge({ alg: 'HS256' }, payload), 'access')).toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['four parts', 'a.b.c.d'],
    ['not base64url', 'a+b.c.d'],
    ['padded', `${b64({ alg: 'HS256' })}=.e30.x`],
    ['huge', 'a'.repeat(5000)],
  ])('refuses a malformed token (%s)', (_name, token) => {
    expect(codecAt({ now: T0 }).verify(token, 'access')).toEqual({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid token' });
  });

  it.each([
    ['missing sub', { role: 'user', token_type: 'access', iat: 1, exp: 2e9 }],
    ['empty sub', { sub: '', role: 'user', token_type: 'access', iat: 1, exp: 2e9 }],
    ['unknown role', { sub: 'a', role: 'root', token_type: 'access', iat: 1, exp: 2e9 }],
    ['unknown type', { sub: 'a', role: 'user', token_type: 'id', iat: 1, exp: 2e9 }],
    ['string exp', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: '2000000000' }],
    ['fractional exp', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: 2e9 + 0.5 }],
    ['exp before iat', { sub: 'a', role: 'user', token_type: 'access', iat: 2e9 + 1, exp: 2e9 }],
    ['an array', [1, 2]],
    ['missing cv (a token of before credential versions)', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: 2e9 }],
    ['string cv', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: 2e9, cv: '1' }],
    ['negative cv', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: 2e9, cv: -1 }],
    ['an access token with a family', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: 2e9, cv: 1, fam: 'f' }],
    ['an access token with an id', { sub: 'a', role: 'user', token_type: 'access', iat: 1, exp: 2e9, cv: 1, jti: 'j' }],
  ])('refuses correctly signed claims of the wrong shape (%s)', (_name, payload) => {
    expect(codecAt({ now: T0 }).verify(forge({ alg: 'HS256', typ: 'JWT' }, payload), 'access')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it.each([
    ['no family', { sub: 'a', role: 'user', token_type: 'refresh', iat: 1, exp: 2e9, cv: 1, jti: 'j' }],
    ['no id', { sub: 'a', role: 'user', token_type: 'refresh', iat: 1, exp: 2e9, cv: 1, fam: 'f' }],
    ['a numeric id', { sub: 'a', role: 'user', token_type: 'refresh', iat: 1, exp: 2e9, cv: 1, fam: 'f', jti: 5 }],
    ['an id with a dot', { sub: 'a', role: 'user', token_type: 'refresh', iat: 1, exp: 2e9, cv: 1, fam: 'f', jti: 'a.b' }],
    ['a 65-character family', { sub: 'a', role: 'user', token_type: 'refresh', iat: 1, exp: 2e9, cv: 1, fam: 'f'.repeat(65), jti: 'j' }],
    ['no cv', { sub: 'a', role: 'user', token_type: 'refresh', iat: 1, exp: 2e9, fam: 'f', jti: 'j' }],
  ])('refuses a correctly signed refresh token of the wrong shape (%s)', (_name, payload) => {
    expect(codecAt({ now: T0 }).verify(forge({ alg: 'HS256', typ: 'JWT' }, payload), 'refresh')).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });
});
