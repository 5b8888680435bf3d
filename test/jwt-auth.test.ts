// Devices whose identity provider signs short-lived JWTs connect beside devices with
// per-device tokens: the JWT is checked against the issuer's JWKS (served here by a
// real local HTTP server), every failure closes 4401 with a logged reason, the
// socket lives no longer than the JWT, and no JWT ever leaves the gateway.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportSPKI, importJWK, SignJWT, type CryptoKey } from 'jose';
import { runCli } from './helpers/cli.js';
import { subscribedBackend } from './helpers/backend.js';
import { connectDevice, openDevice, telemetry, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway, tempDataDir } from './helpers/gateway.js';
import { AUDIENCE, freePort, ISSUER, newIssuerKey, signJwt, TestJwks } from './helpers/jwt.js';
import { waitFor } from './helpers/wait-for.js';

const reading = { temperature: 20, humidity: 30 };


/** The reason codes of the gateway's 'device refused' log lines, in order. */
function refusalReasons(lines: string[]): unknown[] {
  return lines.map((line) => JSON.parse(line) as { msg: string; reason?: unknown }).filter((l) => l.msg === 'device refused').map((l) => l.reason);
}

/** A gateway with auth.jwt on (`jwt` adds to it), logging at info into `lines`. */
async function startJwtGateway(t: { after(fn: () => unknown): void }, jwksUrl: string, jwt: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const config = { auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, refreshCooldownMs: 1000, ...jwt } }, log: { level: 'info' }, ...overrides };
  const gw = await startTestGateway(config, undefined, (line) => lines.push(line));
  t.after(() => gw.close());
  return { gw, lines };
}

/** How the gateway closed the socket, failing the test if it stays open past `timeoutMs`. */
function closeOf(device: TestDevice, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([device.closed, deadline]).finally(() => clearTimeout(timer));
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

test('ES256 and RS256 device JWTs authenticate in the Bearer header and in hello; the model comes from the registry', async (t) => {
  const es = await newIssuerKey('ES256', 'es-1');
  const rs = await newIssuerKey('RS256', 'rs-1');
  const jwks = await TestJwks.start([es, rs]);
  t.after(() => jwks.stop());
  const { gw } = await startJwtGateway(t, jwks.url);
  await provision(gw, 'trk-1', 'tracker');
  for (const key of [es, rs]) {
    for (const hello of [false, true]) {
      const device = await openDevice(gw, await signJwt(key, { sub: 'trk-1' }), { hello });
      assert.deepEqual(await device.nextFrame(), { type: 'welcome', device: 'trk-1', model: 'tracker', heartbeatMs: 30000, maxFrameBytes: 65536 }, `${key.alg} hello=${hello}`);
      await device.close();
    }
  }
  // Per-device tokens work beside JWTs.
  const tokenDevice = await connectDevice(gw, await provision(gw, 'env-1'));
  await tokenDevice.close();
});

test('each bad JWT closes 4401 unauthorized with its own logged reason, and crashes nothing', async (t) => {
  const es = await newIssuerKey('ES256', 'es-1');
  const rs = await newIssuerKey('RS256', 'rs-1');
  const jwks = await TestJwks.start([es, rs]);
  t.after(() => jwks.stop());
  const started = Date.now();
  const { gw, lines } = await startJwtGateway(t, jwks.url, { clockToleranceSec: 5 });
  await provision(gw, 'env-1');
  await provision(gw, 'gone-1');
  assert.ok((await gw.devices.revoke('gone-1')).ok);
  const now = Math.floor(Date.now() / 1000);
  const stranger = await newIssuerKey('ES256', 'es-1'); // the issuer's kid, someone else's key
  const rsaPublicPem = await exportSPKI((await importJWK(rs.jwk, 'RS256', { extractable: true })) as CryptoKey);
  const hmacWithPublicKey = (() => {
    const signingInput = `${base64url({ alg: 'HS256', kid: 'rs-1', typ: 'JWT' })}.${base64url({ iss: ISSUER, aud: AUDIENCE, sub: 'env-1', exp: now + 300 })}`;
    return `${signingInput}.${createHmac('sha256', rsaPublicPem).update(signingInput).digest('base64url')}`;
  })();

  const cases: Array<[string, string | Promise<string>, string]> = [
    ['expired', signJwt(es, { sub: 'env-1', exp: now - 60 }), 'token_expired'],
    ['nbf in the future', signJwt(es, { sub: 'env-1', nbf: now + 600 }), 'token_not_yet_valid'],
    ['wrong iss', signJwt(es, { sub: 'env-1', iss: 'https://evil.example' }), 'claim_mismatch'],
    ['wrong aud', signJwt(es, { sub: 'env-1', aud: 'someone-else' }), 'claim_mismatch'],
    ['no exp', signJwt(es, { sub: 'env-1', exp: undefined }), 'claim_mismatch'],
    ['unknown kid', signJwt({ ...es, kid: 'nobody' }, { sub: 'env-1' }), 'unknown_key'],
    ['signed by another key', signJwt(stranger, { sub: 'env-1' }), 'bad_signature'],
    ['alg none', `${base64url({ alg: 'none', kid: 'es-1' })}.${base64url({ iss: ISSUER, aud: AUDIENCE, sub: 'env-1', exp: now + 300 })}.`, 'alg_not_allowed'],
    ['HS256 with the RSA public key as secret', hmacWithPublicKey, 'alg_not_allowed'],
    ['sub with #', signJwt(es, { sub: 'env#1' }), 'bad_device_id'],
    ['sub with /', signJwt(rs, { sub: 'env-1/telemetry' }), 'bad_device_id'],
    ['sub not in the registry', signJwt(es, { sub: 'stranger-1' }), 'unregistered_device'],
    ['revoked device', signJwt(rs, { sub: 'gone-1' }), 'device_revoked'],
    ['garbage in JWT shape', 'eyJub3Q.eyJqc29u.c2ln', 'malformed_token'],
  ];
  const jwtsSeen: string[] = [];
  for (const [what, jwtOrPromise, reason] of cases) {
    const jwt = await jwtOrPromise;
    jwtsSeen.push(jwt);
    for (const hello of [false, true]) {
      const device = await openDevice(gw, jwt, { hello });
      assert.deepEqual(await closeOf(device), { code: 4401, reason: 'unauthorized' }, `${what} hello=${hello}`);
      assert.equal(refusalReasons(lines).at(-1), reason, `${what} hello=${hello}`);
    }
  }
  // Made-up kids reload the JWKS at most once per refreshCooldownMs (1 s here), on top of the load at start.
  assert.ok(jwks.requests <= 1 + Math.ceil((Date.now() - started) / 1000), `JWKS loaded ${jwks.requests} times`);
  // Still serving: a good JWT connects.
  const device = await connectDevice(gw, await signJwt(es, { sub: 'env-1' }));
  await device.close();
  for (const jwt of jwtsSeen) assert.ok(!lines.some((line) => line.includes(jwt.split('.')[2] || jwt)), 'a JWT reached the log');
});

test('a key added to the JWKS (rotation) works without a restart', async (t) => {
  const oldKey = await newIssuerKey('ES256', 'key-2026-01');
  const newKey = await newIssuerKey('RS256', 'key-2026-02');
  const jwks = await TestJwks.start([oldKey]);
  t.after(() => jwks.stop());
  const { gw, lines } = await startJwtGateway(t, jwks.url);
  await provision(gw, 'env-1');
  await (await connectDevice(gw, await signJwt(oldKey, { sub: 'env-1' }))).close();

  jwks.keys = [oldKey.jwk, newKey.jwk];
  const jwt = await signJwt(newKey, { sub: 'env-1' });
  // Within refreshCooldownMs of the last load the new kid is refused (unknown_key); after it, the JWKS is reloaded.
  let device: TestDevice | undefined;
  const deadline = Date.now() + 5000;
  while (!device && Date.now() < deadline) {
    const attempt = await openDevice(gw, jwt);
    const first = await Promise.race([attempt.nextFrame(), attempt.closed]);
    if ('type' in first && first.type === 'welcome') device = attempt;
    else {
      assert.equal(refusalReasons(lines).at(-1), 'unknown_key');
      await sleep(100); // a retry, not a wait for something to happen: the loop's deadline bounds it
    }
  }
  assert.ok(device, 'the new key never worked');
  assert.ok(jwks.requests >= 2 && jwks.requests <= 4, `JWKS loaded ${jwks.requests} times`);
  await device.close();
  // The old key still works: rotation overlaps.
  await (await connectDevice(gw, await signJwt(oldKey, { sub: 'env-1' }))).close();
});

test('the gateway starts while the JWKS is down: JWTs fail with jwks_unavailable, tokens work, and JWTs work once it is up', async (t) => {
  const port = await freePort();
  const key = await newIssuerKey('ES256', 'es-1');
  const url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
  const { gw, lines } = await startJwtGateway(t, url);
  await provision(gw, 'env-1', 'env-sensor');
  const jwt = await signJwt(key, { sub: 'env-1' });
  assert.deepEqual(await closeOf(await openDevice(gw, jwt)), { code: 4401, reason: 'unauthorized' });
  assert.equal(refusalReasons(lines).at(-1), 'jwks_unavailable');
  await (await connectDevice(gw, await provision(gw, 'env-2'))).close();

  const jwks = await TestJwks.start([key], port);
  t.after(() => jwks.stop());
  let welcomed = false;
  const deadline = Date.now() + 5000;
  while (!welcomed && Date.now() < deadline) {
    const attempt = await openDevice(gw, jwt);
    const first = await Promise.race([attempt.nextFrame(), attempt.closed]);
    welcomed = 'type' in first && first.type === 'welcome';
    if (welcomed) await attempt.close();
    else await sleep(100); // a retry; the loop's deadline bounds it
  }
  assert.ok(welcomed, 'JWT auth did not recover');
});

test('a JWT socket is closed with 4401 when its exp passes', async (t) => {
  const key = await newIssuerKey('ES256', 'es-1');
  const jwks = await TestJwks.start([key]);
  t.after(() => jwks.stop());
  const { gw, lines } = await startJwtGateway(t, jwks.url, { clockToleranceSec: 0 });
  await provision(gw, 'env-1');
  const exp = Math.floor(Date.now() / 1000) + 2;
  const device = await connectDevice(gw, await signJwt(key, { sub: 'env-1', exp }), { hello: true });
  device.send(telemetry('m-1', reading));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-1' });
  assert.deepEqual(await closeOf(device), { code: 4401, reason: 'unauthorized' });
  assert.ok(Date.now() >= exp * 1000, 'closed before exp');
  await waitFor('the disconnect log line', () => lines.some((line) => line.includes('"token_expired"')), 2000);
});

test('revoking a device closes its JWT sessions; rotating its token does not', async (t) => {
  const key = await newIssuerKey('ES256', 'es-1');
  const jwks = await TestJwks.start([key]);
  t.after(() => jwks.stop());
  const { gw } = await startJwtGateway(t, jwks.url, {}, { devices: { sessionPolicy: 'multi' } });
  const token = await provision(gw, 'env-1');
  const jwtSession = await connectDevice(gw, await signJwt(key, { sub: 'env-1' }));
  const tokenSession = await connectDevice(gw, token);
  assert.ok((await gw.devices.rotate('env-1')).ok);
  // The rotate was enforced (the token socket closed); the JWT socket still answers.
  assert.equal((await closeOf(tokenSession)).code, 4401);
  jwtSession.send(telemetry('m-1', reading));
  assert.deepEqual(await jwtSession.nextFrame(), { type: 'ack', id: 'm-1' });

  const revoked = await runCli(['devices', 'revoke', 'env-1', '--data-dir', gw.dataDir]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.deepEqual(await closeOf(jwtSession), { code: 4401, reason: 'unauthorized' });
});

test('frames sent right after the JWT (before welcome) are handled after admission, in order', async (t) => {
  const key = await newIssuerKey('ES256', 'es-1');
  const jwks = await TestJwks.start([key]);
  t.after(() => jwks.stop());
  // A slow identity provider: the gateway's first JWKS load waits, and so does the first JWT.
  const release = jwks.hold();
  const { gw } = await startJwtGateway(t, jwks.url);
  await provision(gw, 'env-1');
  const backend = await subscribedBackend(gw, 'devices/env-1/telemetry');
  t.after(() => backend.close());
  for (const hello of [false, true]) {
    const device = await openDevice(gw, await signJwt(key, { sub: 'env-1' }), { hello });
    // With hello: the same turn as the hello (most likely the same TCP segment), so the gateway is verifying.
    device.send(telemetry(`a-${hello}`, reading));
    device.send(telemetry(`b-${hello}`, { temperature: 21, humidity: 30 }));
    release();
    assert.equal((await device.nextFrame()).type, 'welcome');
    assert.deepEqual(await device.nextFrame(), { type: 'ack', id: `a-${hello}` });
    assert.deepEqual(await device.nextFrame(), { type: 'ack', id: `b-${hello}` });
    assert.equal((await backend.nextMessage()).payload.id, `a-${hello}`);
    assert.equal((await backend.nextMessage()).payload.id, `b-${hello}`);
    await device.close();
  }
});

test('no JWT appears in logs, dead letters or on MQTT', async (t) => {
  const key = await newIssuerKey('ES256', 'es-1');
  const jwks = await TestJwks.start([key]);
  t.after(() => jwks.stop());
  const { gw, lines } = await startJwtGateway(t, jwks.url, {}, { log: { level: 'debug' } });
  const backend = await subscribedBackend(gw, '#');
  t.after(() => backend.close());
  await provision(gw, 'env-1');
  const jwt = await signJwt(key, { sub: 'env-1' });
  const expired = await signJwt(key, { sub: 'env-1', exp: Math.floor(Date.now() / 1000) - 3600 });
  assert.equal((await closeOf(await openDevice(gw, expired, { hello: true }))).code, 4401);

  const device = await connectDevice(gw, jwt, { hello: true });
  device.send({ type: 'hello', id: 'h-2', token: jwt }); // a client library that says hello twice
  device.send(telemetry('t-1', { temperature: 'hot', note: jwt }));
  device.send(telemetry('ok-1', reading));
  assert.deepEqual((await Promise.all([device.nextFrame(), device.nextFrame(), device.nextFrame()])).map((f) => f.code ?? f.type), ['bad_frame', 'invalid_telemetry', 'ack']);
  const seen: string[] = [];
  for (;;) {
    const message = await backend.nextMessage();
    seen.push(`${message.topic} ${JSON.stringify(message.payload)}`);
    if (message.topic === 'devices/env-1/telemetry') break;
  }
  assert.ok(seen.some((line) => line.startsWith('gateway/deadletter/env-1') && line.includes('[redacted]')), seen.join('\n'));
  for (const secret of [jwt, jwt.split('.')[2]!, expired.split('.')[2]!]) {
    assert.ok(!seen.some((line) => line.includes(secret)), 'MQTT carried a JWT');
    assert.ok(!lines.some((line) => line.includes(secret)), 'the log carried a JWT');
  }
  await device.close();
});

test('without requireRegistered the model comes from the model claim and must be one the gateway has', async (t) => {
  const key = await newIssuerKey('ES256', 'es-1');
  const jwks = await TestJwks.start([key]);
  t.after(() => jwks.stop());
  const { gw, lines } = await startJwtGateway(t, jwks.url, { requireRegistered: false, deviceClaim: 'device_id', modelClaim: 'device_model' });
  const device = await openDevice(gw, await signJwt(key, { sub: 'user-7', device_id: 'meter-42', device_model: 'meter' }));
  assert.deepEqual(await device.nextFrame(), { type: 'welcome', device: 'meter-42', model: 'meter', heartbeatMs: 30000, maxFrameBytes: 65536 });
  await device.close();
  assert.equal((await closeOf(await openDevice(gw, await signJwt(key, { device_id: 'toaster-1', device_model: 'toaster' })))).code, 4401);
  assert.equal(refusalReasons(lines).at(-1), 'unknown_model');
  assert.equal((await closeOf(await openDevice(gw, await signJwt(key, { sub: 'meter-42', device_model: 'meter' })))).code, 4401);
  assert.equal(refusalReasons(lines).at(-1), 'claim_mismatch');
});

test('HS256 JWTs verify with auth.jwt.secretFile, and a JWKS can come from auth.jwt.jwksFile', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secret = randomBytes(32);
  const secretFile = join(dir, 'jwt.secret');
  writeFileSync(secretFile, secret);
  const hmac = await startTestGateway({ auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, secretFile } } });
  t.after(() => hmac.close());
  await provision(hmac, 'env-1');
  const now = Math.floor(Date.now() / 1000);
  const sign = (key: Uint8Array) => new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'env-1', exp: now + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(key);
  await (await connectDevice(hmac, await sign(secret))).close();
  assert.equal((await closeOf(await openDevice(hmac, await sign(randomBytes(32))))).code, 4401);

  const key = await newIssuerKey('RS256', 'rs-file');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
  const fromFile = await startTestGateway({ auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, jwksFile } } });
  t.after(() => fromFile.close());
  await provision(fromFile, 'env-1');
  await (await connectDevice(fromFile, await signJwt(key, { sub: 'env-1' }), { hello: true })).close();
});
