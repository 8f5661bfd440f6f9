// Idempotency keys where crypto.randomUUID does not exist: a page served over plain http from a
// LAN address is not a secure context, and browsers give it crypto.getRandomValues alone.
import { webcrypto } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomKey } from './client.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('randomKey', () => {
  it('uses crypto.randomUUID when the context has it', () => {
    vi.stubGlobal('crypto', { randomUUID: () => '11111111-2222-4333-8444-555555555555', getRandomValues: () => expect.fail('not used') });
    expect(randomKey()).toBe('11111111-2222-4333-8444-555555555555');
  });

  it('builds a version 4 UUID from getRandomValues in an insecure context', () => {
    vi.stubGlobal('crypto', { getRandomValues: <T extends ArrayBufferView>(a: T): T => webcrypto.getRandomValues(a as never) });
    const keys = Array.from({ length: 1_000 }, () => randomKey());
    expect(keys.filter((k) => !UUID_V4.test(k))).toEqual([]);
    expect(new Set(keys).size).toBe(1_000);
  });

  it('sets the version and variant bits whatever the random bytes are', () => {
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a.fill(0xff) });
    expect(randomKey()).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a.fill(0) });
    expect(randomKey()).toBe('00000000-0000-4000-8000-000000000000');
  });
});
