import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, parseStoredHash, SCRYPT_PARAMS, verifyPassword } from './password.js';

describe('hashPassword', () => {
  it('writes scrypt$16384$8$1$<16-byte salt>$<32-byte key>', async () => {
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const parsed = parseStoredHash(stored);
    expect(parsed?.salt.length).toBe(SCRYPT_PARAMS.saltBytes);
    expect(parsed?.key.length).toBe(SCRYPT_PARAMS.keyBytes);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('pw'), hashPassword('pw')]);
    expect(a).not.toBe(b);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('s3cret-ü');
    expect(await verifyPassword('s3cret-ü', stored)).toBe(true);
    expect(await verifyPassword('s3cret-u', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('treats canonically equivalent Unicode spellings as the same password', async () => {
    const stored = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true);
  });

  it('verifies a hash written with other (bounded) parameters, read from the string', async () => {
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
    expect(await verifyPassword('pw', `scrypt$1024$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['plain text', 'pw'],
    ['wrong prefix', 'bcrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['too few parts', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA'],
    ['N not a power of two', 'scrypt$16383$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['N too large', 'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['r zero', 'scrypt$16384$0$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['bad salt alphabet', 'scrypt$16384$8$1$AAAA+AAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['padded key', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['short key', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
  ])('a malformed stored hash (%s) verifies false', async (_name, stored) => {
    expect(await verifyPassword('pw', stored)).toBe(false);
  });
});
