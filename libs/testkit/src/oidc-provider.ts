// A local OIDC provider for tests: a real HTTP server on a free port of 127.0.0.1 that serves
// its discovery document (/.well-known/openid-configuration) and its JWKS (/jwks), and signs
// access tokens with its keys (jose). Keys can be added and withdrawn while it runs (a
// rotation), the JWKS can be made to fail (a provider that is down), and it counts the JWKS
// requests it answered, so a test can tell how often a verifier fetched.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

export type OidcKeyAlg = 'RS256' | 'ES256';

export interface OidcTokenOptions {
  /** The signing key (default: the newest key). */
  readonly kid?: string;
  /** `iat`, seconds since the epoch (default now); `exp` is iat + ttlS unless the claims give one. */
  readonly nowS?: number;
  readonly ttlS?: number;
}

export interface OidcProvider extends AsyncDisposable {
  /** http://127.0.0.1:<port>: the `iss` of its tokens. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** JWKS requests answered so far (failed ones included). */
  readonly jwksRequests: number;
  /** While true, the JWKS answers 500. */
  failing: boolean;
  /** A new signing key, published in the JWKS from now on; its kid. */
  addKey(alg: OidcKeyAlg): Promise<string>;
  /** Withdraws a key from the JWKS (it can still sign tokens). */
  removeKey(kid: string): void;
  /** The public key as PEM (SPKI), e.g. to forge an HS256 token "signed" with it. */
  publicKeyPem(kid: string): Promise<string>;
  /** An access token with `claims` (iss is the provider's unless given) signed by a key of this provider. */
  token(claims: JWTPayload, options?: OidcTokenOptions): Promise<string>;
  close(): Promise<void>;
}

interface Key {
  readonly kid: string;
  readonly alg: OidcKeyAlg;
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  readonly jwk: JWK;
}

export async function startOidcProvider(): Promise<OidcProvider> {
  const keys: Key[] = [];
  const published = new Set<string>();
  let jwksRequests = 0;
  let nextKid = 0;
  const state = { failing: false };
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') return send(200, { issuer, jwks_uri: `${issuer}/jwks` });
    if (req.url !== '/jwks') return send(404, { error: 'not found' });
    jwksRequests += 1;
    if (state.failing) return send(500, { error: 'down' });
    send(200, { keys: keys.filter((k) => published.has(k.kid)).map((k) => k.jwk) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const find = (kid: string | undefined): Key => {
    const key = kid === undefined ? keys.at(-1) : keys.find((k) => k.kid === kid);
    if (key === undefined) throw new Error(`no key ${kid ?? '(none yet)'}`);
    return key;
  };
  const close = async (): Promise<void> => {
    if (!server.listening) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    get jwksRequests() {
      return jwksRequests;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    async addKey(alg) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `k${++nextKid}-${alg}`;
      keys.push({ kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
      published.add(kid);
      return kid;
    },
    removeKey(kid) {
      published.delete(kid);
    },
    publicKeyPem: (kid) => exportSPKI(find(kid).publicKey),
    async token(claims, options = {}) {
      const key = find(options.kid);
      const iat = options.nowS ?? Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: issuer, iat, exp: iat + (options.ttlS ?? 300), ...claims };
      return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
