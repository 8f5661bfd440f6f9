// A provider's signing keys (its JWKS), fetched over HTTP and kept, for jose's jwtVerify.
//
//   first use     fetch (the jwks_uri, or discovery's: <issuer>/.well-known/openid-configuration
//                 names it and must name the same issuer)
//   unknown kid   the provider rotated its keys: fetch again, then look once more
//   max age       keys older than this are fetched again on the next use (a key the provider
//                 withdrew stops working within it)
//   cooldown      at most one fetch per cooldown, whatever asks: a flood of tokens with made-up
//                 kids costs the provider one request per cooldown, not one per token; a fetch
//                 that fails counts too (a provider that is down is not hammered either)
//
// Fetches are single-flight (every look-up waiting for keys shares the one fetch), bounded in
// time and size, and never throw to the verifier: without keys, a look-up fails with
// UNAVAILABLE ('the provider's keys could not be fetched'); with keys, a failed refresh keeps
// the keys it had. The clock is injected (monotonic ms), so tests pin the cooldown exactly.
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { ProtocolError } from '@seqline/protocol';
import { providerUrl } from './oidc-config.js';

export interface JwksOptions {
  readonly issuer: string;
  /** The JWKS URL; undefined = discovered from the issuer. */
  readonly jwksUri: URL | undefined;
  /** Monotonic ms. */
  readonly now: () => number;
  readonly cooldownMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  /** Largest JWKS or discovery document read. */
  readonly maxBytes?: number;
  readonly fetch?: typeof fetch;
  /** Told why a fetch failed (the gateway logs it). */
  readonly onError?: (err: unknown) => void;
}

type GetKeyArgs = Parameters<JWTVerifyGetKey>;

export class JwksCache {
  readonly #o: JwksOptions;
  #keys: JWTVerifyGetKey | undefined;
  #fetchedAt: number | undefined;
  #lastAttempt: number | undefined;
  #inflight: Promise<boolean> | undefined;
  #jwksUri: URL | undefined;
  /** Fetches started (for tests and logs). */
  fetches = 0;

  constructor(options: JwksOptions) {
    this.#o = options;
    this.#jwksUri = options.jwksUri;
  }

  /** The key for a token's header: jose's getKey. */
  readonly getKey = async (...[header, token]: GetKeyArgs): Promise<KeyLike | Uint8Array | JWK> => {
    const now = this.#o.now();
    if (this.#keys === undefined || (this.#fetchedAt !== undefined && now - this.#fetchedAt >= this.#o.maxAgeMs)) await this.#refresh();
    const keys = this.#keys;
    if (keys === undefined) throw new ProtocolError('UNAVAILABLE', "the identity provider's keys could not be fetched; retry");
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !(await this.#refresh())) throw err;
      return this.#keys!(header, token);
    }
  };

  /** Fetches the keys unless the cooldown forbids it; true when new keys were loaded. */
  #refresh(): Promise<boolean> {
    if (this.#inflight !== undefined) return this.#inflight;
    const now = this.#o.now();
    if (this.#lastAttempt !== undefined && now - this.#lastAttempt < this.#o.cooldownMs) return Promise.resolve(false);
    this.#lastAttempt = now;
    const inflight = this.#load().then(
      (keys) => {
        this.#keys = keys;
        this.#fetchedAt = this.#o.now();
        return true;
      },
      // Keep the keys we had; without any, the look-up answers UNAVAILABLE.
      (err: unknown) => {
        this.#o.onError?.(err);
        return false;
      },
    );
    this.#inflight = inflight;
    void inflight.then(() => {
      if (this.#inflight === inflight) this.#inflight = undefined;
    });
    return inflight;
  }

  async #load(): Promise<JWTVerifyGetKey> {
    this.fetches += 1;
    const uri = this.#jwksUri ?? (this.#jwksUri = await this.#discover());
    const jwks = await this.#json(uri);
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) throw new Error(`${uri.href} is not a JWK set`);
    return createLocalJWKSet(jwks as JSONWebKeySet);
  }

  async #discover(): Promise<URL> {
    const base = this.#o.issuer.endsWith('/') ? this.#o.issuer : `${this.#o.issuer}/`;
    const doc = (await this.#json(new URL('.well-known/openid-configuration', base))) as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (doc?.issuer !== this.#o.issuer) throw new Error(`the discovery document of ${this.#o.issuer} names another issuer`);
    if (typeof doc.jwks_uri !== 'string') throw new Error(`the discovery document of ${this.#o.issuer} has no jwks_uri`);
    return providerUrl(doc.jwks_uri, `the jwks_uri of ${this.#o.issuer}'s discovery document`);
  }

  async #json(url: URL): Promise<unknown> {
    const res = await (this.#o.fetch ?? fetch)(url, { signal: AbortSignal.timeout(this.#o.timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`${url.href} answered ${res.status}`);
    if (Number(res.headers.get('content-length') ?? 0) > (this.#o.maxBytes ?? 1024 * 1024)) throw new Error(`${url.href} is too large`);
    const text = await res.text();
    if (Buffer.byteLength(text) > (this.#o.maxBytes ?? 1024 * 1024)) throw new Error(`${url.href} is too large`);
    return JSON.parse(text) as unknown;
  }
}
