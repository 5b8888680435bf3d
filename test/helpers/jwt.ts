import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const ISSUER = 'https://idp.example.test';
export const AUDIENCE = 'ws-mqtt-gateway';

export interface IssuerKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  /** The public half as it appears in the JWKS. */
  jwk: JWK;
}

export async function newIssuerKey(alg: IssuerKey['alg'], kid: string): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A device JWT: iss, aud, sub and exp (in 5 min) unless `claims` says otherwise (undefined removes a claim). */
export function signJwt(key: IssuerKey, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

/** A JWKS served over plain HTTP on 127.0.0.1 by the test, with keys it can change at any time. */
export class TestJwks {
  keys: JWK[] = [];
  /** JWKS requests served so far. */
  requests = 0;
  #held: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(keys: IssuerKey[], port = 0): Promise<TestJwks> {
    let jwks: TestJwks | undefined;
    const server = createServer(async (_req, res) => {
      await jwks!.#held;
      jwks!.requests++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: jwks!.keys }));
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    jwks = new TestJwks(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
    jwks.keys = keys.map((key) => key.jwk);
    return jwks;
  }

  /** Requests from now on wait for the returned release (a slow identity provider). */
  hold(): () => void {
    let release!: () => void;
    this.#held = new Promise((resolve) => (release = resolve));
    return () => {
      this.#held = undefined;
      release();
    };
  }

  async stop(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }
}

/** A loopback port nothing listens on (for a JWKS that is down), free at the time of the call. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
