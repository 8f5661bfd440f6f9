import { describe, expect, it } from 'vitest';
import { bearerToken, clientKey, expandIpv6, isLoopback, parseCookies, serializeCookie } from './credentials.js';

describe('bearerToken', () => {
  it.each([
    [undefined, { kind: 'none' }],
    ['', { kind: 'none' }],
    ['Bearer abc.def.ghi', { kind: 'bearer', token: 'abc.def.ghi' }],
    ['bearer  abc ', { kind: 'bearer', token: 'abc' }],
    ['Bearer', { kind: 'malformed', message: 'Authorization: Bearer needs a token' }],
    ['Basic YWxpY2U6cHc=', { kind: 'malformed', message: 'Authorization must use the Bearer scheme' }],
    ['Bearer a b', { kind: 'malformed', message: 'Authorization must use the Bearer scheme' }],
  ])('%j', (header, expected) => {
    expect(bearerToken(header)).toEqual(expected);
  });
});

describe('parseCookies', () => {
  it('reads name=value pairs, trimmed, first occurrence winning', () => {
    const cookies = parseCookies('a=1; seqline_refresh=tok.en.x ;b="quoted"; a=2; broken; =nameless; c=%7Bx%7D; d=%E0%A4%A');
    expect([...cookies]).toEqual([
      ['a', '1'],
      ['seqline_refresh', 'tok.en.x'],
      ['b', 'quoted'],
      ['c', '{x}'],
      ['d', '%E0%A4%A'],
    ]);
  });

  it('is empty without a header', () => {
    expect(parseCookies(undefined).size).toBe(0);
  });
});

describe('serializeCookie', () => {
  it('writes an HttpOnly, SameSite=Strict cookie', () => {
    expect(serializeCookie('seqline_refresh', 'a.b.c', { path: '/v1/api/auth', maxAgeS: 604800, secure: false })).toBe(
      'seqline_refresh=a.b.c; Path=/v1/api/auth; Max-Age=604800; HttpOnly; SameSite=Strict',
    );
  });

  it('deletes with Max-Age=0 and a past Expires, Secure when asked', () => {
    expect(serializeCookie('seqline_refresh', '', { path: '/v1/api/auth', maxAgeS: 0, secure: true })).toBe(
      'seqline_refresh=; Path=/v1/api/auth; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict; Secure',
    );
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.1.2', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.9', true],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::2', false],
    ['fe80::1', false],
    ['1::1', false],
    ['localhost', false],
    [undefined, false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('clientKey', () => {
  it('keys IPv4 by address and IPv6 by /64 prefix', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb::9')).toBe('2001:db8:1:2::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });
});

describe('expandIpv6', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['fe80::1%eth0', [0xfe80, 0, 0, 0, 0, 0, 0, 1]],
    ['::ffff:1.2.3.4', [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]],
    ['1::2::3', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1.2.3.4', undefined],
    ['::ffff:1.2.3.400', undefined],
  ])('%s', (address, expected) => {
    expect(expandIpv6(address)).toEqual(expected);
  });
});
