// Reading who is calling from an HTTP request: the Authorization header, cookies (RFC 6265)
// and the peer address. The refresh cookie is HttpOnly + SameSite=Strict and scoped to the
// auth routes, so scripts cannot read it and other sites cannot make a browser send it.
//
// The peer address is the socket's: X-Forwarded-For is not trusted, since any client can
// write it. Behind a proxy every client has the proxy's address; "localhost only" then means
// "from the gateway's own host", which is still the safe reading.

export type BearerResult = { readonly kind: 'none' } | { readonly kind: 'bearer'; readonly token: string } | { readonly kind: 'malformed'; readonly message: string };

/** `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235). */
export function bearerToken(header: string | undefined): BearerResult {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const match = /^\s*(\S+)(?:\s+(\S*))?\s*$/.exec(header);
  if (match === null || match[1]!.toLowerCase() !== 'bearer') return { kind: 'malformed', message: 'Authorization must use the Bearer scheme' };
  const token = match[2] ?? '';
  return token === '' ? { kind: 'malformed', message: 'Authorization: Bearer needs a token' } : { kind: 'bearer', token };
}

/** Cookie header → name → value. The first occurrence of a name wins (the most specific path). */
export function parseCookies(header: string | undefined): ReadonlyMap<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    cookies.set(name, decode(value));
  }
  return cookies;
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface CookieOptions {
  readonly path: string;
  /** Seconds; 0 deletes the cookie. */
  readonly maxAgeS: number;
  readonly secure: boolean;
}

/** A Set-Cookie value: HttpOnly and SameSite=Strict always. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeS))}`];
  if (options.maxAgeS <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  parts.push('HttpOnly', 'SameSite=Strict');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:1.2.3.4), else the address as is. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/** 127.0.0.0/8 and ::1 (also written out, or IPv4-mapped). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = normalizeAddress(address);
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)) return true;
  const groups = expandIpv6(a);
  return groups !== undefined && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
}

/**
 * The key a client is rate limited under: its IPv4 address, or the /64 prefix of its IPv6
 * address (one host usually owns a whole /64, and could otherwise rotate through it).
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const a = normalizeAddress(address);
  const groups = expandIpv6(a);
  if (groups === undefined) return a;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when `a` is not one. */
export function expandIpv6(a: string): number[] | undefined {
  const address = a.split('%', 1)[0]!; // zone id (fe80::1%eth0)
  if (!address.includes(':') || !/^[0-9a-f:.]+$/i.test(address)) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (/^\d{1,3}(\.\d{1,3}){3}$/.test(part)) {
        const [b0, b1, b2, b3] = part.split('.').map(Number) as [number, number, number, number];
        if ([b0, b1, b2, b3].some((b) => b > 255)) return undefined;
        out.push((b0 << 8) | b1, (b2 << 8) | b3);
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) out.push(parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  return fill < 1 ? undefined : [...head, ...new Array<number>(fill).fill(0), ...tail];
}
