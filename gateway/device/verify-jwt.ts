import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { JwtConfig } from '../config.js';
import { ok } from '../errors.js';
import type { DeviceRegistry } from '../registry/devices.js';
import { isValidDeviceId } from '../topics.js';
import type { Authenticated } from './authenticate.js';
import { JwksUnavailable, type VerificationKey } from './jwks.js';

/**
 * Why a JWT was refused. Log only: the device is closed with 4401 `unauthorized`
 * whatever the reason, so an attacker does not learn which check failed. Each has
 * a row in docs/auth.md (test/errors-documented.test.ts checks both directions).
 */
export const JWT_REFUSALS = [
  'malformed_token',
  'alg_not_allowed',
  'unknown_key',
  'bad_signature',
  'token_expired',
  'token_not_yet_valid',
  'claim_mismatch',
  'bad_device_id',
  'unregistered_device',
  'device_revoked',
  'unknown_model',
  'jwks_unavailable',
  'verification_failed',
] as const;

export type JwtRefusal = (typeof JWT_REFUSALS)[number];

export type JwtOutcome =
  | { ok: true; value: Authenticated }
  /** `claim` names the claim that failed (never its value); `device` is set once the signature held. */
  | { ok: false; reason: JwtRefusal; claim?: string; device?: string; error?: string };

export type VerifyJwt = (token: string) => Promise<JwtOutcome>;

// Per-device tokens are `wmg_` and base64url, without dots; a JWS compact JWT is three
// base64url parts joined by dots (an `alg: none` one has an empty third part).
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a presented credential is a JWT rather than a per-device token. */
export function isJwtShaped(token: string): boolean {
  return JWT_SHAPE.test(token);
}

export interface VerifierOptions {
  registry: DeviceRegistry;
  /** Models the gateway has schemas for. */
  models: readonly string[];
}

/**
 * Checks a device JWT: signature with the key its `kid` names (or the HMAC secret),
 * `alg` in auth.jwt.algorithms, `iss`, `aud`, `exp` (required) and `nbf`; then the
 * device id from auth.jwt.deviceClaim, and the device against the registry.
 */
export function jwtVerifier(config: JwtConfig, key: VerificationKey, options: VerifierOptions): VerifyJwt {
  const verifyOptions: JWTVerifyOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: config.algorithms,
    clockTolerance: config.clockToleranceSec,
    // Without exp a stolen JWT would open sockets forever.
    requiredClaims: ['exp', config.deviceClaim],
  };
  return async (token) => {
    if (typeof key === 'function') {
      let kid: unknown;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        return { ok: false, reason: 'malformed_token' };
      }
      // With a JWKS the key must be named: jose would otherwise try whichever key fits the alg.
      if (typeof kid !== 'string') return { ok: false, reason: 'unknown_key' };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, verifyOptions));
    } catch (err) {
      return refusalOf(err);
    }
    return identify(payload, config, options);
  };
}

async function identify(payload: JWTPayload, config: JwtConfig, options: VerifierOptions): Promise<JwtOutcome> {
  const device = payload[config.deviceClaim];
  if (typeof device !== 'string') return { ok: false, reason: 'claim_mismatch', claim: config.deviceClaim };
  // The id becomes an MQTT topic level, as a provisioned one does.
  if (!isValidDeviceId(device)) return { ok: false, reason: 'bad_device_id', claim: config.deviceClaim };
  const record = await options.registry.get(device);
  if (record && record.revokedAt !== null) return { ok: false, reason: 'device_revoked', device };
  let model: unknown;
  if (config.requireRegistered) {
    if (!record) return { ok: false, reason: 'unregistered_device', device };
    model = record.model;
  } else {
    model = payload[config.modelClaim];
    if (typeof model !== 'string') return { ok: false, reason: 'claim_mismatch', claim: config.modelClaim, device };
    if (!options.models.includes(model)) return { ok: false, reason: 'unknown_model', device };
  }
  // jose accepted the JWT up to exp plus the tolerance; the socket lives exactly as long.
  const expiresAt = (payload.exp! + config.clockToleranceSec) * 1000;
  return ok({ device, model: model as string, method: 'jwt', expiresAt });
}

function refusalOf(err: unknown): JwtOutcome {
  if (err instanceof JwksUnavailable) return { ok: false, reason: 'jwks_unavailable' };
  if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token_expired' };
  if (err instanceof errors.JWTClaimValidationFailed) {
    return err.claim === 'nbf' ? { ok: false, reason: 'token_not_yet_valid' } : { ok: false, reason: 'claim_mismatch', claim: err.claim };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad_signature' };
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return { ok: false, reason: 'unknown_key' };
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return { ok: false, reason: 'alg_not_allowed' };
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return { ok: false, reason: 'malformed_token' };
  // Anything else (a JWK that does not import, ...): the error's class only; messages are not ours to vouch for.
  return { ok: false, reason: 'verification_failed', error: err instanceof Error ? err.name : typeof err };
}
