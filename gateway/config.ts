import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { ConfigError } from './errors.js';
import type { HttpAuthMode } from './http/basic-auth.js';
import type { LogFormat, LogLevel } from './log.js';

export interface GatewayConfig {
  dataDir: string;
  dev: boolean;
  log: { level: LogLevel; format: LogFormat };
  ws: { host: string; port: number; backlog: number; tlsOffload: boolean };
  mqtt: {
    host: string;
    port: number;
    tlsPort: number | null;
    topicRoot: string;
    drainTimeoutMs: number;
    writeBufferBytes: number;
    authConcurrency: number;
    authQueue: number;
    maxSessionQueue: number;
    sessionExpiryMs: number;
  };
  http: { host: string; port: number; auth: HttpAuthMode };
  tls: { cert?: string; key?: string };
  auth: { timeoutMs: number; jwt?: JwtConfig };
  devices: { sessionPolicy: 'takeover' | 'multi'; heartbeatMs: number };
  limits: {
    maxFrameBytes: number;
    messagesPerSec: number;
    burst: number;
    refusalsPerSec: number;
    refusalBurst: number;
    deadLettersPerSec: number;
    maxInFlight: number;
    maxInFlightTotal: number;
    maxBufferedBytes: number;
    maxPendingHandshakes: number;
  };
  models: { dir?: string };
  commands: { defaultTtlMs: number; maxTtlMs: number; resultTimeoutMs: number; maxQueuePerDevice: number; startupReportDelayMs: number };
  /** Set: several gateway nodes share one fleet through this Redis (docs/scale-out.md). */
  cluster: { redis?: string };
}

/** auth.jwt: device JWTs checked against an issuer's keys, beside per-device tokens. */
export interface JwtConfig {
  issuer: string;
  audience: string;
  /** Filled in by loadConfig when absent: asymmetric ones, or HS256 with secretFile. */
  algorithms: string[];
  jwksUrl?: string;
  jwksFile?: string;
  secretFile?: string;
  clockToleranceSec: number;
  deviceClaim: string;
  modelClaim: string;
  requireRegistered: boolean;
  cacheMaxAgeMs: number;
  refreshCooldownMs: number;
}

export const CONFIG_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/config.schema.json', import.meta.url));
export const configSchema = JSON.parse(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;

const checkConfig = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile<GatewayConfig>(configSchema);

/** Validates merged config once, at startup, filling defaults; messages name the bad key. */
export function loadConfig(raw: unknown, source: string): Readonly<GatewayConfig> {
  const config = structuredClone(raw ?? {});
  if (!checkConfig(config)) {
    const lines = (checkConfig.errors ?? []).map((e) => {
      const params = e.params as { additionalProperty?: string };
      const key = `${e.instancePath.slice(1).replaceAll('/', '.')}${params.additionalProperty ? `${e.instancePath ? '.' : ''}${params.additionalProperty}` : ''}`;
      return `  ${key || '(root)'}: ${e.message}`;
    });
    throw new ConfigError(`Invalid config (${source}):\n${lines.join('\n')}`);
  }
  // A fixed default burst would let a device configured for 5 msg/s send 200 at once.
  config.limits.burst ??= Math.max(1, Math.ceil(2 * config.limits.messagesPerSec));
  if (config.commands.defaultTtlMs > config.commands.maxTtlMs) {
    throw new ConfigError(`Invalid config (${source}): commands.defaultTtlMs must not exceed commands.maxTtlMs`);
  }
  if ((config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    throw new ConfigError(`Invalid config (${source}): tls.cert and tls.key go together; set both or neither`);
  }
  if (config.auth.jwt) checkJwtConfig(config.auth.jwt, source);
  return deepFreeze(config);
}

const ASYMMETRIC_DEFAULT = ['ES256', 'RS256', 'EdDSA'];
// Local identity providers and tests serve their JWKS over plain HTTP on this machine;
// anywhere else a JWKS fetched without TLS could be swapped for an attacker's keys.
const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

function checkJwtConfig(jwt: JwtConfig, source: string): void {
  const invalid = (why: string) => new ConfigError(`Invalid config (${source}): auth.jwt.${why}`);
  const sources = (['jwksUrl', 'jwksFile', 'secretFile'] as const).filter((key) => jwt[key] !== undefined);
  if (sources.length !== 1) {
    throw invalid(`jwksUrl, jwksFile and secretFile: set exactly one (got ${sources.length === 0 ? 'none' : sources.join(', ')})`);
  }
  jwt.algorithms ??= jwt.secretFile === undefined ? [...ASYMMETRIC_DEFAULT] : ['HS256'];
  const hmac = jwt.algorithms.filter((alg) => alg.startsWith('HS'));
  // A verifier that accepts HS256 with a JWKS would take the issuer's public key as the
  // HMAC secret, and anyone can sign with a public key.
  if (jwt.secretFile === undefined && hmac.length > 0) {
    throw invalid(`algorithms: ${hmac.join(', ')} need auth.jwt.secretFile; keys from a JWKS are used with asymmetric algorithms only`);
  }
  if (jwt.secretFile !== undefined && hmac.length !== jwt.algorithms.length) {
    throw invalid('algorithms: with secretFile only HS256, HS384 and HS512 apply; use jwksUrl or jwksFile for asymmetric keys');
  }
  if (jwt.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(jwt.jwksUrl);
    } catch {
      throw invalid(`jwksUrl: ${jwt.jwksUrl} is not a URL`);
    }
    if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.test(url.hostname)) {
      throw invalid('jwksUrl: must be https:// (plain http:// only to a loopback host such as 127.0.0.1)');
    }
  }
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) deepFreeze(child);
  return Object.freeze(value);
}
