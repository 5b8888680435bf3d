// auth.jwt is checked once, at startup, with messages that name the key: a config
// that would accept forgeable JWTs (alg none, HMAC with a public key, a JWKS over
// plain HTTP from another host) never starts.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../gateway/config.js';
import { configFromEnv } from '../gateway/config-sources.js';
import { ConfigError } from '../gateway/errors.js';
import { startTestGateway, tempDataDir } from './helpers/gateway.js';

const base = { issuer: 'https://idp.example.test', audience: 'ws-mqtt-gateway' };
const withJwt = (jwt: Record<string, unknown>) => ({ auth: { jwt: { ...base, ...jwt } } });

test('auth.jwt: defaults, and the algorithms default to asymmetric ones (HS256 with secretFile)', () => {
  const config = loadConfig(withJwt({ jwksUrl: 'https://idp.example.test/jwks.json' }), 'test');
  assert.deepEqual(config.auth.jwt, {
    ...base,
    jwksUrl: 'https://idp.example.test/jwks.json',
    algorithms: ['ES256', 'RS256', 'EdDSA'],
    clockToleranceSec: 30,
    deviceClaim: 'sub',
    modelClaim: 'model',
    requireRegistered: true,
    cacheMaxAgeMs: 600000,
    refreshCooldownMs: 30000,
  });
  assert.deepEqual(loadConfig(withJwt({ secretFile: '/etc/wmg/jwt.secret' }), 'test').auth.jwt?.algorithms, ['HS256']);
  assert.equal(loadConfig({}, 'test').auth.jwt, undefined, 'absent = off');
  for (const url of ['http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9000/jwks']) {
    assert.equal(loadConfig(withJwt({ jwksUrl: url }), 'test').auth.jwt?.jwksUrl, url);
  }
});

test('auth.jwt refuses configs that would accept forgeable JWTs, naming the key', () => {
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ jwksUrl: 'https://idp/jwks', algorithms: ['none'] }, /auth\.jwt\.algorithms\.0: must be equal to one of the allowed values/],
    [{ jwksUrl: 'https://idp/jwks', algorithms: ['RS256', 'HS256'] }, /auth\.jwt\.algorithms: HS256 need auth\.jwt\.secretFile/],
    [{ jwksFile: '/etc/wmg/jwks.json', algorithms: ['HS256'] }, /auth\.jwt\.algorithms: HS256 need auth\.jwt\.secretFile/],
    [{ secretFile: '/etc/wmg/jwt.secret', algorithms: ['HS256', 'ES256'] }, /auth\.jwt\.algorithms: with secretFile only HS256/],
    [{ jwksUrl: 'http://idp.example.test/jwks' }, /auth\.jwt\.jwksUrl: must be https:\/\//],
    [{ jwksUrl: 'http://10.0.0.5/jwks' }, /auth\.jwt\.jwksUrl: must be https:\/\//],
    [{ jwksUrl: 'ftp://idp/jwks' }, /auth\.jwt\.jwksUrl: must match pattern/],
    [{}, /set exactly one \(got none\)/],
    [{ jwksUrl: 'https://idp/jwks', secretFile: '/s' }, /set exactly one \(got jwksUrl, secretFile\)/],
    [{ jwksUrl: 'https://idp/jwks', clockToleranceSec: -1 }, /auth\.jwt\.clockToleranceSec: must be >= 0/],
    [{ jwksUrl: 'https://idp/jwks', issuerr: 'x' }, /auth\.jwt\.issuerr: must NOT have additional properties/],
  ];
  for (const [jwt, message] of refused) {
    assert.throws(() => loadConfig(withJwt(jwt), 'test'), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(jwt));
  }
  assert.throws(() => loadConfig({ auth: { jwt: { jwksUrl: 'https://idp/jwks' } } }, 'test'), /auth\.jwt: must have required property 'issuer'/);
});

test('every auth.jwt key has a WMG_ variable; WMG_AUTH_JWT_ALGORITHMS is a comma-separated list', () => {
  const env = configFromEnv({
    WMG_AUTH_JWT_ISSUER: base.issuer,
    WMG_AUTH_JWT_AUDIENCE: base.audience,
    WMG_AUTH_JWT_JWKS_URL: 'https://idp/jwks',
    WMG_AUTH_JWT_ALGORITHMS: 'ES256, RS256',
    WMG_AUTH_JWT_REQUIRE_REGISTERED: 'false',
    WMG_AUTH_JWT_CLOCK_TOLERANCE_SEC: '5',
  });
  const jwt = loadConfig(env, 'environment').auth.jwt;
  assert.deepEqual([jwt?.algorithms, jwt?.requireRegistered, jwt?.clockToleranceSec], [['ES256', 'RS256'], false, 5]);
});

test('an HMAC secret shorter than 32 bytes, or an unreadable jwksFile, stops the start with a ConfigError', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'jwt.secret');
  writeFileSync(secretFile, 'too-short\n');
  await assert.rejects(startTestGateway(withJwt({ secretFile }), join(dir, 'data-1')), (err: Error) => err instanceof ConfigError && /holds 9 bytes/.test(err.message));
  await assert.rejects(startTestGateway(withJwt({ jwksFile: join(dir, 'missing.json') }), join(dir, 'data-2')), (err: Error) => err instanceof ConfigError && /ENOENT/.test(err.message));
});
