import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  errors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
  type LocalJWKSet,
} from 'jose';
import type { JwtConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

/** What device JWTs are checked with: the HMAC secret, or a resolver over the issuer's JWKS. */
export type VerificationKey = Uint8Array | JWTVerifyGetKey;

export interface IssuerKeys {
  key: VerificationKey;
  /** Aborts a JWKS load still under way, so a stopping gateway does not wait for it. */
  close(): void;
}

/**
 * Thrown to jose by the key resolver while no JWKS has loaded yet (jose's key
 * resolvers report by throwing); verify-jwt turns it into `jwks_unavailable`.
 */
export class JwksUnavailable extends Error {
  override name = 'JwksUnavailable';
}

// An HMAC secret shorter than the SHA-256 output gives HS256 less strength than its name says.
const MIN_SECRET_BYTES = 32;

/**
 * Loads what auth.jwt verifies with, at startup. A secret or JWKS file that cannot be
 * read stops the start (ConfigError); a JWKS URL is only fetched, in the background,
 * so the gateway starts while the identity provider is down.
 */
export function loadIssuerKeys(config: JwtConfig, options: { timeoutMs: number; log: Logger }): IssuerKeys {
  if (config.secretFile !== undefined) return { key: readSecret(config.secretFile), close: () => undefined };
  const cache = { cacheMaxAgeMs: config.cacheMaxAgeMs, refreshCooldownMs: config.refreshCooldownMs, log: options.log };
  if (config.jwksFile !== undefined) {
    const file = config.jwksFile;
    const jwks = new Jwks((signal) => readFile(file, { encoding: 'utf8', signal }).then(JSON.parse), { ...cache, source: file });
    jwks.prime(readJwksFile(file));
    return jwks;
  }
  const url = config.jwksUrl!;
  const { origin, pathname } = new URL(url);
  const jwks = new Jwks((signal) => fetchJwks(url, AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)])), {
    ...cache,
    // The path is enough to tell which JWKS; a query string may carry an access key.
    source: `${origin}${pathname}`,
  });
  void jwks.refresh();
  return jwks;
}

interface JwksOptions {
  cacheMaxAgeMs: number;
  refreshCooldownMs: number;
  /** Names the JWKS in log lines. */
  source: string;
  log: Logger;
}

/**
 * The issuer's public keys, cached. They are reloaded when older than cacheMaxAgeMs
 * and when a JWT names a `kid` they lack (the issuer may have rotated), but never
 * twice within refreshCooldownMs, failed loads included: neither a stream of made-up
 * kids nor a down identity provider makes the gateway fetch in a loop. When a reload
 * fails the keys last loaded stay in use; before the first load succeeds, every JWT
 * fails with jwks_unavailable and per-device tokens work as ever.
 */
class Jwks implements IssuerKeys {
  #keys: LocalJWKSet | undefined;
  #loadedAt = -Infinity;
  #triedAt = -Infinity;
  #loading: Promise<boolean> | undefined;
  readonly #stopped = new AbortController();

  constructor(
    private readonly load: (signal: AbortSignal) => Promise<unknown>,
    private readonly options: JwksOptions,
  ) {}

  readonly key: JWTVerifyGetKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    if (Date.now() - this.#loadedAt >= this.options.cacheMaxAgeMs) await this.refresh();
    const keys = this.#keys;
    if (!keys) throw new JwksUnavailable();
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !(await this.refresh())) throw err;
      return this.#keys!(header, token);
    }
  };

  /** Uses keys read at startup. */
  prime(keys: LocalJWKSet): void {
    this.#keys = keys;
    this.#loadedAt = this.#triedAt = Date.now();
  }

  /** Loads the JWKS unless a load is under way (then shares it) or the last began within the cooldown; true when new keys are in. */
  refresh(): Promise<boolean> {
    if (this.#loading) return this.#loading;
    if (Date.now() - this.#triedAt < this.options.refreshCooldownMs) return Promise.resolve(false);
    this.#triedAt = Date.now();
    const loading = this.#load().finally(() => {
      if (this.#loading === loading) this.#loading = undefined;
    });
    this.#loading = loading;
    return loading;
  }

  close(): void {
    this.#stopped.abort();
  }

  async #load(): Promise<boolean> {
    try {
      const keys = createLocalJWKSet((await this.load(this.#stopped.signal)) as JSONWebKeySet);
      this.prime(keys);
      this.options.log.info('JWKS loaded', { jwks: this.options.source, keys: keys.jwks().keys.length });
      return true;
    } catch (err) {
      if (!this.#stopped.signal.aborted) {
        const error = err instanceof Error ? err.message : String(err);
        this.options.log.warn('JWKS could not be loaded; JWT auth uses the keys last loaded, if any', { reason: 'jwks_unavailable', jwks: this.options.source, error });
      }
      return false;
    }
  }
}

async function fetchJwks(url: string, signal: AbortSignal): Promise<unknown> {
  // No redirects: a redirect could lead from https:// to a server the config never named.
  const response = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/jwk-set+json, application/json' } });
  if (response.status !== 200) throw new Error(`HTTP ${response.status} from the JWKS URL`);
  return response.json();
}

function readJwksFile(file: string): LocalJWKSet {
  try {
    return createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')) as JSONWebKeySet);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`auth.jwt.jwksFile ${file} is not a readable JWKS: ${why}`);
  }
}

function readSecret(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ConfigError(`Cannot read auth.jwt.secretFile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Files written by `echo` or an editor end in a newline that is not part of the secret.
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) end -= bytes[end - 2] === 0x0d ? 2 : 1;
  const secret = bytes.subarray(0, end);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`auth.jwt.secretFile ${file} holds ${secret.length} bytes; an HMAC secret needs at least ${MIN_SECRET_BYTES}`);
  }
  return new Uint8Array(secret);
}
