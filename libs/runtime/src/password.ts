// Password hashing shared by storage (CREATE USER, setup) and the gateway (login): scrypt from
// node:crypto, no dependency. Stored format, self-describing so the cost can be raised later
// without invalidating old hashes:
//
//   scrypt$<N>$<r>$<p>$<salt, base64url>$<key, base64url>
//
// New hashes use N=16384, r=8, p=1, a 16-byte random salt and a 32-byte key. Verification reads
// the parameters from the stored string (within sane bounds, so a hostile row cannot make us
// burn memory), compares in constant time, and answers false, never throws, for anything
// malformed.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

const PREFIX = 'scrypt';
const B64URL = /^[A-Za-z0-9_-]+$/;
const DECIMAL = /^[1-9]\d{0,9}$/;
/** Bounds accepted when verifying: up to N=2^20, r=32, p=16, keys of 16..64 bytes. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

interface StoredHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function derive(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** 128·N·r bytes of scrypt memory plus headroom; node's default maxmem (32 MiB) is too small for N=2^20. */
function maxmem(N: number, r: number): number {
  return 128 * N * r * 2 + 1024 * 1024;
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, saltBytes, keyBytes } = SCRYPT_PARAMS;
  const salt = randomBytes(saltBytes);
  const key = await derive(password, salt, keyBytes, { N, r, p, maxmem: maxmem(N, r) });
  return [PREFIX, N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStoredHash(stored);
  if (parsed === undefined) return false;
  let key: Buffer;
  try {
    key = await derive(password, parsed.salt, parsed.key.length, { N: parsed.N, r: parsed.r, p: parsed.p, maxmem: maxmem(parsed.N, parsed.r) });
  } catch {
    return false;
  }
  return timingSafeEqual(key, parsed.key);
}

/** The parts of a stored hash, or undefined when it is not one this module wrote. */
export function parseStoredHash(stored: string): StoredHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6) return undefined;
  const [prefix, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  if (prefix !== PREFIX || !DECIMAL.test(n) || !DECIMAL.test(r) || !DECIMAL.test(p)) return undefined;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  // N must be a power of two above 1 (scrypt's rule).
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || R > MAX_R || P > MAX_P) return undefined;
  const saltBuf = decode(salt);
  const keyBuf = decode(key);
  if (saltBuf === undefined || keyBuf === undefined || saltBuf.length < 8 || keyBuf.length < 16 || keyBuf.length > 64) return undefined;
  return { N, r: R, p: P, salt: saltBuf, key: keyBuf };
}

/** Strict base64url: only the alphabet, and canonical (re-encoding gives the same text). */
function decode(text: string): Buffer | undefined {
  if (!B64URL.test(text)) return undefined;
  const buf = Buffer.from(text, 'base64url');
  return buf.toString('base64url') === text ? buf : undefined;
}
