// Who may connect as a device: only a live token, given in the upgrade header or
// a first hello frame, and only in time. Revoke and rotate act on open sockets.
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHIPPED_MODELS_DIR } from '../gateway/models/load-models.js';
import { WebSocket } from 'ws';
import { runCli } from './helpers/cli.js';
import { connectDevice, openDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway, tempDataDir } from './helpers/gateway.js';

test('the welcome frame names the device, its model and the limits', async (t) => {
  const gw = await startTestGateway({ devices: { heartbeatMs: 15000 }, limits: { maxFrameBytes: 4096 } });
  t.after(() => gw.close());
  const device = await openDevice(gw, await provision(gw, 'trk-1', 'tracker'));
  assert.deepEqual(await device.nextFrame(), { type: 'welcome', device: 'trk-1', model: 'tracker', heartbeatMs: 15000, maxFrameBytes: 4096 });
  await device.close();
});

test('an unknown or malformed bearer token is closed with 4401', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  await provision(gw, 'env-1');
  assert.deepEqual(await (await openDevice(gw, 'wmg_not-a-real-token')).closed, { code: 4401, reason: 'unauthorized' });
  const ws = new WebSocket(gw.addresses.ws, { ca: gw.ca, headers: { authorization: 'Basic abc' } });
  const code = await new Promise((resolve) => ws.on('close', resolve));
  assert.equal(code, 4401);
});

test('a browser authenticates with a hello frame', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'), { hello: true });
  device.send(telemetry('m-1', { temperature: 20, humidity: 30 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-1' });
  await device.close();
});

test('a hello with a bad token, or any other first frame, is closed with 4401', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const badHello = await openDevice(gw, 'wmg_wrong', { hello: true });
  assert.equal((await badHello.closed).code, 4401);
  const noHello = await openDevice(gw, undefined);
  noHello.send(telemetry('m-1', { temperature: 20, humidity: 30 }));
  assert.equal((await noHello.closed).code, 4401);
});

test('a socket that does not authenticate within auth.timeoutMs is closed with 4408', async (t) => {
  const gw = await startTestGateway({ auth: { timeoutMs: 200 } });
  t.after(() => gw.close());
  const silent = await openDevice(gw, undefined);
  assert.deepEqual(await silent.closed, { code: 4408, reason: 'auth_timeout' });
});

test('only /v1/device upgrades; other paths get HTTP 404', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const token = await provision(gw, 'env-1');
  const url = gw.addresses.ws.replace('/v1/device', '/v2/other');
  const ws = new WebSocket(url, { ca: gw.ca, headers: { authorization: `Bearer ${token}` } });
  ws.on('error', () => {}); // aborting the refused handshake below reports an error we expect
  const status = await new Promise((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
  assert.equal(status, 404);
  ws.terminate();
});

test('devices revoke (from the CLI, another process) closes the live socket with 4401 and the token stops working', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const token = await provision(gw, 'env-1');
  const device = await connectDevice(gw, token);
  const revoked = await runCli(['devices', 'revoke', 'env-1', '--data-dir', gw.dataDir]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal((await device.closed).code, 4401);
  assert.equal((await (await openDevice(gw, token)).closed).code, 4401);
});

test('devices rotate closes sockets on the old token; the new token connects', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const oldToken = await provision(gw, 'env-1');
  const device = await connectDevice(gw, oldToken);
  const rotated = await gw.devices.rotate('env-1');
  assert.ok(rotated.ok);
  assert.equal((await device.closed).code, 4401);
  assert.equal((await (await openDevice(gw, oldToken)).closed).code, 4401);
  const renewed = await connectDevice(gw, rotated.value.token);
  await renewed.close();
});

test('a device provisioned while the gateway runs can connect at once', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const added = await runCli(['devices', 'add', 'late-1', '--model', 'meter', '--json', '--data-dir', gw.dataDir]);
  const { token } = JSON.parse(added.stdout) as { token: string };
  const device = await connectDevice(gw, token);
  await device.close();
});

test('ids with wildcards, slashes, or out of the id pattern are refused at provisioning', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  for (const id of ['+', '#', 'a/b', 'dev+1', 'dev#', '', '-lead', 'x'.repeat(65), 'sp ace', '$SYS']) {
    const result = await gw.devices.add(id, 'env-sensor');
    assert.equal(result.ok ? 'ok' : result.error.code, 'invalid_device_id', `id ${JSON.stringify(id)}`);
  }
  assert.equal((await gw.devices.add('ok-1.a_b', 'env-sensor')).ok, true);
  assert.equal((await gw.devices.add('x'.repeat(64), 'env-sensor')).ok, true);
  const unknownModel = await gw.devices.add('dev-9', 'toaster');
  assert.equal(unknownModel.ok ? 'ok' : unknownModel.error.code, 'unknown_model');
});

test('a device whose model has no schemas any more is closed with 1011 internal_error, others keep working', async (t) => {
  const models = tempDataDir();
  t.after(() => rmSync(models, { recursive: true, force: true }));
  cpSync(join(SHIPPED_MODELS_DIR, 'env-sensor'), join(models, 'env-sensor'), { recursive: true });
  const gw = await startTestGateway({ models: { dir: models } });
  t.after(() => gw.close());
  const orphan = await openDevice(gw, await provision(gw, 'meter-1', 'meter'));
  assert.deepEqual(await orphan.closed, { code: 1011, reason: 'internal_error' });
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  device.send(telemetry('m-1', { temperature: 20, humidity: 30 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-1' });
  await device.close();
});
