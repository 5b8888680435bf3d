// Commands from a backend to a device: every accepted command ends in exactly
// one of succeeded, failed, expired or timed_out, in order, and none is lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectBackend, type TestBackend } from './helpers/backend.js';
import { connectDevice, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway, type TestGateway } from './helpers/gateway.js';

async function commander(gw: TestGateway): Promise<TestBackend> {
  const backend = await connectBackend(gw, { pub: ['devices/+/commands'], sub: ['devices/+/commands/+/status'] });
  await backend.subscribe('devices/+/commands/+/status');
  return backend;
}

async function statuses(backend: TestBackend, count: number): Promise<Array<Record<string, unknown>>> {
  const events = [];
  for (let i = 0; i < count; i++) {
    const { topic, payload } = await backend.nextMessage();
    assert.equal(topic, `devices/${String(payload.device)}/commands/${String(payload.id)}/status`);
    events.push(payload);
  }
  return events;
}

async function answer(device: TestDevice, reply: (command: Record<string, unknown>) => Record<string, unknown>): Promise<Record<string, unknown>> {
  const command = await device.nextFrame();
  assert.equal(command.type, 'command');
  device.send({ type: 'command_result', id: command.id, ...reply(command) });
  return command;
}

test('an online device gets the command and its result is reported: accepted, delivered, succeeded', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  const before = Date.now();
  await backend.publish('devices/env-1/commands', { id: 'c-1', name: 'set_interval', params: { seconds: 10 }, ttlMs: 60000 });
  const command = await answer(device, () => ({ ok: true, result: { seconds: 10 } }));
  assert.deepEqual({ ...command, expiresAt: 0 }, { type: 'command', id: 'c-1', name: 'set_interval', params: { seconds: 10 }, expiresAt: 0 });
  assert.ok((command.expiresAt as number) >= before + 60000);

  const events = await statuses(backend, 3);
  assert.deepEqual(events.map((e) => e.status), ['accepted', 'delivered', 'succeeded']);
  assert.deepEqual(Object.keys(events[0]!).sort(), ['at', 'device', 'id', 'status']);
  assert.deepEqual(events[2]!.result, { seconds: 10 });
  assert.equal(events[2]!.device, 'env-1');
  await device.close();
});

test('ok:false from the device is reported as failed with its error', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'meter-1', 'meter'));
  await backend.publish('devices/meter-1/commands', { id: 'c-1', name: 'set_relay', params: { on: false } });
  await answer(device, () => ({ ok: false, error: { code: 'relay_stuck', message: 'relay did not move' } }));
  const events = await statuses(backend, 3);
  assert.equal(events[2]!.status, 'failed');
  assert.deepEqual(events[2]!.error, { code: 'relay_stuck', message: 'relay did not move' });
  await device.close();
});

test('commands for an offline device are queued and delivered in order when it connects', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  for (let i = 1; i <= 5; i++) await backend.publish('devices/env-1/commands', { id: `c-${i}`, name: 'ping' });
  const accepted = await statuses(backend, 5);
  assert.deepEqual(accepted.map((e) => [e.id, e.status]), [1, 2, 3, 4, 5].map((i) => [`c-${i}`, 'accepted']));

  const device = await connectDevice(gw, token);
  const received = [];
  for (let i = 0; i < 5; i++) received.push((await answer(device, () => ({ ok: true }))).id);
  assert.deepEqual(received, ['c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
  const later = await statuses(backend, 10);
  assert.deepEqual(later.filter((e) => e.status === 'delivered').map((e) => e.id), ['c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
  assert.equal(later.filter((e) => e.status === 'succeeded').length, 5);
  await device.close();
});

test('a command whose TTL passes while the device is offline is reported expired and never delivered', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  await backend.publish('devices/env-1/commands', { id: 'short', name: 'ping', ttlMs: 200 });
  await backend.publish('devices/env-1/commands', { id: 'long', name: 'ping', ttlMs: 60000 });
  const events = await statuses(backend, 3);
  assert.deepEqual(events.map((e) => [e.id, e.status]), [['short', 'accepted'], ['long', 'accepted'], ['short', 'expired']]);

  const device = await connectDevice(gw, token);
  const only = await answer(device, () => ({ ok: true }));
  assert.equal(only.id, 'long');
  assert.deepEqual((await statuses(backend, 2)).map((e) => [e.id, e.status]), [['long', 'delivered'], ['long', 'succeeded']]);
  await device.close();
});

test('a delivered command without a result within resultTimeoutMs is reported timed_out; a late result is refused', async (t) => {
  const gw = await startTestGateway({ commands: { resultTimeoutMs: 300 } });
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  await backend.publish('devices/env-1/commands', { id: 'slow', name: 'reboot', params: {} });
  assert.equal((await device.nextFrame()).id, 'slow');
  assert.deepEqual((await statuses(backend, 3)).map((e) => e.status), ['accepted', 'delivered', 'timed_out']);
  device.send({ type: 'command_result', id: 'slow', ok: true });
  const refused = await device.nextFrame();
  assert.equal(refused.code, 'invalid_command_result');
  await device.close();
});

test('over commands.maxQueuePerDevice a command is rejected with queue_full', async (t) => {
  const gw = await startTestGateway({ commands: { maxQueuePerDevice: 2 } });
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  await provision(gw, 'env-1');
  for (const id of ['q-1', 'q-2', 'q-3']) await backend.publish('devices/env-1/commands', { id, name: 'ping' });
  const events = await statuses(backend, 3);
  assert.deepEqual(events.map((e) => [e.id, e.status]), [['q-1', 'accepted'], ['q-2', 'accepted'], ['q-3', 'rejected']]);
  assert.equal((events[2]!.error as { code: string }).code, 'queue_full');
});

test('the same command id published twice is delivered once', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  await backend.publish('devices/env-1/commands', { id: 'once', name: 'ping' });
  await backend.publish('devices/env-1/commands', { id: 'once', name: 'ping' });
  await backend.publish('devices/env-1/commands', { id: 'sentinel', name: 'ping' });
  const device = await connectDevice(gw, token);
  assert.equal((await answer(device, () => ({ ok: true }))).id, 'once');
  assert.equal((await answer(device, () => ({ ok: true }))).id, 'sentinel');
  // Republishing after it succeeded still does not run it again.
  const events = await statuses(backend, 6);
  assert.deepEqual(events.filter((e) => e.id === 'once').map((e) => e.status), ['accepted', 'delivered', 'succeeded']);
  await backend.publish('devices/env-1/commands', { id: 'once', name: 'ping' });
  await backend.publish('devices/env-1/commands', { id: 'after', name: 'ping' });
  assert.equal((await device.nextFrame()).id, 'after');
  await device.close();
});

test('an invalid command or an unknown device is rejected with its code and paths', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  await provision(gw, 'env-1');
  await backend.publish('devices/env-1/commands', { id: 'bad-1', name: 'set_interval', params: { seconds: 'soon' } });
  await backend.publish('devices/env-1/commands', { id: 'bad-2', name: 'launch', params: {} });
  await backend.publish('devices/env-1/commands', { id: 'bad-3', name: 'ping', ttlMs: 10 ** 12 });
  await backend.publish('devices/ghost/commands', { id: 'bad-4', name: 'ping' });
  await backend.client.publishAsync('devices/env-1/commands', 'not json', { qos: 1 });
  const events = await statuses(backend, 5);
  assert.ok(events.every((e) => e.status === 'rejected'));
  const errorOf = (i: number) => events[i]!.error as { code: string; errors?: Array<{ path: string }> };
  assert.deepEqual([errorOf(0).code, errorOf(0).errors!.map((e) => e.path)], ['invalid_command', ['/params/seconds']]);
  assert.deepEqual([errorOf(1).code, errorOf(1).errors!.map((e) => e.path)], ['invalid_command', ['/name']]);
  assert.deepEqual([errorOf(2).code, errorOf(2).errors!.map((e) => e.path)], ['invalid_command', ['/ttlMs']]);
  assert.deepEqual([events[3]!.device, errorOf(3).code], ['ghost', 'unknown_device']);
  assert.equal(errorOf(4).code, 'invalid_command');
  assert.match(events[4]!.id as string, /^[0-9a-f-]{36}$/, 'a fresh id when the payload has none');
});

test('a command without an id gets a UUID, used in the frame and on the status topic', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'trk-1', 'tracker'));
  await backend.publish('devices/trk-1/commands', { name: 'locate' });
  const command = await answer(device, () => ({ ok: true, result: { lat: 1, lon: 2 } }));
  assert.match(command.id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  assert.ok((await statuses(backend, 3)).every((e) => e.id === command.id));
  await device.close();
});

test('with sessionPolicy multi a command goes to the newest connection only', async (t) => {
  const gw = await startTestGateway({ devices: { sessionPolicy: 'multi' } });
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  const older = await connectDevice(gw, token);
  const newer = await connectDevice(gw, token);
  await backend.publish('devices/env-1/commands', { id: 'c-1', name: 'ping' });
  await answer(newer, () => ({ ok: true }));
  assert.deepEqual((await statuses(backend, 3)).map((e) => e.status), ['accepted', 'delivered', 'succeeded']);
  // The older connection got nothing: the first frame it sees is the ack of its own sentinel.
  older.send({ type: 'telemetry', id: 'sentinel', data: { temperature: 1, humidity: 1 } });
  assert.deepEqual(await older.nextFrame(), { type: 'ack', id: 'sentinel' });
  await older.close();
  await newer.close();
});

test('a backend without publish permission on the commands topic cannot command a device', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const watcher = await commander(gw);
  t.after(() => watcher.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  const readOnly = await connectBackend(gw, { pub: ['devices/other-1/commands'], sub: ['devices/#'] });
  const closed = new Promise((resolve) => readOnly.client.once('close', () => resolve(undefined)));
  readOnly.client.publish('devices/env-1/commands', JSON.stringify({ id: 'sneaky', name: 'reboot' }), { qos: 1 });
  await closed;
  readOnly.client.end(true);
  await watcher.publish('devices/env-1/commands', { id: 'legit', name: 'ping' });
  assert.equal((await device.nextFrame()).id, 'legit');
  assert.equal((await watcher.nextMessage()).payload.id, 'legit');
  await device.close();
});

test('a backend cannot forge command status events', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const forger = await connectBackend(gw, { pub: ['devices/#'] });
  const closed = new Promise((resolve) => forger.client.once('close', () => resolve(undefined)));
  forger.client.publish('devices/env-1/commands/c-1/status', JSON.stringify({ status: 'succeeded' }), { qos: 1 });
  await closed;
  forger.client.end(true);
});

test('a malformed command_result gets invalid_command_result with paths and the socket stays open', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await commander(gw);
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  await backend.publish('devices/env-1/commands', { id: 'c-1', name: 'ping' });
  await device.nextFrame();
  device.send({ type: 'command_result', id: 'c-1', ok: false });
  const error = await device.nextFrame();
  assert.equal(error.code, 'invalid_command_result');
  assert.deepEqual((error.errors as Array<{ path: string }>).map((e) => e.path), ['/error']);
  device.send({ type: 'command_result', id: 'c-1', ok: true, result: { uptimeSec: 5 } });
  const events = await statuses(backend, 3);
  assert.deepEqual(events[2]!.result, { uptimeSec: 5 });
  await device.close();
});
